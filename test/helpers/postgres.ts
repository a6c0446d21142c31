/**
 * The PostgreSQL server of the tests, and per-test databases on it: every test creates its
 * own databases (named after its label, with a random suffix) and drops them when it
 * finishes, and never touches any other name.
 *
 * The server: `$SCHEMA_BACKUP_TEST_PG_URL` (`postgres://user:password@host:port`), else the
 * local one on 127.0.0.1:5432 as postgres; else the test fails saying how to get one.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { onTestFinished } from 'vitest';
import type {
  ConnectionEnvironment,
  PostgresConnectionOptions,
} from '../../src/engine/postgresql/connection.js';

export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** How it was found: `env` or `local`. */
  readonly source: string;
}

let found: Promise<PostgresServer> | undefined;

/** The server, probed once per test file. */
export function postgresServer(): Promise<PostgresServer> {
  found ??= findServer();
  return found;
}

async function findServer(): Promise<PostgresServer> {
  const url = process.env.SCHEMA_BACKUP_TEST_PG_URL;
  if (url !== undefined && url !== '') {
    const parsed = new URL(url);
    const server: PostgresServer = {
      host: parsed.hostname,
      port: Number(parsed.port || 5432),
      user: decodeURIComponent(parsed.username || 'postgres'),
      password: decodeURIComponent(parsed.password),
      source: 'env',
    };
    const problem = await probe(server);
    if (problem !== undefined)
      throw new Error(`SCHEMA_BACKUP_TEST_PG_URL=${parsed.host} does not answer: ${problem}`);
    return server;
  }
  const local: PostgresServer = {
    host: '127.0.0.1',
    port: 5432,
    user: 'postgres',
    password: '',
    source: 'local',
  };
  const problem = await probe(local);
  if (problem === undefined) return local;
  throw new Error(
    [
      `No PostgreSQL server for the tests (127.0.0.1:5432 as postgres: ${problem}).`,
      'Get one of:',
      '  - a local server: apt-get install postgresql && pg_ctlcluster --skip-systemctl-redirect 15 main start',
      '    (with `host all all 127.0.0.1/32 trust` in pg_hba.conf, or a password below)',
      '  - any server: export SCHEMA_BACKUP_TEST_PG_URL=postgres://postgres:PASSWORD@HOST:5432',
    ].join('\n'),
  );
}

async function probe(server: PostgresServer): Promise<string | undefined> {
  const client = new pg.Client({ ...clientSettings(server), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function clientSettings(server: PostgresServer, database = 'postgres'): pg.ClientConfig {
  return {
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database,
  };
}

/**
 * Connection options for the engine, to `database`, and an environment without the host's
 * `PG*` variables and files (an empty home), so that only what a test names counts.
 */
export async function pgConnectionTo(
  database: string,
): Promise<{ options: PostgresConnectionOptions; environment: ConnectionEnvironment }> {
  const server = await postgresServer();
  return {
    options: {
      host: server.host,
      port: server.port,
      user: server.user,
      password: server.password === '' ? undefined : server.password,
      database,
      sslMode: 'disable',
    },
    environment: { env: {}, home: '/nonexistent', osUser: server.user },
  };
}

export interface PgTestDatabase {
  readonly name: string;
  /** Runs one or more `;`-separated statements in this database. */
  exec(sql: string): Promise<void>;
  /** Rows of one statement, every value as text. */
  query<T = Record<string, string | null>>(sql: string, values?: unknown[]): Promise<T[]>;
}

/** A fresh empty database `<label>_<random>`, dropped when the test finishes. */
export async function createPgTestDatabase(label = 'sbtest_pg'): Promise<PgTestDatabase> {
  const name = `${label}_${randomBytes(4).toString('hex')}`;
  const server = await postgresServer();
  const admin = new pg.Client(clientSettings(server));
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}" ENCODING 'UTF8' TEMPLATE template0`);
  const client = new pg.Client({
    ...clientSettings(server, name),
    types: { getTypeParser: () => (value: string) => value },
  });
  client.on('error', () => undefined);
  await client.connect();
  onTestFinished(async () => {
    await client.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  });
  return {
    name,
    async exec(sql) {
      await client.query(sql);
    },
    async query<T>(sql: string, values?: unknown[]) {
      const result = await client.query(sql, values);
      return result.rows as T[];
    },
  };
}

/** A role to connect as instead of the server's (a test's own, which is no superuser). */
export interface PgLogin {
  readonly user: string;
  readonly password: string;
}

/**
 * Runs `psql -X -v ON_ERROR_STOP=1 -f file` on `database` (as `login`, else as the server's
 * user); rejects with its stderr when it fails. The password goes through the environment,
 * never argv.
 */
export async function runPsql(database: string, file: string, login?: PgLogin): Promise<string> {
  return runClient(
    'psql',
    ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', file],
    database,
    undefined,
    login,
  );
}

/**
 * `psql -X -v ON_ERROR_STOP=1 -f -` on `database` with `script` on its stdin (SQL that must
 * not be written to disk, such as decrypted user data); rejects with its stderr when it fails.
 */
export async function runPsqlScript(database: string, script: Buffer | string): Promise<string> {
  return runClient('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', '-'], database, script);
}

/**
 * The lines of `pg_dump --data-only` of `database` (rows as COPY lines, sequence positions
 * as setval), sorted, so that two databases with the same rows compare equal whatever their
 * storage order: without comment lines (they name the database), and every setval as the
 * value nextval gives next (`setval(s, 3, true)` and `setval(s, 4, false)` are the same
 * state of a sequence that increments by 1, which the fixtures' sequences do).
 */
export async function pgDumpData(database: string): Promise<string[]> {
  const text = await runClient('pg_dump', ['--data-only', '--no-owner'], database);
  return text
    .split('\n')
    .filter(
      (line) =>
        !line.startsWith('--') &&
        !line.startsWith('\\restrict') &&
        !line.startsWith('\\unrestrict'),
    )
    .map((line) =>
      line.replace(
        /^SELECT pg_catalog\.setval\('(.*)', (-?\d+), (true|false)\);$/,
        (_all, name: string, value: string, called: string) =>
          `next of ${name}: ${String(BigInt(value) + (called === 'true' ? 1n : 0n))}`,
      ),
    )
    .sort();
}

async function runClient(
  program: string,
  options: string[],
  database: string,
  input?: Buffer | string,
  login?: PgLogin,
): Promise<string> {
  const server = await postgresServer();
  const args = [
    ...options,
    '-h',
    server.host,
    '-p',
    String(server.port),
    '-U',
    login?.user ?? server.user,
    '-d',
    database,
  ];
  const file = options.at(-1) ?? '';
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      env: {
        PATH: process.env.PATH,
        PGPASSWORD: login?.password ?? server.password,
        PGCONNECT_TIMEOUT: '10',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(stdout)
        : reject(new Error(`${program} ${file} exited ${String(code)}: ${stderr}`)),
    );
  });
}

/**
 * A pg client to `database` with pg's own type parsers (arrays as arrays), closed when the
 * test finishes: for catalog readers written for them (definitions.ts).
 */
export async function pgClient(database: string): Promise<pg.Client> {
  const client = new pg.Client(clientSettings(await postgresServer(), database));
  await client.connect();
  onTestFinished(async () => {
    await client.end();
  });
  return client;
}

/** A fresh empty database `<label>_<random>`, dropped (with its connections) after the test. */
export async function createPgDatabase(label = 'sbtest_pgddl'): Promise<string> {
  return (await createPgTestDatabase(label)).name;
}

/** `pg_dump --schema-only --no-owner` of `database`, without its version lines. */
export async function pgDumpSchema(database: string): Promise<string> {
  const text = await runClient('pg_dump', ['--schema-only', '--no-owner'], database);
  // Without its version lines and the random key of `\restrict` (pg_dump 15.14 and later).
  return text
    .replace(/^-- Dumped (?:from database|by pg_dump) version .*\n/gm, '')
    .replace(/^\\(un)?restrict \S+$/gm, '\\$1restrict KEY');
}
