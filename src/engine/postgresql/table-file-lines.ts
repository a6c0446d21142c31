/**
 * The lines of a PostgreSQL table file as `diff`, `log` and the commit message read them:
 * one row a line (`INSERT INTO "s"."t" ("a","b") VALUES (…);`), framed by the rows'
 * transaction; and its CREATE TABLE and ALTER TABLE statements read into their parts.
 */
import type { ColumnDefinition, RowHead, TableDefinition } from '../engine.js';
import { PgLexer } from './pg-lexer.js';

/** Every row line starts so. */
export const ROW_LINE_PREFIX = 'INSERT INTO ';

/** The lines that open and commit the transaction around a table file's rows. */
const TRANSACTION_LINES = new Set(['BEGIN;', 'START TRANSACTION;', 'COMMIT;']);

/** A statement line that may change the row key: a primary key or unique constraint or index. */
const KEY_LINE =
  /^(?:ALTER TABLE (?:ONLY )?.+ ADD CONSTRAINT .+ (?:PRIMARY KEY|UNIQUE) |CREATE UNIQUE INDEX )/;

export function isFramingLine(line: string): boolean {
  return line.trim() === '' || TRANSACTION_LINES.has(line);
}

export function isKeyLine(line: string): boolean {
  return KEY_LINE.test(line);
}

const COMMA = 0x2c;
const OPEN = 0x28;
const CLOSE = 0x29;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x27;
const DOUBLE_QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The value literals of a one-row line (`…VALUES (a,b,c);`): numbers, NULL, strings (`E'…'`
 * with backslash escapes), casts, ARRAY[…] and ROW(…). -1 when the line does not end its
 * row with `);`.
 */
export function findRowValues(
  line: string,
  from: number,
  bounds: Int32Array,
  maxValues: number,
): number {
  let count = 0;
  let start = from;
  let depth = 0;
  for (let index = from; index < line.length; index += 1) {
    const code = line.charCodeAt(index);
    if (code === QUOTE || code === DOUBLE_QUOTE) {
      const escapes =
        code === QUOTE &&
        (line.charCodeAt(index - 1) | 0x20) === 0x65 &&
        !/[\w$]/.test(line.charAt(index - 2));
      let at = index + 1;
      for (; at < line.length; at += 1) {
        const inner = line.charCodeAt(at);
        if (escapes && inner === BACKSLASH) at += 1;
        else if (inner === code) {
          if (line.charCodeAt(at + 1) === code) at += 1;
          else break;
        }
      }
      if (at >= line.length) return -1;
      index = at;
      continue;
    }
    if (code === OPEN || code === OPEN_BRACKET) depth += 1;
    else if (code === CLOSE_BRACKET) depth -= 1;
    else if (code === CLOSE && depth > 0) depth -= 1;
    else if (depth === 0 && (code === COMMA || code === CLOSE)) {
      if (count >= maxValues) return -1;
      bounds[count * 2] = start;
      bounds[count * 2 + 1] = index;
      count += 1;
      if (code === CLOSE) return line.slice(index + 1).trimEnd() === ';' ? count : -1;
      start = index + 1;
    }
  }
  return -1;
}

/**
 * The line's `INSERT INTO "s"."t" (columns) [OVERRIDING … VALUE ]VALUES (`, and its columns
 * (separated by `, ` as the dialect writes them, or by `,`).
 */
export function parseRowHead(line: string): RowHead | undefined {
  const match =
    /^INSERT INTO (?:"(?:[^"]|"")+"\.)?"(?:[^"]|"")+" \(("(?:[^"]|"")*"(?:, ?"(?:[^"]|"")*")*)\) (?:OVERRIDING (?:SYSTEM|USER) VALUE )?VALUES \(/.exec(
      line,
    );
  if (!match) return undefined;
  const columns = [...(match[1] ?? '').matchAll(/"((?:[^"]|"")*)"/g)].map((name) =>
    (name[1] ?? '').replace(/""/g, '"'),
  );
  return { text: match[0], columns };
}

/** `"a"."b"` or `a.b` at the start of `text` → `a.b` and the length read. */
function readQualified(text: string): { name: string; length: number } | undefined {
  const lexer = new PgLexer(text);
  const parts: string[] = [];
  for (;;) {
    const type = lexer.next();
    if (type !== 'word' && type !== 'identifier') return undefined;
    parts.push(lexer.name());
    const end = lexer.end;
    const after = new PgLexer(text, end);
    if (after.next() !== 'punctuation' || !after.is('.'))
      return { name: parts.join('.'), length: end };
    lexer.next();
  }
}

/**
 * Parses a table file's statements as definitions.ts writes them (the CREATE TABLE, one
 * column a line; then its ALTER TABLE … ADD CONSTRAINT and CREATE INDEX statements, one a
 * line); undefined when `sql` holds no CREATE TABLE.
 */
export function parseCreateTable(sql: string): TableDefinition | undefined {
  const start = /CREATE (?:UNLOGGED )?TABLE /.exec(sql);
  if (!start) return undefined;
  const head = readQualified(sql.slice(start.index + start[0].length));
  if (head === undefined) return undefined;
  let rest = sql.slice(start.index + start[0].length + head.length);
  // A typed table: `OF type` heads its options, its columns list only their own options.
  let typed = '';
  if (rest.startsWith(' OF ')) {
    const type = readQualified(rest.slice(4));
    if (type === undefined) return undefined;
    typed = rest.slice(1, 4 + type.length);
    rest = rest.slice(4 + type.length);
  }
  const columns: ColumnDefinition[] = [];
  let options = '';
  if (rest.startsWith(' (\n')) {
    const end = rest.indexOf('\n)');
    if (end === -1) return undefined;
    for (const raw of rest.slice(3, end).split('\n')) {
      const line = raw.trim().replace(/,$/, '');
      const name = /^"((?:[^"]|"")*)" /.exec(line);
      if (!name) continue;
      columns.push(parseColumn((name[1] ?? '').replace(/""/g, '"'), line.slice(name[0].length)));
    }
    options =
      rest
        .slice(end + 2)
        .split(/;\n|;$/)[0]
        ?.trim() ?? '';
  } else {
    options = rest.split(/;\n|;$/)[0]?.trim() ?? '';
  }
  if (typed !== '') options = options === '' ? typed : `${typed} ${options}`;
  const indexes = new Map<string, string>();
  const foreignKeys = new Map<string, string>();
  const checks = new Map<string, string>();
  let primary: string[] = [];
  let firstUnique: string[] | undefined;
  for (const line of sql.split('\n')) {
    const constraint =
      / ADD CONSTRAINT ("(?:[^"]|"")*"|\S+) (PRIMARY KEY|UNIQUE|FOREIGN KEY|CHECK|EXCLUDE)\b(.*?);?$/.exec(
        line,
      );
    if (line.startsWith('ALTER TABLE ') && constraint) {
      const name = unquote(constraint[1] ?? '');
      const kind = constraint[2];
      const text = `${kind ?? ''}${constraint[3] ?? ''}`;
      if (kind === 'FOREIGN KEY') foreignKeys.set(name, text);
      else if (kind === 'CHECK') checks.set(name, text);
      else {
        indexes.set(kind === 'PRIMARY KEY' ? 'PRIMARY' : name, text);
        if (kind === 'PRIMARY KEY') primary = keyColumns(text);
        else if (kind === 'UNIQUE' && firstUnique === undefined) firstUnique = keyColumns(text);
      }
      continue;
    }
    const index = /^CREATE (UNIQUE )?INDEX ("(?:[^"]|"")*"|\S+) ON (.*?);?$/.exec(line);
    if (index) indexes.set(unquote(index[2] ?? ''), line.replace(/;$/, ''));
  }
  return {
    name: head.name,
    columns,
    indexes,
    foreignKeys,
    checks,
    options,
    rowKey: primary.length > 0 ? primary : (firstUnique ?? []),
  };
}

function unquote(name: string): string {
  return name.startsWith('"') ? name.slice(1, -1).replace(/""/g, '"') : name;
}

function parseColumn(name: string, definition: string): ColumnDefinition {
  const typeEnd = definition.search(/ (?:COLLATE|DEFAULT|GENERATED|NOT NULL)\b/);
  // A typed table's column has its type's type: `WITH OPTIONS` names none.
  const type = definition.startsWith('WITH OPTIONS')
    ? ''
    : typeEnd === -1
      ? definition
      : definition.slice(0, typeEnd);
  const collation = / (COLLATE \S+)/.exec(definition)?.[1];
  const defaultValue = / DEFAULT (.*?)(?: NOT NULL)?$/.exec(definition)?.[1];
  return {
    name,
    definition,
    type,
    nullable: !/ NOT NULL$/.test(definition),
    default: defaultValue,
    charset: collation,
  };
}

/** The columns of `PRIMARY KEY (a, "b c")`. */
function keyColumns(text: string): string[] {
  const list = /\((.*?)\)/.exec(text)?.[1] ?? '';
  return list
    .split(',')
    .map((part) => unquote(part.trim()))
    .filter((part) => part !== '');
}
