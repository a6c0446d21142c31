/** Regressions found in review: a backup directory reached through a symlink, host names with glob characters. */
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { revisionTree } from '../../../src/diff/diff-snapshots.js';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { Repository } from '../../../src/git/repository.js';
import { takeSnapshot } from '../../../src/snapshot/take-snapshot.js';
import { createTestDatabase } from '../../helpers/database.js';
import { createGitRepo, git } from '../../helpers/git-repo.js';
import { snapshotOptionsForTest } from '../../helpers/snapshot-options.js';
import { createTempDir } from '../../helpers/temp-dir.js';

describe('review regressions', () => {
  it('commits and diffs a backup directory reached through a symlink', async () => {
    const database = await createTestDatabase('symlink');
    await database.exec('CREATE TABLE t (id INT PRIMARY KEY)');
    const repo = await createGitRepo('symlink-repo');
    await mkdir(join(repo, 'backups'));
    const links = await createTempDir('symlink-links');
    await symlink(repo, join(links, 'repo'));
    const backupDir = join(links, 'repo', 'backups');
    const result = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({ database: database.name, backupDir, categories: { global: ['t'] } }),
    );
    expect(result.git).toBe('committed');
    expect(git(repo, 'show', '--name-only', '--format=', 'HEAD').trim().split('\n')).toEqual([
      'backups/test.example.org/database.defaults.sql',
      'backups/test.example.org/manifest.json',
      'backups/test.example.org/t.sql',
    ]);
    const repository = await Repository.find(backupDir);
    if (repository === undefined) throw new Error('no repository');
    const tree = await revisionTree(repository, 'HEAD', result.hostDir);
    expect([...tree.ids.keys()].sort()).toEqual([
      'database.defaults.sql',
      'manifest.json',
      't.sql',
    ]);
    tree.close?.();
  });

  it('takes a host name with glob characters literally: other hosts are not committed with it', async () => {
    const database = await createTestDatabase('globhost');
    await database.exec('CREATE TABLE t (id INT PRIMARY KEY)');
    const backupDir = await createTempDir('globhost');
    const other = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({
        database: database.name,
        backupDir,
        host: 'db1',
        categories: { global: ['t'] },
        git: { commit: false, init: true, author: { name: 'a', email: 'a@b' } },
      }),
    );
    expect(other.git).toBe('disabled');
    const result = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({
        database: database.name,
        backupDir,
        host: 'db[12]',
        categories: { global: ['t'] },
      }),
    );
    expect(result.git).toBe('committed');
    const committed = git(backupDir, 'show', '--name-only', '--format=', 'HEAD').trim().split('\n');
    expect(committed.every((path) => path.startsWith('db[12]/'))).toBe(true);
    expect(git(backupDir, 'status', '--porcelain')).toContain('db1/');
  });
});
