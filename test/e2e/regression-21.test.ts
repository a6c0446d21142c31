/**
 * Issue 21: typos that passed (an unknown `--host`, a metrics file that cannot be written),
 * warnings and output details, restored events left enabled, and other small items. Each case
 * failed on the code before its fix.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeTestConfig } from '../helpers/config-lines.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { ageKeygen } from '../helpers/age.js';
import { runCli } from '../helpers/run-cli.js';
import { createTempDir } from '../helpers/temp-dir.js';

const HOST = 'r21.example.org';

interface Setup {
  readonly database: TestDatabase;
  readonly dir: string;
  readonly config: string;
}

/** A database with one table, a config for it (extra lines appended) and one snapshot. */
async function setUp(extra: readonly string[] = [], snapshot = true): Promise<Setup> {
  const database = await createTestDatabase('r21');
  await database.exec('CREATE TABLE settings (k INT PRIMARY KEY) ENGINE=InnoDB');
  const dir = await createTempDir('r21');
  const config = await writeTestConfig(dir, HOST, database.name, ['global: [settings]', ...extra]);
  if (snapshot) {
    const result = await runCli(['snapshot', '--config', config, '--quiet']);
    expect(result.code, result.stderr).toBe(0);
  }
  return { database, dir, config };
}

describe('issue 21 item 4: an unknown host directory is exit 2 listing the hosts', () => {
  it('diff, log and restore refuse --host nosuch', async () => {
    const { config } = await setUp();
    for (const argv of [
      ['diff', '--host', 'nosuch'],
      ['diff', 'HEAD', '--host', 'nosuch'],
      ['diff', '--against-host', 'nosuch'],
      ['log', '--host', 'nosuch'],
      ['restore', '--host', 'nosuch', '--target', 'sbtest_r21_never'],
      ['restore', '--host', 'nosuch', '--rev', 'HEAD', '--target', 'sbtest_r21_never'],
    ]) {
      const result = await runCli([...argv, '--config', config]);
      expect(result.code, `${argv.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain('error: --');
      expect(result.stderr).toContain('"nosuch"');
      expect(result.stderr).toContain(HOST);
      expect(result.stderr).not.toContain('ENOENT');
    }
    // The host that exists still works.
    const ok = await runCli(['diff', '--host', HOST, '--config', config]);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('a metrics file that cannot be written fails the run; a missing last directory is made', async () => {
    const made = await setUp(['metrics: { textfile: prom/node.prom }'], false);
    const first = await runCli(['snapshot', '--config', made.config, '--quiet']);
    expect(first.code, first.stderr).toBe(0);
    expect(await readFile(join(made.dir, 'prom/node.prom'), 'utf8')).toContain(
      'schema_backup_last_exit_code',
    );

    const broken = await setUp(['metrics: { textfile: no/such/node.prom }'], false);
    const result = await runCli(['snapshot', '--config', broken.config, '--quiet']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: cannot write the metrics file .*no\/such\/node\.prom/m);
  });
});

describe('issue 21 item 6: tables that are not transactional are warned about', () => {
  it('check and snapshot name the Aria and MyISAM tables whose rows are read', async () => {
    const { database, config } = await setUp(['local: [sessions]', 'ephemeral: [cache]'], false);
    await database.exec('CREATE TABLE counters (k INT PRIMARY KEY) ENGINE=Aria');
    await database.exec('CREATE TABLE sessions (k INT PRIMARY KEY) ENGINE=MyISAM');
    await database.exec('CREATE TABLE cache (k INT PRIMARY KEY) ENGINE=MyISAM');
    await writeFile(
      config,
      (await readFile(config, 'utf8')).replace(
        'global: [settings]',
        'global: [settings, counters]',
      ),
    );
    const check = await runCli(['check', '--config', config]);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stderr).toMatch(
      /^warning: not transactional, .*: counters \(Aria\), sessions \(MyISAM\)$/m,
    );
    // An ephemeral table's rows are not read: no warning for it.
    expect(check.stderr).not.toContain('cache');
    const json = await runCli(['check', '--config', config, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      nonTransactional: [
        { name: 'counters', engine: 'Aria' },
        { name: 'sessions', engine: 'MyISAM' },
      ],
    });
    const snapshot = await runCli(['snapshot', '--config', config, '--quiet']);
    expect(snapshot.code, snapshot.stderr).toBe(0);
    expect(snapshot.stderr).toMatch(
      /^warning: not transactional, .*: counters \(Aria\), sessions \(MyISAM\)$/m,
    );
  });
});

describe('issue 21 item 10: restored events come back disabled', () => {
  /** STATUS of each event of `database`, by name. */
  async function eventStatus(database: TestDatabase, schema: string): Promise<unknown> {
    const rows = await database.query<{ name: string; status: string }>(
      'SELECT EVENT_NAME AS name, STATUS AS status FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? ORDER BY EVENT_NAME',
      [schema],
    );
    return Object.fromEntries(rows.map((row) => [row.name, row.status]));
  }

  it('restore disables them unless --keep-events-enabled; verify still compares equal', async () => {
    const { database, config } = await setUp([], false);
    await database.exec(
      "CREATE EVENT tick ON SCHEDULE EVERY 1 HOUR STARTS '2030-01-01 00:00:00' ENABLE COMMENT 'ENABLE me' DO SET @enable = 1",
    );
    await database.exec(
      "CREATE EVENT `on` ON SCHEDULE EVERY 1 HOUR STARTS '2030-01-01 00:00:00' DISABLE DO SET @x = 1",
    );
    const snapshot = await runCli(['snapshot', '--config', config, '--quiet']);
    expect(snapshot.code, snapshot.stderr).toBe(0);

    const target = await createTestDatabase('r21_target');
    const restored = await runCli(['restore', '--config', config, '--target', target.name]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain('events created disabled');
    expect(await eventStatus(database, target.name)).toEqual({ on: 'DISABLED', tick: 'DISABLED' });
    // Only the status changed: the comment that says ENABLE is as it was.
    const [row] = await database.query<{ comment: string }>(
      'SELECT EVENT_COMMENT AS comment FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? AND EVENT_NAME = ?',
      [target.name, 'tick'],
    );
    expect(row?.comment).toBe('ENABLE me');

    for (const flags of [['--keep-events-enabled'], ['--keep-events-enabled', '--trust']]) {
      const kept = await createTestDatabase('r21_target');
      const result = await runCli(['restore', '--config', config, '--target', kept.name, ...flags]);
      expect(result.code, result.stderr).toBe(0);
      expect(await eventStatus(database, kept.name)).toEqual({ on: 'DISABLED', tick: 'ENABLED' });
    }
    const trusted = await createTestDatabase('r21_target');
    const result = await runCli([
      'restore',
      '--config',
      config,
      '--target',
      trusted.name,
      '--trust',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(await eventStatus(database, trusted.name)).toEqual({ on: 'DISABLED', tick: 'DISABLED' });

    const verify = await runCli(['verify', '--config', config, '--json']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ equal: true, differences: [] });
  });
});

describe('issue 21 item 10: smaller items', () => {
  it('dump -o /dev/null writes into the device instead of refusing it as existing', async () => {
    const { database, config } = await setUp([], false);
    // A few KiB of SQL, so that the summary's size has a unit.
    await database.exec('INSERT INTO settings SELECT seq FROM seq_1_to_2000');
    const result = await runCli(['dump', '--config', config, '--no-encrypt', '-o', '/dev/null']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('already exists');
    // Item 8: sizes in IEC units, as every other command prints them (not `2.1 KB`).
    expect(result.stderr).toMatch(/dumped .*: .* (\d+ B|\d+\.\d (KiB|MiB)) of SQL/);
    expect(result.stderr).not.toMatch(/\d [KMG]B\b/);
  });

  it('decrypt --table nosuch lists the tables of the copy', async () => {
    const dir = await createTempDir('r21-key');
    const key = ageKeygen(dir);
    const { database, config } = await setUp(
      [
        'local: [sessions, users]',
        'user_data_backup_dir: user-data',
        `encryption: { recipients: [${key.recipient}], identity_file: ${key.identityFile} }`,
      ],
      false,
    );
    await database.exec('CREATE TABLE sessions (k INT PRIMARY KEY)');
    await database.exec('CREATE TABLE users (k INT PRIMARY KEY)');
    await database.exec('INSERT INTO users VALUES (1)');
    const snapshot = await runCli(['snapshot', '--config', config, '--quiet']);
    expect(snapshot.code, snapshot.stderr).toBe(0);
    const result = await runCli(['decrypt', '--config', config, '--table', 'nosuch']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error: table nosuch is not in the copy');
    expect(result.stderr).toMatch(/^hint: Tables of the copy: sessions, users\.$/m);
  });
});

describe('issue 21 item 8: output', () => {
  it('an interactive snapshot says "committed" and where user data went once', async () => {
    const dir = await createTempDir('r21-key');
    const key = ageKeygen(dir);
    const { database, config } = await setUp(
      [
        'local: [users]',
        'user_data_backup_dir: user-data',
        `encryption: { recipients: [${key.recipient}] }`,
      ],
      false,
    );
    await database.exec('CREATE TABLE users (k INT PRIMARY KEY)');
    await database.exec('INSERT INTO users VALUES (1)');
    const result = await runCli(['snapshot', '--config', config]);
    expect(result.code, result.stderr).toBe(0);
    const both = result.stdout + result.stderr;
    expect(both.match(/committed [0-9a-f]{12}/g)).toHaveLength(1);
    expect(both.match(/user.data.*(saved|encrypted) in/g)).toHaveLength(1);
  });
});

describe('issue 21 item 8: check lines up its columns', () => {
  it('for tables, views and triggers alike', async () => {
    const { database, config } = await setUp([], false);
    await database.exec('CREATE VIEW settings_seen_by_the_reporting_job AS SELECT k FROM settings');
    await database.exec(
      'CREATE TRIGGER settings_before_insert_check BEFORE INSERT ON settings FOR EACH ROW SET @x = 1',
    );
    const result = await runCli(['check', '--config', config]);
    expect(result.code, result.stderr).toBe(0);
    const rows = result.stdout
      .split('\n')
      .filter((line) => /^ {2}\S+ +(global|view|trigger)$/.test(line));
    expect(rows).toHaveLength(3);
    const columns = rows.map((line) => line.search(/(global|view|trigger)$/));
    expect(new Set(columns).size).toBe(1);
  });
});

describe('issue 21 item 8: errors with --json', () => {
  it('are JSON on stdout as well as text on stderr', async () => {
    const { config } = await setUp();
    const result = await runCli(['log', '--backup-host', 'nosuch', '--json', '--config', config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error: --backup-host "nosuch"');
    expect(JSON.parse(result.stdout)).toEqual({
      error: {
        type: 'UsageError',
        message: expect.stringContaining('"nosuch"') as unknown,
        hint: `Host directories: ${HOST}.`,
        exitCode: 2,
      },
    });
  });
});

describe('issue 21 item 10: dumps of different databases', () => {
  it('keep a run state and metrics series each', async () => {
    const { database, dir, config } = await setUp(['metrics: { textfile: node.prom }'], false);
    const other = await createTestDatabase('r21_other');
    for (const name of [database.name, other.name]) {
      const result = await runCli([
        'dump',
        '--config',
        config,
        '--no-encrypt',
        '--quiet',
        '--databases',
        name,
        '-o',
        join(dir, `${name}.sql`),
      ]);
      expect(result.code, result.stderr).toBe(0);
    }
    const metrics = await readFile(join(dir, 'node.prom'), 'utf8');
    for (const name of [database.name, other.name])
      expect(metrics).toContain(
        `schema_backup_last_exit_code{host="${HOST}",command="dump",series="${name}"} 0`,
      );
  });
});
