/**
 * `COPY ... FROM stdin` written straight onto the connection's socket, and left open for as
 * many parts of data as the caller has: a load sends a table's consecutive blocks into one
 * COPY (each COPY costs the server its start: one backend loading 900,000 rows as 211 COPYs of
 * about 1 MiB used 3.5-4.2 s of CPU, as one 2.9-3.0 s).
 *
 * How: like copy-out.ts (and pg-copy-streams, which this replaces on the write side), a
 * "submittable" query for `pg.Client.query`. The driver submits it when the connection is
 * free; from the server's CopyInResponse on, each part goes out as a CopyData message, and the
 * end as CopyDone (or CopyFail to abandon it). The driver hands the server's answers to it:
 * CommandComplete (the rows), ReadyForQuery (done), or an ErrorResponse.
 *
 * A failure is never missed: the server may refuse a row while data is still coming (it then
 * answers ErrorResponse and ReadyForQuery at once and drops every later CopyData, per the
 * protocol), and the driver calls {@link CopyInWriter.handleError}, as it does when the
 * connection is lost. That settles {@link CopyInWriter.finished} and wakes a write waiting
 * for the socket to drain: nobody waits on a COPY that takes no more. (pg-copy-streams' stream
 * forgot its connection at the error, so the destroy of a pipeline still feeding it never
 * finished: an open COPY that failed hung the load.)
 */
import type { Client } from 'pg';
import type { DataStatement } from '../engine.js';

const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
const COPY_FAIL = 0x66; // 'f'
/** Type byte and length: the header of every frontend message. */
const HEADER_BYTES = 5;
const COPY_DONE_MESSAGE = Buffer.from([COPY_DONE, 0, 0, 0, 4]);

/** The driver's connection, as far as this writes to it. */
interface PgConnection {
  readonly stream: NodeJS.WritableStream & {
    cork(): void;
    uncork(): void;
  };
  query(text: string): void;
}

/** The data line a server error names: its CONTEXT is `COPY name, line N[, column c: …]`. */
export function copyErrorLine(error: unknown): number | undefined {
  const where = (error as { where?: unknown } | undefined)?.where;
  if (typeof where !== 'string') return undefined;
  const match = /(?:^|\n)COPY .*?, line (\d+)(?:[,:]|$)/m.exec(where);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

export class CopyInWriter implements DataStatement {
  /** The driver's query text (for its logs); the COPY is sent by {@link submit}. */
  readonly text: string;
  readonly finished: Promise<number>;
  failedLine: number | undefined;
  private readonly mapError: (error: unknown) => Error;
  private connection: PgConnection | undefined;
  /** CopyInResponse seen: data may go out. */
  private copying = false;
  /** Data written before then. */
  private readonly queued: (readonly Buffer[])[] = [];
  /** What ends the data, once asked for: CopyDone, or CopyFail with its reason. */
  private ending: { readonly fail?: string } | undefined;
  private failure: Error | undefined;
  private settled = false;
  private rows = 0;
  private resolveFinished: (rows: number) => void = () => undefined;
  private rejectFinished: (error: Error) => void = () => undefined;
  /** A write waiting for the socket to drain, for the COPY to start, or for its end. */
  private waiter: (() => void) | undefined;

  constructor(sql: string, mapError: (error: unknown) => Error) {
    this.text = sql;
    this.mapError = mapError;
    this.finished = new Promise<number>((resolve, reject) => {
      this.resolveFinished = resolve;
      this.rejectFinished = reject;
    });
    // Whoever holds it learns of a failure; no one need be waiting when it comes.
    this.finished.catch(() => undefined);
  }

  /** Starts the COPY on `client` (queued behind its running query, if any). */
  start(client: Client): this {
    // pg takes any object with `submit` as a query of its own (a "submittable").
    (client as unknown as { query(query: unknown): unknown }).query(this);
    return this;
  }

  async write(data: readonly Buffer[]): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (this.settled || this.ending !== undefined) throw new Error('COPY data after its end');
    if (data.every((part) => part.length === 0)) return;
    if (!this.copying) {
      this.queued.push(data);
      await this.wait();
    } else if (!this.send(data)) {
      await this.waitDrain();
    }
    // It may have failed meanwhile.
    const failure = this.failedWith();
    if (failure !== undefined) throw failure;
  }

  end(): Promise<number> {
    if (!this.settled && this.ending === undefined) {
      this.ending = {};
      if (this.copying) this.sendEnd();
    }
    return this.finished;
  }

  async abort(reason: string): Promise<void> {
    if (!this.settled && this.ending === undefined) {
      this.ending = { fail: reason };
      if (this.copying) this.sendEnd();
    }
    await this.finished.then(
      () => undefined,
      () => undefined,
    );
  }

  /** Called by the driver when the connection is free for this query. */
  submit(connection: PgConnection): Error | undefined {
    this.connection = connection;
    connection.query(this.text);
    return undefined;
  }

  handleCopyInResponse(): void {
    if (this.settled) return;
    this.copying = true;
    for (const data of this.queued.splice(0)) this.send(data);
    if (this.ending !== undefined) this.sendEnd();
    this.wake();
  }

  /** The server's count of the rows it took. */
  handleCommandComplete(message: { text?: string }): void {
    const rows = /^COPY (\d+)$/.exec(message.text ?? '')?.[1];
    if (rows !== undefined) this.rows = Number(rows);
  }

  handleReadyForQuery(): void {
    if (this.settled) return;
    this.settled = true;
    if (this.ending === undefined || this.ending.fail !== undefined) {
      // Not a COPY FROM stdin after all (the server asked for no data), or abandoned.
      this.failure = new Error('the statement took no data');
      this.rejectFinished(this.failure);
    } else this.resolveFinished(this.rows);
    this.wake();
  }

  /** The server's ErrorResponse, or the connection's failure: the statement is over. */
  handleError(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.failedLine = copyErrorLine(error);
    this.failure = this.mapError(error);
    this.queued.length = 0;
    this.rejectFinished(this.failure);
    this.wake();
  }

  // The driver may hand a query these; a COPY FROM stdin gets none of them.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}

  private failedWith(): Error | undefined {
    return this.failure;
  }

  /** Sends the parts as one CopyData message; false when the socket wants a drain first. */
  private send(data: readonly Buffer[]): boolean {
    const stream = (this.connection as PgConnection).stream;
    const header = Buffer.allocUnsafe(HEADER_BYTES);
    header[0] = COPY_DATA;
    header.writeUInt32BE(
      data.reduce((sum, part) => sum + part.length, 4),
      1,
    );
    stream.cork();
    stream.write(header);
    let room = true;
    for (const part of data) room = stream.write(part);
    stream.uncork();
    return room;
  }

  private sendEnd(): void {
    const stream = (this.connection as PgConnection).stream;
    const reason = this.ending?.fail;
    if (reason === undefined) {
      stream.write(COPY_DONE_MESSAGE);
      return;
    }
    const text = Buffer.from(`${reason}\0`, 'utf8');
    const message = Buffer.allocUnsafe(HEADER_BYTES + text.length);
    message[0] = COPY_FAIL;
    message.writeUInt32BE(text.length + 4, 1);
    text.copy(message, HEADER_BYTES);
    stream.write(message);
  }

  /** Until {@link wake}: the COPY started, or it is over. */
  private wait(): Promise<void> {
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Until the socket drains, or the COPY is over. */
  private waitDrain(): Promise<void> {
    const stream = (this.connection as PgConnection).stream;
    return new Promise((resolve) => {
      const done = (): void => {
        stream.removeListener('drain', done);
        if (this.waiter === done) this.waiter = undefined;
        resolve();
      };
      stream.once('drain', done);
      this.waiter = done;
    });
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}
