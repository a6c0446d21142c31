/**
 * Opens a {@link PostgresqlSession}: the one place that connects to PostgreSQL. The engine
 * object (dialect, script format, openSession) is put together where the script format is.
 */
import pg from 'pg';
import type { ConnectionOptions } from '../engine.js';
import {
  processEnvironment,
  resolvePostgresConnection,
  type ConnectionEnvironment,
} from './connection.js';
import { mapDriverError } from './map-error.js';
import { PostgresqlSession } from './postgresql-session.js';
import { socketReadingInPlace } from './socket-reads.js';
import { SESSION_SETTINGS } from './value-literals.js';

/** Connects. Throws EngineError with a hint when unreachable or access is denied. */
export async function openPostgresqlSession(
  options: ConnectionOptions,
  environment: ConnectionEnvironment = processEnvironment(),
): Promise<PostgresqlSession> {
  const resolved = resolvePostgresConnection(options, environment);
  const target = resolved.description;
  let client: pg.Client;
  try {
    client = await connect(resolved.config);
  } catch (error) {
    // sslmode prefer: a server without TLS is asked again, in the clear (as libpq does).
    if (resolved.retryWithoutTls && /does not support SSL/i.test((error as Error).message)) {
      try {
        client = await connect({ ...resolved.config, ssl: false });
      } catch (retryError) {
        throw mapDriverError(retryError, 'connecting', target);
      }
    } else throw mapDriverError(error, 'connecting', target);
  }
  try {
    // One round trip: the settings, then what the server is (the simple query protocol runs
    // the statements in order and returns a result for each).
    const results = (await client.query(
      `${SESSION_SETTINGS.join(';\n')};\nSELECT pg_catalog.current_setting('server_version') AS version, pg_catalog.current_database() AS database`,
    )) as unknown as pg.QueryResult<{ version: string; database: string }>[];
    const row = results.at(-1)?.rows[0];
    return new PostgresqlSession(
      client,
      { flavor: 'postgresql', version: row?.version ?? '' },
      row?.database ?? resolved.settings.database,
      target,
    );
  } catch (error) {
    await client.end().catch(() => undefined);
    throw mapDriverError(error, 'setting up the session', target);
  }
}

async function connect(config: pg.ClientConfig): Promise<pg.Client> {
  // A plain connection reads into one buffer (socket-reads.ts); TLS reads through its own.
  const client = new pg.Client(
    config.ssl === false || config.ssl === undefined
      ? { ...config, stream: socketReadingInPlace }
      : config,
  );
  // pg emits 'error' for a connection lost between queries; without a listener that would
  // crash the process instead of failing the next query.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return client;
}
