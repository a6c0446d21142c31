import { existsSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readOptionFiles } from '../../src/config/my-cnf/read-option-files.js';
import {
  DEFAULT_SOCKETS,
  PASSWORD_ENV,
  resolveConnection,
  type ResolveConnectionOptions,
} from '../../src/config/resolve-connection.js';
import type { DatabaseConfig } from '../../src/config/schema.js';
import { ConfigError } from '../../src/errors.js';
import { redact } from '../../src/support/redact.js';
import { createTempDir } from '../helpers/temp-dir.js';

const CONFIG_FILE = '/srv/app/etc/schema_backup.conf';

interface Setup {
  readonly dir: string;
  /** An empty home directory. */
  readonly home: string;
  /** Writes an option file in `dir` and returns its path. */
  cnf(text: string, name?: string): Promise<string>;
  /** Writes a file with `mode` in `dir` and returns its path. */
  file(name: string, text: string, mode?: number): Promise<string>;
}

async function setup(): Promise<Setup> {
  const dir = await createTempDir('conn');
  const home = await createTempDir('home');
  const file = async (name: string, text: string, mode = 0o600): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, text);
    await chmod(path, mode);
    return path;
  };
  return { dir, home, file, cnf: (text, name = 'my.cnf') => file(name, text) };
}

function resolve(database: DatabaseConfig, options: ResolveConnectionOptions) {
  return resolveConnection({ file: CONFIG_FILE, database }, { env: {}, ...options });
}

/** What the client would pick for localhost with no socket named, on this machine. */
function localDefault(): { socket: string } | { host: string; port: number } {
  const socket = DEFAULT_SOCKETS.find((candidate) => existsSync(candidate));
  return socket === undefined ? { host: '127.0.0.1', port: 3306 } : { socket };
}

describe('resolveConnection: precedence of config over option files', () => {
  it('takes every key the config sets, ignoring the option file', async () => {
    const s = await setup();
    const defaultsFile = await s.cnf(
      '[client]\nhost = file-host\nport = 1111\nuser = file-user\ndatabase = file-db\nsocket = /file.sock\n',
    );
    const settings = await resolve(
      { defaultsFile, host: 'db.example.org', port: 5555, user: 'cfg-user', name: 'cfg-db' },
      { home: s.home },
    );
    expect(settings).toMatchObject({
      host: 'db.example.org',
      port: 5555,
      user: 'cfg-user',
      database: 'cfg-db',
      description: 'cfg-user@db.example.org:5555',
    });
    expect(settings.socket).toBeUndefined();
  });

  it('fills what the config leaves out from the option file', async () => {
    const s = await setup();
    const defaultsFile = await s.cnf(
      '[client]\nhost = remote.example.org\nport = 3307\nuser = file-user\ndatabase = file-db\n',
    );
    const settings = await resolve({ defaultsFile }, { home: s.home });
    expect(settings).toMatchObject({
      host: 'remote.example.org',
      port: 3307,
      user: 'file-user',
      database: 'file-db',
      description: 'file-user@remote.example.org:3307',
      passwordSource: 'none',
    });
    expect(settings.password).toBeUndefined();
    expect(settings.tls).toBeUndefined();
  });

  it('lets the database option override database.name', async () => {
    const s = await setup();
    const defaultsFile = await s.cnf('[client]\ndatabase = file-db\n');
    const settings = await resolve(
      { defaultsFile, name: 'cfg-db', host: 'h' },
      { home: s.home, database: 'cli-db' },
    );
    expect(settings.database).toBe('cli-db');
  });

  it('defaults the user to the login name and the port to 3306', async () => {
    const s = await setup();
    const defaultsFile = await s.cnf('[client]\nport = not-a-number\n');
    const settings = await resolve(
      { defaultsFile, name: 'db', host: 'h.example' },
      { home: s.home },
    );
    expect(settings.user).toBe(userInfo().username);
    expect(settings.port).toBe(3306);
    expect(settings.connectTimeoutMs).toBe(10_000);
  });

  it('converts connect_timeout seconds to milliseconds', async () => {
    const s = await setup();
    const defaultsFile = await s.cnf('');
    const settings = await resolve(
      { defaultsFile, name: 'db', host: 'h', connectTimeout: 2.5 },
      { home: s.home },
    );
    expect(settings.connectTimeoutMs).toBe(2500);
  });

  it('reads the standard files (home and /etc) when no defaults file is set', async () => {
    const s = await setup();
    await writeFile(join(s.home, '.my.cnf'), '[client]\nuser = home-user\ndatabase = home-db\n');
    const settings = await resolve({}, { home: s.home });
    expect(settings.user).toBe('home-user');
    expect(settings.database).toBe('home-db');
  });

  it('with an empty home, still reads the machine files under /etc', async () => {
    const s = await setup();
    const machine = await readOptionFiles({ home: s.home, env: {} });
    const settings = await resolve({ name: 'db', user: 'u' }, { home: s.home });
    const socket = machine.get('socket')?.value;
    if (socket !== undefined && !machine.has('host')) {
      // e.g. /etc/mysql/my.cnf: [client-server] socket=/run/mysqld/mysqld.sock
      expect(settings.socket).toBe(socket);
      expect(settings.description).toBe(`u@${socket}`);
    } else if (!machine.has('host')) {
      expect(settings).toMatchObject(localDefault());
    }
  });
});

describe('resolveConnection: missing database', () => {
  it('throws a ConfigError naming database.name when nothing names a database', async () => {
    const s = await setup();
    const defaultsFile = await s.cnf('[client]\nuser = u\n');
    const promise = resolve({ defaultsFile, host: 'h' }, { home: s.home });
    await expect(promise).rejects.toBeInstanceOf(ConfigError);
    await expect(promise).rejects.toMatchObject({
      exitCode: 2,
      location: { file: CONFIG_FILE, key: 'database.name' },
      message: `${CONFIG_FILE}: database.name: no database to snapshot is named`,
    });
  });

  it('treats an empty database option as missing', async () => {
    const s = await setup();
    const defaultsFile = await s.cnf('[client]\ndatabase =\n');
    await expect(resolve({ defaultsFile, host: 'h' }, { home: s.home })).rejects.toBeInstanceOf(
      ConfigError,
    );
    await expect(
      resolve({ defaultsFile, host: 'h', name: '' }, { home: s.home }),
    ).rejects.toBeInstanceOf(ConfigError);
  });

  it('passes a missing defaults file on as a ConfigError', async () => {
    const s = await setup();
    await expect(
      resolve({ defaultsFile: join(s.dir, 'absent.cnf'), name: 'db' }, { home: s.home }),
    ).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('resolveConnection: password', () => {
  it('takes the first line of password_file over $SCHEMA_BACKUP_DB_PASSWORD and the option file', async () => {
    const s = await setup();
    const defaultsFile = await s.cnf('[client]\npassword = from-option-file-Q1\n');
    const passwordFile = await s.file('db.password', 'from-password-file-Q1\nsecond line\n');
    const warnings: string[] = [];
    const settings = await resolve(
      { defaultsFile, passwordFile, name: 'db', host: 'h' },
      {
        home: s.home,
        env: { [PASSWORD_ENV]: 'from-env-Q1' },
        warn: (message) => warnings.push(message),
      },
    );
    expect(settings.password).toBe('from-password-file-Q1');
    expect(settings.passwordSource).toBe(`password_file ${passwordFile}`);
    expect(warnings).toEqual([]);
  });

  it('takes only the first line, whatever the line end', async () => {
    const s = await setup();
    const defaultsFile = await s.cnf('');
    for (const [text, expected] of [
      ['crlf-secret\r\nnext', 'crlf-secret'],
      ['no-newline', 'no-newline'],
      ['  spaced  \n', '  spaced  '],
      ['\nsecond', ''],
    ] as const) {
      const passwordFile = await s.file('pw', text);
      const settings = await resolve(
        { defaultsFile, passwordFile, name: 'db', host: 'h' },
        { home: s.home },
      );
      expect(settings.password).toBe(expected);
    }
  });

  it('takes $SCHEMA_BACKUP_DB_PASSWORD over the option file', async () => {
    const s = await setup();
    const defaultsFile = await s.cnf('[client]\npassword = from-option-file-Q2\n');
    const settings = await resolve(
      { defaultsFile, name: 'db', host: 'h' },
      { home: s.home, env: { SCHEMA_BACKUP_DB_PASSWORD: 'from-env-Q2' } },
    );
    expect(PASSWORD_ENV).toBe('SCHEMA_BACKUP_DB_PASSWORD');
    expect(settings.password).toBe('from-env-Q2');
    expect(settings.passwordSource).toBe('$SCHEMA_BACKUP_DB_PASSWORD');
  });

  it('takes the option file password last, naming the file it came from', async () => {
    const s = await setup();
    const defaultsFile = await s.cnf('[client]\npassword = "from option file Q3"\n');
    const settings = await resolve({ defaultsFile, name: 'db', host: 'h' }, { home: s.home });
    expect(settings.password).toBe('from option file Q3');
    expect(settings.passwordSource).toBe(`option file ${defaultsFile}`);
  });

  it('registers the password so that redact() hides it', async () => {
    const s = await setup();
    const secret = 'Zq9-unique-secret-&*(';
    const passwordFile = await s.file('pw', `${secret}\n`);
    const defaultsFile = await s.cnf('');
    expect(redact(`connect failed for ${secret} today`)).toContain(secret);
    const settings = await resolve(
      { defaultsFile, passwordFile, name: 'db', host: 'h' },
      { home: s.home },
    );
    expect(settings.password).toBe(secret);
    const text = redact(`connect failed for ${secret} today`);
    expect(text).not.toContain(secret);
    expect(text).toBe('connect failed for [redacted] today');
    expect(settings.description).not.toContain(secret);
  });

  it('registers env and option-file passwords too', async () => {
    const s = await setup();
    const defaultsFile = await s.cnf('[client]\npassword = optfile-secret-W7\n');
    await resolve({ defaultsFile, name: 'db', host: 'h' }, { home: s.home });
    expect(redact('x optfile-secret-W7 y')).toBe('x [redacted] y');
    await resolve(
      { defaultsFile, name: 'db', host: 'h' },
      { home: s.home, env: { [PASSWORD_ENV]: 'env-secret-W8' } },
    );
    expect(redact('x env-secret-W8 y')).toBe('x [redacted] y');
  });

  it('warns about a password file other users can read, and not about a 0600 one', async () => {
    const s = await setup();
    const defaultsFile = await s.cnf('');
    const open = await s.file('open.password', 'pw-open\n', 0o644);
    const closed = await s.file('closed.password', 'pw-closed\n', 0o600);
    const warnings: string[] = [];
    const warn = (message: string): void => {
      warnings.push(message);
    };
    await resolve(
      { defaultsFile, passwordFile: closed, name: 'db', host: 'h' },
      { home: s.home, warn },
    );
    expect(warnings).toEqual([]);
    await resolve(
      { defaultsFile, passwordFile: open, name: 'db', host: 'h' },
      { home: s.home, warn },
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(open);
    expect(warnings[0]).toContain('644');
    expect(warnings[0]).toContain('chmod 600');
    expect(warnings[0]).not.toContain('pw-open');
  });

  it('rejects an unreadable password file with a ConfigError naming the key', async () => {
    const s = await setup();
    const defaultsFile = await s.cnf('');
    const missing = join(s.dir, 'no.password');
    const promise = resolve(
      { defaultsFile, passwordFile: missing, name: 'db', host: 'h' },
      { home: s.home },
    );
    await expect(promise).rejects.toBeInstanceOf(ConfigError);
    await expect(promise).rejects.toMatchObject({
      exitCode: 2,
      location: { file: CONFIG_FILE, key: 'database.password_file' },
    });
    await expect(promise).rejects.toThrow(/ENOENT/);
  });
});

describe('resolveConnection: socket or TCP', () => {
  it('uses TCP to a host that is not localhost, port 3306 by default', async () => {
    const s = await setup();
    const socketPath = await s.file('mysqld.sock', '');
    const defaultsFile = await s.cnf(`[client]\nsocket = ${socketPath}\n`);
    const settings = await resolve(
      { defaultsFile, name: 'db', host: 'db.example.org', user: 'u' },
      { home: s.home },
    );
    expect(settings.host).toBe('db.example.org');
    expect(settings.port).toBe(3306);
    expect(settings.socket).toBeUndefined();
    expect(settings.description).toBe('u@db.example.org:3306');
  });

  it('treats 127.0.0.1 as TCP, not as localhost', async () => {
    const s = await setup();
    const defaultsFile = await s.cnf('');
    const settings = await resolve(
      { defaultsFile, name: 'db', host: '127.0.0.1', port: 3307 },
      { home: s.home },
    );
    expect(settings).toMatchObject({ host: '127.0.0.1', port: 3307 });
    expect(settings.socket).toBeUndefined();
  });

  it('uses an existing socket for host localhost', async () => {
    const s = await setup();
    const socketPath = await s.file('mysqld.sock', '');
    const defaultsFile = await s.cnf('');
    const settings = await resolve(
      { defaultsFile, name: 'db', host: 'localhost', socket: socketPath, user: 'u' },
      { home: s.home },
    );
    expect(settings.socket).toBe(socketPath);
    expect(settings.host).toBeUndefined();
    expect(settings.description).toBe(`u@${socketPath}`);
  });

  it('uses the socket named in the option file when no host is named', async () => {
    const s = await setup();
    const socketPath = await s.file('from-file.sock', '');
    const defaultsFile = await s.cnf(`[client-server]\nsocket = ${socketPath}\n`);
    const settings = await resolve({ defaultsFile, name: 'db' }, { home: s.home });
    expect(settings.socket).toBe(socketPath);
    expect(settings.host).toBeUndefined();
  });

  it('uses a named socket with no host as is', async () => {
    const s = await setup();
    const defaultsFile = await s.cnf('');
    const named = join(s.dir, 'not-yet.sock');
    const settings = await resolve({ defaultsFile, name: 'db', socket: named }, { home: s.home });
    expect(settings.socket).toBe(named);
  });

  it('with localhost and no socket named, picks a default socket that exists, else 127.0.0.1:3306', async () => {
    const s = await setup();
    const defaultsFile = await s.cnf('');
    for (const host of ['localhost', undefined]) {
      const settings = await resolve({ defaultsFile, name: 'db', host }, { home: s.home });
      const expected = localDefault();
      expect(settings).toMatchObject(expected);
      if ('socket' in expected) expect(settings.host).toBeUndefined();
      else expect(settings.socket).toBeUndefined();
    }
  });

  it('with localhost and a named socket that does not exist, falls back like the default', async () => {
    const s = await setup();
    const defaultsFile = await s.cnf('');
    const settings = await resolve(
      { defaultsFile, name: 'db', host: 'localhost', socket: join(s.dir, 'absent.sock') },
      { home: s.home },
    );
    expect(settings).toMatchObject(localDefault());
  });
});

describe('resolveConnection: TLS', () => {
  it('has no TLS unless asked for', async () => {
    const s = await setup();
    const defaultsFile = await s.cnf('');
    expect(
      (await resolve({ defaultsFile, name: 'db', host: 'h' }, { home: s.home })).tls,
    ).toBeUndefined();
  });

  it('uses TLS without verification when ssl is true and no CA is given', async () => {
    const s = await setup();
    const defaultsFile = await s.cnf('');
    const settings = await resolve(
      { defaultsFile, name: 'db', host: 'h', ssl: true },
      { home: s.home },
    );
    expect(settings.tls).toEqual({
      ca: undefined,
      cert: undefined,
      key: undefined,
      verifyServerCert: false,
    });
  });

  it('verifies the server when a CA is given, config paths over option-file paths', async () => {
    const s = await setup();
    const defaultsFile = await s.cnf(
      '[client]\nssl-ca = /file/ca.pem\nssl-cert = /file/cert.pem\nssl-key = /file/key.pem\n',
    );
    const settings = await resolve(
      { defaultsFile, name: 'db', host: 'h', sslCa: '/cfg/ca.pem' },
      { home: s.home },
    );
    expect(settings.tls).toEqual({
      ca: '/cfg/ca.pem',
      cert: '/file/cert.pem',
      key: '/file/key.pem',
      verifyServerCert: true,
    });
  });

  it('honours ssl_verify_server_cert and skip-ssl', async () => {
    const s = await setup();
    const noVerify = await s.cnf(
      '[client]\nssl-ca = /ca.pem\nssl-verify-server-cert = 0\n',
      'a.cnf',
    );
    expect(
      (await resolve({ defaultsFile: noVerify, name: 'db', host: 'h' }, { home: s.home })).tls
        ?.verifyServerCert,
    ).toBe(false);
    const cfgVerify = await resolve(
      { defaultsFile: noVerify, name: 'db', host: 'h', sslVerifyServerCert: true },
      { home: s.home },
    );
    expect(cfgVerify.tls?.verifyServerCert).toBe(true);
    const skip = await s.cnf('[client]\nssl-ca = /ca.pem\nskip-ssl\n', 'b.cnf');
    expect(
      (await resolve({ defaultsFile: skip, name: 'db', host: 'h' }, { home: s.home })).tls,
    ).toBeUndefined();
    expect(
      (
        await resolve(
          { defaultsFile: noVerify, name: 'db', host: 'h', ssl: false },
          { home: s.home },
        )
      ).tls,
    ).toBeUndefined();
  });
});

describe('resolveConnection: the command line overrides (issue 21 item 7)', () => {
  it('--user, -h and --port override the config, which overrides the option files', async () => {
    const s = await setup();
    const defaultsFile = await s.cnf('[client]\nuser = file-user\nport = 1111\n');
    const settings = await resolve(
      { defaultsFile, host: 'db.example.org', user: 'cfg-user', name: 'db' },
      { home: s.home, overrides: { user: 'cli-user', host: 'db2.example.org', port: 2222 } },
    );
    expect(settings).toMatchObject({
      host: 'db2.example.org',
      port: 2222,
      user: 'cli-user',
      description: 'cli-user@db2.example.org:2222',
    });
  });

  it('--socket connects through it, whatever host the config names', async () => {
    const s = await setup();
    const settings = await resolve(
      { host: 'db.example.org', port: 5555, name: 'db' },
      { home: s.home, overrides: { socket: '/cli/mysqld.sock' } },
    );
    expect(settings.socket).toBe('/cli/mysqld.sock');
    expect(settings.host).toBeUndefined();
  });

  it('--port means TCP, to 127.0.0.1 when the host is localhost or unnamed', async () => {
    const s = await setup();
    const socket = await s.file('mysqld.sock', '');
    for (const host of [undefined, 'localhost']) {
      const settings = await resolve(
        { host, socket, name: 'db' },
        { home: s.home, overrides: { port: 3307 } },
      );
      expect(settings).toMatchObject({ host: '127.0.0.1', port: 3307 });
      expect(settings.socket).toBeUndefined();
    }
  });

  it('--defaults-file replaces database.defaults_file', async () => {
    const s = await setup();
    const fromConfig = await s.cnf('[client]\nuser = config-file-user\n', 'config.cnf');
    const fromCli = await s.cnf('[client]\nuser = cli-file-user\n', 'cli.cnf');
    const settings = await resolve(
      { defaultsFile: fromConfig, name: 'db' },
      { home: s.home, overrides: { defaultsFile: fromCli } },
    );
    expect(settings.user).toBe('cli-file-user');
  });

  it('--defaults-extra-file is read after the system files and before ~/.my.cnf', async () => {
    const s = await setup();
    const extra = await s.cnf('[client]\nuser = extra-user\nport = 4444\nhost = extra-host\n');
    await writeFile(join(s.home, '.my.cnf'), '[client]\nuser = home-user\n');
    const settings = await resolve(
      { name: 'db' },
      { home: s.home, overrides: { defaultsExtraFile: extra } },
    );
    expect(settings).toMatchObject({ user: 'home-user', host: 'extra-host', port: 4444 });
    const values = await readOptionFiles({ extraFile: extra, home: s.home, env: {} });
    expect(values.get('user')?.file).toBe(join(s.home, '.my.cnf'));
    expect(values.get('port')?.file).toBe(extra);
  });

  it('refuses a missing extra file, an extra file beside a defaults file, and --socket with --port', async () => {
    const s = await setup();
    const file = await s.cnf('[client]\n');
    await expect(
      resolve(
        { name: 'db' },
        { home: s.home, overrides: { defaultsExtraFile: join(s.dir, 'no.cnf') } },
      ),
    ).rejects.toMatchObject({ exitCode: 2 });
    await expect(
      resolve(
        { name: 'db', defaultsFile: file },
        { home: s.home, overrides: { defaultsExtraFile: file } },
      ),
    ).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('database.defaults_file') as unknown,
    });
    await expect(
      resolve({ name: 'db' }, { home: s.home, overrides: { socket: '/x.sock', port: 1 } }),
    ).rejects.toMatchObject({ exitCode: 2 });
  });
});
