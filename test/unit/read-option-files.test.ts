import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CLIENT_GROUPS,
  parseOptionLine,
  readOptionFiles,
  standardOptionFiles,
  type OptionValues,
} from '../../src/config/my-cnf/read-option-files.js';
import { ConfigError } from '../../src/errors.js';
import { createTempDir } from '../helpers/temp-dir.js';

/** Writes `text` to `name` in `dir` and returns the path. */
async function cnf(dir: string, name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

function plain(values: OptionValues): Record<string, string> {
  return Object.fromEntries([...values].map(([name, { value }]) => [name, value]));
}

describe('parseOptionLine', () => {
  it('splits key = value and trims both', () => {
    expect(parseOptionLine('user = backup')).toEqual({ name: 'user', value: 'backup' });
    expect(parseOptionLine('user=backup')).toEqual({ name: 'user', value: 'backup' });
  });

  it('normalises - to _ and lower-cases the name', () => {
    expect(parseOptionLine('SSL-CA = /x/ca.pem')).toEqual({ name: 'ssl_ca', value: '/x/ca.pem' });
    expect(parseOptionLine('ssl_ca=/x')).toEqual(parseOptionLine('ssl-ca=/x'));
  });

  it('drops the loose- prefix in either spelling', () => {
    expect(parseOptionLine('loose-ssl-verify-server-cert = 0')).toEqual({
      name: 'ssl_verify_server_cert',
      value: '0',
    });
    expect(parseOptionLine('loose_port=3307')).toEqual({ name: 'port', value: '3307' });
  });

  it('gives a bare key the empty value', () => {
    expect(parseOptionLine('skip-ssl')).toEqual({ name: 'skip_ssl', value: '' });
    expect(parseOptionLine('  no-auto-rehash  ')).toEqual({ name: 'no_auto_rehash', value: '' });
  });

  it('keeps = signs after the first in the value', () => {
    expect(parseOptionLine('password=a=b==')).toEqual({ name: 'password', value: 'a=b==' });
  });

  it('unquotes single- and double-quoted values', () => {
    expect(parseOptionLine('password = "with space"')).toEqual({
      name: 'password',
      value: 'with space',
    });
    expect(parseOptionLine("password = 'with # hash'")).toEqual({
      name: 'password',
      value: 'with # hash',
    });
    expect(parseOptionLine('password = "x" # trailing comment')).toEqual({
      name: 'password',
      value: 'x',
    });
    expect(parseOptionLine('password = ""')).toEqual({ name: 'password', value: '' });
  });

  it('unescapes \\n \\t \\r \\b \\s \\\\ and keeps unknown escapes', () => {
    expect(parseOptionLine('a = "x\\ty\\nz"').value).toBe('x\ty\nz');
    expect(parseOptionLine('a = "\\r\\b"').value).toBe('\r\b');
    expect(parseOptionLine('a = one\\stwo').value).toBe('one two');
    expect(parseOptionLine('a = "c:\\\\dir"').value).toBe('c:\\dir');
    expect(parseOptionLine('a = \\q').value).toBe('\\q');
  });

  // Regression (fixed): a quoted value ends at the first quote character even when it is escaped,
  // so `password="a\"b"` gives `a\` where the mariadb client gives `a"b` (mysys remove_end_comment
  // and the escape table honour `\"` and `\'`).
  it('unescapes an escaped quote inside a quoted value', () => {
    expect(parseOptionLine('password = "a\\"b"').value).toBe('a"b');
    expect(parseOptionLine("password = 'it\\'s'").value).toBe("it's");
  });

  it('ends an unquoted value at a # preceded by white space', () => {
    expect(parseOptionLine('user = backup # the backup account')).toEqual({
      name: 'user',
      value: 'backup',
    });
    expect(parseOptionLine('user = backup\t# tab')).toEqual({ name: 'user', value: 'backup' });
  });
});

describe('standardOptionFiles', () => {
  it('lists /etc/my.cnf, /etc/mysql/my.cnf, $MARIADB_HOME or $MYSQL_HOME, then ~/.my.cnf', () => {
    expect(standardOptionFiles({}, '/home/u')).toEqual([
      '/etc/my.cnf',
      '/etc/mysql/my.cnf',
      '/home/u/.my.cnf',
    ]);
    expect(standardOptionFiles({ MYSQL_HOME: '/m' }, '/home/u')).toEqual([
      '/etc/my.cnf',
      '/etc/mysql/my.cnf',
      '/m/my.cnf',
      '/home/u/.my.cnf',
    ]);
    expect(standardOptionFiles({ MARIADB_HOME: '/a', MYSQL_HOME: '/m' }, '/h')[2]).toBe(
      '/a/my.cnf',
    );
    expect(standardOptionFiles({ MARIADB_HOME: '' }, '/h')).toHaveLength(3);
  });
});

describe('readOptionFiles with a defaults file', () => {
  it('reads the client groups and not the server ones', async () => {
    const dir = await createTempDir('cnf');
    const file = await cnf(
      dir,
      'my.cnf',
      [
        '[mysqld]',
        'port = 1111',
        'datadir = /var/lib/mysql',
        '[client]',
        'user = from-client',
        '[mysql]',
        'database = from-mysql',
        '[mysqldump]',
        'host = dump-host',
        '[mariadb]',
        'ssl-ca = /ca.pem',
        '[client-server]',
        'socket = /run/sock',
        '[server]',
        'password = server-secret',
      ].join('\n'),
    );
    const values = await readOptionFiles({ defaultsFile: file, home: dir, env: {} });
    expect(plain(values)).toEqual({
      user: 'from-client',
      database: 'from-mysql',
      ssl_ca: '/ca.pem',
      socket: '/run/sock',
    });
    expect(values.get('user')?.file).toBe(file);
  });

  it('reads client-mariadb and mariadb-client too, and group names case-insensitively', async () => {
    expect(CLIENT_GROUPS).toEqual(
      expect.arrayContaining([
        'client',
        'client-server',
        'client-mariadb',
        'mysql',
        'mariadb',
        'mariadb-client',
      ]),
    );
    expect(CLIENT_GROUPS).not.toContain('mysqld');
    const dir = await createTempDir('cnf');
    const file = await cnf(
      dir,
      'my.cnf',
      '[client-mariadb]\nuser=a\n[mariadb-client]\nhost=b\n[ CLIENT ]\nport=1\n',
    );
    expect(plain(await readOptionFiles({ defaultsFile: file }))).toEqual({
      user: 'a',
      host: 'b',
      port: '1',
    });
  });

  // Issue 20 item 8a: the client refuses such a file ("Found option without preceding group").
  it('rejects an option before any group, naming the file, line and option', async () => {
    const dir = await createTempDir('cnf');
    const file = await cnf(dir, 'my.cnf', '# comment\n\npassword = secret\n[client]\nhost = h\n');
    const error = await readOptionFiles({ defaultsFile: file }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ exitCode: 2, location: { file, line: 3, key: 'password' } });
    expect((error as Error).message).toMatch(/before any \[group\]/);
    expect((error as Error).message).not.toContain('secret');
  });

  it('rejects an option before any group in an included file, as the client does', async () => {
    const dir = await createTempDir('cnf');
    const extra = await cnf(dir, 'extra.cnf', 'user = u\n');
    const file = await cnf(dir, 'my.cnf', `!include ${extra}\n[client]\nhost = h\n`);
    await expect(readOptionFiles({ defaultsFile: file })).rejects.toMatchObject({
      location: { file: extra, line: 1 },
    });
  });

  it('accepts directives before any group', async () => {
    const dir = await createTempDir('cnf');
    const extra = await cnf(dir, 'extra.cnf', '[client]\nuser = u\n');
    const file = await cnf(dir, 'my.cnf', `!include ${extra}\n[client]\nhost = h\n`);
    expect(plain(await readOptionFiles({ defaultsFile: file }))).toEqual({ user: 'u', host: 'h' });
  });

  it('lets later values override earlier ones, whatever the group', async () => {
    const dir = await createTempDir('cnf');
    const file = await cnf(
      dir,
      'my.cnf',
      '[mysql]\nuser = first\n[client]\nuser = second\nhost = a\nhost = b\n',
    );
    expect(plain(await readOptionFiles({ defaultsFile: file }))).toEqual({
      user: 'second',
      host: 'b',
    });
  });

  it('reads the groups asked for', async () => {
    const dir = await createTempDir('cnf');
    const file = await cnf(dir, 'my.cnf', '[client]\nuser = c\n[mysqldump]\nuser = d\nquick\n');
    expect(plain(await readOptionFiles({ defaultsFile: file, groups: ['mysqldump'] }))).toEqual({
      user: 'd',
      quick: '',
    });
  });

  it('skips comments (# and ;) and blank lines; strips inline comments; handles CRLF', async () => {
    const dir = await createTempDir('cnf');
    const file = await cnf(
      dir,
      'my.cnf',
      '# top\r\n[client]\r\n; semicolon comment\r\n   # indented comment\r\n\r\nuser = u # who\r\npassword = "p # not a comment"\r\n',
    );
    expect(plain(await readOptionFiles({ defaultsFile: file }))).toEqual({
      user: 'u',
      password: 'p # not a comment',
    });
  });

  it('reads bare keys, -/_ variants and loose- options as one name', async () => {
    const dir = await createTempDir('cnf');
    const file = await cnf(
      dir,
      'my.cnf',
      '[client]\nskip-ssl\nssl-ca = /one\nssl_ca = /two\nloose-ssl-cert = /cert\n',
    );
    expect(plain(await readOptionFiles({ defaultsFile: file }))).toEqual({
      skip_ssl: '',
      ssl_ca: '/two',
      ssl_cert: '/cert',
    });
  });

  it('reads quoted values with escapes', async () => {
    const dir = await createTempDir('cnf');
    const file = await cnf(dir, 'my.cnf', '[client]\npassword = \'a b\\tc\'\nuser = "x\\\\y"\n');
    expect(plain(await readOptionFiles({ defaultsFile: file }))).toEqual({
      password: 'a b\tc',
      user: 'x\\y',
    });
  });

  it('rejects a defaults file that does not exist with a ConfigError', async () => {
    const dir = await createTempDir('cnf');
    const missing = join(dir, 'missing.cnf');
    const promise = readOptionFiles({ defaultsFile: missing });
    await expect(promise).rejects.toBeInstanceOf(ConfigError);
    await expect(promise).rejects.toMatchObject({ exitCode: 2, location: { file: missing } });
  });

  it('reads only the defaults file, not ~/.my.cnf', async () => {
    const dir = await createTempDir('cnf');
    await cnf(dir, '.my.cnf', '[client]\nuser = from-home\n');
    const file = await cnf(dir, 'only.cnf', '[client]\nhost = only\n');
    expect(plain(await readOptionFiles({ defaultsFile: file, home: dir, env: {} }))).toEqual({
      host: 'only',
    });
  });

  it('rejects an unknown directive with its line', async () => {
    const dir = await createTempDir('cnf');
    const file = await cnf(dir, 'my.cnf', '[client]\nuser = u\n!frobnicate x\n');
    await expect(readOptionFiles({ defaultsFile: file })).rejects.toMatchObject({
      location: { file, line: 3 },
    });
  });
});

describe('readOptionFiles: !include and !includedir', () => {
  it('reads an included file in place, later lines overriding it', async () => {
    const dir = await createTempDir('cnf');
    await cnf(dir, 'extra.cnf', '[client]\nuser = included\nhost = included-host\n');
    const file = await cnf(
      dir,
      'my.cnf',
      `[client]\nuser = before\n!include ${join(dir, 'extra.cnf')}\nhost = after\n`,
    );
    const values = await readOptionFiles({ defaultsFile: file });
    expect(plain(values)).toEqual({ user: 'included', host: 'after' });
    expect(values.get('user')?.file).toBe(join(dir, 'extra.cnf'));
    expect(values.get('host')?.file).toBe(file);
  });

  it('keeps the including file in its group after the include', async () => {
    const dir = await createTempDir('cnf');
    await cnf(dir, 'extra.cnf', '[mysqld]\nport = 1\n');
    const file = await cnf(
      dir,
      'my.cnf',
      `[client]\n!include ${join(dir, 'extra.cnf')}\nuser = still-client\n`,
    );
    expect(plain(await readOptionFiles({ defaultsFile: file }))).toEqual({ user: 'still-client' });
  });

  it('resolves a relative include against the including file', async () => {
    const dir = await createTempDir('cnf');
    await mkdir(join(dir, 'sub'));
    await cnf(dir, 'sub/extra.cnf', '[client]\nuser = rel\n');
    const file = await cnf(dir, 'my.cnf', '!include sub/extra.cnf\n');
    expect(plain(await readOptionFiles({ defaultsFile: file }))).toEqual({ user: 'rel' });
  });

  it('rejects an include that does not exist', async () => {
    const dir = await createTempDir('cnf');
    const file = await cnf(dir, 'my.cnf', `!include ${join(dir, 'nope.cnf')}\n`);
    await expect(readOptionFiles({ defaultsFile: file })).rejects.toMatchObject({
      exitCode: 2,
      location: { file: join(dir, 'nope.cnf') },
    });
  });

  it('reads only *.cnf files of an included directory, in sorted order', async () => {
    const dir = await createTempDir('cnf');
    const confd = join(dir, 'conf.d');
    await mkdir(confd);
    await cnf(confd, '20-b.cnf', '[client]\nuser = b\nhost = b-host\n');
    await cnf(confd, '10-a.cnf', '[client]\nuser = a\nport = 1\nhost = a-host\n');
    await cnf(confd, '30-c.cnf.disabled', '[client]\nuser = disabled\n');
    await cnf(confd, '99-z.ini', '[client]\nuser = ini\n');
    await cnf(confd, 'README', '[client]\nuser = readme\n');
    await cnf(confd, '15-m.cnf', '[client]\nuser = m\nsocket = /m\n');
    const file = await cnf(dir, 'my.cnf', `[client]\nuser = main\n!includedir ${confd}\n`);
    const values = await readOptionFiles({ defaultsFile: file });
    expect(plain(values)).toEqual({ user: 'b', host: 'b-host', port: '1', socket: '/m' });
    expect(values.get('port')?.file).toBe(join(confd, '10-a.cnf'));
  });

  it('skips a missing !includedir silently', async () => {
    const dir = await createTempDir('cnf');
    const file = await cnf(
      dir,
      'my.cnf',
      `[client]\nuser = u\n!includedir ${join(dir, 'absent.d')}\nhost = h\n`,
    );
    expect(plain(await readOptionFiles({ defaultsFile: file }))).toEqual({ user: 'u', host: 'h' });
  });

  it('stops an include loop with a ConfigError', async () => {
    const dir = await createTempDir('cnf');
    const a = join(dir, 'a.cnf');
    const b = join(dir, 'b.cnf');
    await writeFile(a, `[client]\nuser = a\n!include ${b}\n`);
    await writeFile(b, `[client]\nhost = b\n!include ${a}\n`);
    const promise = readOptionFiles({ defaultsFile: a });
    await expect(promise).rejects.toBeInstanceOf(ConfigError);
    const error = (await promise.catch((caught: unknown) => caught)) as ConfigError;
    expect(error.message).toContain('nested too deeply');
    expect(error.location.line).toBe(3);
    expect([a, b]).toContain(error.location.file);
  });

  it('stops a file that includes itself', async () => {
    const dir = await createTempDir('cnf');
    const file = join(dir, 'self.cnf');
    await writeFile(file, '!include self.cnf\n');
    await expect(readOptionFiles({ defaultsFile: file })).rejects.toThrow(/nested too deeply/);
  });

  it('allows a chain of includes below the depth limit', async () => {
    const dir = await createTempDir('cnf');
    for (let i = 0; i < 5; i += 1)
      await cnf(
        dir,
        `${String(i)}.cnf`,
        `[client]\nuser = u${String(i)}\n!include ${String(i + 1)}.cnf\n`,
      );
    await cnf(dir, '5.cnf', '[client]\nhost = deepest\n');
    expect(plain(await readOptionFiles({ defaultsFile: join(dir, '0.cnf') }))).toEqual({
      user: 'u4',
      host: 'deepest',
    });
  });
});

describe('readOptionFiles: standard files', () => {
  it('reads ~/.my.cnf from home, after the system files', async () => {
    const home = await createTempDir('home');
    const file = await cnf(
      home,
      '.my.cnf',
      '[client]\nuser = home-user\nsocket = /home/sock\n[mysqld]\nport = 9\n',
    );
    const values = await readOptionFiles({ home, env: {} });
    expect(values.get('user')).toEqual({ value: 'home-user', file });
    // ~/.my.cnf is read last, so it wins over /etc/mysql/my.cnf's [client-server] socket.
    expect(values.get('socket')).toEqual({ value: '/home/sock', file });
    expect(values.has('port')).toBe(false);
  });

  it('reads $MYSQL_HOME/my.cnf before ~/.my.cnf', async () => {
    const home = await createTempDir('home');
    const serverHome = await createTempDir('mysqlhome');
    await cnf(serverHome, 'my.cnf', '[client]\nuser = server-home\nhost = server-home-host\n');
    await cnf(home, '.my.cnf', '[client]\nuser = home-user\n');
    const values = await readOptionFiles({ home, env: { MYSQL_HOME: serverHome } });
    expect(values.get('user')?.value).toBe('home-user');
    expect(values.get('host')).toEqual({
      value: 'server-home-host',
      file: join(serverHome, 'my.cnf'),
    });
  });

  it('prefers $MARIADB_HOME over $MYSQL_HOME', async () => {
    const home = await createTempDir('home');
    const a = await createTempDir('mariadbhome');
    const b = await createTempDir('mysqlhome');
    await cnf(a, 'my.cnf', '[client]\nhost = mariadb-home\n');
    await cnf(b, 'my.cnf', '[client]\nhost = mysql-home\n');
    expect(
      (await readOptionFiles({ home, env: { MARIADB_HOME: a, MYSQL_HOME: b } })).get('host')?.value,
    ).toBe('mariadb-home');
  });

  it('skips missing standard files', async () => {
    const home = await createTempDir('home');
    const values = await readOptionFiles({ home, env: { MYSQL_HOME: join(home, 'nowhere') } });
    // Only what the machine's /etc files give; nothing from the empty home.
    for (const { file } of values.values()) expect(file.startsWith('/etc/')).toBe(true);
  });
});
