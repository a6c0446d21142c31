/**
 * Issue 21 items 5, 7 and 9: the example config is never used by accident, the options
 * of the MariaDB tools (--defaults-file, --defaults-extra-file, -S, -P, -u, -h) reach the
 * connection, --host became --backup-host (the old spelling warns), and the help says so.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SYSTEM_CONFIG_PATH } from '../../src/config/locate-config.js';
import { DEFAULT_SOCKETS } from '../../src/config/resolve-connection.js';
import { writeTestConfig } from '../helpers/config-lines.js';
import { createTestDatabase, testServer } from '../helpers/database.js';
import { runBuiltCli, runCli, type CliResult } from '../helpers/run-cli.js';
import { createTempDir } from '../helpers/temp-dir.js';

const PROJECT_ROOT = resolve(import.meta.dirname, '../..');
const EXAMPLE = join(PROJECT_ROOT, 'etc', 'schema_backup.conf');

describe('issue 21 item 5: the example config is never used', () => {
  it.skipIf(existsSync(SYSTEM_CONFIG_PATH))(
    'found by the search (in a checkout of the tool, or a copy that keeps the marker): exit 2, how to point at a real config',
    async () => {
      const dir = await createTempDir('cliflags');
      await mkdir(join(dir, 'etc'));
      await copyFile(EXAMPLE, join(dir, 'etc', 'schema_backup.conf'));
      for (const [cwd, argv] of [
        [PROJECT_ROOT, ['snapshot']],
        [dir, ['check']],
        [dir, ['status']],
      ] as const) {
        const result = runBuiltCli(argv, { cwd, env: { SCHEMA_BACKUP_CONFIG: '' } });
        expect(result.code, `${cwd}: ${argv.join(' ')}: ${result.stderr}`).toBe(2);
        expect(result.stderr).toMatch(/^error: .*etc\/schema_backup\.conf: this is the example/m);
        expect(result.stderr).toMatch(/^hint: .*--config PATH or \$SCHEMA_BACKUP_CONFIG/m);
        expect(result.stderr).toContain('example: true');
      }
      // Nothing was written beside the copy.
      expect(existsSync(join(dir, 'schema_backup'))).toBe(false);
    },
  );

  it('named by --config or $SCHEMA_BACKUP_CONFIG: exit 2 too', async () => {
    const byFlag = await runCli(['check', '--config', EXAMPLE]);
    expect(byFlag.code).toBe(2);
    expect(byFlag.stderr).toContain(`error: ${EXAMPLE}: example: this is the example config`);
    expect(byFlag.stderr).toContain('delete its `example: true` line');
    const byEnv = await runCli(['status'], { SCHEMA_BACKUP_CONFIG: EXAMPLE });
    expect(byEnv.code).toBe(2);
    expect(byEnv.stderr).toContain('this is the example config');
  });
});

const HOST = 'cliflags.example.org';

/** A database with one table and a config naming only the database (no host, port, user). */
async function bareSetUp(): Promise<{ dir: string; config: string; name: string }> {
  const database = await createTestDatabase('cliflags');
  await database.exec('CREATE TABLE settings (k INT PRIMARY KEY)');
  const dir = await createTempDir('cliflags');
  const config = join(dir, 'schema_backup.conf');
  await writeFile(
    config,
    [
      'csv2_backup_dir: backups',
      `hostname: ${HOST}`,
      'database:',
      `  name: ${database.name}`,
      'global: [settings]',
      '',
    ].join('\n'),
  );
  return { dir, config, name: database.name };
}

/** `check --json` with `argv`, run with an empty home (no ~/.my.cnf of the machine). */
async function check(argv: readonly string[], home: string): Promise<CliResult> {
  return runCli(['check', '--json', ...argv], { HOME: home });
}

function connectionOf(result: CliResult): string {
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { connection: string }).connection;
}

/** The server's socket when the tests use the local server and it listens on one. */
const LOCAL_SOCKET = DEFAULT_SOCKETS.find((path) => existsSync(path));

describe('issue 21 item 7: the options of the mariadb client', () => {
  it('--defaults-file is the only option file read; --defaults-extra-file adds one', async () => {
    const server = testServer();
    const { dir, config } = await bareSetUp();
    const home = await createTempDir('cliflags-home');
    const defaults = join(dir, 'server.cnf');
    await writeFile(
      defaults,
      `[client]\nhost=${server.host}\nport=${String(server.port)}\nuser=${server.user}\npassword="${server.password}"\n`,
    );
    expect(connectionOf(await check(['--config', config, '--defaults-file', defaults], home))).toBe(
      `${server.user}@${server.host}:${String(server.port)}`,
    );
    // -u overrides the defaults file's user (and --config= works as --config).
    const denied = await check(
      [`--config=${config}`, '--defaults-file', defaults, '-u', 'sbtest_cliflags_nobody'],
      home,
    );
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('sbtest_cliflags_nobody@');
    // The extra file is read on top of the usual ones: its user is the one used.
    const extra = join(dir, 'extra.cnf');
    await writeFile(extra, '[client]\nuser=sbtest_cliflags_nobody\n');
    const withExtra = await check(
      [
        '--config',
        config,
        `--defaults-extra-file=${extra}`,
        '-h',
        server.host,
        '-P',
        String(server.port),
      ],
      home,
    );
    expect(withExtra.code).toBe(1);
    expect(withExtra.stderr).toContain(`access denied for sbtest_cliflags_nobody@${server.host}`);
    // Both at once is what the client silently ignores: here it is refused.
    const both = await check(
      ['--config', config, '--defaults-file', defaults, '--defaults-extra-file', extra],
      home,
    );
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--defaults-extra-file is not read with a defaults file');
    const missing = await check(['--config', config, '--defaults-file', join(dir, 'no.cnf')], home);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no.cnf');
  });

  it.skipIf(testServer().source !== 'local' || LOCAL_SOCKET === undefined)(
    'a defaults file with socket and user connects through the socket; -S overrides the config host',
    async () => {
      const socket = LOCAL_SOCKET ?? '';
      const { dir, config, name } = await bareSetUp();
      const home = await createTempDir('cliflags-home');
      const defaults = join(dir, 'socket.cnf');
      await writeFile(defaults, `[client]\nsocket=${socket}\nuser=root\n`);
      expect(
        connectionOf(await check(['--config', config, '--defaults-file', defaults], home)),
      ).toBe(`root@${socket}`);
      // A config that names a TCP host: --socket wins over it, as on the mariadb command line.
      const tcp = await writeTestConfig(dir, HOST, name, ['global: [settings]']);
      expect(connectionOf(await check(['--config', tcp], home))).toMatch(/@127\.0\.0\.1:\d+$/);
      expect(connectionOf(await check(['--config', tcp, '-S', socket, '-u', 'root'], home))).toBe(
        `root@${socket}`,
      );
    },
  );

  it('-h, -P, -S and -u override the config on the commands that connect', async () => {
    const server = testServer();
    const { dir, name } = await bareSetUp();
    const home = await createTempDir('cliflags-home');
    const config = await writeTestConfig(dir, HOST, name, ['global: [settings]']);
    // A port nobody listens on: the connection goes there.
    const port = await check(['--config', config, '--port', '1'], home);
    expect(port.code).toBe(1);
    expect(port.stderr).toContain(`${server.user}@${server.host}:1 `);
    const socket = await check(['--config', config, '--socket', join(dir, 'no.sock')], home);
    expect(socket.code).toBe(1);
    expect(socket.stderr).toContain(join(dir, 'no.sock'));
    expect(
      (await check(['--config', config, '--socket', 'x.sock', '--port', '3306'], home)).code,
    ).toBe(2);
    // A config whose host is wrong works with -h (mariadb's -h 127.0.0.1 habit): a snapshot.
    const wrongHost = join(dir, 'wrong-host.conf');
    await writeFile(
      wrongHost,
      [
        'csv2_backup_dir: backups',
        `hostname: ${HOST}`,
        'database:',
        `  name: ${name}`,
        '  host: sbtest-cliflags.invalid',
        `  user: ${server.user}`,
        'git: { init: true }',
        'global: [settings]',
        '',
      ].join('\n'),
    );
    const env = { HOME: home, SCHEMA_BACKUP_DB_PASSWORD: server.password };
    const snapshot = await runCli(
      ['-h', server.host, '-P', String(server.port), '--config', wrongHost, '--quiet'],
      env,
    );
    expect(snapshot.code, snapshot.stderr).toBe(0);
    expect(snapshot.stdout).not.toContain('--help');
    expect(existsSync(join(dir, 'backups', HOST, 'settings.sql'))).toBe(true);
    // A command that does not connect refuses them, rather than ignoring them.
    const diff = await runCli(['diff', '--config', wrongHost, '-u', 'root'], env);
    expect(diff.code).toBe(2);
    expect(diff.stderr).toContain('--user: only diff --live connects');
    const log = await runCli(['log', '--config', wrongHost, '-h', server.host], env);
    expect(log.code).toBe(2);
    expect(log.stderr).toContain("-h is the database server's host");
  });

  it('-h without a host, and --password, are usage errors that say what to do', async () => {
    const bare = await runCli(['-h']);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe('');
    expect(bare.stderr).toContain('--help prints the help');
    const password = await runCli(['check', '--password', 'secret']);
    expect(password.code).toBe(2);
    expect(password.stderr).toContain('$SCHEMA_BACKUP_DB_PASSWORD');
    // yargs speaks English whatever the locale: the hints read its messages.
    const german = await runCli(['check', '--password', 'secret'], { LC_ALL: 'de_DE.UTF-8' });
    expect(german.stderr).toContain('error: Unknown argument');
    expect(german.stderr).toContain('$SCHEMA_BACKUP_DB_PASSWORD');
  });

  it('--backup-host names the host directory; --host still does, with a warning', async () => {
    const { dir, name } = await bareSetUp();
    const config = await writeTestConfig(dir, HOST, name, ['global: [settings]']);
    expect((await runCli(['snapshot', '--config', config, '--quiet'])).code).toBe(0);
    const current = await runCli(['log', '--backup-host', HOST, '--config', config]);
    expect(current.code, current.stderr).toBe(0);
    expect(current.stderr).toBe('');
    for (const argv of [
      ['log', '--host', HOST],
      ['diff', '--host', HOST],
      ['verify', '--host', HOST],
    ]) {
      const old = await runCli([...argv, '--config', config]);
      expect(old.code, `${argv.join(' ')}: ${old.stderr}`).toBe(0);
      expect(old.stderr).toMatch(/^warning: --host is deprecated: .*now --backup-host/m);
      if (argv[0] === 'log') expect(old.stdout).toBe(current.stdout);
    }
    const nosuch = await runCli([
      'restore',
      '--host',
      'nosuch',
      '--target',
      `${name}_x`,
      '--config',
      config,
    ]);
    expect(nosuch.code).toBe(2);
    expect(nosuch.stderr).toContain('error: --backup-host "nosuch"');
    const both = await runCli(['log', '--host', HOST, '--backup-host', HOST, '--config', config]);
    expect(both.code).toBe(2);
    // Not an option of the commands that do not read a host directory.
    const snapshot = await runCli(['snapshot', '--host', '127.0.0.1', '--config', config]);
    expect(snapshot.code).toBe(2);
    expect(snapshot.stderr).toContain('-h/--server-host');
  });
});

describe('issue 21 items 7 and 9: the help', () => {
  function help(argv: readonly string[]): string {
    const result = runBuiltCli([...argv, '--help']);
    expect(result.code, result.stderr).toBe(0);
    return result.stdout;
  }

  it('names the connection options, where the password comes from, and each -t', () => {
    const top = help([]);
    expect(top).not.toMatch(/-h, --help/);
    const check = help(['check']);
    for (const option of [
      '-h, --server-host',
      '-P, --port',
      '-S, --socket',
      '-u, --user',
      '--defaults-file',
      '--defaults-extra-file',
      '$SCHEMA_BACKUP_DB_PASSWORD',
      'database.password_file',
    ])
      expect(check).toContain(option);
    expect(check).not.toContain('--password ');
    // Issue 16: both engines' clients, not mariadb's alone.
    const oneLine = check.replace(/\s+/g, ' ');
    expect(oneLine).toContain("the database server's host, as the mariadb/psql client's -h");
    expect(oneLine).toContain("as the mariadb client's -P and psql's -p");
    expect(oneLine).toContain(
      "as the mariadb client's -S (MariaDB), or its socket directory, as psql's -h DIR",
    );
    expect(oneLine).toContain("as the mariadb client's -u and psql's -U");
    expect(help(['snapshot'])).toContain('-t, --target, --keep-stopped');
    expect(help(['decrypt'])).toMatch(/-t, --table/);
    const log = help(['log']);
    expect(log).toMatch(/-t, --table/);
    expect(log).toContain('--backup-host');
    expect(log).not.toMatch(/--host\b/);
    expect(help(['status'])).not.toContain('--server-host');
  });

  it('dump --help has --databases; upgrade --help says what upgrade does', () => {
    const dump = help(['dump']);
    expect(dump).toContain('--databases');
    expect(dump).toContain('--all-databases');
    expect(help(['upgrade'])).toContain('Stop the consumers, snapshot, run CMD');
  });
});

describe('issue 16: the connection options and keys with database.engine postgresql', () => {
  async function pgConfig(lines: readonly string[]): Promise<string> {
    const dir = await createTempDir('sbpgcfg');
    const config = join(dir, 'schema_backup.conf');
    await writeFile(
      config,
      ['csv2_backup_dir: backups', `hostname: ${HOST}`, 'database:', ...lines, ''].join('\n'),
    );
    return config;
  }

  it('--defaults-file and --defaults-extra-file: exit 2, nothing read', async () => {
    const config = await pgConfig(['  engine: postgresql', '  name: app']);
    for (const flag of ['--defaults-file', '--defaults-extra-file']) {
      const result = await runCli(['check', '--config', config, flag, '/nonexistent/my.cnf']);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(
        `error: ${flag} names a MySQL option file, which database.engine postgresql does not read`,
      );
      expect(result.stderr).toMatch(/^hint: .*pg_service\.conf/m);
    }
  });

  it('a MariaDB key, a PostgreSQL key with mariadb, an unknown engine: exit 2 with file:line and key', async () => {
    const cases: [readonly string[], string][] = [
      [['  engine: postgresql', '  ssl_ca: ca.pem'], ':5: database.ssl_ca: is a MariaDB/MySQL key'],
      [['  name: app', '  sslmode: require'], ':5: database.sslmode: is a PostgreSQL key'],
      [['  engine: postgres'], ':4: database.engine: unknown engine "postgres"'],
    ];
    for (const [lines, message] of cases) {
      const config = await pgConfig(lines);
      const result = await runCli(['check', '--config', config]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(`error: ${config}${message}`);
    }
  });
});
