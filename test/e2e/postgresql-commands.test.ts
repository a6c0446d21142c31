/**
 * `database.engine: postgresql` and the commands test/e2e/postgresql.test.ts leaves out:
 * `local` tables saved age-encrypted (never in plaintext on disk) and brought back by
 * `decrypt`, by the stock `age -d` into `psql`, and by `restore`; ephemeral rows never saved
 * (but with `-e`); consumers and pause hooks around `snapshot -m/-t` and `upgrade`; `status`,
 * `prune`, the metrics file and `log --json`; `diff` across two hosts. From the command
 * line, on the real server, git and age.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ageDecryptSql, ageKeygen, readTree, type AgeKey } from '../helpers/age.js';
import { git } from '../helpers/git-repo.js';
import {
  createPgTestDatabase,
  pgClient,
  postgresServer,
  runPsqlScript,
  type PgTestDatabase,
} from '../helpers/postgres.js';
import {
  loadWithPsql,
  pgCliEnv,
  pgDatabaseConfigLines,
  pgDatabaseToDrop,
  pgTableRows,
} from '../helpers/pg-snapshot.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { createTestServices, type TestServices } from '../helpers/services.js';
import { createTempDir } from '../helpers/temp-dir.js';

const HOST = 'pgcmd.example.org';
const LOCAL_TABLES = ['app.users', 'public.notes'];

interface Setup {
  readonly database: PgTestDatabase;
  readonly dir: string;
  readonly config: string;
  readonly key: AgeKey;
  readonly hostDir: string;
  readonly userDataDir: string;
  /** In the rows of local tables only. */
  readonly secret: string;
  /** In the rows of the ephemeral table only. */
  readonly ephemeral: string;
}

/**
 * A database with a global table of each kind of name (`settings` unqualified, `app.flags`),
 * local tables `app.users` and `notes` (unqualified: public) whose rows hold `secret`, and an
 * ephemeral `sessions` whose row holds `ephemeral`; its config plus `extra` lines.
 */
async function setUp(extra: readonly string[] = []): Promise<Setup> {
  const database = await createPgTestDatabase('sbcmd_e2e');
  const secret = `SECRET-${randomBytes(6).toString('hex')}`;
  const ephemeral = `EPHEMERAL-${randomBytes(6).toString('hex')}`;
  await database.exec(`
    CREATE SCHEMA app;
    CREATE TABLE app.users (id integer PRIMARY KEY, login text NOT NULL, secret text);
    CREATE TABLE public.notes (id serial PRIMARY KEY, body text);
    CREATE TABLE public.settings (k text PRIMARY KEY, v text);
    CREATE TABLE app.flags (name text PRIMARY KEY, pause integer NOT NULL);
    CREATE TABLE public.sessions (id integer PRIMARY KEY, data text);
    INSERT INTO public.settings VALUES ('a', 'one'), ('b', 'two');
    INSERT INTO app.flags VALUES ('ProcessMonitor', 0);
  `);
  await database.query('INSERT INTO app.users VALUES (1, $1, $2), (2, $3, $4)', [
    'alice',
    secret,
    'bob',
    `${secret} it's\nmultiline`,
  ]);
  await database.query('INSERT INTO public.notes (body) VALUES ($1), ($2)', [
    `${secret} note`,
    null,
  ]);
  await database.query('INSERT INTO public.sessions VALUES (1, $1)', [ephemeral]);
  const dir = await createTempDir('sbcmd-e2e');
  const key = ageKeygen(dir, 'key.txt');
  const config = join(dir, 'schema_backup.conf');
  await writeFile(
    config,
    [
      'csv2_backup_dir: backups',
      'user_data_backup_dir: userdata',
      `hostname: ${HOST}`,
      ...(await pgDatabaseConfigLines(database.name)),
      'encryption:',
      `  recipients: [${key.recipient}]`,
      '  identity_file: key.txt',
      'git:',
      '  init: true',
      'global: [settings, app.flags]',
      'local: [app.users, notes]',
      'ephemeral: [sessions]',
      ...extra,
      '',
    ].join('\n'),
  );
  return {
    database,
    dir,
    config,
    key,
    hostDir: join(dir, 'backups', HOST),
    userDataDir: join(dir, 'userdata', HOST),
    secret,
    ephemeral,
  };
}

async function cli(setup: Pick<Setup, 'config'>, ...argv: string[]): Promise<CliResult> {
  return runCli(['--config', setup.config, ...argv], await pgCliEnv());
}

/** Every file under `dir` (git objects too) and the whole git history hold none of `texts`. */
async function expectNowhereOnDisk(dir: string, texts: readonly string[]): Promise<void> {
  for (const [path, bytes] of await readTree(dir))
    for (const text of texts) expect(bytes.includes(text), `${text} in ${path}`).toBe(false);
  const repository = join(dir, 'backups');
  if (existsSync(join(repository, '.git'))) {
    const history = git(repository, 'log', '-p', '--all', '--format=%H %s');
    for (const text of texts) expect(history).not.toContain(text);
  }
}

/** The `.age` files of a user-data copy directory, sorted. */
async function ageFiles(copyDir: string): Promise<string[]> {
  return (await readdir(copyDir)).filter((file) => file.endsWith('.age')).sort();
}

describe('postgresql local tables', () => {
  it('are saved age-encrypted, never in plaintext, and come back by decrypt, age -d | psql and restore', async () => {
    const setup = await setUp();
    const snapshot = await cli(setup, 'snapshot');
    expect(snapshot.code, snapshot.stderr).toBe(0);
    expect(snapshot.stdout).toContain('user data: 2 local tables encrypted into');

    // The copy: one .age file per local table, 0600 in 0700 directories, with `latest`.
    const latest = join(setup.userDataDir, 'latest');
    const files = await ageFiles(latest);
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^app\.users\.sql(\.zst|\.gz)?\.age$/);
    expect(files[1]).toMatch(/^public\.notes\.sql(\.zst|\.gz)?\.age$/);
    for (const file of files) expect((await stat(join(latest, file))).mode & 0o777).toBe(0o600);
    const [copy] = (await readdir(setup.userDataDir)).filter((name) => name !== 'latest');
    expect((await stat(join(setup.userDataDir, copy ?? ''))).mode & 0o777).toBe(0o700);
    expect((await stat(setup.userDataDir)).mode & 0o777).toBe(0o700);

    // The structure of local tables in git, their rows nowhere in plaintext; ephemeral rows
    // nowhere at all.
    const users = await readFile(join(setup.hostDir, 'app.users.sql'), 'utf8');
    expect(users).toContain('CREATE TABLE "app"."users"');
    expect(users).not.toContain('INSERT');
    expect(await readFile(join(setup.hostDir, 'public.notes.sql'), 'utf8')).not.toContain('INSERT');
    await expectNowhereOnDisk(setup.dir, [setup.secret, 'alice', setup.ephemeral]);

    // decrypt: every table of the copy, or the ones named as the config names them.
    const all = await cli(setup, 'decrypt');
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toContain(`'${setup.secret}'`);
    expect(all.stdout).toContain(`'${setup.secret} note'`);
    const notes = await cli(setup, 'decrypt', '-t', 'notes');
    expect(notes.code, notes.stderr).toBe(0);
    expect(notes.stdout).toContain(`'${setup.secret} note'`);
    expect(notes.stdout).not.toContain("'alice'");
    const appUsers = await cli(setup, 'decrypt', '--table', 'app.users');
    expect(appUsers.code, appUsers.stderr).toBe(0);
    expect(appUsers.stdout).toContain("'alice'");
    expect(appUsers.stdout).not.toContain('note');
    const unknown = await cli(setup, 'decrypt', '-t', 'users');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Tables of the copy: app.users, public.notes.');

    // The stock age CLI, then psql -v ON_ERROR_STOP=1, into a database psql made from the
    // git files: the same rows as the source.
    const loaded = await createPgTestDatabase('sbcmd_psql');
    await loadWithPsql(setup.hostDir, loaded.name);
    for (const file of files)
      await runPsqlScript(loaded.name, ageDecryptSql(setup.key.identityFile, join(latest, file)));
    expect(await pgTableRows(loaded.name, LOCAL_TABLES)).toEqual(
      await pgTableRows(setup.database.name, LOCAL_TABLES),
    );
    expect(await pgTableRows(loaded.name, ['public.sessions'])).toEqual({ 'public.sessions': [] });

    // restore with the identity of the config: the local rows too, no ephemeral ones.
    const target = await pgDatabaseToDrop('sbcmd_restored');
    const restore = await cli(setup, 'restore', '--target', target, '--json');
    expect(restore.code, restore.stderr).toBe(0);
    const restored = JSON.parse(restore.stdout) as { userDataTables: string[] };
    expect([...restored.userDataTables].sort()).toEqual(LOCAL_TABLES);
    expect(restore.stdout).not.toContain(setup.secret);
    const tables = [...LOCAL_TABLES, 'public.settings', 'app.flags'];
    expect(await pgTableRows(target, tables)).toEqual(
      await pgTableRows(setup.database.name, tables),
    );
    expect(await pgTableRows(target, ['public.sessions'])).toEqual({ 'public.sessions': [] });
    // The sequence of the local table goes on after its rows.
    const restoredClient = await pgClient(target);
    const next = await restoredClient.query<{ id: string }>(
      "SELECT nextval('public.notes_id_seq')::text AS id",
    );
    expect(next.rows).toEqual([{ id: '3' }]);

    // verify compares the copy's row counts too.
    const verify = await cli(setup, 'verify');
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toContain('no differences');

    // -e writes the ephemeral rows where asked, and only there.
    const ephemeralDir = join(setup.dir, 'ephemeral');
    const withEphemeral = await cli(setup, 'snapshot', '-e', ephemeralDir);
    expect(withEphemeral.code, withEphemeral.stderr).toBe(0);
    expect(withEphemeral.stdout).toContain('ephemeral rows: 1 table(s)');
    expect(await readFile(join(ephemeralDir, 'public.sessions.sql'), 'utf8')).toContain(
      `'${setup.ephemeral}'`,
    );
    // Unchanged user data: no new copy.
    expect(withEphemeral.stdout).toContain('no new copy');
    expect((await readdir(setup.userDataDir)).sort()).toHaveLength(2);
    await expectNowhereOnDisk(join(setup.dir, 'backups'), [setup.ephemeral, setup.secret]);
    await expectNowhereOnDisk(join(setup.dir, 'userdata'), [setup.ephemeral, setup.secret]);

    // A changed local row: a new copy, the unchanged table linked to the previous one.
    await setup.database.exec("UPDATE public.notes SET body = 'changed' WHERE id = 1");
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const changed = await cli(setup, 'snapshot');
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stdout).toContain('(1 unchanged, linked to the previous copy)');
    const newFiles = await ageFiles(latest);
    const usersFile = newFiles.find((file) => file.startsWith('app.users.'));
    expect((await stat(join(latest, usersFile ?? ''))).nlink).toBe(2);
    expect((await cli(setup, 'decrypt', '-t', 'notes')).stdout).toContain("'changed'");
  });

  it('restore --only, dump --only and diff --table read a table name as the config does', async () => {
    const setup = await setUp();
    expect((await cli(setup, 'snapshot')).code).toBe(0);

    const target = await pgDatabaseToDrop('sbcmd_only');
    const restore = await cli(setup, 'restore', '--target', target, '--only', 'notes', '--json');
    expect(restore.code, restore.stderr).toBe(0);
    const result = JSON.parse(restore.stdout) as { tables: string[]; userDataTables: string[] };
    expect(result.tables).toEqual(['public.notes']);
    expect(result.userDataTables).toEqual(['public.notes']);
    expect(await pgTableRows(target, ['public.notes'])).toEqual(
      await pgTableRows(setup.database.name, ['public.notes']),
    );

    // A pattern without a schema still matches in every schema where it says so (`*`).
    const other = await pgDatabaseToDrop('sbcmd_only');
    const excluded = await cli(setup, 'restore', '--target', other, '--exclude', 'sett*', '--json');
    expect(excluded.code, excluded.stderr).toBe(0);
    expect((JSON.parse(excluded.stdout) as { tables: string[] }).tables.sort()).toEqual([
      'app.flags',
      'app.users',
      'public.notes',
      'public.sessions',
    ]);

    const dumpFile = join(setup.dir, 'notes.sql');
    const dump = await cli(
      setup,
      'dump',
      '--only',
      'notes',
      '--no-encrypt',
      '--compress',
      'none',
      '-o',
      dumpFile,
      '--json',
    );
    expect(dump.code, dump.stderr).toBe(0);
    expect(JSON.parse(dump.stdout)).toMatchObject({ tables: 1, rows: 2 });
    const everything = await cli(
      setup,
      'dump',
      '--only',
      '*',
      '--no-encrypt',
      '--compress',
      'none',
      '-o',
      join(setup.dir, 'all.sql'),
      '--json',
    );
    expect(JSON.parse(everything.stdout)).toMatchObject({ tables: 5 });

    await setup.database.exec("UPDATE public.settings SET v = 'uno' WHERE k = 'a'");
    const drift = await cli(setup, 'diff', '--live', '--table', 'settings', '--stat');
    expect(drift.code, drift.stderr).toBe(3);
    expect(drift.stdout).toContain('table public.settings: rows +0 -0 ~1');
  });
});

describe('postgresql consumers, providers and pause hooks', () => {
  async function withServices(extra: readonly string[] = []) {
    const services = await createTestServices(['web', 'worker']);
    const setup = await setUp([
      'consumers: [web, worker]',
      'providers: [pgsvc]',
      services.configBlock,
      ...extra,
    ]);
    return { setup, services };
  }

  function expectAllRunning(services: TestServices): void {
    expect(services.isRunning('web')).toBe(true);
    expect(services.isRunning('worker')).toBe(true);
  }

  it('snapshot -m stops consumers, restarts the provider, waits for PostgreSQL, starts them again', async () => {
    const { setup, services } = await withServices();
    const result = await cli(setup, 'snapshot', '-m');
    expect(result.code, result.stderr).toBe(0);
    expect(await services.actions()).toEqual([
      'stop web',
      'stop worker',
      'restart pgsvc',
      'stop pgsvc',
      'start pgsvc',
      'start worker',
      'start web',
    ]);
    expect(result.stdout).toContain('consumers stopped and started again: web, worker');
    expectAllRunning(services);
    expect(await ageFiles(join(setup.userDataDir, 'latest'))).toHaveLength(2);
  });

  it('snapshot -t leaves them stopped until services start; failures start them again', async () => {
    const { setup, services } = await withServices();
    const target = await cli(setup, 'snapshot', '-t');
    expect(target.code, target.stderr).toBe(0);
    expect(target.stdout).toContain('consumers left STOPPED: web, worker');
    expect(services.isRunning('web')).toBe(false);
    expect((await cli(setup, 'services', 'start')).code).toBe(0);
    expectAllRunning(services);

    await services.fail('pgsvc', 'restart');
    const failed = await cli(setup, 'snapshot', '-m');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('could not restart pgsvc');
    expectAllRunning(services);
  });

  it('pause hooks run around the snapshot, in SQL of PostgreSQL, and the pause is not in it', async () => {
    const { setup } = await withServices([
      'pause_interval: 1',
      'pause_hooks:',
      '  before: "UPDATE app.flags SET pause = 1 WHERE name = \'ProcessMonitor\'"',
      '  after: "UPDATE app.flags SET pause = 0 WHERE name = \'ProcessMonitor\'"',
    ]);
    const started = Date.now();
    const result = await cli(setup, 'snapshot');
    expect(result.code, result.stderr).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(result.stderr).toContain('pause hook (before)');
    expect(result.stderr).toContain('pause hook (after)');
    expect(await setup.database.query('SELECT pause FROM app.flags')).toEqual([{ pause: '0' }]);
    expect(await readFile(join(setup.hostDir, 'app.flags.sql'), 'utf8')).toMatch(
      /VALUES \('ProcessMonitor', 0\);/,
    );
  });

  it('a failing pause hook is undone, and nothing is written', async () => {
    const { setup } = await withServices([
      'pause_hooks:',
      '  before:',
      '    - "UPDATE app.flags SET pause = 1 WHERE name = \'ProcessMonitor\'"',
      '    - "SELECT * FROM no_such_table"',
      '  after: "UPDATE app.flags SET pause = 0 WHERE name = \'ProcessMonitor\'"',
    ]);
    const result = await cli(setup, 'snapshot');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('pause hook (after)');
    expect(await setup.database.query('SELECT pause FROM app.flags')).toEqual([{ pause: '0' }]);
    expect(existsSync(join(setup.hostDir, 'app.flags.sql'))).toBe(false);
  });

  it('upgrade snapshots before and after a psql command, shows the diff, starts consumers again', async () => {
    const { setup, services } = await withServices();
    const server = await postgresServer();
    const psql = (sql: string): string[] => [
      'psql',
      '-X',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      '-h',
      server.host,
      '-p',
      String(server.port),
      '-U',
      server.user,
      '-d',
      setup.database.name,
      '-c',
      sql,
    ];
    const result = await cli(
      setup,
      'upgrade',
      '--',
      ...psql('ALTER TABLE public.settings ADD COLUMN note text'),
    );
    expect(result.code, result.stderr).toBe(0);
    const subjects = git(join(setup.dir, 'backups'), 'log', '--format=%s').trim().split('\n');
    expect(subjects).toHaveLength(2);
    expect(subjects[1]).toMatch(/^before upgrade: snapshot pgcmd\.example\.org: /);
    expect(subjects[0]).toMatch(
      /^after upgrade: snapshot pgcmd\.example\.org: 1 structure changed/,
    );
    expect(result.stdout).toContain('schema diff:');
    expect(result.stdout).toMatch(/public\.settings.*\n.*column note added/);
    expect(result.stdout).toContain('consumers started again: worker, web');
    expect(await services.actions()).toEqual([
      'stop web',
      'stop worker',
      'start worker',
      'start web',
    ]);
    expectAllRunning(services);

    const failed = await cli(
      setup,
      'upgrade',
      '--',
      ...psql('ALTER TABLE nosuch ADD COLUMN x int'),
    );
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/UPGRADE FAILED: psql .* exited with status 1/);
    expect(failed.stdout).toMatch(/schema_backup restore --rev [0-9a-f]{12} --target /);
    expectAllRunning(services);
  });
});

describe('postgresql status, prune, metrics and log', () => {
  it('status and the metrics file follow the runs; prune keeps the newest copies; log --json lists the commits', async () => {
    const setup = await setUp([
      'logging: { file: runs.jsonl }',
      'metrics: { textfile: node.prom }',
      'retention: { daily: 1, weekly: 1, monthly: 1 }',
    ]);
    const never = await cli(setup, 'status');
    expect(never.code).toBe(1);

    for (const value of ['one', 'uno', 'eins']) {
      await setup.database.query("UPDATE public.settings SET v = $1 WHERE k = 'a'", [value]);
      await setup.database.query('UPDATE app.users SET login = $1 WHERE id = 1', [value]);
      const run = await cli(setup, 'snapshot', '--quiet');
      expect(run.code, run.stderr).toBe(0);
      // Copies are named by the second.
      await new Promise((resolve) => setTimeout(resolve, 1100));
    }
    const copies = (await readdir(setup.userDataDir)).filter((name) => name !== 'latest').sort();
    expect(copies).toHaveLength(3);

    const status = await cli(setup, 'status', '--json');
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      host: HOST,
      fresh: true,
      commands: {
        snapshot: {
          consecutiveFailures: 0,
          lastSuccess: {
            summary: { database: setup.database.name, tables: 5, userDataCopy: copies[2] },
          },
        },
      },
    });
    const metrics = await readFile(join(setup.dir, 'node.prom'), 'utf8');
    const labels = `{host="${HOST}",command="snapshot"}`;
    expect(metrics).toContain(`schema_backup_last_exit_code${labels} 0`);
    expect(metrics).toContain(`schema_backup_consecutive_failures${labels} 0`);
    expect(metrics).toContain(`schema_backup_tables${labels} 5`);
    expect(metrics).toContain(`schema_backup_uncategorized_tables{host="${HOST}"} 0`);
    expect(metrics).toMatch(
      new RegExp(
        `schema_backup_last_success_timestamp_seconds\\{host="${HOST.replace(/\./g, '\\.')}",command="snapshot"\\} [1-9]`,
      ),
    );

    // A failed run: exit 1, counted, and status still fresh from the last success.
    const failed = await cli(setup, 'snapshot', '--database', `${setup.database.name}_gone`);
    expect(failed.code).toBe(1);
    const afterFailure = await readFile(join(setup.dir, 'node.prom'), 'utf8');
    expect(afterFailure).toContain(`schema_backup_last_exit_code${labels} 1`);
    expect(afterFailure).toContain(`schema_backup_consecutive_failures${labels} 1`);
    expect(afterFailure).toContain(`schema_backup_tables${labels} 5`);
    expect((await cli(setup, 'status')).code).toBe(0);
    const journal = (await readFile(join(setup.dir, 'runs.jsonl'), 'utf8')).trim().split('\n');
    expect(journal.filter((line) => line.includes('"event":"end"'))).toHaveLength(4);
    expect(journal.join('\n')).not.toContain(setup.secret);

    // prune: one copy a day is kept (the newest, which `latest` names); the others go.
    const dry = await cli(setup, 'prune', '--dry-run', '--json');
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, toDelete: 2, deleted: 0 });
    expect((await readdir(setup.userDataDir)).filter((name) => name !== 'latest')).toHaveLength(3);
    const prune = await cli(setup, 'prune');
    expect(prune.code, prune.stderr).toBe(0);
    expect((await readdir(setup.userDataDir)).sort()).toEqual([copies[2], 'latest']);
    const decrypted = await cli(setup, 'decrypt', '-t', 'app.users');
    expect(decrypted.stdout).toContain("'eins'");

    // log --json: the commits, newest first, with what changed in each.
    const log = await cli(setup, 'log', '--json');
    expect(log.code, log.stderr).toBe(0);
    const entries = JSON.parse(log.stdout) as {
      subject: string;
      changes: { kind: string; name: string; change: string; rowsChanged: number }[];
    }[];
    expect(entries).toHaveLength(3);
    // Rows matched by the primary key, which PostgreSQL files add after the rows.
    expect(entries[0]?.changes).toEqual([
      expect.objectContaining({
        kind: 'table',
        name: 'public.settings',
        rowsAdded: 0,
        rowsRemoved: 0,
        rowsChanged: 1,
      }),
    ]);
    expect(entries[2]?.changes.map((change) => change.name)).toContain('app.users');
    const one = await cli(setup, 'log', '--json', '--table', 'settings');
    expect((JSON.parse(one.stdout) as unknown[]).length).toBe(3);
    const text = await cli(setup, 'log', '-n', '1');
    expect(text.stdout).toContain('table public.settings: rows +0 -0 ~1');
  });
});

describe('postgresql diff of two hosts', () => {
  it('--backup-host A --against-host B exits 0 when the same and 3 when they differ, as --hosts does', async () => {
    const setup = await setUp();
    expect((await cli(setup, 'snapshot')).code).toBe(0);
    const otherConfig = join(setup.dir, 'other.conf');
    await writeFile(
      otherConfig,
      (await readFile(setup.config, 'utf8')).replace(
        `hostname: ${HOST}`,
        'hostname: other.example.org',
      ),
    );
    const other = { config: otherConfig };
    expect((await cli(other, 'snapshot')).code).toBe(0);
    const hosts = ['--backup-host', HOST, '--against-host', 'other.example.org'];
    const same = await cli(setup, 'diff', ...hosts);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toContain('no differences');

    await setup.database.exec('ALTER TABLE public.settings ADD COLUMN note text');
    expect((await cli(other, 'snapshot')).code).toBe(0);
    const differ = await cli(setup, 'diff', ...hosts, '--stat');
    expect(differ.code, differ.stderr).toBe(3);
    expect(differ.stdout).toContain('table public.settings: structure changed');
    expect((await cli(setup, 'diff', ...hosts, 'HEAD', '--json')).code).toBe(3);
    expect((await cli(setup, 'diff', '--hosts', HOST, 'other.example.org')).code).toBe(3);
    // Two revisions of one host are history, not a difference found.
    expect((await cli(other, 'diff', 'HEAD~1', 'HEAD', '--stat')).code).toBe(0);
  });
});
