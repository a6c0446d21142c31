/**
 * Streams a query's result with bounded memory: whatever a row handler pushes (batches of
 * converted rows, or ready INSERT chunks) waits in a short queue; the socket is paused while
 * {@link MAX_QUEUED} items wait. One place for what every streamed read must get right: a
 * driver error, a connection lost mid-result (KILL, server gone: mysql2 reports that on the
 * connection, not on a query without a callback, so the stream would wait forever; on a
 * connection already closed it does so before the query is even returned), and a consumer
 * that stops early (the rest of the result is drained so the connection stays usable).
 */
import type { Connection as CallbackConnection, Query } from 'mysql2';

/** Rows per batch handed to the consumer by {@link streamBatches}. */
export const ROWS_PER_BATCH = 256;
/** Items waiting for the consumer before the socket is paused. */
export const MAX_QUEUED = 4;

/** Where a row handler puts what it made of the rows. */
export interface StreamSink<T> {
  /** False once nothing more is wanted (the consumer stopped, or a row failed): skip the work. */
  readonly wanted: boolean;
  push(item: T): void;
  /** A row could not be handled: the stream fails with `error` (through `mapError`). */
  fail(error: unknown): void;
}

export interface StreamQueryOptions<T> {
  readonly sql: string;
  /** Starts the statement; default: `sql` as a text query. */
  readonly start?: (() => Query) | undefined;
  /** Installs the row handling on the query, pushing into `sink`. */
  readonly attach: (query: Query, sink: StreamSink<T>) => void;
  /** At the end of a complete result: push what is still held (a last partial batch). */
  readonly flush?: ((sink: StreamSink<T>) => void) | undefined;
  readonly mapError: (error: unknown) => Error;
}

/** Runs `options.sql` (or `options.start`) and yields what the handler pushes, in order. */
export async function* streamQuery<T>(
  connection: CallbackConnection,
  options: StreamQueryOptions<T>,
): AsyncIterable<T> {
  const queue: T[] = [];
  // One object, so that what the callbacks change is not taken for a constant.
  const state: {
    done: boolean;
    failure: unknown;
    driverFailed: boolean;
    paused: boolean;
    discarding: boolean;
  } = { done: false, failure: undefined, driverFailed: false, paused: false, discarding: false };
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const sink: StreamSink<T> = {
    get wanted() {
      return !state.discarding && state.failure === undefined;
    },
    push(item) {
      if (!this.wanted) return;
      queue.push(item);
      if (queue.length >= MAX_QUEUED && !state.paused) {
        state.paused = true;
        connection.pause();
      }
      notify();
    },
    fail(error) {
      state.failure ??= error;
      notify();
    },
  };

  const onConnectionLost = (error?: unknown): void => {
    state.failure ??=
      error ??
      Object.assign(new Error('the server closed the connection (killed, or gone away)'), {
        code: 'PROTOCOL_CONNECTION_LOST',
        fatal: true,
      });
    state.driverFailed = true;
    notify();
  };
  // Listening before the statement starts: on a connection that is already closed (aborted,
  // or lost between statements) mysql2 emits its "closed state" error on the connection
  // synchronously, inside query(), and emits nothing after it.
  connection.on('error', onConnectionLost);
  connection.on('end', onConnectionLost);
  let query: Query;
  try {
    query =
      options.start?.() ??
      connection.query({ sql: options.sql, rowsAsArray: true, typeCast: false });
  } catch (error) {
    connection.off('error', onConnectionLost);
    connection.off('end', onConnectionLost);
    throw options.mapError(error);
  }
  options.attach(query, sink);
  query.on('error', (error: unknown) => {
    state.failure ??= error;
    state.driverFailed = true;
    notify();
  });
  query.on('end', () => {
    if (sink.wanted) options.flush?.(sink);
    state.done = true;
    notify();
  });

  try {
    for (;;) {
      const next = queue.shift();
      if (next !== undefined) {
        if (state.paused && queue.length < MAX_QUEUED / 2) {
          state.paused = false;
          connection.resume();
        }
        yield next;
        continue;
      }
      if (state.failure !== undefined) throw options.mapError(state.failure);
      if (state.done) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    if (!state.done && !state.driverFailed) {
      // The consumer stopped early, or a row could not be handled: let the server finish
      // sending, ignoring the rows, so the connection is not left paused mid-result.
      state.discarding = true;
      queue.length = 0;
      if (state.paused) connection.resume();
      await new Promise<void>((resolve) => {
        if (state.done || state.driverFailed) resolve();
        else {
          query.once('end', () => resolve()).once('error', () => resolve());
          connection.once('error', () => resolve()).once('end', () => resolve());
        }
      });
    }
    connection.off('error', onConnectionLost);
    connection.off('end', onConnectionLost);
  }
}

/**
 * Runs `sql` and yields its rows converted by `convert`, in order, in batches of
 * {@link ROWS_PER_BATCH}: one promise per batch rather than per row.
 */
export function streamBatches<T>(
  connection: CallbackConnection,
  sql: string,
  convert: (row: (Buffer | null)[]) => T,
  mapError: (error: unknown) => Error,
): AsyncIterable<T[]> {
  let batch: T[] = [];
  return streamQuery<T[]>(connection, {
    sql,
    mapError,
    attach: (query, sink) => {
      query.on('result', (row: unknown) => {
        if (!sink.wanted) return;
        try {
          batch.push(convert(row as (Buffer | null)[]));
        } catch (error) {
          sink.fail(error);
          return;
        }
        if (batch.length >= ROWS_PER_BATCH) {
          sink.push(batch);
          batch = [];
        }
      });
    },
    flush: (sink) => {
      if (batch.length > 0) sink.push(batch);
      batch = [];
    },
  });
}
