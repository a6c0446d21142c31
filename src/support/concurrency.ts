/** Small helpers for overlapping asynchronous work without unbounded parallelism. */

/**
 * Maps `items` with `work`, running at most `limit` at once; results keep the input order.
 * Rejects with the first error, once the work already started has ended; no new work starts.
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  // One object, so that what the workers change is not taken for a constant.
  const state: { next: number; failure: { error: unknown } | undefined } = {
    next: 0,
    failure: undefined,
  };
  const worker = async (): Promise<void> => {
    while (state.next < items.length && state.failure === undefined) {
      const index = state.next;
      state.next += 1;
      try {
        results[index] = await work(items[index] as T);
      } catch (error) {
        state.failure ??= { error };
      }
    }
  };
  // Every worker has stopped before this returns or throws: nothing runs on behind the caller.
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (state.failure !== undefined) {
    const { error } = state.failure;
    throw error instanceof Error ? error : new Error('a parallel task failed');
  }
  return results;
}

/** Results requested by index, each loaded ahead of time. */
export interface Prefetched<R> {
  /** The result for `items[index]`; starts loading the next `ahead` items too. Ask in increasing order. */
  get(index: number): Promise<R>;
}

/**
 * Loads `load(items[i])` for up to `ahead` items beyond the one asked for, so that their
 * round trips overlap the caller's work on the current one. A rejection surfaces when its
 * index is asked for, never as an unhandled rejection.
 */
export function prefetch<T, R>(
  items: readonly T[],
  load: (item: T) => Promise<R>,
  ahead = 8,
): Prefetched<R> {
  const started = new Map<number, Promise<R>>();
  let nextToStart = 0;
  return {
    get(index) {
      while (nextToStart < items.length && nextToStart <= index + ahead) {
        const promise = load(items[nextToStart] as T);
        promise.catch(() => undefined);
        started.set(nextToStart, promise);
        nextToStart += 1;
      }
      const promise = started.get(index);
      started.delete(index);
      return (
        promise ??
        Promise.reject(
          new RangeError(`prefetch: index ${String(index)} asked for twice or out of range`),
        )
      );
    },
  };
}
