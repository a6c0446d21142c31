/**
 * What a database records about its objects beyond their rows, for the fidelity round trips:
 * the database's defaults (SCHEMATA), `SHOW CREATE` of every view, routine, trigger and event
 * with the settings it gives (sql_mode, time zone, character_set_client, collation_connection,
 * database collation), and the same columns of information_schema ROUTINES, TRIGGERS, VIEWS
 * and EVENTS. The database's own name is replaced by `<db>`, so two databases compare.
 */
import mysql from 'mysql2/promise';
import { testServer } from './database.js';

type Row = Record<string, unknown>;

/** Everything above, as one comparable object; definers and creation times left out. */
export async function objectMetadata(database: string): Promise<Record<string, unknown>> {
  const server = testServer();
  const connection = await mysql.createConnection({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    charset: 'utf8mb4',
    database,
  });
  const select = async (sql: string): Promise<Row[]> => {
    const [rows] = await connection.query(sql, [database]);
    return (rows as Row[]).map((row) => withoutName(row, database));
  };
  try {
    const schemata = await select(
      'SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
    );
    const routines = await select(
      `SELECT ROUTINE_TYPE, ROUTINE_NAME, ROUTINE_DEFINITION, SQL_MODE, CHARACTER_SET_CLIENT,
              COLLATION_CONNECTION, DATABASE_COLLATION, DTD_IDENTIFIER, IS_DETERMINISTIC
         FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? ORDER BY ROUTINE_TYPE, ROUTINE_NAME`,
    );
    const triggers = await select(
      `SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER,
              ACTION_STATEMENT, SQL_MODE, CHARACTER_SET_CLIENT, COLLATION_CONNECTION, DATABASE_COLLATION
         FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY TRIGGER_NAME`,
    );
    const views = await select(
      `SELECT TABLE_NAME, VIEW_DEFINITION, CHECK_OPTION, SECURITY_TYPE, CHARACTER_SET_CLIENT,
              COLLATION_CONNECTION, ALGORITHM
         FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME`,
    );
    const events = await select(
      `SELECT EVENT_NAME, EVENT_DEFINITION, EVENT_TYPE, INTERVAL_VALUE, INTERVAL_FIELD, STARTS,
              STATUS, ON_COMPLETION, SQL_MODE, TIME_ZONE, CHARACTER_SET_CLIENT,
              COLLATION_CONNECTION, DATABASE_COLLATION
         FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? ORDER BY EVENT_NAME`,
    );
    const showCreate: Record<string, Row> = {};
    const show = async (keyword: string, name: string): Promise<void> => {
      const [rows] = await connection.query(
        `SHOW CREATE ${keyword} \`${name.replace(/`/g, '``')}\``,
      );
      const [row] = rows as Row[];
      if (row !== undefined)
        showCreate[`${keyword.toLowerCase()} ${name}`] = withoutName(withoutDefiner(row), database);
    };
    for (const row of routines) await show(String(row.ROUTINE_TYPE), String(row.ROUTINE_NAME));
    for (const row of triggers) await show('TRIGGER', String(row.TRIGGER_NAME));
    for (const row of views) await show('VIEW', String(row.TABLE_NAME));
    for (const row of events) await show('EVENT', String(row.EVENT_NAME));
    return { schemata, routines, triggers, views, events, showCreate };
  } finally {
    await connection.end();
  }
}

/** `row` with every text value's occurrences of the database's name replaced. */
function withoutName(row: Row, database: string): Row {
  const result: Row = {};
  for (const [key, value] of Object.entries(row))
    result[key] = typeof value === 'string' ? value.split(database).join('<db>') : value;
  return result;
}

/** SHOW CREATE text without `DEFINER=…` (a restore runs as another account) or a creation time. */
function withoutDefiner(row: Row): Row {
  const result: Row = {};
  for (const [key, value] of Object.entries(row)) {
    if (key === 'Created') continue;
    result[key] =
      typeof value === 'string' ? value.replace(/ DEFINER=`[^`]*`@`[^`]*`/g, '') : value;
  }
  return result;
}
