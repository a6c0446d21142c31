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

/**
 * The value literals of a one-row line (`…VALUES (a,b,c);`): NULL, numbers, 0x…, b'…' and
 * quoted strings with backslash escapes. -1 when the line does not end its row with `);`.
 */
export function findRowValues(
  line: string,
  from: number,
  bounds: Int32Array,
  maxValues: number,
): number {
  let count = 0;
  let start = from;
  let inString = false;
  let escaped = false;
  for (let index = start; index < line.length; index += 1) {
    const code = line.charCodeAt(index);
    if (!inString && (code === COMMA || code === CLOSE)) {
      if (count >= maxValues) return -1;
      bounds[count * 2] = start;
      bounds[count * 2 + 1] = index;
      count += 1;
      if (code === CLOSE) return line.slice(index + 1).trimEnd() === ';' ? count : -1;
      start = index + 1;
      continue;
    }
    if (escaped) escaped = false;
    else if (inString) {
      if (code === BACKSLASH) escaped = true;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) inString = true;
  }
  return -1;
}

const COMMA = 0x2c;
const CLOSE = 0x29;
const BACKSLASH = 0x5c;
const QUOTE = 0x27;

/** The line's `INSERT INTO `t` (columns) VALUES (`, and its column names. */
export function parseRowHead(line: string): RowHead | undefined {
  const match = /^INSERT INTO `(?:[^`]|``)+` \(((?:`(?:[^`]|``)*`,?)*)\) VALUES \(/.exec(line);
  if (!match) return undefined;
  const columns = [...(match[1] ?? '').matchAll(/`((?:[^`]|``)*)`/g)].map((name) =>
    (name[1] ?? '').replace(/``/g, '`'),
  );
  return { text: match[0], columns };
}
