/**
 * Issue 16: a `database.engine: postgresql` config, read and resolved as a command does,
 * opens a real session with the PostgreSQL engine; and the MariaDB engine still connects
 * when no user is named (as the OS user, like the mariadb client).
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load-config.js';
import { PASSWORD_ENV, resolveConnection } from '../../../src/config/resolve-connection.js';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { postgresqlEngine } from '../../../src/engine/postgresql/postgresql-engine.js';
import { testServer } from '../../helpers/database.js';
import { createPgTestDatabase, postgresServer } from '../../helpers/postgres.js';
import { createTempDir } from '../../helpers/temp-dir.js';

/** Writes a config file of `lines` in a fresh directory; returns its path. */
async function writeConfig(lines: readonly string[]): Promise<string> {
  const dir = await createTempDir('sbpgcfg');
  const file = join(dir, 'schema_backup.conf');
  await writeFile(file, [...lines, ''].join('\n'));
  return file;
}

describe('a postgresql config opens a PostgreSQL session', () => {
  it('over TCP: host, port, user, name and sslmode of the config reach the server', async () => {
    const server = await postgresServer();
    const database = await createPgTestDatabase('sbpgcfg_tcp');
    const home = await createTempDir('sbpgcfg_home');
    // A ~/.my.cnf that would send the session elsewhere if it were read.
    await writeFile(
      join(home, '.my.cnf'),
      '[client]\nhost = 192.0.2.1\nport = 3306\nuser = nobody\ndatabase = nowhere\n',
    );
    const file = await writeConfig([
      'database:',
      '  engine: postgresql',
      `  host: ${server.host}`,
      `  port: ${String(server.port)}`,
      `  user: ${server.user}`,
      `  name: ${database.name}`,
      '  sslmode: disable',
      '  schemas: [public]',
      'global: [public.settings]',
    ]);
    const { config, warnings } = await loadConfig(file);
    expect(warnings).toEqual([]);
    const connection = await resolveConnection(config, {
      home,
      env: server.password === '' ? {} : { [PASSWORD_ENV]: server.password },
    });
    expect(connection.description).toBe(
      `host=${server.host} port=${String(server.port)} user=${server.user} dbname=${database.name}`,
    );
    const session = await postgresqlEngine.openSession(connection);
    try {
      expect(session.server.flavor).toBe('postgresql');
      expect(session.server.version).toMatch(/^\d+(\.\d+)?/);
      const [version] = await database.query<{ server_version: string }>('SHOW server_version');
      expect(session.server.version).toBe(version?.server_version);
      // Connected to the config's database: the session reads it, and only it.
      // (A new database holds schema public and extension plpgsql, no table.)
      const inventory = await session.listObjects(database.name);
      expect(inventory.objects.filter((object) => object.kind === 'table')).toEqual([]);
      expect(session.database).toBe(database.name);
    } finally {
      await session.close();
    }
  });

  it.skipIf(!existsSync('/var/run/postgresql/.s.PGSQL.5432'))(
    'through the socket directory of database.socket, or of -S',
    async () => {
      const server = await postgresServer();
      if (server.source !== 'local') return;
      const database = await createPgTestDatabase('sbpgcfg_socket');
      const file = await writeConfig([
        'database:',
        '  engine: postgresql',
        '  socket: /var/run/postgresql',
        `  user: ${server.user}`,
        `  name: ${database.name}`,
      ]);
      const { config } = await loadConfig(file);
      for (const connection of [
        await resolveConnection(config, { env: {} }),
        await resolveConnection(
          { ...config, database: { ...config.database, socket: undefined, host: '192.0.2.1' } },
          { env: {}, overrides: { socket: '/var/run/postgresql', port: 5432 } },
        ),
      ]) {
        const session = await postgresqlEngine.openSession(connection);
        try {
          expect(session.server.flavor).toBe('postgresql');
        } finally {
          await session.close();
        }
      }
    },
  );
});

describe('the MariaDB engine without a user', () => {
  it('connects as the OS user, as the mariadb client does (or names that user when refused)', async () => {
    const server = testServer();
    const osUser = userInfo().username;
    const options = { host: server.host, port: server.port, password: server.password };
    if (server.user === osUser) {
      const session = await mariadbEngine.openSession(options);
      await session.close();
      expect(session.server.flavor).toMatch(/^(mariadb|mysql)$/);
    } else {
      await expect(mariadbEngine.openSession(options)).rejects.toThrow(`${osUser}@`);
    }
  });
});
