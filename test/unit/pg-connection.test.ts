import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  lookUpPassword,
  parseServiceFile,
  readPasswordFile,
  resolvePostgresConnection,
  type ConnectionEnvironment,
  type PostgresConnectionOptions,
  type ResolvedConnection,
} from '../../src/engine/postgresql/connection.js';
import { EngineError } from '../../src/errors.js';
import { createTempDir } from '../helpers/temp-dir.js';

interface Setup {
  readonly dir: string;
  readonly home: string;
  readonly file: (name: string, text: string, mode?: number) => Promise<string>;
  readonly environment: (
    env?: Record<string, string>,
    warn?: (message: string) => void,
  ) => ConnectionEnvironment;
  readonly resolve: (
    options?: PostgresConnectionOptions,
    env?: Record<string, string>,
  ) => ResolvedConnection;
}

async function setup(): Promise<Setup> {
  const dir = await createTempDir('pgconn');
  const home = await createTempDir('pghome');
  const file = async (name: string, text: string, mode = 0o600): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, text);
    await chmod(path, mode);
    return path;
  };
  const environment = (
    env: Record<string, string> = {},
    warn?: (message: string) => void,
  ): ConnectionEnvironment => ({
    env,
    home,
    osUser: 'osuser',
    // No system service file unless a test names one.
    sysconfDirectory: join(dir, 'no-sysconf'),
    warn,
  });
  return {
    dir,
    home,
    file,
    environment,
    resolve: (options = {}, env = {}) => resolvePostgresConnection(options, environment(env)),
  };
}

/** The password pg would send, by calling the config's password function. */
async function passwordOf(resolved: ResolvedConnection): Promise<string | undefined> {
  const password = resolved.config.password;
  return typeof password === 'function' ? await password() : password;
}

describe('resolvePostgresConnection', () => {
  it("uses libpq's defaults: the socket directory, port 5432, the OS user and a database named after it", async () => {
    const { resolve } = await setup();
    const resolved = resolve();
    expect(resolved.settings).toEqual({
      host: '/var/run/postgresql',
      port: 5432,
      user: 'osuser',
      database: 'osuser',
      sslMode: 'prefer',
      service: undefined,
    });
    expect(resolved.config).toMatchObject({
      host: '/var/run/postgresql',
      port: 5432,
      user: 'osuser',
      database: 'osuser',
      // Never TLS over a socket, as libpq.
      ssl: false,
    });
    expect(resolved.retryWithoutTls).toBe(false);
    expect(resolved.description).toBe('osuser@/var/run/postgresql:5432/osuser');
  });

  it('takes PG* variables, and what the config names over them', async () => {
    const { resolve } = await setup();
    const env = { PGHOST: 'db.example', PGPORT: '6543', PGUSER: 'u', PGDATABASE: 'd' };
    expect(resolve({}, env).settings).toMatchObject({
      host: 'db.example',
      port: 6543,
      user: 'u',
      database: 'd',
    });
    expect(resolve({ host: 'other', user: 'me', database: 'x' }, env).settings).toMatchObject({
      host: 'other',
      port: 6543,
      user: 'me',
      database: 'x',
    });
    // A TCP host with sslmode prefer: TLS first, then in the clear.
    const resolved = resolve({}, env);
    expect(resolved.config.ssl).toEqual({ rejectUnauthorized: false });
    expect(resolved.retryWithoutTls).toBe(true);
  });

  it('reads a socket directory, or a socket file with its port', async () => {
    const { resolve } = await setup();
    expect(resolve({ socket: '/tmp/pg' }).settings).toMatchObject({ host: '/tmp/pg', port: 5432 });
    expect(resolve({ socket: '/tmp/pg/.s.PGSQL.5433' }).settings).toMatchObject({
      host: '/tmp/pg',
      port: 5433,
    });
    // A host named wins over the socket.
    expect(resolve({ host: 'db', socket: '/tmp/pg' }).settings.host).toBe('db');
  });

  it('takes a service from PGSERVICEFILE over PG* variables, and the config over the service (as libpq)', async () => {
    const { resolve, file } = await setup();
    const services = await file(
      'services.conf',
      '# comment\n[other]\nport=1\n\n[svc]\nhost = svc.example\nport=7000\ndbname=svcdb\nuser=svcuser\n',
    );
    const env = { PGSERVICEFILE: services, PGSERVICE: 'svc', PGPORT: '5999', PGUSER: 'envuser' };
    expect(resolve({}, env).settings).toMatchObject({
      host: 'svc.example',
      port: 7000,
      user: 'svcuser',
      database: 'svcdb',
      service: 'svc',
    });
    expect(resolve({ port: 5432, service: 'other' }, env).settings).toMatchObject({
      port: 5432,
      user: 'envuser',
      host: '/var/run/postgresql',
    });
  });

  it('finds a service in ~/.pg_service.conf, else in the system file, and fails for an unknown one', async () => {
    const { resolve, home, dir } = await setup();
    await writeFile(join(home, '.pg_service.conf'), '[mine]\nport=7001\n');
    const sysconf = join(dir, 'sysconf');
    await mkdir(sysconf);
    await writeFile(join(sysconf, 'pg_service.conf'), '[mine]\nport=1\n[shared]\nport=7002\n');
    const env = { PGSYSCONFDIR: sysconf };
    expect(resolve({ service: 'mine' }, env).settings.port).toBe(7001);
    expect(resolve({ service: 'shared' }, env).settings.port).toBe(7002);
    expect(() => resolve({ service: 'nope' }, env)).toThrow(
      /definition of service "nope" not found/,
    );
    expect(() => resolve({}, { ...env, PGSERVICE: 'nope' })).toThrow(EngineError);
  });

  it('parses service files: groups, comments, spaces, the first value of a key', () => {
    const services = parseServiceFile('[a]\n k = v \n#x=y\nk=w\n[b]\nhost=h=1\n');
    expect(services.get('a')).toEqual(new Map([['k', 'v']]));
    expect(services.get('b')).toEqual(new Map([['host', 'h=1']]));
    expect(() => parseServiceFile('[a]\nnot a setting\n')).toThrow(/syntax error/);
  });

  it('takes the password from password_file, then the service, then PGPASSWORD', async () => {
    const { resolve, file } = await setup();
    const passwordFile = await file('pw', 'from-file\nsecond line\n');
    const services = await file('s.conf', '[svc]\npassword=from-service\n');
    const env = { PGPASSWORD: 'from-env', PGSERVICEFILE: services };
    const fromFile = resolve({ passwordFile }, { ...env, PGSERVICE: 'svc' });
    expect(await passwordOf(fromFile)).toBe('from-file');
    expect(fromFile.passwordSource).toBe(`password_file ${passwordFile}`);
    expect(await passwordOf(resolve({ password: 'given' }, env))).toBe('given');
    expect(await passwordOf(resolve({}, { ...env, PGSERVICE: 'svc' }))).toBe('from-service');
    const fromEnvironment = resolve({}, env);
    expect(await passwordOf(fromEnvironment)).toBe('from-env');
    expect(fromEnvironment.passwordSource).toBe('$PGPASSWORD');
    // The password is in no message and not in the config as text.
    expect(JSON.stringify(fromEnvironment.config)).not.toContain('from-env');
    expect(fromEnvironment.description).not.toContain('from-env');
  });

  it('reads ~/.pgpass, PGPASSFILE or the service passfile when no password is given, only when asked', async () => {
    const { resolve, home, file } = await setup();
    await writeFile(join(home, '.pgpass'), 'localhost:5432:*:osuser:home-secret\n', {
      mode: 0o600,
    });
    expect(await passwordOf(resolve())).toBe('home-secret');
    const other = await file('other.pgpass', 'db.example:*:*:*:other-secret\n');
    expect(await passwordOf(resolve({ host: 'db.example' }, { PGPASSFILE: other }))).toBe(
      'other-secret',
    );
    const services = await file('s.conf', `[svc]\nhost=db.example\npassfile=${other}\n`);
    expect(await passwordOf(resolve({}, { PGSERVICEFILE: services, PGSERVICE: 'svc' }))).toBe(
      'other-secret',
    );
    // No entry: the function fails as libpq does, with where to put one.
    const none = resolve({ host: 'nowhere' });
    await expect(passwordOf(none)).rejects.toThrow(/asks for a password and none was given/);
    await expect(passwordOf(none)).rejects.toMatchObject({
      hint: expect.stringContaining('.pgpass') as unknown,
    });
  });
});

describe('password file', () => {
  const target = { host: 'db', port: 5432, database: 'app', user: 'alice' };

  it('matches host, port, database and user, with * wildcards, first line first', () => {
    const text = [
      '# a comment',
      'db:5433:app:alice:wrong-port',
      'db:5432:other:alice:wrong-db',
      'db:*:app:alice:first',
      '*:*:*:*:fallback',
    ].join('\n');
    expect(lookUpPassword(text, target)).toBe('first');
    expect(lookUpPassword(text, { ...target, user: 'bob' })).toBe('fallback');
    expect(lookUpPassword('db:5432:app:alice\n', target)).toBeUndefined();
    expect(lookUpPassword('db:5432:app:alice:crlf\r\n', target)).toBe('crlf');
  });

  it('reads \\: and \\\\ as escapes, and a * that is not alone as text', () => {
    expect(lookUpPassword('db:5432:app:alice:a\\:b\\\\c', target)).toBe('a:b\\c');
    expect(lookUpPassword('d\\b:5432:app:alice:escaped-host', target)).toBe('escaped-host');
    expect(lookUpPassword('*b:5432:app:alice:no', target)).toBeUndefined();
    expect(lookUpPassword('h\\:1:5432:app:alice:colon-host', { ...target, host: 'h:1' })).toBe(
      'colon-host',
    );
    // The password ends at an unescaped colon.
    expect(lookUpPassword('db:5432:app:alice:pw:extra', target)).toBe('pw');
  });

  it('matches the default socket directory as localhost, another directory as itself', () => {
    const text = 'localhost:5432:app:alice:local\n/tmp/pg:5432:app:alice:tmp\n';
    expect(lookUpPassword(text, { ...target, host: '/var/run/postgresql' })).toBe('local');
    expect(lookUpPassword(text, { ...target, host: '/tmp/pg' })).toBe('tmp');
  });

  it('ignores a file the group or others may read, with a warning, as libpq', async () => {
    const { file } = await setup();
    const open = await file('open.pgpass', 'db:5432:app:alice:secret\n', 0o644);
    const warnings: string[] = [];
    expect(readPasswordFile(open, target, (message) => warnings.push(message))).toBeUndefined();
    expect(warnings[0]).toMatch(/has group or world access; permissions should be u=rw \(0600\)/);
    await chmod(open, 0o600);
    expect(readPasswordFile(open, target)).toBe('secret');
    expect(readPasswordFile(`${open}.missing`, target)).toBeUndefined();
  });
});

describe('sslmode', () => {
  it('maps disable, allow, require to pg ssl options, and PGSSLMODE too', async () => {
    const { resolve } = await setup();
    expect(resolve({ host: 'db', sslMode: 'disable' }).config.ssl).toBe(false);
    expect(resolve({ host: 'db', sslMode: 'allow' }).config.ssl).toBe(false);
    expect(resolve({ host: 'db', sslMode: 'require' }).config.ssl).toEqual({
      rejectUnauthorized: false,
    });
    expect(resolve({ host: 'db' }, { PGSSLMODE: 'require' }).retryWithoutTls).toBe(false);
    expect(() => resolve({ host: 'db' }, { PGSSLMODE: 'sometimes' })).toThrow(
      /invalid sslmode "sometimes"/,
    );
  });

  it('checks the chain with the root certificate for verify-ca, and the host name too for verify-full', async () => {
    const { resolve, file, home } = await setup();
    expect(() => resolve({ host: 'db', sslMode: 'verify-ca' })).toThrow(
      /root certificate file ".*root.crt" does not exist/,
    );
    const ca = await file('ca.pem', 'PEM');
    const verifyCa = resolve({ host: 'db', sslMode: 'verify-ca', sslRootCert: ca }).config.ssl;
    expect(verifyCa).toMatchObject({ rejectUnauthorized: true, ca: 'PEM' });
    expect((verifyCa as { checkServerIdentity?: () => unknown }).checkServerIdentity?.()).toBe(
      undefined,
    );
    expect(
      resolve({ host: 'db.example' }, { PGSSLMODE: 'verify-full', PGSSLROOTCERT: ca }).config.ssl,
    ).toEqual({ rejectUnauthorized: true, ca: 'PEM', servername: 'db.example' });
    // require with ~/.postgresql/root.crt present checks the chain, as libpq does.
    await mkdir(join(home, '.postgresql'));
    await writeFile(join(home, '.postgresql', 'root.crt'), 'HOME-PEM');
    expect(resolve({ host: 'db', sslMode: 'require' }).config.ssl).toMatchObject({
      rejectUnauthorized: true,
      ca: 'HOME-PEM',
    });
  });

  it("reads the config's TLS block as sslmode and certificate files", async () => {
    const { resolve, file } = await setup();
    const ca = await file('ca.pem', 'CA');
    const cert = await file('client.pem', 'CERT');
    const key = await file('client.key', 'KEY');
    expect(
      resolve({ host: 'db', tls: { ca, cert, key, verifyServerCert: true } }).config.ssl,
    ).toEqual({ rejectUnauthorized: true, ca: 'CA', servername: 'db', cert: 'CERT', key: 'KEY' });
    expect(resolve({ host: 'db', tls: { verifyServerCert: false } }).settings.sslMode).toBe(
      'require',
    );
  });

  it('connects over a socket without TLS whatever the sslmode', async () => {
    const { resolve } = await setup();
    expect(resolve({ socket: '/tmp/pg', sslMode: 'verify-full' }).config.ssl).toBe(false);
  });

  it('takes connect_timeout in seconds from the environment, the config in milliseconds', async () => {
    const { resolve } = await setup();
    expect(resolve({}, { PGCONNECT_TIMEOUT: '5' }).config.connectionTimeoutMillis).toBe(5000);
    expect(
      resolve({ connectTimeoutMs: 1500 }, { PGCONNECT_TIMEOUT: '5' }).config
        .connectionTimeoutMillis,
    ).toBe(1500);
    expect(resolve().config.connectionTimeoutMillis).toBe(10_000);
  });
});
