/**
 * Exact SQL literals for MariaDB/MySQL values as the text protocol returns them (raw bytes).
 * Each literal, read back by the server, gives the same stored value: numbers verbatim,
 * binary data as hex, BIT as a bit string, text escaped so that one row stays on one line.
 */

/** How the bytes of one column are turned into a literal. */
export type LiteralKind = 'number' | 'string' | 'hex' | 'bit';

/** The integer column types (DATA_TYPE). */
export const INTEGER_TYPES: ReadonlySet<string> = new Set([
  'tinyint',
  'smallint',
  'mediumint',
  'int',
  'integer',
  'bigint',
]);

const NUMBER_TYPES = new Set([
  ...INTEGER_TYPES,
  'decimal',
  'numeric',
  'float',
  'double',
  'real',
  'year',
]);
const HEX_TYPES = new Set([
  'binary',
  'varbinary',
  'tinyblob',
  'blob',
  'mediumblob',
  'longblob',
  'geometry',
  'point',
  'linestring',
  'polygon',
  'multipoint',
  'multilinestring',
  'multipolygon',
  'geometrycollection',
]);

/**
 * The literal kind of a column type (`information_schema.COLUMNS.DATA_TYPE`). Types not known
 * here (dates, INET6, UUID, JSON, ENUM, ...) are read and written as quoted text, which every
 * type accepts.
 */
export function literalKindOf(dataType: string): LiteralKind {
  const type = dataType.toLowerCase();
  if (NUMBER_TYPES.has(type)) return 'number';
  if (HEX_TYPES.has(type)) return 'hex';
  if (type === 'bit') return 'bit';
  return 'string';
}

const NUMBER_TEXT = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?$/i;

/** The literal for `bytes` (null = SQL NULL) of a column of `kind`. */
export function sqlLiteral(bytes: Buffer | null, kind: LiteralKind): string {
  if (bytes === null) return 'NULL';
  switch (kind) {
    case 'number': {
      const text = bytes.toString('latin1');
      // Defensive: a number literal is written unquoted, so it must be nothing but a number.
      if (!NUMBER_TEXT.test(text)) return quoteString(text);
      return text;
    }
    case 'hex':
      return bytes.length === 0 ? "''" : `0x${bytes.toString('hex').toUpperCase()}`;
    case 'bit':
      return bitLiteral(bytes);
    case 'string':
      return quoteString(bytes.toString('utf8'));
  }
}

/** `b'101'`: the bits of a BIT value, without leading zeros (at least one digit). */
export function bitLiteral(bytes: Buffer): string {
  let bits = '';
  for (const byte of bytes) bits += byte.toString(2).padStart(8, '0');
  const trimmed = bits.replace(/^0+/, '');
  return `b'${trimmed === '' ? '0' : trimmed}'`;
}

// eslint-disable-next-line no-control-regex -- Ctrl-Z (\x1a) is escaped as mariadb-dump does: it ends input on Windows.
const ESCAPED = /[\0\n\r\x1a'\\]/g;
// eslint-disable-next-line no-control-regex -- the same characters, to test for (no /g state).
const NEEDS_ESCAPE = /[\0\n\r\x1a'\\]/;
const ESCAPE_FOR: Readonly<Record<string, string>> = {
  '\0': '\\0',
  '\n': '\\n',
  '\r': '\\r',
  '\x1a': '\\Z',
  "'": "\\'",
  '\\': '\\\\',
};

/**
 * A single-quoted string literal with backslash escapes, as mariadb-dump writes them.
 * Newlines become `\n`, so a literal never spans lines. Needs a session without
 * NO_BACKSLASH_ESCAPES (our script preamble sets sql_mode).
 */
export function quoteString(value: string): string {
  // Most values need no escape: testing first is about twice as fast as a replace that
  // finds nothing (a 1,000-table snapshot quotes some 400,000 values).
  if (!NEEDS_ESCAPE.test(value)) return `'${value}'`;
  return `'${value.replace(ESCAPED, (char) => ESCAPE_FOR[char] ?? char)}'`;
}

/** `` `name` `` with embedded backticks doubled. */
export function quoteIdentifier(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}
