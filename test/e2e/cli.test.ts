/** The command line: exit codes, what goes to stdout and stderr, and that secrets stay out. */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { runBuiltCli, runCli } from '../helpers/run-cli.js';
import { createTempDir } from '../helpers/temp-dir.js';
import { databaseConfigLines } from '../helpers/config-lines.js';

async function writeConfig(dir: string, database: string, extra = ''): Promise<string> {
  const file = join(dir, 'schema_backup.conf');
  await writeFile(
    file,
    [
      'csv2_backup_dir: backups',
      'hostname: cli.example.org',
      ...databaseConfigLines(database),
      'git:',
      '  init: true',
      'global: [settings]',
      'ephemeral: [sessions]',
      extra,
    ].join('\n'),
  );
  return file;
}

async function createDatabase() {
  const database = await createTestDatabase('cli');
  await database.exec('CREATE TABLE settings (k VARCHAR(10) PRIMARY KEY, v TEXT)');
  await database.exec("INSERT INTO settings VALUES ('a', 'one'), ('b', 'two')");
  await database.exec('CREATE TABLE sessions (id INT PRIMARY KEY)');
  await database.exec('CREATE TABLE stray (id INT PRIMARY KEY)');
  return database;
}

describe('schema_backup CLI', () => {
  it('snapshots, warns about uncategorized tables, and exits 0; a re-run commits nothing', async () => {
    const database = await createDatabase();
    const dir = await createTempDir('cli');
    const config = await writeConfig(dir, database.name);
    const first = await runCli(['--config', config]);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('warning: table stray is in no category');
    expect(first.stdout).toMatch(
      /committed [0-9a-f]{12}: snapshot cli\.example\.org: 3 tables added/,
    );
    const hostDir = join(dir, 'backups/cli.example.org');
    expect((await readdir(hostDir)).sort()).toEqual([
      'database.defaults.sql',
      'manifest.json',
      'sessions.sql',
      'settings.sql',
      'stray.sql',
    ]);
    expect(JSON.parse(await readFile(join(hostDir, 'manifest.json'), 'utf8'))).toMatchObject({
      format: 2,
      tables: {
        sessions: { category: 'ephemeral' },
        settings: { category: 'global', rows: 2 },
        stray: { category: 'uncategorized' },
      },
    });
    const second = await runCli(['snapshot', '--config', config, '--json']);
    expect(second.code).toBe(0);
    const result = JSON.parse(second.stdout) as { git: string; tables: { change: string }[] };
    expect(result.git).toBe('no-changes');
    expect(result.tables.every((table) => table.change === 'unchanged')).toBe(true);
  });

  it('check lists every table with its category, as text and JSON', async () => {
    const database = await createDatabase();
    const dir = await createTempDir('cli');
    const config = await writeConfig(dir, database.name, 'ignore: [gone]');
    const text = await runCli(['check', '--config', config]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/settings\s+global/);
    expect(text.stdout).toContain('uncategorized: stray');
    expect(text.stdout).toContain('missing: gone (ignore)');
    const json = await runCli(['check', '--config', config, '--json']);
    const report = JSON.parse(json.stdout) as {
      tables: { name: string; category: string }[];
      uncategorized: string[];
    };
    expect(report.tables).toEqual([
      { name: 'sessions', category: 'ephemeral' },
      { name: 'settings', category: 'global' },
      { name: 'stray', category: 'uncategorized' },
    ]);
    expect(report.uncategorized).toEqual(['stray']);
    expect(existsSync(join(dir, 'backups'))).toBe(false);
  });

  it('exits 2 with file, line and key for a bad config, and touches nothing', async () => {
    const dir = await createTempDir('cli');
    const config = join(dir, 'schema_backup.conf');
    await writeFile(config, 'csv2_backup_dir: backups\nglobal:\n  - a\nephemeral:\n  - b\n  - a\n');
    const result = await runCli(['--config', config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `error: ${config}:6: ephemeral[1]: a table may be in one category only: a is listed in both global (line 3) and ephemeral (line 6)`,
    );
    expect(existsSync(join(dir, 'backups'))).toBe(false);
  });

  it('exits 2 for strict mode with uncategorized tables, writing nothing', async () => {
    const database = await createDatabase();
    const dir = await createTempDir('cli');
    const config = await writeConfig(dir, database.name, 'strict: true');
    const result = await runCli(['--config', config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('strict: 1 table(s) are in no category: stray');
    expect(existsSync(join(dir, 'backups/cli.example.org'))).toBe(false);
  });

  it('exits 1 on a failed login, never says it completed, and never prints the password', async () => {
    const database = await createDatabase();
    const dir = await createTempDir('cli');
    const password = 'Pw-9f3b-not-the-real-one';
    await writeFile(join(dir, 'db.password'), `${password}\n`, { mode: 0o600 });
    const config = await writeConfig(dir, database.name, 'database_extra: 1');
    const text = (await readFile(config, 'utf8'))
      .replace('database_extra: 1', '')
      .replace('  user: ', '  password_file: db.password\n  user: ');
    await writeFile(config, text);
    const result = await runCli(['--config', config, '--verbose']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error: access denied for');
    expect(result.stderr).toContain('hint: Check database.user and the password');
    expect(result.stdout).toBe('');
    expect(result.stdout + result.stderr).not.toContain(password);
    expect(existsSync(join(dir, 'backups/cli.example.org'))).toBe(false);
  });

  it('exits 1 with a hint when the server is unreachable', async () => {
    const dir = await createTempDir('cli');
    const config = join(dir, 'schema_backup.conf');
    await writeFile(config, 'database:\n  name: x\n  host: 127.0.0.1\n  port: 1\n  user: nobody\n');
    const result = await runCli(['check', '--config', config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'error: cannot reach the database server nobody@127.0.0.1:1 (ECONNREFUSED)',
    );
    expect(result.stderr).toContain('hint: Is MariaDB running');
  });

  it('exits 2 on an unknown option or command, without a stack', async () => {
    const result = await runCli(['--no-such-option']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Unknown argument');
    expect(result.stderr).not.toContain('    at ');
    expect((await runCli(['frobnicate'])).code).toBe(2);
  });

  // Issue 20 item 8b: these were taken as given (NaN, negative, zero) and reached the workflows.
  it('exits 2 for a numeric option that is not a number, negative, zero or out of range', async () => {
    const database = await createDatabase();
    const dir = await createTempDir('cli');
    const config = await writeConfig(dir, database.name);
    const cases: readonly (readonly [readonly string[], RegExp])[] = [
      [['snapshot', '--wait-lock', 'abc'], /--wait-lock must be a number of 0 or more/],
      [['snapshot', '--wait-lock', '-1'], /--wait-lock must be a number of 0 or more, not -1/],
      [['prune', '--wait-lock', '-5'], /--wait-lock must be/],
      [['upgrade', '--wait-lock', 'x', '--', 'true'], /--wait-lock must be/],
      [
        ['restore', '--target', 'x', '--parallel', '0'],
        /--parallel must be a whole number from 1 to 16, not 0/,
      ],
      [
        ['restore', '--target', 'x', '--parallel', '17'],
        /--parallel must be a whole number from 1 to 16/,
      ],
      [['verify', '--parallel', '1.5'], /--parallel must be a whole number from 1 to 16, not 1.5/],
      [['log', '-n', '-3'], /--max-count must be a whole number of 1 or more, not -3/],
      [['log', '--max-count', '0'], /--max-count must be a whole number of 1 or more/],
      [['log', '-n', 'abc'], /--max-count must be a whole number of 1 or more \(abc|not a number/],
      [['dump', '--threads', '0'], /--threads must be a whole number from 1 to 64, not 0/],
      [['dump', '--threads', '2', '--threads', '3'], /--threads is given more than once/],
      [['load', 'x.sql', '--threads', 'abc'], /--threads must be a whole number from 1 to 64/],
    ];
    for (const [argv, message] of cases) {
      const result = await runCli(['--config', config, ...argv]);
      expect(result.stderr, argv.join(' ')).toMatch(new RegExp(`^error: ${message.source}`, 'm'));
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.stderr).not.toContain('    at ');
    }
    // Nothing ran: no snapshot was taken.
    expect(existsSync(join(dir, 'backups'))).toBe(false);
    // Good values still pass.
    const good = await runCli(['--config', config, 'snapshot', '--wait-lock', '0.5']);
    expect(good.code, good.stderr).toBe(0);
  });

  it('runs as a real process: --help lists the commands and exit codes; a config error exits 2', async () => {
    const help = runBuiltCli(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['snapshot', 'check', 'keygen', 'decrypt'])
      expect(help.stdout).toContain(command);
    expect(help.stdout).toContain(
      'Exit codes: 0 success, 1 failure, 2 bad usage or config, 3 differences found.',
    );
    const dir = await createTempDir('cli');
    await writeFile(join(dir, 'bad.conf'), 'global: [a\n');
    const bad = runBuiltCli(['--config', join(dir, 'bad.conf')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: .*bad\.conf:\d+: malformed YAML/m);
  });

  it('finds ./etc/schema_backup.conf from the working directory, and $SCHEMA_BACKUP_CONFIG before it', async () => {
    const database = await createDatabase();
    const dir = await createTempDir('cli');
    const etc = join(dir, 'etc');
    await mkdir(etc);
    await writeConfig(etc, database.name);
    const viaCwd = runBuiltCli(['check', '--json'], {
      cwd: dir,
      env: { SCHEMA_BACKUP_CONFIG: '' },
    });
    expect(viaCwd.code).toBe(0);
    expect((JSON.parse(viaCwd.stdout) as { config: string }).config).toBe(
      join(etc, 'schema_backup.conf'),
    );
    const viaEnv = runBuiltCli(['check'], {
      cwd: dir,
      env: { SCHEMA_BACKUP_CONFIG: join(dir, 'missing.conf') },
    });
    expect(viaEnv.code).toBe(2);
    expect(viaEnv.stderr).toContain('missing.conf: config file not found');
  });
});
