/**
 * Issue 18: a fleet of hosts snapshots at the same moment into clones of one bare remote with
 * `git.push`. A rejected push is fetched, replayed onto the remote and retried, never
 * touching other hosts' directories or the user's uncommitted work; a change to this host's
 * directory on the remote is a conflict that keeps the local commit.
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile, appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { PushError } from '../../../src/errors.js';
import { takeSnapshot, type SnapshotOptions } from '../../../src/snapshot/take-snapshot.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { git } from '../../helpers/git-repo.js';
import { snapshotOptionsForTest } from '../../helpers/snapshot-options.js';
import { createTempDir } from '../../helpers/temp-dir.js';

async function createSmallDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase('push');
  await database.exec('CREATE TABLE settings (k VARCHAR(20) PRIMARY KEY, v VARCHAR(50) NOT NULL)');
  await database.exec("INSERT INTO settings VALUES ('a', 'one'), ('b', 'two')");
  return database;
}

/** A bare repository; with `seed`, holding one commit with README.md. */
async function createBareRemote(seed: boolean): Promise<string> {
  const bare = await createTempDir('bare');
  git(bare, 'init', '--quiet', '--bare', '--initial-branch=main');
  if (seed) {
    const work = await cloneOf(bare, 'seed');
    await writeFile(join(work, 'README.md'), 'snapshots of the fleet\n');
    git(work, 'add', 'README.md');
    commitAs(work, 'seed');
    git(work, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main');
  }
  return bare;
}

/** A clone of `bare` with no user identity configured (as on a server). */
async function cloneOf(bare: string, label: string): Promise<string> {
  const dir = await createTempDir(label);
  // Quietly: cloning an empty repository warns on stderr.
  execFileSync('git', ['clone', '--quiet', bare, '.'], { cwd: dir, stdio: 'pipe' });
  git(dir, 'symbolic-ref', 'HEAD', 'refs/heads/main');
  git(dir, 'config', 'gc.auto', '0');
  return dir;
}

function commitAs(dir: string, message: string): void {
  git(
    dir,
    '-c',
    'user.name=Someone',
    '-c',
    'user.email=someone@example.org',
    '-c',
    'commit.gpgsign=false',
    'commit',
    '--quiet',
    '-m',
    message,
  );
}

function optionsFor(database: string, backupDir: string, host: string): SnapshotOptions {
  const options = snapshotOptionsForTest({
    database,
    backupDir,
    host,
    categories: { global: ['settings'] },
  });
  // Retried for as long as the test may run: a loaded machine makes each try slow.
  return {
    ...options,
    git: { ...options.git, init: false, push: 'origin', pushTimeoutSeconds: 600 },
  };
}

/** `[subject, files]` of each commit of `main` in `bare`, oldest first. */
function commitsOf(bare: string): { subject: string; files: string[] }[] {
  return git(bare, 'log', '--reverse', '--format=%x01%s', '--name-only', 'main')
    .split('\x01')
    .filter((entry) => entry !== '')
    .map((entry) => {
      const [subject = '', ...files] = entry.split('\n').filter((line) => line !== '');
      return { subject, files };
    });
}

/** Runs `count` hosts at once, each in its own clone of `bare`; returns their clones. */
async function runFleet(
  database: string,
  bare: string,
  count: number,
  prepare: (clone: string, index: number) => Promise<void> = () => Promise.resolve(),
): Promise<string[]> {
  const clones: string[] = [];
  for (let index = 0; index < count; index++) {
    const clone = await cloneOf(bare, `host${String(index)}`);
    await prepare(clone, index);
    clones.push(clone);
  }
  const outcomes = await Promise.allSettled(
    clones.map((clone, index) =>
      takeSnapshot(mariadbEngine, optionsFor(database, clone, hostName(index))),
    ),
  );
  const failures = outcomes.flatMap((outcome) =>
    outcome.status === 'rejected' ? [(outcome.reason as Error).message] : [],
  );
  expect(failures).toEqual([]);
  return clones;
}

function hostName(index: number): string {
  return `host${String(index).padStart(2, '0')}.example.org`;
}

/** Every host's commit arrived, each touching only its own directory, in a linear history. */
function expectFleetArrived(bare: string, clones: readonly string[], seeded: boolean): void {
  const commits = commitsOf(bare).slice(seeded ? 1 : 0);
  expect(commits).toHaveLength(clones.length);
  expect(git(bare, 'rev-list', '--merges', 'main')).toBe('');
  const hosts = commits.map((commit) => {
    const dirs = new Set(commit.files.map((file) => file.split('/')[0]));
    expect(dirs.size, commit.subject).toBe(1);
    return [...dirs][0];
  });
  expect(hosts.sort()).toEqual(clones.map((_, index) => hostName(index)).sort());
  const top = git(bare, 'ls-tree', '--name-only', 'main').trim().split('\n');
  expect(top).toEqual([...(seeded ? ['README.md'] : []), ...hosts.sort()]);
  const tip = git(bare, 'rev-parse', 'main').trim();
  for (const clone of clones) {
    // Each clone's branch is part of the remote's history, and knows the remote's tip.
    const head = git(clone, 'rev-parse', 'HEAD').trim();
    git(bare, 'merge-base', '--is-ancestor', head, tip);
  }
}

describe('concurrent pushes of many hosts to one remote (issue 18)', () => {
  it('8 hosts at once: every commit arrives, history stays linear, uncommitted work stays put', async () => {
    const database = await createSmallDatabase();
    const bare = await createBareRemote(true);
    const clones = await runFleet(database.name, bare, 8, async (clone, index) => {
      if (index !== 0) return;
      // The user's own work in the first clone: an unstaged change and a staged new file.
      await appendFile(join(clone, 'README.md'), 'a local edit\n');
      await writeFile(join(clone, 'notes.txt'), 'staged, not committed\n');
      git(clone, 'add', 'notes.txt');
    });
    expectFleetArrived(bare, clones, true);
    const [first = '', ...others] = clones;
    expect(git(first, 'status', '--porcelain')).toBe(' M README.md\nA  notes.txt\n');
    expect(await readFile(join(first, 'README.md'), 'utf8')).toBe(
      'snapshots of the fleet\na local edit\n',
    );
    expect(git(bare, 'show', 'main:README.md')).toBe('snapshots of the fleet\n');
    for (const clone of others) expect(git(clone, 'status', '--porcelain')).toBe('');
    // Minutes, not seconds: 8 CLI runs at once on 2 cores take 20-50 s, more on a loaded machine.
  }, 180_000);

  it('20 hosts at once into an empty remote: every commit arrives, history stays linear', async () => {
    const database = await createSmallDatabase();
    const bare = await createBareRemote(false);
    const clones = await runFleet(database.name, bare, 20);
    expectFleetArrived(bare, clones, false);
    for (const clone of clones) expect(git(clone, 'status', '--porcelain')).toBe('');
  }, 240_000);

  it('a change to this host directory on the remote is a conflict: local commit kept, remote untouched, a hint', async () => {
    const database = await createSmallDatabase();
    const bare = await createBareRemote(true);
    const host = 'conflict.example.org';
    const clone = await cloneOf(bare, 'conflict');
    const first = await takeSnapshot(mariadbEngine, optionsFor(database.name, clone, host));
    expect(first.pushedCommits).toBe(1);

    // Someone adds a file to this host's directory on the remote.
    const other = await cloneOf(bare, 'other');
    await writeFile(join(other, host, 'extra.txt'), 'not from this host\n');
    git(other, 'add', '.');
    commitAs(other, 'by hand');
    git(other, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main');
    const remoteTip = git(bare, 'rev-parse', 'main').trim();

    await database.exec("UPDATE settings SET v = 'uno' WHERE k = 'a'");
    const failure = await takeSnapshot(mariadbEngine, optionsFor(database.name, clone, host)).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(PushError);
    const error = failure as PushError;
    expect(error.message).toMatch(/the remote changed conflict\.example\.org\/extra\.txt/);
    expect(error.hint).toMatch(/committed locally/);
    expect(error.hint).toMatch(/git rebase refs\/remotes\/origin\/main/);
    expect(error.unpushedCommits).toBe(1);
    // The local commit is kept, on top of the first snapshot; the remote kept its history.
    expect(git(clone, 'rev-parse', 'HEAD~1').trim()).toBe(first.commit?.id);
    expect(git(clone, 'log', '-1', '--format=%B')).toContain('settings (+0 -0 ~1)');
    expect(git(clone, 'status', '--porcelain')).toBe('');
    expect(git(bare, 'rev-parse', 'main').trim()).toBe(remoteTip);
  });
});
