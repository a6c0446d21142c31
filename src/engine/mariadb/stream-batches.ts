/**
 * Streams a query's rows in batches with bounded memory. mysql2's object stream costs one
 * promise per row when iterated; batching makes it one per {@link ROWS_PER_BATCH} rows, and
 * pausing the socket when {@link MAX_QUEUED_BATCHES} wait keeps memory bounded whatever the
 * table's size.
 */
import type { Connection as CallbackConnection } from 'mysql2';

/** Rows per batch handed to the consumer. */
export const ROWS_PER_BATCH = 256;
/** Batches waiting for the consumer before the socket is paused. */
export const MAX_QUEUED_BATCHES = 4;

/**
 * Runs `sql` (text protocol, rows as arrays of raw buffers) and yields its rows converted
 * by `convert`, in order, in batches. A driver error is passed through `mapError` and thrown.
 * If the consumer stops early, the rest of the result is drained so the connection stays usable.
 */
export async function* streamBatches<T>(
  connection: CallbackConnection,
  sql: string,
  convert: (row: (Buffer | null)[]) => T,
  mapError: (error: unknown) => Error,
): AsyncIterable<T[]> {
  const queue: T[][] = [];
  let batch: T[] = [];
  // One object, so that what the query's callbacks change is not taken for a constant.
  const state: {
    done: boolean;
    failure: unknown;
    driverFailed: boolean;
    paused: boolean;
    discarding: boolean;
  } = {
    done: false,
    failure: undefined,
    driverFailed: false,
    paused: false,
    discarding: false,
  };
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };

  const query = connection.query({ sql, rowsAsArray: true, typeCast: false });
  query.on('result', (row: unknown) => {
    if (state.discarding) return;
    try {
      batch.push(convert(row as (Buffer | null)[]));
    } catch (error) {
      state.failure ??= error;
      notify();
      return;
    }
    if (batch.length >= ROWS_PER_BATCH) {
      queue.push(batch);
      batch = [];
      if (queue.length >= MAX_QUEUED_BATCHES && !state.paused) {
        state.paused = true;
        connection.pause();
      }
      notify();
    }
  });
  query.on('error', (error: unknown) => {
    state.failure ??= error;
    state.driverFailed = true;
    notify();
  });
  // A streamed query has no callback, so mysql2 reports a lost connection (KILL, server
  // gone) on the connection, not on the query: without these the stream never ends.
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
  connection.on('error', onConnectionLost);
  connection.on('end', onConnectionLost);
  query.on('end', () => {
    if (batch.length > 0) queue.push(batch);
    batch = [];
    state.done = true;
    notify();
  });

  try {
    for (;;) {
      const next = queue.shift();
      if (next !== undefined) {
        if (state.paused && queue.length < MAX_QUEUED_BATCHES / 2) {
          state.paused = false;
          connection.resume();
        }
        yield next;
        continue;
      }
      if (state.failure !== undefined) throw mapError(state.failure);
      if (state.done) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    if (!state.done && !state.driverFailed) {
      // The consumer stopped early, or a row could not be converted: let the server finish
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
