/** The benchmark server (BENCH_DB_HOST/PORT/USER), shared by every bench script. */
import mysql from 'mysql2/promise';
import { intEnv } from './env.mjs';

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
