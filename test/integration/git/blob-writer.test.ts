/**
 * Git objects written ahead of the commit (issue 17): `git fast-import` packs each changed
 * file's blob while the snapshot reads on, and `git add` then only finds them. The commit is
 * the same as before: same tree, hooks run, the index matches it (git status clean), and
 * `git fsck` finds nothing wrong.
 */
import { execFileSync } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { BlobWriter } from '../../../src/git/blob-writer.js';
import { takeSnapshot } from '../../../src/snapshot/take-snapshot.js';
import { createTestDatabase } from '../../helpers/database.js';
import { createGitRepo, git, ISOLATED_GIT_ENV } from '../../helpers/git-repo.js';
import { createMemoryLogger } from '../../../src/support/logger.js';
import { snapshotOptionsForTest } from '../../helpers/snapshot-options.js';
import { createTempDir } from '../../helpers/temp-dir.js';

function blobId(repo: string, content: string): string {
  return execFileSync('git', ['hash-object', '--stdin'], {
    cwd: repo,
    input: content,
    encoding: 'utf8',
    env: { ...process.env, ...ISOLATED_GIT_ENV },
  }).trim();
}

async function looseObjects(repo: string): Promise<number> {
  const objects = join(repo, '.git', 'objects');
  let count = 0;
  for (const entry of await readdir(objects)) {
    if (!/^[0-9a-f]{2}$/.test(entry)) continue;
    count += (await readdir(join(objects, entry))).length;
  }
  return count;
}

async function packs(repo: string): Promise<string[]> {
  return (await readdir(join(repo, '.git', 'objects', 'pack'))).filter((name) =>
    name.endsWith('.pack'),
  );
}

describe('BlobWriter', () => {
  it('starts no process for fewer than 100 files; past that, writes them all in one pack', async () => {
    const repo = await createGitRepo('blob-writer');
    const dir = await createTempDir('blob-writer-files');
    const few = new BlobWriter(repo);
    few.offer('one', [Buffer.from('one\n')]);
    expect(await few.complete(dir, ['one'])).toBeUndefined();
    expect(few.added).toBe(0);
    expect(await packs(repo)).toEqual([]);
    expect(await looseObjects(repo)).toBe(0);

    const writer = new BlobWriter(repo);
    const texts = Array.from({ length: 150 }, (_, index) => `blob ${String(index)}\n`);
    texts.push('');
    const keys = texts.map((_, index) => `f${String(index)}`);
    for (const [index, text] of texts.entries()) {
      await writeFile(join(dir, keys[index] ?? ''), text);
      // Every other file offered ahead, in two pieces the way a staged file holds them (the
      // caller's list may be emptied); the others are read from the disk.
      if (index % 2 === 1) continue;
      const pieces = [Buffer.from(text.slice(0, 3)), Buffer.from(text.slice(3))];
      writer.offer(keys[index] ?? '', pieces);
      pieces.length = 0;
    }
    expect(await writer.complete(dir, keys)).toBeUndefined();
    expect(writer.added).toBe(texts.length);
    expect(writer.fromDisk).toBe(75);
    for (const text of texts) expect(git(repo, 'cat-file', '-p', blobId(repo, text))).toBe(text);
    expect(await packs(repo)).toHaveLength(1);
    expect(await looseObjects(repo)).toBe(0);
    expect(git(repo, 'fsck', '--no-dangling')).toBe('');
  });

  it('a snapshot commits the same tree, with no loose blob, the index clean, fsck clean', async () => {
    const database = await createTestDatabase('blobs_ahead');
    const tables = Array.from({ length: 110 }, (_, index) => `t${String(index)}`);
    await database.exec(
      tables
        .map(
          (table) =>
            `CREATE TABLE ${table} (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO ${table} VALUES (1, 'a'), (2, '${table}')`,
        )
        .join(';'),
    );
    const repo = await createGitRepo('blobs-ahead-repo');
    const logger = createMemoryLogger();
    const options = snapshotOptionsForTest({
      database: database.name,
      backupDir: repo,
      categories: { global: tables },
      logger,
    });
    const first = await takeSnapshot(mariadbEngine, options);
    expect(first.git).toBe('committed');
    expect(logger.lines.map((line) => line.message).join('\n')).toMatch(
      /112 git object\(s\) written by git fast-import/,
    );
    // Blobs in fast-import's pack; only the commit and its two trees are loose.
    expect(await packs(repo)).toHaveLength(1);
    expect(await looseObjects(repo)).toBe(3);
    expect(git(repo, 'status', '--porcelain')).toBe('');
    expect(git(repo, 'fsck', '--no-dangling')).toBe('');
    for (const table of tables)
      expect(git(repo, 'cat-file', '-p', `HEAD:test.example.org/${table}.sql`)).toContain(
        `'${table}'`,
      );

    // One changed table: git add writes its two objects, as before; no fast-import.
    await database.exec("UPDATE t3 SET v = 'changed' WHERE id = 1");
    const second = await takeSnapshot(mariadbEngine, options);
    expect(second.git).toBe('committed');
    expect(git(repo, 'show', '--name-only', '--format=', 'HEAD').trim().split('\n')).toEqual([
      'test.example.org/manifest.json',
      'test.example.org/t3.sql',
    ]);
    expect(await packs(repo)).toHaveLength(1);
    expect(git(repo, 'status', '--porcelain')).toBe('');
    expect(git(repo, 'fsck', '--no-dangling')).toBe('');
  });
});
