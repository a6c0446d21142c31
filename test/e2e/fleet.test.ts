/**
 * Issue 18, the fleet seen from one clone: hosts snapshot real databases into their own
 * clones of one bare remote and push (`git.push`); a monitoring clone with no config and no
 * database then runs `status --all-hosts` (stale hosts, exit 1), `diff --hosts A B` and
 * `diff --model HOST` (exit 3 when a schema differs), as text and as JSON.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { databaseConfigLines } from '../helpers/config-lines.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { git } from '../helpers/git-repo.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { withGitDate } from '../helpers/schema-history.js';
import { createTempDir } from '../helpers/temp-dir.js';

const MODEL = 'model.example.org';
const TWIN = 'twin.example.org';
const DRIFTED = 'drifted.example.org';
const OLD = 'old.example.org';

const HOUR = 3600 * 1000;

/** The model's schema: a global table with rows, an ephemeral one, a view. */
async function createModelDatabase(label: string, rows: string): Promise<TestDatabase> {
  const database = await createTestDatabase(label);
  await database.exec(
    'CREATE TABLE settings (name VARCHAR(40) PRIMARY KEY, value VARCHAR(100) NOT NULL)',
  );
  await database.exec(`INSERT INTO settings VALUES ${rows}`);
  await database.exec('CREATE TABLE sessions (id INT PRIMARY KEY, data TEXT)');
  await database.exec('CREATE VIEW setting_names AS SELECT name FROM settings');
  return database;
}

interface Fleet {
  /** A clone of the shared remote that is no database host (no config). */
  readonly monitor: string;
  readonly bare: string;
}

/** A bare remote with one seed commit, and a clone of it. */
async function createRemote(): Promise<string> {
  const bare = await createTempDir('fleet-bare');
  git(bare, 'init', '--quiet', '--bare', '--initial-branch=main');
  const seed = await cloneOf(bare, 'fleet-seed');
  await writeFile(join(seed, 'README.md'), 'schema snapshots of the fleet\n');
  git(seed, 'add', 'README.md');
  git(seed, '-c', 'user.name=Ops', '-c', 'user.email=ops@example.org', 'commit', '-qm', 'seed');
  git(seed, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main');
  return bare;
}

async function cloneOf(bare: string, label: string): Promise<string> {
  const dir = await createTempDir(label);
  execFileSync('git', ['clone', '--quiet', bare, '.'], { cwd: dir, stdio: 'pipe' });
  git(dir, 'symbolic-ref', 'HEAD', 'refs/heads/main');
  git(dir, 'config', 'gc.auto', '0');
  return dir;
}

/** One database host: its own clone and config; snapshots and pushes at `date`. */
async function snapshotHost(
  bare: string,
  host: string,
  database: string,
  date: Date,
  ephemeral: readonly string[] = ['sessions'],
): Promise<void> {
  const clone = await cloneOf(bare, `fleet-${host.split('.')[0] ?? 'host'}`);
  const config = join(clone, '..', `${host}.conf`);
  await writeFile(
    config,
    [
      `backup_dir: ${clone}`,
      `hostname: ${host}`,
      ...databaseConfigLines(database),
      'global: [settings]',
      `ephemeral: [${ephemeral.join(', ')}]`,
      'git:',
      '  push: origin',
      '',
    ].join('\n'),
  );
  const result = await withGitDate(date.toISOString(), () =>
    runCli(['snapshot', '--config', config, '--quiet']),
  );
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
}

/**
 * Four hosts, each pushing to the remote: the model; a twin with the same schema and other
 * settings rows; a drifted one (a column more, a table more, no view); and an old one (the
 * model's database, snapshotted three days ago).
 */
async function buildFleet(): Promise<Fleet> {
  const model = await createModelDatabase('fleet_model', "('motd', 'hello'), ('theme', 'dark')");
  const twin = await createModelDatabase('fleet_twin', "('motd', 'bonjour')");
  const drifted = await createModelDatabase('fleet_drift', "('motd', 'hello'), ('theme', 'dark')");
  await drifted.exec("ALTER TABLE settings ADD COLUMN note VARCHAR(20) NOT NULL DEFAULT ''");
  await drifted.exec('CREATE TABLE audit (id INT PRIMARY KEY)');
  await drifted.exec('DROP VIEW setting_names');

  const bare = await createRemote();
  const now = Date.now();
  await snapshotHost(bare, OLD, model.name, new Date(now - 72 * HOUR));
  await snapshotHost(bare, MODEL, model.name, new Date(now - 2 * HOUR));
  await snapshotHost(bare, TWIN, twin.name, new Date(now - HOUR));
  await snapshotHost(bare, DRIFTED, drifted.name, new Date(now - 3 * HOUR), ['sessions', 'audit']);
  return { monitor: await cloneOf(bare, 'fleet-monitor'), bare };
}

/** The CLI run from an empty directory: no ./etc/schema_backup.conf is found. */
async function runWithoutConfig(argv: readonly string[]): Promise<CliResult> {
  const cwd = await createTempDir('fleet-cwd');
  const before = process.cwd();
  process.chdir(cwd);
  try {
    return await runCli(argv, { SCHEMA_BACKUP_CONFIG: undefined });
  } finally {
    process.chdir(before);
  }
}

interface FleetJson {
  readonly maxAgeSeconds: number;
  readonly stale: string[];
  readonly hosts: {
    host: string;
    stale: boolean;
    ageSeconds?: number;
    lastCommit?: { id: string; date: string; author: string; subject: string };
  }[];
}

describe('the fleet from one clone (#18)', () => {
  it('status --all-hosts: the last snapshot of every host, stale ones exit 1, from git alone', async () => {
    const { monitor, bare } = await buildFleet();

    const text = await runWithoutConfig(['status', '--all-hosts', '--backup-dir', monitor]);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(1);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^HOST +STATE +AGE +LAST SNAPSHOT +COMMIT +SUBJECT$/);
    // Ages to the minute: a slow machine may add a minute or two since the snapshots.
    expect(
      lines.slice(1, 5).map((line) => line.split(/ +/).slice(0, 3).join(' ').replace(/\d+m$/, '')),
    ).toEqual([`${DRIFTED} ok 3h`, `${MODEL} ok 2h`, `${OLD} STALE 3d`, `${TWIN} ok 1h`]);
    expect(lines[1]).toContain(`snapshot ${DRIFTED}`);
    expect(lines[5]).toBe(`1 of 4 hosts STALE (max age 1d2h): ${OLD}`);

    const json = await runWithoutConfig([
      'status',
      '--all-hosts',
      '--backup-dir',
      monitor,
      '--json',
    ]);
    expect(json.code).toBe(1);
    const fleet = JSON.parse(json.stdout) as FleetJson;
    expect(fleet.maxAgeSeconds).toBe(26 * 3600);
    expect(fleet.stale).toEqual([OLD]);
    const old = fleet.hosts.find((host) => host.host === OLD);
    expect(old?.stale).toBe(true);
    expect(old?.ageSeconds).toBeGreaterThan(72 * 3600 - 60);
    // The commit is the one that last touched the host directory, on the remote too.
    expect(old?.lastCommit?.id).toBe(
      git(bare, 'log', '-1', '--format=%H', 'main', '--', OLD).trim(),
    );
    expect(old?.lastCommit?.author).toMatch(/^schema_backup </);

    // --max-age overrides status.max_age: nobody is stale within four days.
    const lenient = await runWithoutConfig([
      'status',
      '--all-hosts',
      '--backup-dir',
      monitor,
      '--max-age',
      '4d',
    ]);
    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toContain('all 4 hosts fresh (max age 4d)');
  });

  it('a missing backup directory, or one in no repository, is exit 2 and creates nothing', async () => {
    const dir = await createTempDir('fleet-none');
    const missing = join(dir, 'nosuch');
    const result = await runWithoutConfig(['status', '--all-hosts', '--backup-dir', missing]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('does not exist');
    expect(existsSync(missing)).toBe(false);
    const notRepo = await runWithoutConfig(['diff', '--model', MODEL, '--backup-dir', dir]);
    expect(notRepo.code).toBe(2);
    expect(notRepo.stderr).toContain('is not in a git repository');
  });

  it('diff --hosts and diff --model: the schemas of committed host directories, exit 3 when they differ', async () => {
    const { monitor } = await buildFleet();

    // The same schema, other rows: no difference unless --rows.
    const twin = await runWithoutConfig(['diff', '--hosts', MODEL, TWIN, '--backup-dir', monitor]);
    expect(twin.stderr).toBe('');
    expect(twin.code).toBe(0);
    expect(twin.stdout).toBe(
      [
        `${MODEL}@HEAD -> ${TWIN}@HEAD`,
        '  no differences',
        '  rows differ, not compared (--rows compares them): settings',
        '',
      ].join('\n'),
    );
    const withRows = await runWithoutConfig([
      'diff',
      '--hosts',
      MODEL,
      TWIN,
      '--rows',
      '--stat',
      '--backup-dir',
      monitor,
    ]);
    expect(withRows.code).toBe(3);
    expect(withRows.stdout).toContain('table settings: rows +0 -1 ~1');

    const drifted = await runWithoutConfig([
      'diff',
      '--hosts',
      MODEL,
      DRIFTED,
      '--backup-dir',
      monitor,
    ]);
    expect(drifted.code).toBe(3);
    expect(drifted.stdout).toContain(
      [
        `${MODEL}@HEAD -> ${DRIFTED}@HEAD`,
        '  table audit: added',
        '  table settings: structure changed',
        "    column note added: varchar(20) NOT NULL DEFAULT ''",
        '  view setting_names: removed',
      ].join('\n'),
    );
    // The unified diff of the structure, without the rows.
    expect(drifted.stdout).toContain("+  `note` varchar(20) NOT NULL DEFAULT '',");
    expect(drifted.stdout).not.toContain('INSERT INTO');

    const json = await runWithoutConfig([
      'diff',
      '--hosts',
      MODEL,
      DRIFTED,
      '--json',
      '--backup-dir',
      monitor,
    ]);
    expect(json.code).toBe(3);
    const parsed = JSON.parse(json.stdout) as {
      different: boolean;
      tables: { name: string; change: string }[];
      objects: { kind: string; name: string; change: string }[];
    };
    expect(parsed.different).toBe(true);
    expect(parsed.tables.map((table) => `${table.name} ${table.change}`)).toEqual([
      'audit added',
      'settings changed',
    ]);
    expect(parsed.objects).toEqual([{ kind: 'view', name: 'setting_names', change: 'removed' }]);

    // One revision: the hosts as they were then (the seed commit had none of them).
    const before = await runWithoutConfig([
      'diff',
      'HEAD~2',
      '--hosts',
      MODEL,
      OLD,
      '--backup-dir',
      monitor,
    ]);
    expect(before.code).toBe(0);
    expect(before.stdout).toContain(`${MODEL}@HEAD~2 -> ${OLD}@HEAD~2`);

    const model = await runWithoutConfig(['diff', '--model', MODEL, '--backup-dir', monitor]);
    expect(model.code).toBe(3);
    expect(model.stdout).toBe(
      [
        `model ${MODEL}@HEAD: 1 of 3 other hosts differ`,
        `${DRIFTED}: differs`,
        '  table audit: added',
        '  table settings: structure changed',
        "    column note added: varchar(20) NOT NULL DEFAULT ''",
        '  view setting_names: removed',
        `same as the model: ${OLD}, ${TWIN}`,
        `rows differ, not compared (--rows compares them): ${TWIN} (settings)`,
        '',
      ].join('\n'),
    );
    const modelJson = await runWithoutConfig([
      'diff',
      '--model',
      MODEL,
      '--json',
      '--backup-dir',
      monitor,
    ]);
    expect(modelJson.code).toBe(3);
    const comparison = JSON.parse(modelJson.stdout) as {
      model: string;
      revision: string;
      differing: string[];
      hosts: { host: string; different: boolean }[];
    };
    expect(comparison.model).toBe(MODEL);
    expect(comparison.revision).toBe('HEAD');
    expect(comparison.differing).toEqual([DRIFTED]);
    expect(comparison.hosts.map((host) => [host.host, host.different])).toEqual([
      [DRIFTED, true],
      [OLD, false],
      [TWIN, false],
    ]);
    // The drifted host as the model: every other host differs from it.
    const fromDrifted = await runWithoutConfig([
      'diff',
      '--model',
      DRIFTED,
      '--stat',
      '--backup-dir',
      monitor,
    ]);
    expect(fromDrifted.code).toBe(3);
    expect(fromDrifted.stdout).toContain(`model ${DRIFTED}@HEAD: 3 of 3 other hosts differ`);
  });

  it('diff --hosts/--model: an unknown host is exit 2 naming the hosts; options that clash are exit 2', async () => {
    const { monitor } = await buildFleet();
    const unknown = await runWithoutConfig([
      'diff',
      '--model',
      'nosuch.example.org',
      '--backup-dir',
      monitor,
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      `--model "nosuch.example.org": there is no host directory nosuch.example.org in ${monitor} at HEAD`,
    );
    expect(unknown.stderr).toContain(
      `Host directories: ${[DRIFTED, MODEL, OLD, TWIN].join(', ')}.`,
    );
    const unknownPair = await runWithoutConfig([
      'diff',
      '--hosts',
      MODEL,
      'nosuch',
      '--backup-dir',
      monitor,
    ]);
    expect(unknownPair.code).toBe(2);
    for (const argv of [
      ['diff', '--hosts', MODEL],
      ['diff', '--hosts', MODEL, TWIN, '--live'],
      ['diff', '--model', MODEL, '--host', TWIN],
      ['diff', '--model', MODEL, '--hosts', MODEL, TWIN],
      ['diff', 'HEAD~1', 'HEAD', '--model', MODEL],
    ]) {
      const result = await runWithoutConfig([...argv, '--backup-dir', monitor]);
      expect(result.code, argv.join(' ')).toBe(2);
    }
  });
});
