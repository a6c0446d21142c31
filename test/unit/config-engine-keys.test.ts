/**
 * Issue 16, bad input: `database.engine` names mariadb or postgresql; each engine's own
 * `database.*` keys are refused with the other one; PostgreSQL's keys (schemas, service,
 * sslmode, sslrootcert) are checked. Every refusal is a ConfigError (exit 2) naming file,
 * line and key.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load-config.js';
import { ENGINE_ONLY_DATABASE_KEYS, SSL_MODES } from '../../src/config/schema.js';
import { SSL_MODES as LIBPQ_SSL_MODES } from '../../src/engine/postgresql/connection.js';
import { ConfigError, ExitCode } from '../../src/errors.js';
import { createTempDir } from '../helpers/temp-dir.js';

const FILE = '/srv/app/etc/schema_backup.conf';

function configErrorOf(action: () => unknown): ConfigError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

/** A config whose `database:` block is `lines` (indented by the caller), after two other keys. */
function configText(lines: readonly string[]): string {
  return ['hostname: db1.example.org', 'strict: false', 'database:', ...lines, ''].join('\n');
}

describe('database.engine', () => {
  it('accepts mariadb and postgresql; absent is the default (mariadb)', () => {
    expect(parseConfig(configText(['  name: a']), FILE).config.database.engine).toBeUndefined();
    for (const engine of ['mariadb', 'postgresql'])
      expect(
        parseConfig(configText(['  name: a', `  engine: ${engine}`]), FILE).config.database.engine,
      ).toBe(engine);
  });

  it.each([
    ['oracle', ''],
    ['postgres', ' (did you mean postgresql?)'],
    ['MariaDB', ' (did you mean mariadb?)'],
    ['mysql', ''],
  ])('refuses engine %s with file:line and key, exit 2', (engine, suggestion) => {
    const error = configErrorOf(() =>
      parseConfig(configText(['  name: a', `  engine: ${engine}`]), FILE),
    );
    expect(error.exitCode).toBe(ExitCode.Usage);
    expect(error.location).toEqual({ file: FILE, line: 5, key: 'database.engine' });
    expect(error.message).toBe(
      `${FILE}:5: database.engine: unknown engine "${engine}"${suggestion}`,
    );
    expect(error.hint).toContain('mariadb (MariaDB or MySQL, the default) or postgresql');
  });

  it('refuses an engine that is not a string', () => {
    const error = configErrorOf(() => parseConfig(configText(['  engine: [postgresql]']), FILE));
    expect(error.location).toEqual({ file: FILE, line: 4, key: 'database.engine' });
  });
});

describe("one engine's keys with the other engine", () => {
  const mariadbOnly: readonly [string, string][] = [
    ['defaults_file', '~/.my.cnf'],
    ['ssl', 'true'],
    ['ssl_ca', '/etc/mysql/ca.pem'],
    ['ssl_cert', '/etc/mysql/client-cert.pem'],
    ['ssl_key', '/etc/mysql/client-key.pem'],
    ['ssl_verify_server_cert', 'false'],
  ];
  const postgresqlOnly: readonly [string, string][] = [
    ['schemas', '[public, app]'],
    ['service', 'prod'],
    ['sslmode', 'verify-full'],
    ['sslrootcert', '/etc/ssl/root.crt'],
  ];

  it('the lists of this test are those of the schema', () => {
    expect(mariadbOnly.map(([key]) => key)).toEqual(ENGINE_ONLY_DATABASE_KEYS.mariadb);
    expect(postgresqlOnly.map(([key]) => key)).toEqual(ENGINE_ONLY_DATABASE_KEYS.postgresql);
  });

  it.each(mariadbOnly)(
    'MariaDB key %s with postgresql: exit 2, file:line:key, which engine it belongs to',
    (key, value) => {
      const text = configText([
        '  engine: postgresql',
        '  name: app',
        `  ${key}: ${value}`,
        '  user: backup',
      ]);
      const error = configErrorOf(() => parseConfig(text, FILE));
      expect(error.exitCode).toBe(2);
      expect(error.location).toEqual({ file: FILE, line: 6, key: `database.${key}` });
      expect(error.message).toBe(
        `${FILE}:6: database.${key}: is a MariaDB/MySQL key, and database.engine is postgresql`,
      );
      expect(error.hint).toContain('PostgreSQL does not read MySQL option files');
    },
  );

  it.each(postgresqlOnly)(
    'PostgreSQL key %s with mariadb (named or the default): exit 2, file:line:key',
    (key, value) => {
      for (const [engineLine, engineText] of [
        ['  engine: mariadb', 'mariadb'],
        ['  host: db.example.org', 'mariadb (the default)'],
      ] as const) {
        const text = configText([engineLine, '  name: app', `  ${key}: ${value}`]);
        const error = configErrorOf(() => parseConfig(text, FILE));
        expect(error.exitCode).toBe(2);
        expect(error.location).toEqual({ file: FILE, line: 6, key: `database.${key}` });
        expect(error.message).toBe(
          `${FILE}:6: database.${key}: is a PostgreSQL key, and database.engine is ${engineText}`,
        );
        expect(error.hint).toContain('Set database.engine: postgresql');
      }
    },
  );

  it('refuses the key even when it is written without a value', () => {
    const error = configErrorOf(() =>
      parseConfig(configText(['  engine: postgresql', '  defaults_file:']), FILE),
    );
    expect(error.location).toEqual({ file: FILE, line: 5, key: 'database.defaults_file' });
  });

  it('an engine written after the key still decides', () => {
    const error = configErrorOf(() =>
      parseConfig(configText(['  ssl: true', '  engine: postgresql']), FILE),
    );
    expect(error.location).toEqual({ file: FILE, line: 4, key: 'database.ssl' });
  });

  it('the MariaDB keys are still read with mariadb, the shared ones with both', () => {
    const shared = [
      '  name: app',
      '  host: db.example.org',
      '  port: 5433',
      '  user: backup',
      '  password_file: db.password',
      '  connect_timeout: 3',
    ];
    const maria = parseConfig(configText([...shared, '  ssl: true', '  ssl_ca: ca.pem']), FILE);
    expect(maria.warnings).toEqual([]);
    expect(maria.config.database).toMatchObject({
      ssl: true,
      sslCa: '/srv/app/etc/ca.pem',
      passwordFile: '/srv/app/etc/db.password',
    });
    const pg = parseConfig(configText([...shared, '  engine: postgresql']), FILE);
    expect(pg.warnings).toEqual([]);
    expect(pg.config.database).toMatchObject({
      engine: 'postgresql',
      name: 'app',
      host: 'db.example.org',
      port: 5433,
      user: 'backup',
      passwordFile: '/srv/app/etc/db.password',
      connectTimeout: 3,
    });
  });
});

describe('the PostgreSQL keys', () => {
  const pg = (lines: readonly string[]): string =>
    configText(['  engine: postgresql', '  name: app', ...lines]);

  it('reads schemas (as written), service, sslmode and sslrootcert (relative to the config)', () => {
    const { config, warnings } = parseConfig(
      pg([
        '  schemas:',
        '    - public',
        '    - App Data',
        '  service: prod',
        '  sslmode: verify-ca',
        '  sslrootcert: certs/root.crt',
      ]),
      FILE,
    );
    expect(warnings).toEqual([]);
    expect(config.database).toMatchObject({
      schemas: ['public', 'App Data'],
      service: 'prod',
      sslmode: 'verify-ca',
      sslrootcert: '/srv/app/etc/certs/root.crt',
    });
  });

  it('keeps sslrootcert: system (the system CA store) as it is', () => {
    expect(parseConfig(pg(['  sslrootcert: system']), FILE).config.database.sslrootcert).toBe(
      'system',
    );
  });

  it('knows the six sslmodes of libpq, the same as the engine', () => {
    expect([...SSL_MODES]).toEqual([...LIBPQ_SSL_MODES]);
    for (const mode of SSL_MODES)
      expect(parseConfig(pg([`  sslmode: ${mode}`]), FILE).config.database.sslmode).toBe(mode);
  });

  it.each([['verify_full'], ['on'], ['verify'], ['REQUIRE']])('refuses sslmode %s', (mode) => {
    const error = configErrorOf(() => parseConfig(pg([`  sslmode: ${mode}`]), FILE));
    expect(error.exitCode).toBe(2);
    expect(error.location).toEqual({ file: FILE, line: 6, key: 'database.sslmode' });
    expect(error.message).toContain(
      'must be one of disable, allow, prefer, require, verify-ca, verify-full',
    );
  });

  it('refuses schemas that is not a list, an empty list and a blank item, with the line', () => {
    const notList = configErrorOf(() => parseConfig(pg(['  schemas: public']), FILE));
    expect(notList.location).toEqual({ file: FILE, line: 6, key: 'database.schemas' });
    expect(notList.message).toContain('must be a list');
    const empty = configErrorOf(() => parseConfig(pg(['  schemas: []']), FILE));
    expect(empty.location).toEqual({ file: FILE, line: 6, key: 'database.schemas' });
    expect(empty.message).toContain('names no schema');
    const blank = configErrorOf(() =>
      parseConfig(pg(['  schemas:', '    - public', '    - " "']), FILE),
    );
    expect(blank.location).toEqual({ file: FILE, line: 8, key: 'database.schemas[1]' });
  });

  it('warns about a schema listed twice, and keeps it once', () => {
    const { config, warnings } = parseConfig(pg(['  schemas: [app, public, app]']), FILE);
    expect(config.database.schemas).toEqual(['app', 'public']);
    expect(warnings).toEqual([{ message: 'database.schemas: app is listed twice', line: 6 }]);
  });

  it('refuses a service that is not a string', () => {
    const error = configErrorOf(() => parseConfig(pg(['  service: {a: 1}']), FILE));
    expect(error.location).toEqual({ file: FILE, line: 6, key: 'database.service' });
  });

  it('refuses host and socket together (libpq has one host), at the socket line', () => {
    const error = configErrorOf(() =>
      parseConfig(pg(['  host: 127.0.0.1', '  socket: /var/run/postgresql']), FILE),
    );
    expect(error.exitCode).toBe(2);
    expect(error.location).toEqual({ file: FILE, line: 7, key: 'database.socket' });
    expect(error.message).toContain(
      'with postgresql, database.host and database.socket name two ways to connect; give one',
    );
  });
});

describe('unknown database keys keep the nearest-key warning, among the engine’s own keys', () => {
  it('suggests sslmode for ssl_mode with postgresql', () => {
    const { warnings } = parseConfig(
      configText(['  engine: postgresql', '  ssl_mode: require']),
      FILE,
    );
    expect(warnings).toEqual([
      { message: 'unknown key database.ssl_mode (did you mean sslmode?)', line: 5 },
    ]);
  });

  it('suggests schemas for schema with postgresql, and a MariaDB key with mariadb', () => {
    expect(
      parseConfig(configText(['  engine: postgresql', '  schema: [app]']), FILE).warnings,
    ).toEqual([{ message: 'unknown key database.schema (did you mean schemas?)', line: 5 }]);
    expect(parseConfig(configText(['  ssl_ka: x.pem']), FILE).warnings).toEqual([
      { message: 'unknown key database.ssl_ka (did you mean ssl_ca?)', line: 4 },
    ]);
  });
});

describe('loadConfig: a PostgreSQL config file', () => {
  it('reads it, and refuses a MariaDB key in it with the real file and line', async () => {
    const dir = await createTempDir('pgcfg');
    const file = join(dir, 'schema_backup.conf');
    await writeFile(
      file,
      'database:\n  engine: postgresql\n  name: app\n  service: prod\nglobal: [app.settings]\n',
    );
    const { config } = await loadConfig(file);
    expect(config.database).toMatchObject({ engine: 'postgresql', name: 'app', service: 'prod' });
    expect(config.categories.global).toEqual(['app.settings']);
    await writeFile(
      file,
      '# a PostgreSQL server\ndatabase:\n  engine: postgresql\n\n  defaults_file: ~/.my.cnf\n',
    );
    const error = await loadConfig(file).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(
      new RegExp(
        `^${file.replace(/[.]/g, '\\.')}:5: database\\.defaults_file: is a MariaDB/MySQL key`,
      ),
    );
  });
});

describe('the example config documents the PostgreSQL keys', () => {
  it('loads without warnings once they are uncommented with engine: postgresql', async () => {
    const example = join(resolve(import.meta.dirname, '../..'), 'etc', 'schema_backup.conf');
    const lines = (await readFile(example, 'utf8')).split('\n').map((line) => {
      const key = /^ {2}# (schemas|service|sslmode|sslrootcert|engine): /.exec(line);
      if (key === null) return line;
      return key[1] === 'engine' ? '  engine: postgresql' : `  ${line.slice(4)}`;
    });
    const text = lines.filter((line) => line !== 'example: true').join('\n');
    expect(text).toContain('  sslmode: verify-full');
    const { config, warnings } = parseConfig(text, example);
    expect(warnings).toEqual([]);
    expect(config.database).toMatchObject({
      engine: 'postgresql',
      schemas: ['public', 'app'],
      service: 'prod',
      sslmode: 'verify-full',
      sslrootcert: '/etc/ssl/certs/pg-root.crt',
    });
  });
});
