/**
 * Issue 16: the connection of a `database.engine: postgresql` config. Only what the config
 * and the command line say reaches the engine; no MySQL option file is read; the engine's
 * libpq resolution does the rest (checked here with its pure resolver, no server).
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  withdrawnPasswordVariables,
  withdrawPasswordVariables,
} from '../../src/cli/password-variables.js';
import {
  PASSWORD_ENV,
  resolveConnection,
  type ConnectionOverrides,
  type ResolveConnectionOptions,
} from '../../src/config/resolve-connection.js';
import type { DatabaseConfig } from '../../src/config/schema.js';
import { resolvePostgresConnection } from '../../src/engine/postgresql/connection.js';
import { ConfigError, UsageError } from '../../src/errors.js';
import { redact } from '../../src/support/redact.js';
import { createTempDir } from '../helpers/temp-dir.js';

const CONFIG_FILE = '/srv/app/etc/schema_backup.conf';

/** A home whose ~/.my.cnf (and $MARIADB_HOME/my.cnf) would change every setting, or fail. */
async function homeWithMyCnf(): Promise<{ home: string; mariadbHome: string; dir: string }> {
  const home = await createTempDir('pghome');
  const mariadbHome = await createTempDir('pgmariadbhome');
  const dir = await createTempDir('pgcfg');
  await writeFile(
    join(home, '.my.cnf'),
    '[client]\nhost = mycnf-host\nport = 3399\nuser = mycnf-user\npassword = mycnf-secret-Z9\ndatabase = mycnf-db\nsocket = /mycnf.sock\nssl-ca = /mycnf-ca.pem\n',
  );
  // An option above any group is an error when read: this file must not be read at all.
  await writeFile(join(mariadbHome, 'my.cnf'), 'user = not-in-a-group\n');
  return { home, mariadbHome, dir };
}

function pg(
  database: Omit<DatabaseConfig, 'engine'>,
  options: ResolveConnectionOptions = {},
): ReturnType<typeof resolveConnection> {
  return resolveConnection(
    { file: CONFIG_FILE, database: { ...database, engine: 'postgresql' } },
    { env: {}, ...options },
  );
}

describe('resolveConnection (postgresql): no MySQL option file', () => {
  it('does not read ~/.my.cnf or $MARIADB_HOME/my.cnf: nothing of them reaches the options', async () => {
    const { home, mariadbHome } = await homeWithMyCnf();
    const env = { MARIADB_HOME: mariadbHome, MYSQL_HOME: mariadbHome };
    const settings = await pg({}, { home, env });
    expect(settings).toEqual({
      host: undefined,
      port: undefined,
      socket: undefined,
      user: undefined,
      password: undefined,
      database: '',
      service: undefined,
      sslMode: undefined,
      sslRootCert: undefined,
      connectTimeoutMs: undefined,
      description: 'libpq defaults',
      passwordSource: 'the service or the password file ~/.pgpass, if either has one (as libpq)',
    });
    // The same home with mariadb: the option files are read (so the files above are real).
    await expect(
      resolveConnection({ file: CONFIG_FILE, database: {} }, { home, env }),
    ).rejects.toThrow('this option stands before any [group]');
    const maria = await resolveConnection({ file: CONFIG_FILE, database: {} }, { home, env: {} });
    expect(maria).toMatchObject({ user: 'mycnf-user', database: 'mycnf-db' });
  });

  it('ignores $MYSQL_PWD', async () => {
    const settings = await pg({ name: 'app' }, { env: { MYSQL_PWD: 'mysql-pwd-secret' } });
    expect(settings.password).toBeUndefined();
  });
});

describe('resolveConnection (postgresql): the explicit keys arrive in the options', () => {
  it('host, port, user, name, service, sslmode, sslrootcert, connect_timeout', async () => {
    const { home } = await homeWithMyCnf();
    const settings = await pg(
      {
        host: 'db.example.org',
        port: 5433,
        user: 'backup',
        name: 'app',
        service: 'prod',
        sslmode: 'verify-full',
        sslrootcert: '/etc/ssl/pg-root.crt',
        connectTimeout: 2.5,
        schemas: ['public'],
      },
      { home },
    );
    expect(settings).toMatchObject({
      host: 'db.example.org',
      port: 5433,
      socket: undefined,
      user: 'backup',
      database: 'app',
      service: 'prod',
      sslMode: 'verify-full',
      sslRootCert: '/etc/ssl/pg-root.crt',
      connectTimeoutMs: 2500,
      description: 'host=db.example.org port=5433 user=backup dbname=app service=prod',
    });
    expect(settings.tls).toBeUndefined();
  });

  it('socket is the socket directory, given as the host when no host is named', async () => {
    const settings = await pg({ socket: '/var/run/postgresql', port: 5433, name: 'app' });
    expect(settings).toMatchObject({ socket: '/var/run/postgresql', host: undefined, port: 5433 });
    const resolved = resolvePostgresConnection(settings, {
      env: {},
      home: '/nonexistent',
      osUser: 'os-user',
    });
    expect(resolved.settings).toMatchObject({
      host: '/var/run/postgresql',
      port: 5433,
      user: 'os-user',
      database: 'app',
    });
  });

  it('--database overrides database.name', async () => {
    expect((await pg({ name: 'app' }, { database: 'other' })).database).toBe('other');
  });

  it('what the config leaves out the engine takes from the service file and PG* variables', async () => {
    const home = await createTempDir('pgsvc');
    await writeFile(
      join(home, '.pg_service.conf'),
      '[prod]\nhost=svc.example.org\nport=6543\ndbname=svcdb\nuser=svcuser\nsslmode=disable\n',
    );
    const settings = await pg({ service: 'prod', user: 'backup' }, { home });
    const resolved = resolvePostgresConnection(settings, {
      env: { PGDATABASE: 'envdb', PGPORT: '1111' },
      home,
      osUser: 'os-user',
    });
    // Explicit user wins; the service wins over PG* variables, as in libpq.
    expect(resolved.settings).toEqual({
      host: 'svc.example.org',
      port: 6543,
      user: 'backup',
      database: 'svcdb',
      sslMode: 'disable',
      service: 'prod',
    });
  });
});

describe('resolveConnection (postgresql): command-line options', () => {
  const over = (overrides: ConnectionOverrides) => ({ overrides });

  it('-h replaces the host and drops the config socket; -u the user; -P the port', async () => {
    const settings = await pg(
      { socket: '/var/run/postgresql', user: 'backup', name: 'app' },
      over({ host: '10.0.0.7', user: 'admin', port: 5444 }),
    );
    expect(settings).toMatchObject({
      host: '10.0.0.7',
      socket: undefined,
      user: 'admin',
      port: 5444,
    });
  });

  it('-S names the socket directory and drops the config host; -P is its port (as psql -p)', async () => {
    const settings = await pg(
      { host: 'db.example.org', port: 5432, name: 'app' },
      over({ socket: '/tmp', port: 5499 }),
    );
    expect(settings).toMatchObject({ host: undefined, socket: '/tmp', port: 5499 });
    expect(
      resolvePostgresConnection(settings, { env: {}, home: '/nonexistent', osUser: 'u' }).settings,
    ).toMatchObject({ host: '/tmp', port: 5499 });
  });

  it.each([
    ['--defaults-file', { defaultsFile: '/nonexistent/my.cnf' }],
    ['--defaults-extra-file', { defaultsExtraFile: '/nonexistent/extra.cnf' }],
  ] as const)('%s is refused: exit 2, saying PostgreSQL reads no option file', async (flag, o) => {
    const promise = pg({ name: 'app' }, over(o));
    await expect(promise).rejects.toBeInstanceOf(UsageError);
    await expect(promise).rejects.toMatchObject({
      exitCode: 2,
      message: `${flag} names a MySQL option file, which database.engine postgresql does not read`,
    });
    const error = await promise.then(
      () => undefined,
      (thrown: unknown) => thrown as UsageError,
    );
    expect(error?.hint).toContain('database.service');
  });
});

describe('resolveConnection (postgresql): password', () => {
  async function passwordFile(text: string, mode = 0o600): Promise<string> {
    const dir = await createTempDir('pgpw');
    const path = join(dir, 'db.password');
    await writeFile(path, text);
    await chmod(path, mode);
    return path;
  }

  it('password_file first, then $SCHEMA_BACKUP_DB_PASSWORD, then $PGPASSWORD, else libpq', async () => {
    const file = await passwordFile('from-file-P7\nsecond\n');
    const env = {
      [PASSWORD_ENV]: 'from-ours-P7',
      PGPASSWORD: 'from-pg-P7',
      PGPASSFILE: '/x/pgpass',
    };
    const fromFile = await pg({ passwordFile: file }, { env });
    expect(fromFile).toMatchObject({
      password: 'from-file-P7',
      passwordSource: `password_file ${file}`,
    });
    const fromOurs = await pg({}, { env });
    expect(fromOurs).toMatchObject({
      password: 'from-ours-P7',
      passwordSource: `$${PASSWORD_ENV}`,
    });
    const fromPg = await pg({}, { env: { PGPASSWORD: 'from-pg-P7', PGPASSFILE: '/x/pgpass' } });
    expect(fromPg).toMatchObject({ password: 'from-pg-P7', passwordSource: '$PGPASSWORD' });
    const none = await pg({}, { env: { PGPASSWORD: '', PGPASSFILE: '/x/pgpass' } });
    expect(none.password).toBeUndefined();
    expect(none.passwordSource).toContain('/x/pgpass');
    // Registered: no later message shows them.
    for (const secret of ['from-file-P7', 'from-ours-P7', 'from-pg-P7'])
      expect(redact(`a ${secret} b`)).not.toContain(secret);
    for (const settings of [fromFile, fromOurs, fromPg])
      expect(settings.description + settings.passwordSource).not.toMatch(/P7/);
  });

  it('a password_file that cannot be read is a ConfigError naming the key; a readable-by-all one warns', async () => {
    const promise = pg({ passwordFile: '/nonexistent/db.password' });
    await expect(promise).rejects.toBeInstanceOf(ConfigError);
    await expect(promise).rejects.toMatchObject({
      exitCode: 2,
      location: { file: CONFIG_FILE, key: 'database.password_file' },
    });
    const open = await passwordFile('open-secret-P8\n', 0o644);
    const warnings: string[] = [];
    await pg({ passwordFile: open }, { warn: (message) => warnings.push(message) });
    expect(warnings.join('\n')).toContain('readable by other users');
    expect(warnings.join('\n')).not.toContain('open-secret-P8');
  });

  it('$PGPASSWORD is withdrawn from the environment at start, like ours and $MYSQL_PWD', () => {
    const env: NodeJS.ProcessEnv = { PGPASSWORD: 'withdrawn-P9', KEPT: 'x' };
    withdrawPasswordVariables(env);
    expect(env).toEqual({ KEPT: 'x' });
    expect(withdrawnPasswordVariables()).toEqual({ PGPASSWORD: 'withdrawn-P9' });
    withdrawPasswordVariables({});
  });
});

describe('resolveConnection (mariadb) is unchanged by the PostgreSQL keys', () => {
  it('still refuses --defaults-extra-file beside a defaults file, and reads the option file', async () => {
    const dir = await createTempDir('mariacfg');
    await mkdir(join(dir, 'home'));
    const cnf = join(dir, 'my.cnf');
    await writeFile(cnf, '[client]\nuser = file-user\ndatabase = file-db\nhost = h.example\n');
    const settings = await resolveConnection(
      { file: CONFIG_FILE, database: { defaultsFile: cnf } },
      { env: {}, home: join(dir, 'home') },
    );
    expect(settings).toMatchObject({ user: 'file-user', database: 'file-db', host: 'h.example' });
  });
});
