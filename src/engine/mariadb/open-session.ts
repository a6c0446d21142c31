/** Opens a MariaDB/MySQL session over mysql2: the only place that opens connections. */
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import mysql from 'mysql2/promise';
import { EngineError } from '../../errors.js';
import type { ConnectionOptions, ServerInfo, Session } from '../engine.js';
import { MariadbSession, SESSION_SETUP } from './mariadb-session.js';
import { mapDriverError } from './map-error.js';

export async function openMariadbSession(given: ConnectionOptions): Promise<Session> {
  // No user: the OS user, as the mariadb client does.
  const options = { ...given, user: given.user ?? userInfo().username };
  const target = options.description ?? describeTarget(options);
  const ssl = options.tls === undefined ? undefined : await tlsOptions(options.tls);
  let connection: mysql.Connection;
  try {
    connection = await mysql.createConnection({
      ...(options.socket === undefined
        ? { host: options.host ?? '127.0.0.1', port: options.port ?? 3306 }
        : { socketPath: options.socket }),
      user: options.user,
      password: options.password ?? '',
      ...(options.database === undefined ? {} : { database: options.database }),
      ...(ssl === undefined ? {} : { ssl }),
      charset: 'utf8mb4',
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      // A reading session sends the reads of many tables as one multi-statement query; it
      // runs only the statements it builds itself (names quoted), never given SQL.
      multipleStatements: options.readsOnly === true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
      // mysql2 otherwise scans every statement for `?` placeholders, even without values:
      // 40 % of a restore's client time on 4 MB INSERTs.
      queryFormat: (sql: string, values: unknown) =>
        values === undefined || (Array.isArray(values) && values.length === 0)
          ? sql
          : mysql.format(sql, values as Parameters<typeof mysql.format>[1]),
    });
  } catch (error) {
    throw mapDriverError(error, 'connecting', target);
  }
  try {
    for (const statement of SESSION_SETUP) await connection.query(statement);
    const [rows] = await connection.query<mysql.RowDataPacket[]>('SELECT VERSION() AS version');
    const version = String(rows[0]?.version ?? '');
    const server: ServerInfo = { version, flavor: /mariadb/i.test(version) ? 'mariadb' : 'mysql' };
    // The driver emits 'error' for a connection lost between queries; without a listener
    // that would crash the process instead of failing the next query.
    connection.on('error', () => undefined);
    return new MariadbSession(connection, server, target, options.readsOnly === true);
  } catch (error) {
    connection.destroy();
    throw mapDriverError(error, 'setting up the session', target);
  }
}

function describeTarget(options: ConnectionOptions & { readonly user: string }): string {
  return options.socket === undefined
    ? `${options.user}@${options.host ?? '127.0.0.1'}:${String(options.port ?? 3306)}`
    : `${options.user}@${options.socket}`;
}

async function tlsOptions(tls: NonNullable<ConnectionOptions['tls']>): Promise<mysql.SslOptions> {
  const read = async (path: string | undefined, what: string): Promise<string | undefined> => {
    if (path === undefined) return undefined;
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      throw new EngineError(`cannot read the TLS ${what} ${path}`, { cause: error });
    }
  };
  const ca = await read(tls.ca, 'CA certificate');
  const cert = await read(tls.cert, 'client certificate');
  const key = await read(tls.key, 'client key');
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    rejectUnauthorized: tls.verifyServerCert,
  };
}
