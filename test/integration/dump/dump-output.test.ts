/**
 * DumpOutput writing a file while flushing it to disk in the background: every byte lands
 * in order, and no file descriptor is left open, whether the output finishes or is aborted.
 * gzip, compressed in parallel blocks, reads back whole with the stock gzip and node:zlib.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DumpOutput } from '../../../src/dump/dump-output.js';
import { createTempDir } from '../../helpers/temp-dir.js';

async function openDescriptors(): Promise<number> {
  return (await readdir('/proc/self/fd')).length;
}

describe('DumpOutput', () => {
  it('keeps every byte while flushing in the background, and closes what it opened', async () => {
    const path = join(await createTempDir('dump-output'), 'out.sql');
    const before = await openDescriptors();
    const output = await DumpOutput.open(
      { path },
      { compression: 'none', recipients: [], checksum: true, syncEveryBytes: 1024 * 1024 },
    );
    const chunks = Array.from({ length: 24 }, () => randomBytes(512 * 1024));
    for (const chunk of chunks) await output.write(chunk);
    const result = await output.finish();
    expect(result.bytes).toBe(24 * 512 * 1024);
    expect((await readFile(path)).equals(Buffer.concat(chunks))).toBe(true);
    expect(await openDescriptors()).toBe(before);
  });

  it('releases each buffer of a plain file once copied, so that reusing it loses nothing', async () => {
    const path = join(await createTempDir('dump-output'), 'out.sql');
    const output = await DumpOutput.open({ path }, { compression: 'none', recipients: [] });
    const expected: Buffer[] = [];
    const buffer = Buffer.alloc(300 * 1024);
    let released = 0;
    for (let index = 0; index < 20; index += 1) {
      // One buffer for every write, refilled once the output released it: as the encoder does.
      buffer.fill(65 + index);
      expected.push(Buffer.from(buffer));
      let mine = false;
      await output.write(buffer, () => {
        mine = true;
        released += 1;
      });
      expect(mine).toBe(true);
    }
    await output.finish();
    expect(released).toBe(20);
    expect((await readFile(path)).equals(Buffer.concat(expected))).toBe(true);
  });

  it('keeps no written buffer alive once compressed (memory stays bounded)', async () => {
    // A regression: each wait for the compressor held the written megabyte until the end.
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    const path = join(await createTempDir('dump-output'), 'out.sql.gz');
    const output = await DumpOutput.open({ path }, { compression: 'gzip', recipients: [] });
    const written: WeakRef<Buffer>[] = [];
    for (let index = 0; index < 96; index += 1) {
      const chunk = randomBytes(1024 * 1024);
      written.push(new WeakRef(chunk));
      await output.write(chunk);
    }
    collect();
    // What the pipeline still buffers (4 MB at its head, blocks being compressed): 9 here, where
    // the leak kept 29.
    expect(written.filter((ref) => ref.deref() !== undefined).length).toBeLessThan(16);
    await output.finish();
  });

  it('removes the file and closes what it opened when aborted mid-way', async () => {
    const path = join(await createTempDir('dump-output'), 'out.sql');
    const before = await openDescriptors();
    const output = await DumpOutput.open(
      { path },
      { compression: 'gzip', recipients: [], syncEveryBytes: 64 * 1024 },
    );
    for (let index = 0; index < 16; index += 1) await output.write(randomBytes(256 * 1024));
    await output.abort();
    expect(existsSync(path)).toBe(false);
    expect(await openDescriptors()).toBe(before);
  });

  it('writes gzip in parallel blocks that gzip -d and node:zlib read back in order', async () => {
    const path = join(await createTempDir('dump-output'), 'out.sql.gz');
    const output = await DumpOutput.open(
      { path },
      { compression: 'gzip', recipients: [], threads: 3 },
    );
    // Compressible and distinct per chunk: a block out of order would show.
    const chunks = Array.from({ length: 40 }, (_, index) =>
      Buffer.from(`-- chunk ${String(index)}\n${'INSERT INTO t VALUES (1);\n'.repeat(9000)}`),
    );
    for (const chunk of chunks) await output.write(chunk);
    await output.write('-- the end\n');
    await output.finish();
    const expected = Buffer.concat([...chunks, Buffer.from('-- the end\n')]);
    const compressed = await readFile(path);
    expect(compressed.length).toBeLessThan(expected.length / 20);
    expect(gunzipSync(compressed).equals(expected)).toBe(true);
    const stock = spawnSync('gzip', ['-dc', path], { maxBuffer: 64 * 1024 * 1024 });
    expect(stock.status).toBe(0);
    expect(stock.stdout.equals(expected)).toBe(true);
  });
});
