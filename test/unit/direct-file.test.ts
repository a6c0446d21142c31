/**
 * DirectFile: every byte lands in order and the file ends at the last one, whether the blocks
 * go to the device directly (O_DIRECT), take the buffered fallback after a failed direct
 * write, or are buffered from the start; nothing stays open, and an existing file is refused.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DirectFile, type DirectFileOptions } from '../../src/support/direct-file.js';
import { createTempDir } from '../helpers/temp-dir.js';

async function openDescriptors(): Promise<number> {
  return (await readdir('/proc/self/fd')).length;
}

/** Writes `chunks` to a new file with `options`; returns its path and whether it went direct. */
async function writeChunks(
  chunks: readonly Buffer[],
  options: DirectFileOptions = {},
): Promise<{ path: string; direct: boolean }> {
  const path = join(await createTempDir('direct-file'), 'out');
  const file = await DirectFile.create(path, options);
  for (const chunk of chunks) await file.append(chunk);
  await file.end();
  await file.sync();
  await file.close();
  return { path, direct: file.wroteDirect };
}

/** Chunks of odd sizes, from 1 byte to 1.5 MiB, that cross the 1 MiB blocks anywhere. */
function oddChunks(): Buffer[] {
  return [1, 4095, 4097, 1024 * 1024 - 3, 1536 * 1024, 7, 2 * 1024 * 1024, 333_333].map((size) =>
    randomBytes(size),
  );
}

describe('DirectFile', () => {
  it('writes every byte directly, and ends at the last one', async () => {
    const before = await openDescriptors();
    const chunks = oddChunks();
    const { path, direct } = await writeChunks(chunks);
    expect(direct).toBe(true);
    expect((await readFile(path)).equals(Buffer.concat(chunks))).toBe(true);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await openDescriptors()).toBe(before);
  });

  it('writes an empty file, and one of a single byte', async () => {
    expect((await readFile((await writeChunks([])).path)).length).toBe(0);
    const { path } = await writeChunks([Buffer.from('x')]);
    expect(await readFile(path, 'utf8')).toBe('x');
  });

  it('writes through the page cache when a direct write fails, losing nothing', async () => {
    const before = await openDescriptors();
    const chunks = oddChunks();
    const { path, direct } = await writeChunks(chunks, { blockOffset: 1 });
    expect(direct).toBe(false);
    expect((await readFile(path)).equals(Buffer.concat(chunks))).toBe(true);
    expect(await openDescriptors()).toBe(before);
  });

  it('writes through the page cache when asked to', async () => {
    const chunks = oddChunks();
    const { path, direct } = await writeChunks(chunks, { direct: false });
    expect(direct).toBe(false);
    expect((await readFile(path)).equals(Buffer.concat(chunks))).toBe(true);
  });

  it('refuses a file that exists, and leaves it as it was', async () => {
    const path = join(await createTempDir('direct-file'), 'taken');
    await writeFile(path, 'keep me');
    await expect(DirectFile.create(path)).rejects.toThrow(/EEXIST/);
    expect(await readFile(path, 'utf8')).toBe('keep me');
  });

  it('stops an append when closed under it, and the next file writes every byte', async () => {
    const before = await openDescriptors();
    const path = join(await createTempDir('direct-file'), 'aborted');
    const file = await DirectFile.create(path);
    // 8 MiB: more than the four blocks, so the append waits for a write while it is closed.
    const appending = file.append(randomBytes(8 * 1024 * 1024)).catch((error: unknown) => error);
    await file.close();
    expect(await appending).toEqual(new Error('the file was closed while being written'));
    expect(await openDescriptors()).toBe(before);
    // The closed file's blocks are reused by the next one: nothing of the first may land in it.
    const chunks = oddChunks();
    const { path: next, direct } = await writeChunks(chunks);
    expect(direct).toBe(true);
    expect((await readFile(next)).equals(Buffer.concat(chunks))).toBe(true);
  });

  it('fails an end() closed under it, leaving nothing open', async () => {
    const before = await openDescriptors();
    const path = join(await createTempDir('direct-file'), 'ending');
    const file = await DirectFile.create(path);
    await file.append(randomBytes(2 * 1024 * 1024 + 100));
    const ending = file.end().catch((error: unknown) => error);
    await file.close();
    expect(await ending).toEqual(new Error('the file was closed while being written'));
    expect(await openDescriptors()).toBe(before);
  });

  it('closes everything when closed mid-way', async () => {
    const before = await openDescriptors();
    const path = join(await createTempDir('direct-file'), 'partial');
    const file = await DirectFile.create(path);
    for (let index = 0; index < 6; index += 1) await file.append(randomBytes(700 * 1024));
    await file.close();
    expect(await openDescriptors()).toBe(before);
  });
});
