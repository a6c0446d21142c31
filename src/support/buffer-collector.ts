/**
 * Keeps buffers that are no longer used from piling up in memory.
 *
 * A snapshot holds each table's file for a while (staged contents, the driver's packets), so
 * those buffers reach V8's old generation and are freed only by a full collection. V8 starts
 * one on its own only after about 64 MB of external memory has grown since the last: a
 * snapshot of 10,000 tables peaked at 200-225 MB RSS, 40-60 MB of it buffers already let go
 * (`process.memoryUsage().arrayBuffers` climbing to 60 MB, then falling to ~22 MB at the
 * next full collection). Collecting when they pass 24 MB kept the same run at 170-176 MB, for
 * about 40 collections of a few tens of milliseconds in a 5-minute run.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface BufferCollectorOptions {
  /** Buffers under this never start a collection. */
  readonly floorBytes?: number;
  /** Growth since the last collection that starts one (above the floor). */
  readonly growthBytes?: number;
  readonly checkEveryMs?: number;
}

type Collect = () => void;

/** Node's `gc`, exposed for this process (a new context sees the flag set after start). */
function exposeCollect(): Collect | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const collect: unknown = runInNewContext('gc');
    return typeof collect === 'function' ? (collect as Collect) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts watching the process's buffers; the returned function stops. Never keeps the process
 * alive, and does nothing where `gc` cannot be had (the run is then only larger, not wrong).
 */
export function startBufferCollector({
  floorBytes = 24 * 1024 * 1024,
  growthBytes = 8 * 1024 * 1024,
  checkEveryMs = 200,
}: BufferCollectorOptions = {}): () => void {
  const collect = exposeCollect();
  if (collect === undefined) return () => undefined;
  let baseline = process.memoryUsage().arrayBuffers;
  const timer = setInterval(() => {
    const buffers = process.memoryUsage().arrayBuffers;
    if (buffers < baseline) baseline = buffers;
    else if (buffers > floorBytes && buffers - baseline > growthBytes) {
      collect();
      baseline = process.memoryUsage().arrayBuffers;
    }
  }, checkEveryMs);
  timer.unref();
  return () => {
    clearInterval(timer);
  };
}
