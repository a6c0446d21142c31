/** The PostgreSQL script format as it is read back: statements, and what a file may hold. */
import type { AdminStatements, DumpScript, FileExpectation, ScriptFormat } from '../engine.js';
import { InternalError } from '../../errors.js';
import { commentText } from '../common/comment-lines.js';
import { qualifiedName } from './names.js';
import { PgLexer } from './pg-lexer.js';
import { readPsqlScript } from './script-reader.js';
import { PgStatementGuard } from './statement-guard.js';
import {
  findRowValues,
  isFramingLine,
  isKeyLine,
  parseCreateTable,
  parseRowHead,
  ROW_LINE_PREFIX,
} from './table-file-lines.js';

/**
 * The session state every file starts from, and the checker assumes: strings read with
 * standard_conforming_strings on, UTF-8, no search_path (every name is qualified), function
 * bodies not checked (a function may name a table created later), fixed date and number forms.
 */
const SESSION_SETTINGS: readonly (readonly [string, string])[] = [
  ['client_encoding', 'UTF8'],
  ['standard_conforming_strings', 'on'],
  ['search_path', ''],
  ['check_function_bodies', 'false'],
  ['client_min_messages', 'warning'],
  ['TimeZone', 'UTC'],
  ['DateStyle', 'ISO, MDY'],
  ['IntervalStyle', 'postgres'],
  ['lc_monetary', 'C'],
  ['extra_float_digits', '3'],
  ['row_security', 'off'],
];

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `schema.name` quoted part by part (split at the first dot). */
function quoteQualified(name: string): string {
  const dot = name.indexOf('.');
  return dot === -1
    ? quoteIdentifier(name)
    : `${quoteIdentifier(name.slice(0, dot))}.${quoteIdentifier(name.slice(dot + 1))}`;
}

/** A quoted identifier of a title line, its quotes doubled inside. */
const QUOTED = '"((?:[^"]|"")*)"';
/**
 * `schema_backup: <kind> "schema"."name"` (a carried name quoted as the dialect quotes it),
 * or `"name"` (an extension, a schema, or a whole carried name), then ` on table …` alike.
 */
const TITLE = new RegExp(
  `^schema_backup: [\\w-]+ ${QUOTED}(?:\\.${QUOTED})?(?: on table ${QUOTED}(?:\\.${QUOTED})?)?(?:,|$)`,
);

/** The carried name of a title's one or two quoted parts (their quotes still doubled). */
function carriedName(first: string, second: string | undefined): string {
  const unquote = (text: string): string => text.replace(/""/g, '"');
  return second === undefined ? unquote(first) : qualifiedName(unquote(first), unquote(second));
}

/**
 * The tables a table file's CREATE TABLE needs first: the parent of a partition (`PARTITION
 * OF`), the parents of an inheriting table (`INHERITS (...)`), as carried names. Undefined
 * for any other statement.
 */
function tableDependencies(sql: string): readonly string[] | undefined {
  const lexer = new PgLexer(sql);
  try {
    if (lexer.next() !== 'word' || lexer.keyword() !== 'create') return undefined;
    lexer.next();
    if (lexer.keyword() === 'unlogged') lexer.next();
    if (lexer.keyword() !== 'table') return undefined;
    lexer.next();
    readName(lexer);
    if (lexer.keyword() === 'partition') {
      lexer.next();
      if (lexer.keyword() !== 'of') return [];
      lexer.next();
      return [readName(lexer)];
    }
    // INHERITS (a, b) follows the column list, outside any parenthesis.
    let depth = 0;
    for (let type = lexer.type; type !== 'end'; type = lexer.next()) {
      if (lexer.is('(')) depth += 1;
      else if (lexer.is(')')) depth -= 1;
      else if (depth === 0 && lexer.keyword() === 'inherits') {
        lexer.next();
        const parents: string[] = [];
        while (!lexer.is(')') && lexer.type !== 'end') {
          lexer.next();
          parents.push(readName(lexer));
        }
        return parents;
      }
    }
    return [];
  } catch {
    return [];
  }
}

/** A `schema.name` or `name` from the lexer, as a carried name; leaves the lexer after it. */
function readName(lexer: PgLexer): string {
  const parts: string[] = [];
  for (;;) {
    if (lexer.type !== 'word' && lexer.type !== 'identifier') throw new InternalError('no name');
    parts.push(lexer.name());
    lexer.next();
    if (!lexer.is('.')) break;
    lexer.next();
  }
  const [first = '', second] = parts;
  return second === undefined ? qualifiedName('public', first) : qualifiedName(first, second);
}

function notYet(what: string): never {
  throw new InternalError(`PostgreSQL: ${what} is not written yet (#16)`);
}

/**
 * INSERT INTO … VALUES: its table, and where the row values start (-1 for DEFAULT VALUES), by
 * the server's reading of the text.
 */
function valuesStart(sql: string): { table: string; at: number } | undefined {
  const lexer = new PgLexer(sql);
  try {
    if (lexer.next() !== 'word' || lexer.keyword() !== 'insert') return undefined;
    lexer.next();
    if (lexer.keyword() !== 'into') return undefined;
    const parts: string[] = [];
    for (;;) {
      const part = lexer.next();
      if (part !== 'word' && part !== 'identifier') return undefined;
      parts.push(lexer.name());
      lexer.next();
      if (!lexer.is('.')) break;
    }
    for (let type = lexer.type; type !== 'end'; type = lexer.next()) {
      // DEFAULT VALUES: one row, with no values to join with another's (`at` -1).
      if (lexer.keyword() === 'default') return { table: parts.join('.'), at: -1 };
      if (lexer.keyword() === 'values') {
        let at = lexer.end;
        while (at < sql.length && /\s/.test(sql.charAt(at))) at += 1;
        return { table: parts.join('.'), at };
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}

// TODO(#16): how a PostgreSQL dump file is written (dump/load come with the workflows).
const postgresqlDumpScript: DumpScript = {
  get preamble(): string {
    return notYet('the dump preamble');
  },
  useDatabase: () => notYet('a dump of several databases'),
  replaceStructure: () => notYet('a dump'),
  replayableObject: () => notYet('a dump'),
  mentions: () => notYet('a dump'),
  deferSecondaryKeys: () => notYet('a dump'),
  referencedTables: () => notYet('a dump'),
};

/** PostgreSQL error codes of a statement the server rolled back whole: safe to run again. */
const ROLLED_BACK_WHOLE = new Set(['40001', '40P01', '55P03']);

const postgresqlAdminStatements: AdminStatements = {
  createDatabase: (name: string) =>
    `CREATE DATABASE ${quoteIdentifier(name)} ENCODING 'UTF8' TEMPLATE template0`,
  // Not the user's default database, which may not exist (a role `backup` has none).
  adminDatabase: 'postgres',
  newDatabaseObjects: [
    { kind: 'extension', name: 'plpgsql' },
    { kind: 'schema', name: 'public' },
  ],
  dropDatabase: (name: string) => `DROP DATABASE IF EXISTS ${quoteIdentifier(name)}`,
  // TODO(#16): a PostgreSQL session cannot change its database: the interface needs a
  // reconnect here (Session.useDatabase, or a session per target database).
  useDatabase: () => notYet('switching databases within a session'),
  dropObject(_database, kind, name, ifExists) {
    const words: Record<string, string> = {
      table: 'TABLE',
      sequence: 'SEQUENCE',
      view: 'VIEW',
      'materialized-view': 'MATERIALIZED VIEW',
      function: 'FUNCTION',
      procedure: 'PROCEDURE',
      type: 'TYPE',
      domain: 'DOMAIN',
    };
    // A table's triggers, policies and foreign keys go with it; schemas and extensions stay
    // (their files create them only when missing, and other objects may be in them).
    if (['trigger', 'policy', 'foreign-keys', 'schema', 'extension'].includes(kind))
      return 'SELECT 1 WHERE false';
    const word = words[kind];
    if (word === undefined) return notYet(`dropping a ${kind}`);
    // A routine's name holds its argument types: `schema.name(args)`.
    const paren = name.indexOf('(');
    const target =
      paren === -1
        ? quoteQualified(name)
        : `${quoteQualified(name.slice(0, paren))}${name.slice(paren)}`;
    // --force drops what a snapshot creates: with what depends on it (another table's
    // foreign keys, a partition, a view of a view, a type of a domain), re-created after.
    const cascade = ['table', 'view', 'materialized-view', 'type', 'domain'].includes(kind);
    return `DROP ${word}${ifExists ? ' IF EXISTS' : ''} ${target}${cascade ? ' CASCADE' : ''}`;
  },
  // TODO(#16): PostgreSQL has no session switch for foreign key checks; the restore order
  // (foreign keys after every table's rows) makes it unneeded. A no-op setting for now.
  foreignKeyChecksOff: "SET client_min_messages = 'warning'",
  markerStatements(_database, table, note) {
    const target = quoteQualified(table.includes('.') ? table : `public.${table}`);
    return [
      `DROP TABLE IF EXISTS ${target}`,
      `CREATE TABLE ${target} (note text NOT NULL)`,
      `INSERT INTO ${target} (note) VALUES (${quoteLiteral(note.slice(0, 2000))})`,
    ];
  },
  describeStatement(sql: string): string {
    const insert = valuesStart(sql);
    if (insert !== undefined) return `INSERT INTO ${quoteQualified(insert.table)}`;
    const words = /^\s*([A-Za-z]+)(?:\s+([A-Za-z]+))?/.exec(sql);
    return words?.[1]
      ? [words[1], words[2]].filter(Boolean).join(' ').toUpperCase()
      : 'a statement';
  },
  usedDatabase: () => undefined,
  isSessionSetting: (sql: string) =>
    /^\s*SET\s/i.test(sql) || /^\s*SELECT\s+(?:pg_catalog\.)?set_config\s*\(/i.test(sql),
  isRolledBackWhole(error: unknown): boolean {
    const code = (error as { code?: unknown } | undefined)?.code;
    return typeof code === 'string' && ROLLED_BACK_WHOLE.has(code);
  },
  isTableLock: (sql: string) => /^\s*LOCK\s/i.test(sql),
  // The server names no row of a multi-row INSERT.
  failedRow: () => undefined,
  // `invalid input syntax for type integer: "abc"`: the value goes.
  withoutStatementText: (message: string) => message.replace(/: ".*"$/s, ''),
};

export const postgresqlScriptFormat: ScriptFormat = {
  readStatements: readPsqlScript,
  sessionReset: `SELECT ${SESSION_SETTINGS.map(
    ([name, value]) =>
      `pg_catalog.set_config(${quoteLiteral(name)}, ${quoteLiteral(value)}, false)`,
  ).join(', ')}`,
  checker: (expected: FileExpectation) => new PgStatementGuard(expected),
  commentText,
  fileTitle(line: string): { name: string; table?: string | undefined } | undefined {
    const text = commentText(line);
    const match = text === undefined ? null : TITLE.exec(text);
    if (!match) return undefined;
    return {
      name: carriedName(match[1] ?? '', match[2]),
      table: match[3] === undefined ? undefined : carriedName(match[3], match[4]),
    };
  },
  dump: postgresqlDumpScript,
  admin: postgresqlAdminStatements,
  splitInsert(sql: string): { prefix: string; values: string } | undefined {
    const start = valuesStart(sql);
    if (start === undefined || start.at === -1) return undefined;
    return { prefix: sql.slice(0, start.at), values: sql.slice(start.at) };
  },
  joinInsert: (prefix: string, values: readonly string[]) => `${prefix}${values.join(',')}`,
  insertTable: (sql: string) => valuesStart(sql)?.table,
  rowLinePrefix: ROW_LINE_PREFIX,
  isFramingLine,
  isKeyLine,
  parseRowHead,
  findRowValues,
  parseCreateTable,
  tableDependencies,
};
