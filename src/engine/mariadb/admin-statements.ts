/** The statements restore, load and verify run to prepare and clean up a MariaDB/MySQL target. */
import type { AdminStatements, ObjectKind } from '../engine.js';
import { quoteIdentifier, quoteString } from './sql-literal.js';

/** InnoDB's "deadlock found" (1213) and "lock wait timeout" (1205): the statement was rolled back whole. */
const ROLLED_BACK_WHOLE = new Set([1213, 1205]);

/** The longest note the marker table holds (its column is VARCHAR(255)). */
const MARKER_NOTE_LENGTH = 255;

export const mariadbAdminStatements: AdminStatements = {
  adminDatabase: undefined,
  systemDatabases: ['mysql', 'information_schema', 'performance_schema', 'sys'],
  newDatabaseObjects: [],
  createDatabase: (name: string) =>
    `CREATE DATABASE ${quoteIdentifier(name)} CHARACTER SET utf8mb4`,
  dropDatabase: (name: string) => `DROP DATABASE IF EXISTS ${quoteIdentifier(name)}`,
  useDatabase: (name: string) => `USE ${quoteIdentifier(name)}`,
  dropObject(database: string, kind: ObjectKind, name: string, ifExists: boolean): string {
    return `DROP ${kind.toUpperCase()}${ifExists ? ' IF EXISTS' : ''} ${qualified(database, name)}`;
  },
  foreignKeyChecksOff: 'SET foreign_key_checks = 0',
  markerStatements(database: string, table: string, note: string): readonly string[] {
    const name = qualified(database, table);
    return [
      `DROP TABLE IF EXISTS ${name}`,
      `CREATE TABLE ${name} (note VARCHAR(${String(MARKER_NOTE_LENGTH)})) COMMENT 'schema_backup: restore or load in progress or failed'`,
      `INSERT INTO ${name} VALUES (${quoteString(note.slice(0, MARKER_NOTE_LENGTH))})`,
    ];
  },
  describeStatement(sql: string): string {
    const insert = /^INSERT INTO (`(?:[^`]|``)+`)/.exec(sql);
    return insert ? `INSERT into ${insert[1] ?? ''}` : sql.split(/\s+/).slice(0, 3).join(' ');
  },
  usedDatabase(sql: string): string | undefined {
    const use = /^USE\s+`((?:[^`]|``)+)`$/i.exec(sql);
    return use?.[1]?.replace(/``/g, '`');
  },
  isSessionSetting: (sql: string) => /^SET\s/i.test(sql),
  isRolledBackWhole(error: unknown): boolean {
    const errno = (error as { errno?: number } | undefined)?.errno;
    return errno !== undefined && ROLLED_BACK_WHOLE.has(errno);
  },
  isTableLock: (sql: string) => /^(?:UN)?LOCK\s+TABLES?\b/i.test(sql),
  failedRow(message: string): number | undefined {
    const row = /at row (\d+)/.exec(message);
    return row ? Number(row[1]) : undefined;
  },
  withoutStatementText(message: string): string {
    return message.replace(/ near '[\s\S]*' at line \d+/, ' (the statement text is left out)');
  },
};

function qualified(database: string, name: string): string {
  return `${quoteIdentifier(database)}.${quoteIdentifier(name)}`;
}

/** `INSERT INTO t (cols) VALUES ` of an INSERT, and its values part; undefined for other statements. */
export function splitInsert(sql: string): { prefix: string; values: string } | undefined {
  const match = /^INSERT INTO `(?:[^`]|``)+`(?: \((?:`(?:[^`]|``)*`,?)*\))? ?VALUES ?/.exec(sql);
  if (!match) return undefined;
  return { prefix: match[0], values: sql.slice(match[0].length) };
}

/** The table of an INSERT statement (unquoted), or undefined. */
export function insertTable(sql: string): string | undefined {
  const match = /^INSERT INTO `((?:[^`]|``)+)`/.exec(sql);
  return match?.[1]?.replace(/``/g, '`');
}
