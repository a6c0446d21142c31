/**
 * SQL text as psql reads it, for the files snapshots and dumps write of a PostgreSQL
 * database. Names are carried as `schema.name` (see names.ts); identifiers are always quoted.
 */
import type {
  CreationContext,
  ObjectDefinition,
  RowLiterals,
  SequenceState,
  SqlDialect,
} from '../engine.js';
import { InternalError } from '../../errors.js';
import { commentLine } from '../common/comment-lines.js';
import { quoteName, quoteQualified } from './names.js';
import { quoteString } from './value-literals.js';

/**
 * Statements that put a psql session into the state our files assume (as pg_dump's
 * preamble): UTF-8 text, standard strings, no search path (every name is qualified), UTC,
 * function bodies not checked while their tables may not exist yet.
 */
const PREAMBLE: readonly string[] = [
  "SET client_encoding = 'UTF8'",
  'SET standard_conforming_strings = on',
  "SET search_path = ''",
  "SET timezone = 'UTC'",
  "SET datestyle = 'ISO, YMD'",
  "SET intervalstyle = 'postgres'",
  // money values are written as read: under the C locale's currency (see value-literals.ts).
  "SET lc_monetary = 'C'",
  'SET check_function_bodies = false',
  "SET xmloption = 'content'",
  'SET client_min_messages = warning',
  'SET row_security = off',
  'SET statement_timeout = 0',
  'SET lock_timeout = 0',
  'SET idle_in_transaction_session_timeout = 0',
];

const NO_CONTEXT: CreationContext = { before: [], after: [], notes: [] };

/**
 * The head of an INSERT of `columns` into `table`. OVERRIDING SYSTEM VALUE: the stored
 * value of an identity column GENERATED ALWAYS is inserted, not a new one (on a table
 * without such a column the clause changes nothing).
 */
function insertHead(table: string, columns: readonly string[]): string {
  return `INSERT INTO ${quoteQualified(table)} (${columns.map(quoteName).join(', ')}) OVERRIDING SYSTEM VALUE VALUES `;
}

export const postgresqlDialect: SqlDialect = {
  quoteIdentifier: quoteQualified,
  // Extensions and schemas are in no schema: their name is one identifier.
  quoteObjectName: (kind, name) =>
    kind === 'extension' || kind === 'schema' ? quoteName(name) : quoteQualified(name),
  quoteString,
  statementLine: (sql: string) => `${sql};\n`,
  comment: commentLine,
  scriptPreamble: PREAMBLE,
  creationContext: () => NO_CONTEXT,
  // A database's encoding and collation are chosen by CREATE DATABASE and never altered.
  databaseDefaultsStatement: () => undefined,
  insertStatement(table: string, columns: readonly string[], rows: readonly RowLiterals[]): string {
    return `${insertHead(table, columns)}${rows.map((row) => `(${row.join(', ')})`).join(', ')}`;
  },
  rowLineWriter(table: string, columns: readonly string[]): (row: RowLiterals) => string {
    // A table without a column to insert (none, or only generated ones) still has rows.
    if (columns.length === 0) {
      const line = `INSERT INTO ${quoteQualified(table)} DEFAULT VALUES;\n`;
      return () => line;
    }
    const head = insertHead(table, columns);
    return (row) => `${head}(${row.join(', ')});\n`;
  },
  sequenceStateStatement(name: string, state: SequenceState): string {
    if (!/^-?\d+$/.test(state.next))
      throw new InternalError(`sequence state is not an integer: ${state.next}`);
    // setval(seq, n, false): the next nextval() gives n. pg_dump's form; psql prints its row.
    const called = state.exhausted === true ? 'true' : 'false';
    return `SELECT pg_catalog.setval(${quoteString(quoteQualified(name))}, ${state.next}, ${called})`;
  },
  rowsTransaction: { begin: 'BEGIN', end: 'COMMIT' },
  disableEventStatement(name: string): string {
    throw new InternalError(`PostgreSQL has no events (asked to disable ${name})`);
  },
  // psql needs no delimiter: routine bodies are dollar-quoted.
  delimitedStatement: (sql: string) => `${sql};`,
  replayableLines(definition: ObjectDefinition): readonly string[] {
    return [`${definition.sql};`];
  },
  // A PostgreSQL CREATE names no definer (the owner is a separate ALTER ... OWNER TO).
  withoutDefiner: (statement: string) => statement,
};
