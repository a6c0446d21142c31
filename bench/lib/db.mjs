/** The benchmark server (BENCH_DB_HOST/PORT/USER), shared by every bench script. */
import mysql from 'mysql2/promise';
import { intEnv } from './env.mjs';

/**
 * Prefix of the databases the bench scripts create and drop (run.mjs and scale.mjs), default
 * `sbbench_`: two benchmarks on one server each need their own, as each drops every database
 * with its prefix at its start and end.
 */
export const DB_PREFIX = process.env.BENCH_DB_PREFIX || 'sbbench_';
if (!/^[a-z0-9_]+$/i.test(DB_PREFIX))
  throw new Error(`BENCH_DB_PREFIX may hold letters, digits and _ only, not ${DB_PREFIX}`);

/** `DB_PREFIX` as a SQL LIKE pattern matching every name that starts with it. */
export const DB_PREFIX_LIKE = `${DB_PREFIX.replaceAll('_', '\\_')}%`;

export const DB = {
  host: process.env.BENCH_DB_HOST ?? '127.0.0.1',
  port: intEnv('BENCH_DB_PORT', 3306),
  user: process.env.BENCH_DB_USER ?? 'root',
};

/** `--user --host --port` for the stock clients (no password: the bench server has none). */
export const CLIENT_ARGS = [`--user=${DB.user}`, `--host=${DB.host}`, `--port=${String(DB.port)}`];

export async function connect(options = {}) {
  return mysql.createConnection({ ...DB, multipleStatements: true, ...options });
}

/** Drops every database whose name matches the SQL LIKE `pattern`; returns their names. */
export async function dropDatabasesLike(pattern) {
  const connection = await connect();
  try {
    const [rows] = await connection.query(
      'SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE ?',
      [pattern],
    );
    for (const { name } of rows) await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
    return rows.map((row) => row.name);
  } finally {
    await connection.end();
  }
}

/**
 * Waits until InnoDB has flushed most dirty pages (<= 10% of the buffer pool), at most
 * `maxSeconds`, so that a timed load or restore does not pay for writing the previous one's.
 */
export async function waitForQuietServer(maxSeconds) {
  const started = Date.now();
  const connection = await connect();
  try {
    const status = async () => {
      const [rows] = await connection.query(
        "SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_buffer_pool_pages_dirty', 'Innodb_buffer_pool_pages_total')",
      );
      const get = (name) => Number(rows.find((row) => row.Variable_name === name)?.Value ?? 0);
      return {
        dirty: get('Innodb_buffer_pool_pages_dirty'),
        total: get('Innodb_buffer_pool_pages_total'),
      };
    };
    const first = await status();
    let now = first;
    while (now.dirty > now.total * 0.1 && Date.now() - started < maxSeconds * 1000) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      now = await status();
    }
    return {
      dirtyPagesBefore: first.dirty,
      dirtyPagesAfter: now.dirty,
      waitedSeconds: (Date.now() - started) / 1000,
    };
  } finally {
    await connection.end();
  }
}
