/**
 * Restoring an older snapshot straight from git: the files of a revision are read from the
 * object store, so the restore gets the schema and rows of then, and the work tree, the
 * index and HEAD are left alone.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { GitError } from '../../../src/errors.js';
import { Repository } from '../../../src/git/repository.js';
import { restoreSnapshot } from '../../../src/restore/restore-snapshot.js';
import { gitRevisionSource, readText } from '../../../src/restore/snapshot-source.js';
import { takeSnapshot } from '../../../src/snapshot/take-snapshot.js';
import { createTestDatabase } from '../../helpers/database.js';
import { git } from '../../helpers/git-repo.js';
import { baseTables, restoreOptionsForTest } from '../../helpers/restore.js';
import { snapshotOptionsForTest } from '../../helpers/snapshot-options.js';
import { createTempDir } from '../../helpers/temp-dir.js';

const HOST = 'test.example.org';

async function filesOf(dir: string): Promise<Map<string, Buffer>> {
  const result = new Map<string, Buffer>();
  for (const file of (await readdir(dir)).sort()) result.set(file, await readFile(join(dir, file)));
  return result;
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

describe('restore from a git revision', () => {
  it('restores the schema and rows of HEAD~1 after a column was added, a table dropped and a row changed', async () => {
    const source = await createTestDatabase('rev');
    await source.exec('CREATE TABLE settings (k VARCHAR(20) PRIMARY KEY, v VARCHAR(50) NOT NULL)');
    await source.exec("INSERT INTO settings VALUES ('a', 'one'), ('b', 'two'), ('c', 'three')");
    await source.exec('CREATE TABLE retired (id INT PRIMARY KEY, note VARCHAR(20))');
    await source.exec("INSERT INTO retired VALUES (1, 'old'), (2, 'older')");
    await source.exec('CREATE VIEW retired_notes AS SELECT note FROM retired');
    const backupDir = await createTempDir('rev');
    const options = snapshotOptionsForTest({
      database: source.name,
      backupDir,
      categories: { global: ['settings', 'retired'] },
    });
    const first = await takeSnapshot(mariadbEngine, options);
    expect(first.git).toBe('committed');
    const oldSettings = await source.query('SELECT * FROM settings ORDER BY k');
    const oldChecksums = await source.checksums();

    await source.exec('ALTER TABLE settings ADD COLUMN added_later INT NOT NULL DEFAULT 7');
    await source.exec("UPDATE settings SET v = 'deux' WHERE k = 'b'");
    await source.exec('DROP VIEW retired_notes');
    await source.exec('DROP TABLE retired');
    const second = await takeSnapshot(mariadbEngine, options);
    expect(second.git).toBe('committed');
    expect([...second.removed].sort()).toEqual(['retired.sql', 'retired_notes.view.sql']);

    const head = git(backupDir, 'rev-parse', 'HEAD').trim();
    const workTree = await filesOf(second.hostDir);
    const status = git(backupDir, 'status', '--porcelain', '--untracked-files=all');
    expect(status).toBe('');

    const repository = await Repository.find(backupDir);
    expect(repository).toBeDefined();
    const revision = await repository!.resolveRevision('HEAD~1');
    expect(revision).toBe(first.commit?.id);
    const revisionSource = gitRevisionSource(repository!, revision, second.hostDir);
    expect(await revisionSource.listFiles()).toEqual([
      'database.defaults.sql',
      'manifest.json',
      'retired.sql',
      'retired_notes.view.sql',
      'settings.sql',
    ]);
    // Bytes straight from git: the file as it was committed then.
    expect(await collect(revisionSource.readFile('settings.sql'))).toEqual(
      Buffer.from(git(backupDir, 'show', `${revision}:${HOST}/settings.sql`)),
    );
    expect(JSON.parse(await readText(revisionSource, 'manifest.json'))).toMatchObject({
      tables: { retired: { rows: 2 }, settings: { rows: 3 } },
    });

    const target = await createTestDatabase('revdst');
    const result = await restoreSnapshot(
      mariadbEngine,
      restoreOptionsForTest({ target: target.name, source: revisionSource }),
    );
    expect(result.source).toContain(revision);
    expect([...result.tables].sort()).toEqual(['retired', 'settings']);
    expect(result.objects).toEqual(['view retired_notes']);

    expect(await baseTables(target.name)).toEqual(['retired', 'settings']);
    const columns = await target.query<{ name: string }>(
      'SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
      [target.name, 'settings'],
    );
    expect(columns.map((column) => column.name)).toEqual(['k', 'v']);
    expect(await target.query('SELECT * FROM settings ORDER BY k')).toEqual(oldSettings);
    expect(await target.query('SELECT note FROM retired_notes ORDER BY note')).toEqual([
      { note: 'old' },
      { note: 'older' },
    ]);
    expect([...(await target.checksums()).entries()]).toEqual([...oldChecksums.entries()]);

    // The work tree, the index and HEAD are as they were.
    expect(await filesOf(second.hostDir)).toEqual(workTree);
    expect(git(backupDir, 'status', '--porcelain', '--untracked-files=all')).toBe(status);
    expect(git(backupDir, 'rev-parse', 'HEAD').trim()).toBe(head);

    // And HEAD restores the schema of now.
    const now = await createTestDatabase('revnow');
    await restoreSnapshot(
      mariadbEngine,
      restoreOptionsForTest({
        target: now.name,
        source: gitRevisionSource(repository!, head, second.hostDir),
      }),
    );
    expect(await baseTables(now.name)).toEqual(['settings']);
    expect(await now.query('SELECT * FROM settings ORDER BY k')).toEqual(
      await source.query('SELECT * FROM settings ORDER BY k'),
    );
  });

  it('names a revision or a directory that does not exist with a GitError', async () => {
    const source = await createTestDatabase('rev');
    await source.exec('CREATE TABLE settings (k INT PRIMARY KEY)');
    const backupDir = await createTempDir('rev');
    const first = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({
        database: source.name,
        backupDir,
        categories: { global: ['settings'] },
      }),
    );
    const repository = (await Repository.find(backupDir))!;
    await expect(repository.resolveRevision('HEAD~5')).rejects.toThrow(GitError);
    await expect(repository.resolveRevision('no-such-branch')).rejects.toThrow(
      /no commit no-such-branch/,
    );
    await expect(
      repository.listFiles('HEAD', join(backupDir, 'other.example.org')),
    ).rejects.toThrow(GitError);
    await expect(
      collect(repository.readFileAt('HEAD', join(first.hostDir, 'missing.sql'))),
    ).rejects.toThrow(GitError);
    expect(await repository.listFiles('HEAD', first.hostDir)).toEqual([
      'database.defaults.sql',
      'manifest.json',
      'settings.sql',
    ]);
  });
});
