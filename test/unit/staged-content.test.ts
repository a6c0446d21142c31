/**
 * StagedContent (issue 17): a content past the run's memory budget spills to a staging file,
 * which is closed once the content is compared (a snapshot of 10,000 tables must not hold a
 * file open for each), and still compares and goes in place as one held in memory does.
 */
import { readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryBudget, StagedContent } from '../../src/snapshot/staged-content.js';
import { createTempDir } from '../helpers/temp-dir.js';

const TEXT = `${'a line of a table file\n'.repeat(5000)}the end\n`;

/** Files under `dir` this process holds open. */
async function openFilesOf(dir: string): Promise<string[]> {
  const targets = await Promise.all(
    (await readdir('/proc/self/fd')).map((fd) =>
      readlink(join('/proc/self/fd', fd)).catch(() => ''),
    ),
  );
  return targets.filter((target) => target.startsWith(dir));
}

describe('StagedContent', () => {
  it('spills past the budget, closes its file once compared, and goes in place whole', async () => {
    const dir = await createTempDir('staged');
    const target = join(dir, 'same.sql');
    await writeFile(target, TEXT);
    // A budget of 1 KB: the content spills at its first flush.
    const content = new StagedContent(dir, new MemoryBudget(1024));
    for (const line of TEXT.split(/(?<=\n)/)) await content.write(line);
    expect(await content.compareWith(target)).toBe('same');
    expect(content.stagedPath).toBeDefined();
    expect(await openFilesOf(dir)).toEqual([]);
    expect(await content.compareWith(join(dir, 'missing.sql'))).toBe('missing');
    await writeFile(join(dir, 'other.sql'), TEXT.replace('the end', 'THE END'));
    expect(await content.compareWith(join(dir, 'other.sql'))).toBe('different');
    await expect(content.write('more')).rejects.toThrow(/after it was compared/);

    const path = await content.prepareForRename(0o644, { durable: true });
    expect(await readFile(path, 'utf8')).toBe(TEXT);
    expect((await stat(path)).mode & 0o777).toBe(0o644);
    await content.discard();
    expect(await readFile(path, 'utf8')).toBe(TEXT);
  });

  it('compares a content held in memory byte for byte', async () => {
    const dir = await createTempDir('staged');
    const content = new StagedContent(dir);
    await content.write(TEXT);
    await writeFile(join(dir, 'same.sql'), TEXT);
    await writeFile(join(dir, 'other.sql'), TEXT.replace('a line', 'A line'));
    expect(await content.compareWith(join(dir, 'same.sql'))).toBe('same');
    expect(await content.compareWith(join(dir, 'other.sql'))).toBe('different');
    expect(await content.compareWith(join(dir, 'missing.sql'))).toBe('missing');
    expect(content.stagedPath).toBeUndefined();
    const path = await content.prepareForRename(0o644, { durable: false });
    expect(await readFile(path, 'utf8')).toBe(TEXT);
  });

  it('writes bytes as given, between texts, in order', async () => {
    const dir = await createTempDir('staged');
    const content = new StagedContent(dir);
    await content.write('head\n');
    const rows = Buffer.from('ünï\n', 'utf8');
    await content.write(rows);
    await content.write('tail\n');
    expect(await content.compareWith(join(dir, 'missing.sql'))).toBe('missing');
    const path = await content.prepareForRename(0o644, { durable: false });
    expect(await readFile(path, 'utf8')).toBe('head\nünï\ntail\n');
    expect(content.size).toBe(Buffer.byteLength('head\nünï\ntail\n'));
    expect(await readdir(dir)).toEqual([path.slice(dir.length + 1)]);
  });
});
