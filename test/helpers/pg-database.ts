/**
 * Per-test PostgreSQL databases on the local server (127.0.0.1:5432, user postgres, trust):
 * each test creates its own `pgddl_<random>` databases and drops them when it finishes.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import { onTestFinished } from 'vitest';

const run = promisify(execFile);

export const PG_HOST = '127.0.0.1';
export const PG_USER = 'postgres';

/** A connection to `database`, closed when the test finishes. */
export async function pgClient(database: string): Promise<pg.Client> {
  const client = new pg.Client({ host: PG_HOST, user: PG_USER, database });
  await client.connect();
  onTestFinished(async () => {
    await client.end();
  });
  return client;
}

/** A fresh empty database, dropped (with its connections) when the test finishes. */
export async function createPgDatabase(prefix = 'pgddl'): Promise<string> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ host: PG_HOST, user: PG_USER, database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  onTestFinished(async () => {
    const dropper = new pg.Client({ host: PG_HOST, user: PG_USER, database: 'postgres' });
    await dropper.connect();
    try {
      await dropper.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } finally {
      await dropper.end();
    }
  });
  return name;
}

/** Runs `file` with the stock client, stopping at the first error; its output. */
export async function psqlFile(database: string, file: string): Promise<string> {
  const { stdout } = await run(
    'psql',
    ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', PG_HOST, '-U', PG_USER, '-d', database, '-f', file],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout;
}

/** `pg_dump --schema-only --no-owner` of `database`, without its version lines. */
export async function pgDumpSchema(database: string): Promise<string> {
  const { stdout } = await run(
    'pg_dump',
    ['--schema-only', '--no-owner', '-h', PG_HOST, '-U', PG_USER, database],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  // Without its version lines and the random key of `\restrict` (pg_dump 15.14 and later).
  return stdout
    .replace(/^-- Dumped (?:from database|by pg_dump) version .*\n/gm, '')
    .replace(/^\\(un)?restrict \S+$/gm, '\\$1restrict KEY');
}
