/**
 * `COPY ... TO STDOUT` read straight off the connection's socket, as chunks of a dump: each
 * chunk is `head`, then whole data lines of at most `dataBytes` bytes together (a longer line
 * alone), then `tail`, in one buffer. The server sends a CopyData message per row; each one's
 * bytes are copied once, from the socket's buffer into the chunk, past their 5-byte message
 * header: no object per row, no stream between the socket and the chunk (pg-copy-streams,
 * which this replaces on the read side, made a Buffer per row and copied each byte twice on its way to the chunk:
 * about a third of a dump's client CPU).
 *
 * How: like pg-copy-streams, a "submittable" query for `pg.Client.query`: once submitted it
 * takes the socket's `data` events from the driver's protocol parser, reads the COPY's
 * messages itself, and hands the socket back at the CopyDone (or at an ErrorResponse) with the
 * bytes that follow it, which the driver reads as usual (CommandComplete, ReadyForQuery).
 *
 * Back-pressure: when {@link MAX_READY} chunks wait for the consumer, the socket is paused
 * (the server then waits on its send buffer).
 *
 * Chunk buffers come from a {@link ChunkBuffers} pool of the session when given, and go back
 * to it when the consumer releases the chunk ({@link CopyOutChunk.release}, once written):
 * without it each chunk's new buffer is garbage to collect, a full collection every 10 MB
 * or so of a dump.
 */
import type { Client } from 'pg';
import { READS_IN_PLACE } from './socket-reads.js';

/** One chunk: `bytes` (head, lines, tail) and the lines in it. */
export interface CopyOutChunk {
  readonly bytes: Buffer;
  readonly rows: number;
  /**
   * Hands the buffer of `bytes` back to the pool for later chunks, once nothing uses it any
   * more; at most once (later calls do nothing). Undefined without a pool.
   */
  readonly release?: (() => void) | undefined;
}

export interface CopyOutOptions {
  /** The statement, `COPY ... TO STDOUT` in text format. */
  readonly sql: string;
  /** Bytes that start each chunk (the `COPY ... FROM stdin;` line). */
  readonly head: Buffer;
  /** Bytes that end each chunk (the `\.` line). */
  readonly tail: Buffer;
  /** Data bytes in a chunk: at most this many, but for a longer line alone. */
  readonly dataBytes: number;
  /** Where chunk buffers come from and go back to; omitted: new ones, left to the collector. */
  readonly buffers?: ChunkBuffers | undefined;
}

/** Buffers of chunks kept for reuse: at most this many, the others left to the collector. */
const SPARE_BUFFERS = 4;
/** Room in a pooled buffer beyond its data bytes, for the head and tail lines. */
const FRAME_ROOM = 64 * 1024;

/**
 * Chunk buffers of one size (data bytes plus room for the head and tail), handed out and
 * taken back: a session's COPYs reuse a few instead of allocating one per chunk. A buffer
 * asked for that is larger (a line longer than a chunk, a head longer than the room) is
 * never pooled.
 */
export class ChunkBuffers {
  private readonly spare: Buffer[] = [];
  private readonly capacity: number;
  /** The data bytes of the chunks these buffers are for. */
  readonly dataBytes: number;

  constructor(dataBytes: number) {
    this.dataBytes = dataBytes;
    this.capacity = dataBytes + FRAME_ROOM;
  }

  /** A buffer of at least `bytes` bytes, its contents undefined. */
  take(bytes: number): Buffer {
    if (bytes > this.capacity) return Buffer.allocUnsafe(bytes);
    return this.spare.pop() ?? Buffer.allocUnsafe(this.capacity);
  }

  /** Takes back a buffer {@link take} gave, once no one uses it; others are dropped. */
  give(buffer: Buffer): void {
    if (buffer.length === this.capacity && this.spare.length < SPARE_BUFFERS)
      this.spare.push(buffer);
  }
}

/** Chunks waiting for the consumer before the socket is paused. */
export const MAX_READY = 2;

const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
const ERROR_RESPONSE = 0x45; // 'E'
const NEWLINE = 0x0a;
/** Type byte and length: the header of every backend message. */
const HEADER_BYTES = 5;

/** The driver's connection, as far as this reads it. */
interface PgConnection {
  readonly stream: NodeJS.ReadableStream & {
    listeners(event: 'data'): ((chunk: Buffer) => void)[];
  };
}

/** pg's ErrorResponse as the driver hands it to the active query. */
type DriverError = Error;

export class CopyOutReader implements AsyncIterable<CopyOutChunk> {
  private readonly options: CopyOutOptions;
  /** The buffer being filled, and how far. */
  private buffer: Buffer;
  private filled: number;
  private rows = 0;
  private totalRows = 0;
  /** The last CopyData message did not end with a newline: the next one continues its line. */
  private lineOpen = false;
  /** Header bytes of a message split between two socket chunks. */
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private headerFilled = 0;
  /** Bytes of the current message still to come, and whether they are data (else skipped). */
  private remaining = 0;
  private inData = false;
  private readonly ready: CopyOutChunk[] = [];
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  /** CopyDone seen: no more data. */
  private copyDone = false;
  /** ReadyForQuery (or an error) seen: the connection is the driver's again. */
  private finished = false;
  /** The consumer stopped early: the rest of the data is read and dropped. */
  private discarding = false;
  private connection: PgConnection | undefined;
  private driverListener: ((chunk: Buffer) => void) | undefined;
  private paused = false;
  /** Copies out all it keeps of `chunk` before it returns: the socket may reuse its buffer. */
  private readonly onData = Object.assign(
    (chunk: Buffer): void => {
      this.parse(chunk);
    },
    { [READS_IN_PLACE]: true },
  );

  /** The driver's query text (for its logs); the COPY is sent by {@link submit}. */
  readonly text: string;

  constructor(options: CopyOutOptions) {
    this.options = options;
    this.text = options.sql;
    this.buffer = this.newBuffer(0);
    this.filled = options.head.length;
  }

  /** Starts the COPY on `client`. */
  start(client: Client): this {
    // pg takes any object with `submit` as a query of its own (a "submittable").
    (client as unknown as { query(query: unknown): unknown }).query(this);
    return this;
  }

  /** Called by the driver when the connection is free for this query. */
  submit(connection: PgConnection & { query(text: string): void }): Error | undefined {
    this.connection = connection;
    const stream = connection.stream;
    const listeners = stream.listeners('data');
    // The driver then reports it through handleError.
    if (listeners.length !== 1) return new Error('COPY TO: the socket has no single reader');
    this.driverListener = listeners[0];
    stream.removeListener('data', this.driverListener as (chunk: Buffer) => void);
    stream.on('data', this.onData);
    connection.query(this.options.sql);
    return undefined;
  }

  handleError(error: DriverError): void {
    this.failure ??= error;
    this.finished = true;
    this.notify();
  }

  /** The server's count of the rows sent: the lines counted must be as many. */
  handleCommandComplete(message: { text?: string }): void {
    const sent = /^COPY (\d+)$/.exec(message.text ?? '')?.[1];
    if (sent !== undefined && !this.discarding && Number(sent) !== this.totalRows)
      this.failure ??= new Error(
        `COPY TO sent ${sent} rows, ${String(this.totalRows)} lines were read`,
      );
  }

  handleReadyForQuery(): void {
    this.finished = true;
    this.notify();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<CopyOutChunk> {
    try {
      for (;;) {
        const chunk = this.ready.shift();
        if (chunk !== undefined) {
          if (this.paused && this.ready.length < MAX_READY) this.resume();
          yield chunk;
          continue;
        }
        if (this.failure !== undefined) throw this.failure;
        if (this.finished) {
          if (!this.copyDone) throw new Error('COPY TO ended without its CopyDone');
          return;
        }
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    } finally {
      if (!this.finished) {
        // Stopped early: read the rest and drop it, so that the connection stays usable.
        this.discarding = true;
        this.ready.length = 0;
        if (this.paused) this.resume();
      }
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** A buffer for a chunk, with the head in it; `lineBytes`: for a line longer than a chunk's data. */
  private newBuffer(lineBytes: number): Buffer {
    const { head, tail, dataBytes, buffers } = this.options;
    const bytes = head.length + Math.max(dataBytes, lineBytes) + tail.length;
    const buffer = buffers?.take(bytes) ?? Buffer.allocUnsafe(bytes);
    head.copy(buffer, 0);
    return buffer;
  }

  /** The message at `at` of `chunk` (header read) begins: `length` bytes after the header. */
  private beginMessage(code: number, length: number): void {
    this.remaining = length;
    this.inData = code === COPY_DATA && !this.discarding;
    if (!this.inData) return;
    const { head, tail, dataBytes } = this.options;
    const data = this.filled - head.length;
    // The chunk is cut before this line when it would not fit; a line continued from the
    // last message stays with its start (the buffer grows).
    if (data + length <= dataBytes) return;
    if (!this.lineOpen) {
      if (data > 0) this.emit();
      // A line longer than a chunk: a buffer of its own.
      if (length > dataBytes) {
        this.options.buffers?.give(this.buffer);
        this.buffer = this.newBuffer(length);
      }
      return;
    }
    const grown = Buffer.allocUnsafe(this.filled + length + tail.length);
    this.buffer.copy(grown, 0, 0, this.filled);
    this.options.buffers?.give(this.buffer);
    this.buffer = grown;
  }

  /** Ends the current chunk and queues it; starts the next one unless it was the `last`. */
  private emit(last = false): void {
    const buffer = this.buffer;
    this.options.tail.copy(buffer, this.filled);
    const pool = this.options.buffers;
    let released = false;
    this.ready.push({
      bytes: buffer.subarray(0, this.filled + this.options.tail.length),
      rows: this.rows,
      release:
        pool === undefined
          ? undefined
          : () => {
              if (released) return;
              released = true;
              pool.give(buffer);
            },
    });
    this.rows = 0;
    this.notify();
    if (last) return;
    this.buffer = this.newBuffer(0);
    this.filled = this.options.head.length;
    if (this.ready.length >= MAX_READY && !this.paused) {
      this.paused = true;
      this.connection?.stream.pause();
    }
  }

  private resume(): void {
    this.paused = false;
    this.connection?.stream.resume();
  }

  /** Reads one socket chunk: headers, data into the chunk buffer, the rest skipped. */
  private parse(chunk: Buffer): void {
    let at = 0;
    const end = chunk.length;
    while (at < end) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, end - at);
        if (this.inData) {
          // Never short (the buffer was sized for the message); were it, the data would be cut.
          if (chunk.copy(this.buffer, this.filled, at, at + take) !== take) {
            this.failure ??= new Error('COPY TO: a line did not fit its chunk');
            this.discarding = true;
            this.inData = false;
          } else this.filled += take;
        }
        at += take;
        this.remaining -= take;
        if (this.remaining === 0 && this.inData) this.endData();
        continue;
      }
      let code: number;
      let length: number;
      if (this.headerFilled === 0 && end - at >= HEADER_BYTES) {
        code = chunk[at] as number;
        length = chunk.readUInt32BE(at + 1) - 4;
        at += HEADER_BYTES;
      } else {
        const take = Math.min(HEADER_BYTES - this.headerFilled, end - at);
        chunk.copy(this.header, this.headerFilled, at, at + take);
        this.headerFilled += take;
        at += take;
        if (this.headerFilled < HEADER_BYTES) return;
        this.headerFilled = 0;
        code = this.header[0] as number;
        length = this.header.readUInt32BE(1) - 4;
      }
      if (code === ERROR_RESPONSE) {
        // The driver reads the error (and the ReadyForQuery after it) and reports it.
        const header = Buffer.alloc(HEADER_BYTES);
        header[0] = code;
        header.writeUInt32BE(length + 4, 1);
        this.detach(Buffer.concat([header, chunk.subarray(at)]));
        return;
      }
      if (code === COPY_DONE) {
        this.copyDone = true;
        if (this.lineOpen && !this.discarding)
          this.failure ??= new Error('COPY TO ended in the middle of a line');
        else if (this.filled > this.options.head.length && !this.discarding) this.emit(true);
        else this.options.buffers?.give(this.buffer);
        this.detach(chunk.subarray(at + length));
        return;
      }
      // An empty CopyData message (never sent) would change nothing.
      this.beginMessage(code, length);
    }
  }

  /** A CopyData message was copied whole. */
  private endData(): void {
    this.lineOpen = this.buffer[this.filled - 1] !== NEWLINE;
    if (this.lineOpen) return;
    this.rows += 1;
    this.totalRows += 1;
  }

  /** Hands the socket back to the driver, with `rest`, the bytes after the COPY's data. */
  private detach(rest: Buffer): void {
    const connection = this.connection;
    const listener = this.driverListener;
    if (connection === undefined || listener === undefined) return;
    const stream = connection.stream;
    stream.removeListener('data', this.onData);
    stream.on('data', listener);
    this.paused = false;
    // A copy: the driver's parser may keep the bytes, which the socket's next read may overwrite.
    if (rest.length > 0) listener(Buffer.from(rest));
    // The driver's listener alone decides on pausing from here.
    process.nextTick(() => stream.resume());
    this.notify();
  }
}
