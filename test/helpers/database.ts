/**
 * Per-test databases on the shared test server: every test creates its own `sbtest_<random>`
 * databases and drops them when it finishes, and never touches any other name.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import callbackMysql from 'mysql2';
import mysql from 'mysql2/promise';
import { inject, onTestFinished } from 'vitest';
import type { ConnectionOptions } from '../../src/engine/engine.js';
import type { ServerAddress } from './server-address.js';

export function testServer(): ServerAddress {
  return inject('server');
}

/**
 * A raw mysql2 connection (callback API, utf8mb4) to `database`, destroyed when the test
 * finishes: for tests of the engine's row streaming, below the Session interface.
 */
export function callbackConnection(database: string): callbackMysql.Connection {
  const server = testServer();
  const connection = callbackMysql.createConnection({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database,
    charset: 'utf8mb4',
  });
  onTestFinished(() => {
    connection.destroy();
  });
  return connection;
}

/** Connection options for the engine, to `database`. */
export function connectionTo(database?: string): ConnectionOptions {
  const server = testServer();
  return {
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database,
    description: `${server.user}@${server.host}:${String(server.port)}`,
  };
}

export interface TestDatabase {
  readonly name: string;
  /** Runs one or more `;`-separated statements in this database. */
  exec(sql: string, values?: unknown[]): Promise<void>;
  query<T = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<T[]>;
  /** `CHECKSUM TABLE` of every base table, by name. */
  checksums(): Promise<Map<string, string>>;
}

/** A fresh empty database, dropped when the test finishes. */
export async function createTestDatabase(label = 'db'): Promise<TestDatabase> {
  const name = `sbtest_${label}_${randomBytes(4).toString('hex')}`;
  const server = testServer();
  const connection = await mysql.createConnection({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    multipleStatements: true,
    charset: 'utf8mb4',
  });
  await connection.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  await connection.query(`USE \`${name}\``);
  onTestFinished(async () => {
    await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await connection.end();
  });
  const database: TestDatabase = {
    name,
    async exec(sql, values) {
      await connection.query(sql, values);
    },
    async query<T>(sql: string, values?: unknown[]) {
      const [rows] = await connection.query(sql, values);
      return rows as T[];
    },
    async checksums() {
      const tables = await database.query<{ name: string }>(
        "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
        [name],
      );
      const result = new Map<string, string>();
      for (const table of tables) {
        const [row] = await database.query<{ Checksum: string | number | null }>(
          `CHECKSUM TABLE \`${name}\`.\`${table.name}\` EXTENDED`,
        );
        result.set(table.name, String(row?.Checksum));
      }
      return result;
    },
  };
  return database;
}

/** Runs the stock `mariadb` client on `file` into `database` (password via the environment, never argv). */
export async function loadWithStockClient(database: string, file: string): Promise<void> {
  const server = testServer();
  const args = [
    '--host',
    server.host,
    '--port',
    String(server.port),
    '--user',
    server.user,
    '--default-character-set=utf8mb4',
    database,
  ];
  await new Promise<void>((resolve, reject) => {
    const child = spawn('mariadb', args, {
      env: { ...process.env, MYSQL_PWD: server.password },
      stdio: ['pipe', 'inherit', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    createReadStream(file).pipe(child.stdin);
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`mariadb < ${file} exited ${String(code)}: ${stderr}`)),
    );
  });
}
