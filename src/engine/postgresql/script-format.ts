/** The PostgreSQL script format as it is read back: statements, and what a file may hold. */
import type {
  AdminStatements,
  CheckerOptions,
  DumpScript,
  FileExpectation,
  IndexBuild,
  ObjectDefinition,
  ObjectKind,
  ScriptFormat,
} from '../engine.js';
import { InternalError } from '../../errors.js';
import { commentText } from '../common/comment-lines.js';
import { qualifiedName, quoteName, quoteQualified } from './names.js';
import { PgLexer } from './pg-lexer.js';
import { postgresqlDialect } from './postgresql-dialect.js';
import { readPsqlScript } from './script-reader.js';
import { quoteString } from './value-literals.js';
import { PgDumpGuard } from './dump-guard.js';
import { PgStatementGuard, RESET_SETTINGS } from './statement-guard.js';
import {
  findRowValues,
  isFramingLine,
  isKeyLine,
  parseCreateTable,
  parseRowHead,
  ROW_LINE_PREFIX,
} from './table-file-lines.js';

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
    if (!skipCreateTableName(lexer)) return undefined;
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

/**
 * Every `schema.name` a CREATE TABLE names (a column's type, the type of a typed table, a
 * function a default calls, a parent), as carried names; undefined for any other statement.
 * A name after `(…).` is a field, not an object, and is left out.
 */
function tableNeeds(sql: string): readonly string[] | undefined {
  const lexer = new PgLexer(sql);
  try {
    if (!skipCreateTableName(lexer)) return undefined;
    const names = new Set<string>();
    let previous: string | undefined;
    let afterDot = false;
    for (let type = lexer.type; type !== 'end'; type = lexer.next()) {
      if (type === 'word' || type === 'identifier') {
        if (afterDot && previous !== undefined) names.add(qualifiedName(previous, lexer.name()));
        previous = afterDot ? undefined : lexer.name();
        afterDot = false;
      } else {
        afterDot = lexer.is('.') && previous !== undefined;
        if (!afterDot) previous = undefined;
      }
    }
    return [...names];
  } catch {
    return [];
  }
}

/**
 * Moves the lexer past `CREATE [UNLOGGED] TABLE name`; false when the statement is something
 * else. A malformed name throws, as readName does.
 */
function skipCreateTableName(lexer: PgLexer): boolean {
  if (lexer.next() !== 'word' || lexer.keyword() !== 'create') return false;
  lexer.next();
  if (lexer.keyword() === 'unlogged') lexer.next();
  if (lexer.keyword() !== 'table') return false;
  lexer.next();
  readName(lexer);
  return true;
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

/** Kinds whose drop takes what depends on them along (see dropObject). */
const CASCADED_KINDS: ReadonlySet<ObjectKind> = new Set([
  'table',
  'view',
  'materialized-view',
  'type',
  'domain',
]);

/** The keyword of each kind in DROP, for the kinds a statement of their own drops. */
const DROP_KEYWORD: Readonly<Partial<Record<ObjectKind, string>>> = {
  extension: 'EXTENSION',
  schema: 'SCHEMA',
  type: 'TYPE',
  domain: 'DOMAIN',
  function: 'FUNCTION',
  procedure: 'PROCEDURE',
  sequence: 'SEQUENCE',
  table: 'TABLE',
  view: 'VIEW',
  'materialized-view': 'MATERIALIZED VIEW',
};

/**
 * An object's name as DROP writes it: an extension or schema whole, a routine with its
 * argument types (`schema.name(args)`), a trigger or policy (`schema.table.name`) by its
 * name ON its table (a table name with a dot cannot be told apart: the last dot splits).
 */
function dropTarget(kind: ObjectKind, name: string): string {
  if (kind === 'extension' || kind === 'schema') return quoteName(name);
  if (kind === 'function' || kind === 'procedure') {
    const paren = name.indexOf('(');
    return paren === -1
      ? quoteQualified(name)
      : `${quoteQualified(name.slice(0, paren))}${name.slice(paren)}`;
  }
  if (kind === 'trigger' || kind === 'policy') {
    const dot = name.lastIndexOf('.');
    return `${quoteName(name.slice(dot + 1))} ON ${quoteQualified(name.slice(0, dot))}`;
  }
  // A name without a schema (the incomplete marker's) is in public, as tableNamed says.
  return quoteQualified(name);
}

/**
 * The statement that drops object `name` of `kind` (CASCADE: with what depends on it). A
 * table's foreign keys (`foreign-keys`, named as their table) are its FOREIGN KEY
 * constraints, dropped by a DO block, as their names are not in the inventory; its
 * row-level security (`row-security`) is turned off.
 */
function dropStatement(
  kind: ObjectKind,
  name: string,
  ifExists: boolean,
  cascade: boolean,
): string {
  if (kind === 'row-security')
    return `ALTER TABLE${ifExists ? ' IF EXISTS' : ''} ${quoteQualified(name)} NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY`;
  if (kind === 'foreign-keys') {
    const table = quoteString(quoteQualified(name));
    const tag = dollarTag(table);
    return `DO ${tag}DECLARE r record; BEGIN
  FOR r IN SELECT conrelid::pg_catalog.regclass AS tbl, conname FROM pg_catalog.pg_constraint
    WHERE contype = 'f' AND conrelid = ${ifExists ? `pg_catalog.to_regclass(${table})` : `${table}::pg_catalog.regclass`} LOOP
    EXECUTE pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.conname);
  END LOOP;
END ${tag}`;
  }
  const keyword =
    DROP_KEYWORD[kind] ??
    (kind === 'trigger' ? 'TRIGGER' : kind === 'policy' ? 'POLICY' : undefined);
  if (keyword === undefined) throw new InternalError(`PostgreSQL has no ${kind} to drop`);
  return `DROP ${keyword}${ifExists ? ' IF EXISTS' : ''} ${dropTarget(kind, name)}${cascade ? ' CASCADE' : ''}`;
}

/** A dollar-quote tag that does not occur in `text`. */
function dollarTag(text: string): string {
  let tag = '$do$';
  for (let index = 1; text.includes(tag); index += 1) tag = `$do${String(index)}$`;
  return tag;
}

/** Kinds a dump file drops before creating (a load with --force replaces them). */
const REPLACED_KINDS: ReadonlySet<ObjectKind> = new Set([
  'type',
  'domain',
  'function',
  'procedure',
  'sequence',
  'table',
  'view',
  'materialized-view',
]);

/** An identifier that pg_get_viewdef writes without quotes (a keyword aside). */
const PLAIN_IDENTIFIER = /^[a-z_][a-z0-9_$]*$/;

/**
 * Whether a view's definition (`sql`, as pg_get_viewdef writes it under an empty
 * search_path: every name qualified, quoted where needed) names relation `name`
 * (`schema.name`). A false match only moves a view later.
 */
function mentions(sql: string, name: string): boolean {
  const dot = name.indexOf('.');
  const parts = [name.slice(0, dot), name.slice(dot + 1)];
  const written = [
    parts.map((part) => quoteName(part)).join('.'),
    parts.map((part) => (PLAIN_IDENTIFIER.test(part) ? part : quoteName(part))).join('.'),
  ];
  return written.some((text) => {
    for (let at = sql.indexOf(text); at !== -1; at = sql.indexOf(text, at + 1)) {
      const next = sql.charAt(at + text.length);
      if (!/[A-Za-z0-9_$]/.test(next) && !/[A-Za-z0-9_$."]/.test(sql.charAt(at - 1))) return true;
    }
    return false;
  });
}

/** `ALTER TABLE [ONLY] t ADD CONSTRAINT c CHECK (…)`, as definitions.ts writes it. */
const CHECK_CONSTRAINT =
  /^ALTER TABLE (?:ONLY )?(?:"(?:[^"]|"")*"\.)?"(?:[^"]|"")*" ADD CONSTRAINT "(?:[^"]|"")*" CHECK \(/;

/**
 * A table's `after` statement that a dump runs right after its CREATE, before its rows: a
 * CHECK constraint, which a table inheriting from it (created later) must copy, and which a
 * row passes anyway; not one NOT VALID, which older rows may break.
 */
function isBeforeRows(statement: string): boolean {
  return CHECK_CONSTRAINT.test(statement) && !/\bNOT VALID$/.test(statement);
}

function statementLines(statements: readonly string[]): string {
  return statements.map((statement) => `${statement};\n`).join('');
}

/**
 * How a PostgreSQL dump file is written, for psql and `load` alike: one database (psql
 * cannot switch databases between statements); each object replaced (DROP … IF EXISTS …
 * CASCADE, then its CREATE), except extensions and schemas (CREATE … IF NOT EXISTS) and the
 * objects of a table, which go with it; a materialized view filled (REFRESH) once created.
 */
const postgresqlDumpScript: DumpScript = {
  preamble: postgresqlDialect.scriptPreamble.map((statement) => `${statement};`).join('\n'),
  useDatabase: undefined,
  replaceStructure(definition: ObjectDefinition): string {
    const after = definition.after ?? [];
    return statementLines([
      dropStatement(definition.kind, definition.name, true, true),
      definition.sql,
      ...(definition.kind === 'table' ? after.filter(isBeforeRows) : after),
    ]);
  },
  afterRows: (definition: ObjectDefinition) =>
    (definition.after ?? []).filter((statement) => !isBeforeRows(statement)),
  replayableObject(definition: ObjectDefinition): string {
    const statements: string[] = [];
    if (REPLACED_KINDS.has(definition.kind))
      statements.push(dropStatement(definition.kind, definition.name, true, true));
    statements.push(definition.sql, ...(definition.after ?? []));
    if (definition.kind === 'materialized-view')
      statements.push(`REFRESH MATERIALIZED VIEW ${quoteQualified(definition.name)}`);
    return statementLines(statements);
  },
  mentions,
  // A table's indexes and constraints are its `after` statements, written after its rows.
  deferSecondaryKeys: () => undefined,
  // Foreign keys are objects of their own (`foreign-keys`), created after every table's rows.
  referencedTables: () => new Set<string>(),
};

/** PostgreSQL error codes of a statement the server rolled back whole: safe to run again. */
const ROLLED_BACK_WHOLE = new Set(['40001', '40P01', '55P03']);

/**
 * The index a statement builds, alone: `CREATE [UNIQUE] INDEX … ON [ONLY] t` (SHARE lock:
 * other index builds of t may run with it), `ALTER TABLE [ONLY] t ADD CONSTRAINT … PRIMARY
 * KEY|UNIQUE` (ACCESS EXCLUSIVE: alone on t); undefined for any other statement. Such a
 * constraint of a plain key on a table that is not partitioned is split (see
 * {@link IndexBuild.split}): its unique index is built beside the table's other indexes, as
 * the one core the constraint kept busy alone (0.55 s of the bench's `events`) left the
 * other connection idle.
 */
function indexBuild(sql: string): IndexBuild | undefined {
  let lexer = new PgLexer(sql);
  try {
    if (lexer.next() !== 'word') return undefined;
    if (lexer.keyword() === 'create') {
      lexer.next();
      if (lexer.keyword() === 'unique') lexer.next();
      if (lexer.keyword() !== 'index') return undefined;
      lexer.next();
      readName(lexer);
      if (lexer.keyword() !== 'on') return undefined;
      lexer.next();
      if (lexer.keyword() === 'only') lexer.next();
      const table = readName(lexer);
      return (lexer.keyword() === 'using' || lexer.is('(')) && oneStatement(lexer)
        ? { table, sharesTable: true }
        : undefined;
    }
    if (lexer.keyword() !== 'alter') return undefined;
    lexer.next();
    if (lexer.keyword() !== 'table') return undefined;
    lexer.next();
    const only = lexer.keyword() === 'only';
    if (only) lexer.next();
    const tableStart = lexer.start;
    const table = readName(lexer);
    const tableText = lexer.sql.slice(tableStart, lexer.start).trimEnd();
    if (lexer.keyword() !== 'add') return undefined;
    lexer.next();
    if (lexer.keyword() !== 'constraint') return undefined;
    lexer.next();
    const nameStart = lexer.start;
    readName(lexer);
    const nameText = lexer.sql.slice(nameStart, lexer.start).trimEnd();
    const exclusive = { table, sharesTable: false };
    let kind: string;
    if (lexer.keyword() === 'unique') kind = 'UNIQUE';
    else {
      if (lexer.keyword() !== 'primary') return undefined;
      lexer.next();
      if (lexer.keyword() !== 'key') return undefined;
      kind = 'PRIMARY KEY';
    }
    const keyStart = lexer.end;
    lexer.next();
    const columns = plainColumns(lexer);
    // ONLY: a dump writes it for every table but a partitioned one, on which USING INDEX is
    // not supported. A comment inside would end up in the middle of the new statements.
    if (columns !== undefined && only && !nameText.includes('.') && !lexer.sawComment)
      return {
        table,
        sharesTable: false,
        split: {
          build: `CREATE UNIQUE INDEX ${nameText} ON ${tableText} USING btree ${columns}`,
          attach: `ALTER TABLE ONLY ${tableText} ADD CONSTRAINT ${nameText} ${kind} USING INDEX ${nameText}`,
        },
      };
    lexer = new PgLexer(sql, keyStart);
    lexer.next();
    return oneStatement(lexer) ? exclusive : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The text of a key's column list when it is all there is after PRIMARY KEY or UNIQUE, `(a,
 * "b")`, names only: then a unique btree index of those columns, with the defaults
 * everywhere, is what the constraint builds. Undefined for anything else (INCLUDE, WITH,
 * USING INDEX TABLESPACE, NULLS NOT DISTINCT, DEFERRABLE, NOT VALID…), whose statement runs
 * as it is.
 */
function plainColumns(lexer: PgLexer): string | undefined {
  if (!lexer.is('(')) return undefined;
  const start = lexer.start;
  for (;;) {
    if (lexer.next() !== 'word' && lexer.type !== 'identifier') return undefined;
    lexer.next();
    if (lexer.is(')')) break;
    if (!lexer.is(',')) return undefined;
  }
  const end = lexer.end;
  return lexer.next() === 'end' ? lexer.sql.slice(start, end) : undefined;
}

/** True when no `;` follows in `lexer`'s text (outside quotes): it holds one statement. */
function oneStatement(lexer: PgLexer): boolean {
  for (let type = lexer.type; type !== 'end'; type = lexer.next()) if (lexer.is(';')) return false;
  return true;
}

const postgresqlAdminStatements: AdminStatements = {
  indexBuild,
  createDatabase: (name: string) =>
    `CREATE DATABASE ${quoteName(name)} ENCODING 'UTF8' TEMPLATE template0`,
  // Not the user's default database, which may not exist (a role `backup` has none).
  adminDatabase: 'postgres',
  systemDatabases: ['template0', 'template1'],
  newDatabaseObjects: [
    { kind: 'extension', name: 'plpgsql' },
    { kind: 'schema', name: 'public' },
  ],
  dropDatabase: (name: string) => `DROP DATABASE IF EXISTS ${quoteName(name)}`,
  // A session cannot change its database: the statement checks that it is connected to it.
  useDatabase(name: string): string {
    const message = quoteString(`this session is not connected to database ${name}`);
    const body = `BEGIN IF pg_catalog.current_database() <> ${quoteString(name)} THEN RAISE EXCEPTION ${quoteString('%')}, ${message}; END IF; END`;
    const tag = dollarTag(body);
    return `DO ${tag}${body}${tag}`;
  },
  dropObject(_database, kind, name, ifExists) {
    // A schema or an extension stays while anything else uses it: objects a snapshot leaves
    // out may be in it, and its file creates it only when missing.
    if (kind === 'schema' || kind === 'extension') {
      const body = `BEGIN ${dropStatement(kind, name, ifExists, false)}; EXCEPTION WHEN dependent_objects_still_exist THEN NULL; END`;
      const tag = dollarTag(body);
      return `DO ${tag}${body}${tag}`;
    }
    // restore --force drops what a snapshot creates: with what depends on it (another table's
    // foreign keys, a partition, a view of a view, a domain of a type), which it re-creates.
    return dropStatement(kind, name, ifExists, CASCADED_KINDS.has(kind));
  },
  // TODO(#16): PostgreSQL has no session switch for foreign key checks; the restore order
  // (foreign keys after every table's rows) makes it unneeded. A no-op setting for now.
  foreignKeyChecksOff: "SET client_min_messages = 'warning'",
  markerStatements(_database, table, note) {
    const target = quoteQualified(table);
    return [
      `DROP TABLE IF EXISTS ${target}`,
      `CREATE TABLE ${target} (note text NOT NULL)`,
      `INSERT INTO ${target} (note) VALUES (${quoteString(note.slice(0, 2000))})`,
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
  // The server quotes the value it could not take at the end of its message (`invalid input
  // syntax for type integer: "x"`), before the condition the driver error adds, if any.
  withoutStatementText: (message: string) =>
    message.replace(/: ".*"(?= \([0-9A-Za-z_]+\)$|$)/s, ''),
};

export const postgresqlScriptFormat: ScriptFormat = {
  readStatements: readPsqlScript,
  // The server's own maintenance_work_mem for the index builds, as pg_restore keeps it: a
  // load that raised it to 256 MB built the bench's indexes slower (bench/README.md).
  sessionReset: `SELECT ${RESET_SETTINGS.map(
    ([name, value]) => `pg_catalog.set_config(${quoteString(name)}, ${quoteString(value)}, false)`,
  ).join(', ')}`,
  checker: (expected: FileExpectation, options?: CheckerOptions) =>
    expected.kind === 'dump'
      ? new PgDumpGuard(expected, tableDependencies, options)
      : new PgStatementGuard(expected, 'a snapshot', options),
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
  tableNeeds,
};
