/**
 * Exact SQL literals for PostgreSQL values as the server's text output gives them, under the
 * session settings of {@link SESSION_SETTINGS}: each literal, inserted into a column of the
 * same type, stores the same value.
 *
 * Every value is read as text (no JS number or Date on the way): numeric as the server wrote
 * it; float4/float8 with extra_float_digits = 3 (PostgreSQL 12 on: the shortest text that
 * reads back to the same bits); bytea in hex (`\x0102`); timestamptz in UTC and ISO
 * DateStyle; intervals in IntervalStyle postgres; arrays, ranges, json (as written), jsonb,
 * enums, bit strings, geometric types, uuid and network types in their text form.
 *
 * In an `INSERT ... VALUES` list a quoted literal has no type of its own: the server reads it
 * with the input function of its column's type, so no cast is written. Numbers stand
 * unquoted where that reads back the same (not `-0`, NaN or ±Infinity, which are quoted).
 */

/** Settings every session runs first, so that the text of a value does not depend on the server's. */
export const SESSION_SETTINGS: readonly string[] = [
  "SET client_encoding = 'UTF8'",
  // reg* values (regclass, regtype, …) are written as names: qualified, but pg_catalog's.
  "SET search_path = ''",
  "SET datestyle = 'ISO, YMD'",
  "SET intervalstyle = 'postgres'",
  "SET timezone = 'UTC'",
  // money's text and its numeric value count in the locale's currency digits (2 in C, 0 in
  // ja_JP): read and written under C, its stored integer is the same on any server.
  "SET lc_monetary = 'C'",
  'SET extra_float_digits = 3',
  "SET bytea_output = 'hex'",
  'SET standard_conforming_strings = on',
  "SET xmloption = 'content'",
  // Never read a filtered view of a table: a table with row-level security fails instead.
  'SET row_security = off',
  'SET statement_timeout = 0',
  'SET lock_timeout = 0',
  'SET idle_in_transaction_session_timeout = 0',
];

/** How the text of one column becomes a literal. */
export type LiteralKind =
  | 'integer'
  | 'numeric'
  | 'float'
  | 'boolean'
  | 'money'
  | 'interval'
  | 'interval-array'
  | 'xml'
  | 'text';

const INTEGER_TYPES = new Set(['int2', 'int4', 'int8', 'oid']);

/**
 * The literal kind of a column whose type (its base type, for a domain) is `typeName`
 * (`pg_type.typname`, e.g. `int4`, `_int4` for an array of it, `numeric`, `float8`).
 */
export function literalKindOf(typeName: string): LiteralKind {
  if (INTEGER_TYPES.has(typeName)) return 'integer';
  if (typeName === 'numeric') return 'numeric';
  if (typeName === 'float4' || typeName === 'float8') return 'float';
  if (typeName === 'bool') return 'boolean';
  // money's text depends on lc_monetary (`$1,000.00`): it is read as numeric instead.
  if (typeName === 'money') return 'money';
  if (typeName === 'interval') return 'interval';
  if (typeName === '_interval') return 'interval-array';
  if (typeName === 'xml') return 'xml';
  return 'text';
}

/** The expression a column of `kind` is read with: its text must be what {@link sqlLiteral} expects. */
export function selectExpression(quotedColumn: string, kind: LiteralKind): string {
  if (kind === 'money') return `${quotedColumn}::pg_catalog.numeric`;
  // xml's output drops an XML declaration of version 1.0 (`<?xml version="1.0"?>`); its
  // cast to text is the value as stored, which its input stores again unchanged.
  if (kind === 'xml') return `${quotedColumn}::pg_catalog.text`;
  return quotedColumn;
}

/**
 * The expression that makes the server write a column's value as a literal (`NULL`
 * unquoted), for statements built server-side: what {@link sqlLiteral} writes of
 * {@link selectExpression}'s text, but for the quoting of plain values (which loads the same).
 * Its text is cast explicitly (`quote_nullable` of a `"char"` is ambiguous).
 */
export function literalExpression(quotedColumn: string, kind: LiteralKind): string {
  return `pg_catalog.quote_nullable(${textExpression(quotedColumn, kind, true)})`;
}

/**
 * The expression a column of `kind` is read with by COPY TO (text format): its output, which
 * COPY FROM reads back into a column of the same type as the same value (money as numeric,
 * xml as stored, the least interval time in units).
 */
export function copyExpression(quotedColumn: string, kind: LiteralKind): string {
  return textExpression(quotedColumn, kind, false);
}

/** The value's text (`cast`: always as text; else only where it must change). */
function textExpression(quotedColumn: string, kind: LiteralKind, cast: boolean): string {
  const needsText = cast || kind === 'interval' || kind === 'interval-array';
  let text = needsText
    ? `(${selectExpression(quotedColumn, kind)})::pg_catalog.text`
    : selectExpression(quotedColumn, kind);
  // The least interval time, which the server writes and does not read: in units, as sqlLiteral.
  if (kind === 'interval')
    text = `pg_catalog.regexp_replace(${text}, '(^|\\s)-2562047788:00:54\\.775808$', '\\1${LEAST_INTERVAL_UNITS}')`;
  if (kind === 'interval-array')
    text = `pg_catalog.regexp_replace(pg_catalog.regexp_replace(${text}, '(?<=[{,])-2562047788:00:54\\.775808(?=[,}])', '"${LEAST_INTERVAL_UNITS}"', 'g'), '(?<= )-2562047788:00:54\\.775808"', '${LEAST_INTERVAL_UNITS}"', 'g')`;
  return text;
}

const INTEGER_TEXT = /^-?\d+$/;
const NUMERIC_TEXT = /^-?\d+(?:\.\d+)?$/;
const FLOAT_TEXT = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?$/i;

/** The literal for `text` (null = SQL NULL) of a column of `kind`. */
export function sqlLiteral(text: string | null, kind: LiteralKind): string {
  if (text === null) return 'NULL';
  switch (kind) {
    case 'integer':
      return INTEGER_TEXT.test(text) ? text : quoteString(text);
    case 'numeric':
    case 'money':
      // NaN and ±Infinity (numeric has them from PostgreSQL 14) are quoted.
      return NUMERIC_TEXT.test(text) ? text : quoteString(text);
    case 'float':
      // Unquoted `-0` is the integer 0 negated, which is +0: the sign needs the quoted form.
      return FLOAT_TEXT.test(text) && !/^-0*\.?0*(?:e|$)/i.test(text) ? text : quoteString(text);
    case 'boolean':
      return text === 't' ? 'true' : text === 'f' ? 'false' : quoteString(text);
    case 'interval':
      return quoteString(text.replace(LEAST_INTERVAL_TIME, `$1${LEAST_INTERVAL_UNITS}`));
    case 'interval-array':
      // An element alone is unquoted (`{-2562047788:00:54.775808}`); after days, quoted.
      return quoteString(
        text
          .replace(LEAST_INTERVAL_ELEMENT, `"${LEAST_INTERVAL_UNITS}"`)
          .replace(LEAST_INTERVAL_QUOTED, `${LEAST_INTERVAL_UNITS}"`),
      );
    case 'xml':
    case 'text':
      return quoteString(text);
  }
}

/**
 * The least time part of an interval (-2^63 microseconds) as the server writes it, which its
 * input function refuses (PostgreSQL 15 reads `hh:mm:ss` as a positive number, then negates
 * it): the same time in units reads back.
 */
const LEAST_INTERVAL_TIME = /(^|\s)-2562047788:00:54\.775808$/;
const LEAST_INTERVAL_UNITS = '-2562047788 hours -54.775808 secs';
/** In an interval array's text: an element that is the least time alone, or ends with it. */
const LEAST_INTERVAL_ELEMENT = /(?<=[{,])-2562047788:00:54\.775808(?=[,}])/g;
const LEAST_INTERVAL_QUOTED = /(?<= )-2562047788:00:54\.775808"/g;

/* eslint-disable no-control-regex -- control characters are what must not reach a line raw. */
const NEEDS_ESCAPE = /[\u0000-\u0008\u000a-\u001f\u007f]/;
const ESCAPED = /[\u0000-\u0008\u000a-\u001f\u007f\\']/g;
/* eslint-enable no-control-regex */
const ESCAPE_FOR: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  "'": "''",
  '\n': '\\n',
  '\r': '\\r',
  '\b': '\\b',
  '\f': '\\f',
};

/**
 * A string literal: `'...'` with quotes doubled (standard_conforming_strings on, so a
 * backslash is itself); `E'...'` with escapes only when the text holds a newline or another
 * control character (but a tab), so that a literal never spans lines.
 */
export function quoteString(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return `'${value.replace(/'/g, "''")}'`;
  return `E'${value.replace(
    ESCAPED,
    (char) => ESCAPE_FOR[char] ?? `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`,
  )}'`;
}
