import { afterEach, describe, expect, it } from 'vitest';
import { startBufferCollector } from '../../src/support/buffer-collector.js';

const MiB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Buffers whose wrappers survived enough scavenges to sit in the old generation. */
function promotedBuffers(count: number): Buffer[] {
  const held = Array.from({ length: count }, () => Buffer.alloc(MiB, 1));
  // Young garbage, so that scavenges run while the buffers are held and promote them.
  let sink = 0;
  for (let round = 0; round < 200_000; round += 1) sink += [round, { round }].length;
  expect(sink).toBeGreaterThan(0);
  return held;
}

describe('startBufferCollector', () => {
  let stop: (() => void) | undefined;
  afterEach(() => {
    stop?.();
    stop = undefined;
  });

  it('frees buffers let go once they have grown past the threshold', async () => {
    stop = startBufferCollector({ floorBytes: 8 * MiB, growthBytes: 8 * MiB, checkEveryMs: 10 });
    let held: Buffer[] | undefined = promotedBuffers(48);
    const whileHeld = process.memoryUsage().arrayBuffers;
    expect(whileHeld).toBeGreaterThan(40 * MiB);
    held = undefined;
    expect(held).toBeUndefined();
    // Nothing allocates now: only the collector can free them (polled: a loaded machine may
    // run its timer and V8's freeing late).
    await expect
      .poll(() => process.memoryUsage().arrayBuffers, { timeout: 5000, interval: 50 })
      .toBeLessThan(whileHeld - 32 * MiB);
  });

  it('leaves buffers in use alone, and stops when told', async () => {
    stop = startBufferCollector({ floorBytes: 8 * MiB, growthBytes: 8 * MiB, checkEveryMs: 10 });
    const held = promotedBuffers(16);
    await sleep(100);
    expect(process.memoryUsage().arrayBuffers).toBeGreaterThanOrEqual(16 * MiB);
    expect(held.every((buffer) => buffer[0] === 1)).toBe(true);
  });
});
