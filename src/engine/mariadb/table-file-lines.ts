/**
 * The lines of a MariaDB/MySQL table file as `diff`, `log` and the commit message read them:
 * one row a line (`INSERT INTO `t` (cols) VALUES (...);`), framed by the rows' transaction.
 */
import type { RowHead } from '../engine.js';
import { mariadbDialect } from './mariadb-dialect.js';

/** Every row line starts so. */
export const ROW_LINE_PREFIX = 'INSERT INTO ';

/** The lines that open and commit the transaction around a table file's rows (`renderRows`). */
const TRANSACTION_LINES = new Set([
  `${mariadbDialect.rowsTransaction.begin};`,
  `${mariadbDialect.rowsTransaction.end};`,
]);

/** A line of a CREATE TABLE that may name the row key. */
const KEY_LINE = /^\s*(?:PRIMARY KEY|UNIQUE (?:KEY|INDEX))\b/;

/** Blank lines and the rows' transaction: neither structure nor rows. */
export function isFramingLine(line: string): boolean {
  return line.trim() === '' || TRANSACTION_LINES.has(line);
}

export function isKeyLine(line: string): boolean {
  return KEY_LINE.test(line);
}

/** The line's `INSERT INTO `t` (columns) VALUES (`, and its column names. */
export function parseRowHead(line: string): RowHead | undefined {
  const match = /^INSERT INTO `(?:[^`]|``)+` \(((?:`(?:[^`]|``)*`,?)*)\) VALUES \(/.exec(line);
  if (!match) return undefined;
  const columns = [...(match[1] ?? '').matchAll(/`((?:[^`]|``)*)`/g)].map((name) =>
    (name[1] ?? '').replace(/``/g, '`'),
  );
  return { text: match[0], columns };
}
