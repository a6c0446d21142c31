/**
 * Snapshots and real git repositories: runs on an unchanged database change nothing; each
 * change makes exactly one commit of the host directory that says what changed; the rest of
 * the repository (other hosts, other people's staged and unstaged work) is left alone; a run
 * that fails, is locked out or is a dry run leaves files and history as they were.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { EngineError, LockError, SchemaBackupError } from '../../../src/errors.js';
import { WORK_DIR_NAME } from '../../../src/snapshot/layout.js';
import { SPILL_BYTES } from '../../../src/snapshot/staged-content.js';
import {
  takeSnapshot,
  type SnapshotGitOptions,
  type SnapshotOptions,
} from '../../../src/snapshot/take-snapshot.js';
import { acquireLock } from '../../../src/support/lock.js';
import { createMemoryLogger } from '../../../src/support/logger.js';
import { connectionTo, createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { createGitRepo, git } from '../../helpers/git-repo.js';
import { snapshotOptionsForTest } from '../../helpers/snapshot-options.js';
import { createTempDir } from '../../helpers/temp-dir.js';

const HOST = 'test.example.org';

/** A small database: `settings` (global, 3 rows) and `sessions` (ephemeral, 2 rows). */
async function createSmallDatabase(label = 'git'): Promise<TestDatabase> {
  const database = await createTestDatabase(label);
  await database.exec('CREATE TABLE settings (k VARCHAR(20) PRIMARY KEY, v VARCHAR(50) NOT NULL)');
  await database.exec("INSERT INTO settings VALUES ('a', 'one'), ('b', 'two'), ('c', 'three')");
  await database.exec(
    'CREATE TABLE sessions (id INT AUTO_INCREMENT PRIMARY KEY, token VARCHAR(40))',
  );
  await database.exec("INSERT INTO sessions (token) VALUES ('x'), ('y')");
  return database;
}

const SMALL_CATEGORIES = { global: ['settings'], ephemeral: ['sessions'] };

function withGit(
  options: SnapshotOptions,
  overrides: Partial<SnapshotGitOptions>,
): SnapshotOptions {
  return { ...options, git: { ...options.git, ...overrides } };
}

/** Every file of a directory (not recursive), with its bytes and mtime. */
async function filesWithStats(
  dir: string,
): Promise<Map<string, { bytes: Buffer; mtimeMs: number }>> {
  const result = new Map<string, { bytes: Buffer; mtimeMs: number }>();
  for (const file of (await readdir(dir)).sort()) {
    const path = join(dir, file);
    result.set(file, { bytes: await readFile(path), mtimeMs: (await stat(path)).mtimeMs });
  }
  return result;
}

/** Every path under `dir`, recursively, relative to it; `.git` not entered. */
async function listTree(dir: string, prefix = ''): Promise<string[]> {
  const result: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    result.push(entry.isDirectory() ? `${path}/` : path);
    if (entry.isDirectory() && entry.name !== '.git') result.push(...(await listTree(dir, path)));
  }
  return result.sort();
}

function commitsTouching(repo: string, path: string): number {
  return Number(git(repo, 'rev-list', '--count', 'HEAD', '--', path).trim());
}

/** Paths changed by a commit. */
function pathsOf(repo: string, commit = 'HEAD'): string[] {
  return git(repo, 'show', '--name-only', '--format=', commit)
    .split('\n')
    .filter((line) => line !== '')
    .sort();
}

function insertLines(text: string): string[] {
  return text.split('\n').filter((line) => line.startsWith('INSERT INTO '));
}

describe('snapshot determinism and git', () => {
  it('two runs on an unchanged database give the same bytes and one commit', async () => {
    const database = await createSmallDatabase();
    const backupDir = await createTempDir('det');
    const options = snapshotOptionsForTest({
      database: database.name,
      backupDir,
      categories: SMALL_CATEGORIES,
    });

    const first = await takeSnapshot(mariadbEngine, options);
    expect(first.git).toBe('committed');
    expect(first.tables.map((table) => [table.name, table.change, table.rows])).toEqual([
      ['sessions', 'added', 0],
      ['settings', 'added', 3],
    ]);
    const before = await filesWithStats(first.hostDir);
    expect([...before.keys()]).toEqual([
      'database.defaults.sql',
      'manifest.json',
      'sessions.sql',
      'settings.sql',
    ]);
    expect(first.manifestChange).toBe('added');
    const manifest = JSON.parse(before.get('manifest.json')!.bytes.toString('utf8')) as {
      format: number;
      tables: Record<string, { category: string; rows?: number; sha256?: string }>;
    };
    expect(manifest.format).toBe(2);
    expect(Object.keys(manifest.tables)).toEqual(['sessions', 'settings']);
    expect(manifest.tables.sessions).toEqual({
      category: 'ephemeral',
      structure: expect.stringMatching(/^[0-9a-f]{64}$/) as string,
    });
    expect(manifest.tables.settings).toMatchObject({ category: 'global', rows: 3 });
    expect(manifest.tables.settings?.sha256).toMatch(/^[0-9a-f]{64}$/);

    const second = await takeSnapshot(mariadbEngine, options);
    expect(second.git).toBe('no-changes');
    expect(second.bytesWritten).toBe(0);
    expect(second.manifestChange).toBe('unchanged');
    expect(second.tables.every((table) => table.change === 'unchanged')).toBe(true);
    expect(await filesWithStats(second.hostDir)).toEqual(before);
    expect(commitsTouching(backupDir, HOST)).toBe(1);
    expect(git(backupDir, 'rev-list', '--count', 'HEAD').trim()).toBe('1');
    expect(pathsOf(backupDir)).toEqual([
      `${HOST}/database.defaults.sql`,
      `${HOST}/manifest.json`,
      `${HOST}/sessions.sql`,
      `${HOST}/settings.sql`,
    ]);
    expect(git(backupDir, 'status', '--porcelain')).toBe('');
  });

  it('a changed row, an added table and a dropped table each make one commit that says so', async () => {
    const database = await createSmallDatabase();
    const backupDir = await createTempDir('changes');
    const options = snapshotOptionsForTest({
      database: database.name,
      backupDir,
      categories: { ...SMALL_CATEGORIES, global: ['settings', 'extra'] },
    });
    const first = await takeSnapshot(mariadbEngine, options);
    expect(first.git).toBe('committed');
    expect(first.plan.missing).toEqual([{ name: 'extra', category: 'global' }]);
    const lastMessage = (): string => git(backupDir, 'log', '-1', '--format=%B');

    // One row changed: its key stayed, so it counts once, as changed (issue 15).
    await database.exec("UPDATE settings SET v = 'deux' WHERE k = 'b'");
    const changed = await takeSnapshot(mariadbEngine, options);
    expect(changed.git).toBe('committed');
    expect(changed.tables.find((table) => table.name === 'settings')).toMatchObject({
      change: 'changed',
      structureChanged: false,
      rowsAdded: 0,
      rowsRemoved: 0,
      rowsChanged: 1,
    });
    expect(changed.commit?.message).toContain('settings');
    expect(changed.commit?.message).toContain('+0 -0 ~1');
    expect(lastMessage().trim()).toBe(changed.commit?.message.trim());
    // The manifest changes with the table: its checksum of the rows is new.
    expect(changed.manifestChange).toBe('changed');
    expect(pathsOf(backupDir)).toEqual([`${HOST}/manifest.json`, `${HOST}/settings.sql`]);
    expect(git(backupDir, 'rev-parse', 'HEAD').trim()).toBe(changed.commit?.id);
    expect(commitsTouching(backupDir, HOST)).toBe(2);
    expect(await readFile(join(changed.hostDir, 'settings.sql'), 'utf8')).toContain(
      "VALUES ('b','deux');\n",
    );

    // A table added.
    await database.exec('CREATE TABLE extra (id INT PRIMARY KEY, note VARCHAR(20))');
    await database.exec("INSERT INTO extra VALUES (1, 'new')");
    const added = await takeSnapshot(mariadbEngine, options);
    expect(added.git).toBe('committed');
    expect(added.tables.find((table) => table.name === 'extra')).toMatchObject({
      change: 'added',
      rows: 1,
    });
    expect(added.commit?.message).toMatch(/1 table added/);
    expect(added.commit?.message).toMatch(/added: extra/);
    expect(added.manifestChange).toBe('changed');
    expect(added.manifest.get('extra')).toMatchObject({ category: 'global', rows: 1 });
    expect(pathsOf(backupDir)).toEqual([`${HOST}/extra.sql`, `${HOST}/manifest.json`]);
    expect(commitsTouching(backupDir, HOST)).toBe(3);

    // A table dropped: its file goes, and the commit says so.
    await database.exec('DROP TABLE extra');
    const dropped = await takeSnapshot(mariadbEngine, options);
    expect(dropped.git).toBe('committed');
    expect(dropped.removed).toEqual(['extra.sql']);
    expect(existsSync(join(dropped.hostDir, 'extra.sql'))).toBe(false);
    expect(dropped.commit?.message).toMatch(/1 table removed/);
    expect(dropped.commit?.message).toMatch(/removed: extra/);
    expect(dropped.manifest.has('extra')).toBe(false);
    expect(git(backupDir, 'show', '--name-status', '--format=', 'HEAD').trim()).toBe(
      `D\t${HOST}/extra.sql\nM\t${HOST}/manifest.json`,
    );
    expect(git(backupDir, 'ls-tree', '--name-only', 'HEAD', `${HOST}/`).trim().split('\n')).toEqual(
      [
        `${HOST}/database.defaults.sql`,
        `${HOST}/manifest.json`,
        `${HOST}/sessions.sql`,
        `${HOST}/settings.sql`,
      ],
    );
    expect(commitsTouching(backupDir, HOST)).toBe(4);

    // And back to quiet.
    expect((await takeSnapshot(mariadbEngine, options)).git).toBe('no-changes');
    expect(git(backupDir, 'status', '--porcelain')).toBe('');
  });

  it('the first snapshot of a host directory written before the defaults file says why object files change (issue 15)', async () => {
    const database = await createSmallDatabase('upgrade');
    await database.exec(
      'CREATE FUNCTION two() RETURNS INT DETERMINISTIC RETURN 2; ALTER DATABASE CHARACTER SET latin1 COLLATE latin1_german1_ci',
    );
    const backupDir = await createTempDir('upgrade');
    const options = snapshotOptionsForTest({
      database: database.name,
      backupDir,
      categories: SMALL_CATEGORIES,
    });
    const first = await takeSnapshot(mariadbEngine, options);
    // A new host directory's defaults are no news.
    expect(first.commit?.message).not.toMatch(/defaults/i);
    expect(await readFile(join(first.hostDir, 'database.defaults.sql'), 'utf8')).toContain(
      '\nALTER DATABASE CHARACTER SET latin1 COLLATE latin1_german1_ci;\n',
    );

    // The host directory as an earlier version wrote it: no defaults file, no client
    // character set around the CREATE.
    const functionFile = join(first.hostDir, 'two.function.sql');
    const current = await readFile(functionFile, 'utf8');
    await writeFile(
      functionFile,
      current.replace(/^SET (character_set_client|collation_connection) .*\n/gm, ''),
    );
    git(backupDir, 'rm', '--quiet', `${HOST}/database.defaults.sql`);
    // That version's manifest says format 1.
    const manifestFile = join(first.hostDir, 'manifest.json');
    await writeFile(
      manifestFile,
      (await readFile(manifestFile, 'utf8')).replace('"format": 2', '"format": 1'),
    );
    git(
      backupDir,
      '-c',
      'user.name=Test',
      '-c',
      'user.email=test@example.org',
      'commit',
      '--quiet',
      '-am',
      'as an earlier version wrote it',
    );

    const upgraded = await takeSnapshot(mariadbEngine, options);
    expect(upgraded.git).toBe('committed');
    expect(upgraded.databaseDefaultsChange).toBe('added');
    expect(await readFile(functionFile, 'utf8')).toBe(current);
    expect(upgraded.commit?.message).toMatch(
      /^snapshot [^\n]*: file format 1 -> 2, 2 other objects changed\n/,
    );
    expect(upgraded.commit?.message).toContain('Function changed: two\n');
    expect(upgraded.commit?.message).toContain(`Database defaults added: ${database.name}\n`);
    expect(upgraded.commit?.message).toContain(
      'object files set the client character set and collation they were created under',
    );

    // A changed default is news of its own, without the note.
    await database.exec('ALTER DATABASE CHARACTER SET latin1 COLLATE latin1_swedish_ci');
    const changed = await takeSnapshot(mariadbEngine, options);
    expect(changed.databaseDefaultsChange).toBe('changed');
    expect(changed.commit?.message).toContain(`Database defaults changed: ${database.name}\n`);
    expect(changed.commit?.message).not.toContain('created under');
    expect((await takeSnapshot(mariadbEngine, options)).git).toBe('no-changes');
  });

  it('commits only the host directory, leaving the repository’s other staged and unstaged work as it was', async () => {
    const database = await createSmallDatabase();
    const repo = await createGitRepo('shared');
    await writeFile(join(repo, 'README.md'), 'readme\n');
    await writeFile(join(repo, 'tracked.txt'), 'tracked\n');
    git(repo, 'add', 'README.md', 'tracked.txt');
    git(repo, 'commit', '--quiet', '-m', 'initial');
    const initial = git(repo, 'rev-parse', 'HEAD').trim();

    // Someone's work in progress: a staged change, a staged new file, an unstaged change, an untracked file.
    await writeFile(join(repo, 'README.md'), 'readme, edited and staged\n');
    await writeFile(join(repo, 'staged-new.txt'), 'new and staged\n');
    git(repo, 'add', 'README.md', 'staged-new.txt');
    await writeFile(join(repo, 'tracked.txt'), 'tracked, edited, not staged\n');
    await writeFile(join(repo, 'untracked.txt'), 'untracked\n');
    const status = git(repo, 'status', '--porcelain=v1', '--untracked-files=all');
    const staged = git(repo, 'diff', '--cached');
    const unstaged = git(repo, 'diff');
    expect(status).toBe('M  README.md\nA  staged-new.txt\n M tracked.txt\n?? untracked.txt\n');

    const backupDir = join(repo, 'backups');
    const result = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({ database: database.name, backupDir, categories: SMALL_CATEGORIES }),
    );
    expect(result.git).toBe('committed');
    expect(existsSync(join(backupDir, '.git'))).toBe(false);
    expect(git(repo, 'rev-parse', 'HEAD~1').trim()).toBe(initial);
    expect(git(repo, 'rev-parse', 'HEAD').trim()).toBe(result.commit?.id);
    expect(pathsOf(repo)).toEqual([
      `backups/${HOST}/database.defaults.sql`,
      `backups/${HOST}/manifest.json`,
      `backups/${HOST}/sessions.sql`,
      `backups/${HOST}/settings.sql`,
    ]);
    const shown = git(repo, 'show', '--stat', '--format=', 'HEAD');
    expect(shown).toContain(`backups/${HOST}/settings.sql`);
    expect(shown).not.toMatch(/README|staged-new|tracked|untracked/);
    // The committed README is still the initial one; the staged edit is still only staged.
    expect(git(repo, 'show', 'HEAD:README.md')).toBe('readme\n');
    expect(git(repo, 'status', '--porcelain=v1', '--untracked-files=all')).toBe(status);
    expect(git(repo, 'diff', '--cached')).toBe(staged);
    expect(git(repo, 'diff')).toBe(unstaged);
    expect(await readFile(join(repo, 'tracked.txt'), 'utf8')).toBe('tracked, edited, not staged\n');
  });

  it('with git.init false, a backup dir inside a repository is committed to that repository', async () => {
    const database = await createSmallDatabase();
    const repo = await createGitRepo('enclosing');
    const backupDir = join(repo, 'deep', 'backups');
    const result = await takeSnapshot(
      mariadbEngine,
      withGit(
        snapshotOptionsForTest({
          database: database.name,
          backupDir,
          categories: SMALL_CATEGORIES,
        }),
        { init: false },
      ),
    );
    expect(result.git).toBe('committed');
    expect(existsSync(join(backupDir, '.git'))).toBe(false);
    expect(pathsOf(repo)).toEqual([
      `deep/backups/${HOST}/database.defaults.sql`,
      `deep/backups/${HOST}/manifest.json`,
      `deep/backups/${HOST}/sessions.sql`,
      `deep/backups/${HOST}/settings.sql`,
    ]);
    expect(git(repo, 'status', '--porcelain', '--untracked-files=all')).toBe('');
  });

  it('a backup dir that the enclosing repository ignores gets a repository of its own (init) and leaves the enclosing one alone', async () => {
    const database = await createSmallDatabase();
    const repo = await createGitRepo('ignoring');
    await writeFile(join(repo, '.gitignore'), 'backups/\n');
    git(repo, 'add', '.gitignore');
    git(repo, 'commit', '--quiet', '-m', 'ignore backups');
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    const backupDir = join(repo, 'backups');
    const options = snapshotOptionsForTest({
      database: database.name,
      backupDir,
      categories: SMALL_CATEGORIES,
    });

    expect((await takeSnapshot(mariadbEngine, withGit(options, { init: false }))).git).toBe(
      'no-repository',
    );
    const result = await takeSnapshot(mariadbEngine, options);
    expect(result.git).toBe('committed');
    expect(existsSync(join(backupDir, '.git'))).toBe(true);
    expect(pathsOf(backupDir)).toEqual([
      `${HOST}/database.defaults.sql`,
      `${HOST}/manifest.json`,
      `${HOST}/sessions.sql`,
      `${HOST}/settings.sql`,
    ]);
    expect(git(repo, 'rev-parse', 'HEAD').trim()).toBe(head);
    expect(git(repo, 'status', '--porcelain', '--untracked-files=all')).toBe('');
  });

  it('two hosts sharing one repository each commit only their own directory', async () => {
    const database = await createSmallDatabase();
    const repo = await createGitRepo('hosts');
    const optionsFor = (host: string): SnapshotOptions =>
      snapshotOptionsForTest({
        database: database.name,
        backupDir: repo,
        host,
        categories: SMALL_CATEGORIES,
      });

    const a = await takeSnapshot(mariadbEngine, optionsFor('a.example.org'));
    expect(a.git).toBe('committed');
    expect(pathsOf(repo)).toEqual([
      'a.example.org/database.defaults.sql',
      'a.example.org/manifest.json',
      'a.example.org/sessions.sql',
      'a.example.org/settings.sql',
    ]);
    const b = await takeSnapshot(mariadbEngine, optionsFor('b.example.org'));
    expect(b.git).toBe('committed');
    expect(pathsOf(repo)).toEqual([
      'b.example.org/database.defaults.sql',
      'b.example.org/manifest.json',
      'b.example.org/sessions.sql',
      'b.example.org/settings.sql',
    ]);
    expect(await readFile(join(a.hostDir, 'settings.sql'))).toEqual(
      await readFile(join(b.hostDir, 'settings.sql')),
    );
    // No host name in the manifest: both hosts write the same one.
    expect(await readFile(join(a.hostDir, 'manifest.json'))).toEqual(
      await readFile(join(b.hostDir, 'manifest.json')),
    );

    await database.exec("INSERT INTO settings VALUES ('d', 'four')");
    const a2 = await takeSnapshot(mariadbEngine, optionsFor('a.example.org'));
    expect(a2.git).toBe('committed');
    expect(a2.commit?.message).toContain('snapshot a.example.org');
    expect(pathsOf(repo)).toEqual(['a.example.org/manifest.json', 'a.example.org/settings.sql']);
    // b's directory is still as b committed it, and b still sees the change on its own.
    expect(git(repo, 'status', '--porcelain')).toBe('');
    const b2 = await takeSnapshot(mariadbEngine, optionsFor('b.example.org'));
    expect(b2.git).toBe('committed');
    expect(pathsOf(repo)).toEqual(['b.example.org/manifest.json', 'b.example.org/settings.sql']);

    expect(commitsTouching(repo, 'a.example.org')).toBe(2);
    expect(commitsTouching(repo, 'b.example.org')).toBe(2);
    expect(git(repo, 'rev-list', '--count', 'HEAD').trim()).toBe('4');
    // Locks and staging files never reach git.
    expect(git(repo, 'log', '--name-only', '--format=')).not.toContain(WORK_DIR_NAME);
  });

  it('with git.commit false writes the files and commits nothing', async () => {
    const database = await createSmallDatabase();
    const repo = await createGitRepo('nocommit');
    const result = await takeSnapshot(
      mariadbEngine,
      withGit(
        snapshotOptionsForTest({
          database: database.name,
          backupDir: repo,
          categories: SMALL_CATEGORIES,
        }),
        { commit: false },
      ),
    );
    expect(result.git).toBe('disabled');
    expect(result.commit).toBeUndefined();
    expect((await readdir(result.hostDir)).sort()).toEqual([
      'database.defaults.sql',
      'manifest.json',
      'sessions.sql',
      'settings.sql',
    ]);
    expect(git(repo, 'rev-list', '--all')).toBe('');
    expect(git(repo, 'status', '--porcelain')).toBe(`?? ${HOST}/\n`);
  });

  it('outside any repository, with git.init false, writes the files and reports no-repository', async () => {
    const database = await createSmallDatabase();
    const backupDir = await createTempDir('norepo');
    // The temp dir really is in no repository.
    expect(
      spawnSync('git', ['rev-parse', '--show-toplevel'], { cwd: backupDir, stdio: 'pipe' }).status,
    ).not.toBe(0);
    const logger = createMemoryLogger();
    const result = await takeSnapshot(
      mariadbEngine,
      withGit(
        snapshotOptionsForTest({
          database: database.name,
          backupDir,
          categories: SMALL_CATEGORIES,
          logger,
        }),
        { init: false },
      ),
    );
    expect(result.git).toBe('no-repository');
    expect((await readdir(result.hostDir)).sort()).toEqual([
      'database.defaults.sql',
      'manifest.json',
      'sessions.sql',
      'settings.sql',
    ]);
    expect(existsSync(join(backupDir, '.git'))).toBe(false);
    expect(
      logger.lines
        .filter((line) => line.level === 'warn')
        .map((line) => line.message)
        .join('\n'),
    ).toMatch(/not inside a git repository/);
  });

  it('a dry run writes no snapshot file and commits nothing', async () => {
    const database = await createSmallDatabase();
    const repo = await createGitRepo('dry');
    const result = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({
        database: database.name,
        backupDir: repo,
        categories: SMALL_CATEGORIES,
        dryRun: true,
      }),
    );
    expect(result.git).toBe('dry-run');
    expect(result.commit).toBeUndefined();
    expect(result.tables.map((table) => [table.name, table.change])).toEqual([
      ['sessions', 'added'],
      ['settings', 'added'],
    ]);
    expect(existsSync(result.hostDir)).toBe(false);
    expect(git(repo, 'rev-list', '--all')).toBe('');
    expect(git(repo, 'status', '--porcelain', '--untracked-files=all')).toBe('');
  });

  it('a dry run leaves the backup directory exactly as it was', async () => {
    const database = await createSmallDatabase();
    const parent = await createTempDir('dry2');
    const backupDir = join(parent, 'backups');
    await mkdir(backupDir);
    await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({
        database: database.name,
        backupDir,
        categories: SMALL_CATEGORIES,
        dryRun: true,
      }),
    );
    // "Read and compare, but write and commit nothing" (SnapshotOptions.dryRun).
    expect(await listTree(backupDir)).toEqual([]);
  });

  it('pushes each commit; a push rejected because the remote moved is replayed onto it and pushed', async () => {
    const database = await createSmallDatabase();
    const repo = await createGitRepo('pushing');
    const bare = await createTempDir('bare');
    git(bare, 'init', '--quiet', '--bare', '--initial-branch=main');
    git(repo, 'remote', 'add', 'origin', bare);
    const options = withGit(
      snapshotOptionsForTest({
        database: database.name,
        backupDir: repo,
        categories: SMALL_CATEGORIES,
      }),
      { push: 'origin' },
    );

    const first = await takeSnapshot(mariadbEngine, options);
    expect(first.git).toBe('committed');
    expect(first.pushed).toBe('origin');
    expect(git(bare, 'rev-parse', 'refs/heads/main').trim()).toBe(first.commit?.id);

    // Someone else pushes to the remote: it now has a commit this repository lacks.
    const other = await createTempDir('clone');
    git(other, 'clone', '--quiet', bare, '.');
    await writeFile(join(other, 'elsewhere.txt'), 'from another clone\n');
    git(other, 'add', 'elsewhere.txt');
    git(
      other,
      '-c',
      'user.name=Other',
      '-c',
      'user.email=other@example.org',
      '-c',
      'commit.gpgsign=false',
      'commit',
      '--quiet',
      '-m',
      'other',
    );
    git(other, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main');
    const remoteHead = git(bare, 'rev-parse', 'refs/heads/main').trim();
    expect(remoteHead).not.toBe(first.commit?.id);

    await database.exec("UPDATE settings SET v = 'uno' WHERE k = 'a'");
    const second = await takeSnapshot(mariadbEngine, options);
    expect(second.pushedCommits).toBe(1);
    // The snapshot went on top of the other clone's commit: a linear history, on both sides.
    expect(git(bare, 'rev-parse', 'refs/heads/main').trim()).toBe(second.commit?.id);
    expect(git(repo, 'rev-parse', 'HEAD').trim()).toBe(second.commit?.id);
    expect(git(repo, 'rev-parse', 'HEAD~1').trim()).toBe(remoteHead);
    expect(git(repo, 'rev-parse', 'HEAD~2').trim()).toBe(first.commit?.id);
    expect(git(repo, 'log', '-1', '--format=%B')).toContain('settings (+0 -0 ~1)');
    expect(git(repo, 'status', '--porcelain')).toBe('');
    expect(await readFile(join(repo, 'elsewhere.txt'), 'utf8')).toBe('from another clone\n');
    expect(await readFile(join(repo, HOST, 'settings.sql'), 'utf8')).toContain(
      "VALUES ('a','uno');",
    );
  });

  it('strict mode refuses an uncategorized table with exit code 2 and writes nothing', async () => {
    const database = await createSmallDatabase();
    await database.exec('CREATE TABLE stray (id INT PRIMARY KEY)');
    const backupDir = await createTempDir('strict');
    const failure = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({
        database: database.name,
        backupDir,
        categories: SMALL_CATEGORIES,
        strict: true,
      }),
    ).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(SchemaBackupError);
    expect((failure as SchemaBackupError).exitCode).toBe(2);
    expect((failure as SchemaBackupError).message).toContain('stray');
    expect(existsSync(join(backupDir, HOST))).toBe(false);
  });

  it('a run that cannot connect leaves files and history as they were', async () => {
    const database = await createSmallDatabase();
    const backupDir = await createTempDir('noconnect');
    const options = snapshotOptionsForTest({
      database: database.name,
      backupDir,
      categories: SMALL_CATEGORIES,
    });
    const first = await takeSnapshot(mariadbEngine, options);
    const before = await filesWithStats(first.hostDir);
    const head = git(backupDir, 'rev-parse', 'HEAD').trim();

    await database.exec("UPDATE settings SET v = 'changed' WHERE k = 'c'");
    const wrong = {
      ...options,
      connection: {
        ...options.connection,
        user: `sbtest_nobody_${randomBytes(4).toString('hex')}`,
        password: 'wrong',
      },
    };
    await expect(takeSnapshot(mariadbEngine, wrong)).rejects.toThrow(EngineError);
    expect(await filesWithStats(first.hostDir)).toEqual(before);
    expect(git(backupDir, 'rev-parse', 'HEAD').trim()).toBe(head);
    expect(await readdir(join(backupDir, WORK_DIR_NAME))).toEqual(['.gitignore']);
  });

  it('a run that fails midway (a table it may not read) leaves files, HEAD and the work directory as they were', async () => {
    const database = await createTestDatabase('midway');
    await database.exec(
      'CREATE TABLE a_settings (k VARCHAR(20) PRIMARY KEY, v VARCHAR(50) NOT NULL)',
    );
    await database.exec("INSERT INTO a_settings VALUES ('a', 'one'), ('b', 'two')");
    await database.exec('CREATE TABLE z_secret (id INT PRIMARY KEY, secret VARCHAR(50))');
    await database.exec("INSERT INTO z_secret VALUES (1, 'hush')");
    const backupDir = await createTempDir('midway');
    const options = snapshotOptionsForTest({
      database: database.name,
      backupDir,
      categories: { global: ['a_settings', 'z_secret'] },
    });
    const first = await takeSnapshot(mariadbEngine, options);
    expect(first.git).toBe('committed');
    const before = await filesWithStats(first.hostDir);
    const head = git(backupDir, 'rev-parse', 'HEAD').trim();

    // A user that sees z_secret (it holds INSERT on it) but may not SELECT from it: the run
    // reads and stages a_settings (changed), then fails on z_secret.
    await database.exec("UPDATE a_settings SET v = 'uno' WHERE k = 'a'");
    const user = `sbtest_u_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    await database.exec(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
    try {
      await database.exec(`GRANT SELECT ON \`${database.name}\`.a_settings TO '${user}'@'%'`);
      await database.exec(`GRANT INSERT ON \`${database.name}\`.z_secret TO '${user}'@'%'`);
      const logger = createMemoryLogger();
      const restricted: SnapshotOptions = {
        ...options,
        logger,
        connection: { ...connectionTo(database.name), user, password, description: `${user}@test` },
      };
      const failure = await takeSnapshot(mariadbEngine, restricted).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(SchemaBackupError);
      expect((failure as Error).message).toMatch(/z_secret/);
      // It did get past the first table before failing.
      expect(logger.lines.map((line) => line.message)).toContain('a_settings: changed, 2 rows');
    } finally {
      await database.exec(`DROP USER IF EXISTS '${user}'@'%'`);
    }
    expect(await filesWithStats(first.hostDir)).toEqual(before);
    expect(git(backupDir, 'rev-parse', 'HEAD').trim()).toBe(head);
    expect(git(backupDir, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    expect(await listTree(join(backupDir, WORK_DIR_NAME))).toEqual(['.gitignore']);

    // The next good run picks the change up.
    const next = await takeSnapshot(mariadbEngine, options);
    expect(next.git).toBe('committed');
    expect(pathsOf(backupDir)).toEqual([`${HOST}/a_settings.sql`, `${HOST}/manifest.json`]);
  });

  it('a held lock stops the run with a LockError; once released the run goes through', async () => {
    const database = await createSmallDatabase();
    const backupDir = await createTempDir('lock');
    const options = snapshotOptionsForTest({
      database: database.name,
      backupDir,
      categories: SMALL_CATEGORIES,
    });
    const lock = await acquireLock(join(backupDir, WORK_DIR_NAME, `${HOST}.lock`));
    try {
      await expect(takeSnapshot(mariadbEngine, options)).rejects.toThrow(LockError);
      expect(existsSync(join(backupDir, HOST))).toBe(false);
    } finally {
      await lock.release();
    }
    lock.assertHeld();
    const result = await takeSnapshot(mariadbEngine, options);
    expect(result.git).toBe('committed');
    expect(await readdir(join(backupDir, WORK_DIR_NAME))).toEqual(['.gitignore']);
  });

  it('an uncategorized table has its structure saved, no rows, and a warning', async () => {
    const database = await createSmallDatabase();
    await database.exec('CREATE TABLE orphan (id INT PRIMARY KEY, name VARCHAR(20))');
    await database.exec("INSERT INTO orphan VALUES (1, 'nobody'), (2, 'knows')");
    const backupDir = await createTempDir('orphan');
    const logger = createMemoryLogger();
    const result = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({
        database: database.name,
        backupDir,
        categories: SMALL_CATEGORIES,
        logger,
      }),
    );
    expect(result.git).toBe('committed');
    expect(result.plan.uncategorized).toEqual(['orphan']);
    expect(result.tables.find((table) => table.name === 'orphan')).toMatchObject({
      category: 'uncategorized',
      change: 'added',
      rows: 0,
    });
    const text = await readFile(join(result.hostDir, 'orphan.sql'), 'utf8');
    expect(text).toContain('CREATE TABLE `orphan`');
    expect(insertLines(text)).toEqual([]);
    expect(text).not.toContain('nobody');
    const warnings = logger.lines
      .filter((line) => line.level === 'warn')
      .map((line) => line.message);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/orphan.*no category/);
  });

  it('a global table larger than the spill threshold is written one row per line, and a re-run changes nothing', async () => {
    const database = await createTestDatabase('big');
    const rowCount = 60_000;
    await database.exec('CREATE TABLE big (id INT PRIMARY KEY, payload VARCHAR(200) NOT NULL)');
    // ~100 bytes of payload per row, from the SEQUENCE engine's virtual seq_1_to_N table.
    await database.exec(
      `INSERT INTO big SELECT seq, CONCAT(LPAD(seq, 8, '0'), ':', REPEAT('x', 91)) FROM seq_1_to_${String(rowCount)}`,
    );
    const backupDir = await createTempDir('big');
    const options = snapshotOptionsForTest({
      database: database.name,
      backupDir,
      categories: { global: ['big'] },
    });

    const first = await takeSnapshot(mariadbEngine, options);
    expect(first.git).toBe('committed');
    expect(first.tables[0]).toMatchObject({ name: 'big', rows: rowCount, rowsAdded: rowCount });
    const file = join(first.hostDir, 'big.sql');
    const { size, mtimeMs } = await stat(file);
    expect(size).toBeGreaterThan(SPILL_BYTES);
    const text = await readFile(file, 'utf8');
    const rows = insertLines(text);
    expect(rows).toHaveLength(rowCount);
    expect(rows[0]).toBe(
      `INSERT INTO \`big\` (\`id\`,\`payload\`) VALUES (1,'00000001:${'x'.repeat(91)}');`,
    );
    expect(rows.at(-1)).toBe(
      `INSERT INTO \`big\` (\`id\`,\`payload\`) VALUES (${String(rowCount)},'000${String(rowCount)}:${'x'.repeat(91)}');`,
    );
    expect(text.endsWith('\n')).toBe(true);
    expect(await listTree(join(backupDir, WORK_DIR_NAME))).toEqual(['.gitignore']);

    const second = await takeSnapshot(mariadbEngine, options);
    expect(second.git).toBe('no-changes');
    expect(second.tables[0]?.change).toBe('unchanged');
    expect((await stat(file)).mtimeMs).toBe(mtimeMs);
    expect((await readFile(file, 'utf8')) === text).toBe(true);
    expect(await listTree(join(backupDir, WORK_DIR_NAME))).toEqual(['.gitignore']);

    // One row changed among 60,000: counted exactly.
    await database.exec("UPDATE big SET payload = 'changed' WHERE id = 30000");
    const third = await takeSnapshot(mariadbEngine, options);
    expect(third.git).toBe('committed');
    expect(third.tables[0]).toMatchObject({
      change: 'changed',
      rowsAdded: 0,
      rowsRemoved: 0,
      rowsChanged: 1,
    });
    expect(third.commit?.message).toContain('big (+0 -0 ~1)');
    expect(commitsTouching(backupDir, HOST)).toBe(2);
  });
});
