/**
 * The text of snapshot files. Deterministic by construction: no dates, no server version,
 * no counters; rows one per line in key order; every file loads on its own with the stock
 * `mariadb` client (`mariadb db < file`).
 */
import {
  insertableColumns,
  type DatabaseDefaults,
  type ObjectDefinition,
  type RowLineChunk,
  type RowLiterals,
  type SequenceState,
  type SqlDialect,
  type TableDescription,
} from '../engine/engine.js';
import { MANIFEST_FORMAT } from './manifest.js';
import type { PlannedTable } from './plan-snapshot.js';

const ROW_NOTE: Readonly<Record<PlannedTable['category'], string>> = {
  global: 'rows: below, one per line, in key order',
  local: 'rows: not here; they are user data, saved encrypted in the user-data copy',
  ephemeral: 'rows: not saved (ephemeral)',
  uncategorized: 'rows: not saved (the config puts this table in no category)',
};

/** A piece of SQL text and how many rows (INSERT lines) it holds. */
export interface SqlChunk {
  readonly text: string;
  readonly rows: number;
}

/** Comment and preamble lines that open every file. */
export function fileHeader(
  dialect: SqlDialect,
  title: string,
  notes: readonly string[] = [],
): string {
  const lines = [
    dialect.comment(`schema_backup: ${title}`),
    ...notes.map((note) => dialect.comment(note)),
  ];
  return `${lines.join('\n')}\n${dialect.scriptPreamble.map((sql) => dialect.statementLine(sql)).join('')}`;
}

/** The structure part of a table file: header, `CREATE TABLE` and the note on rows. */
export const EPHEMERAL_COPY_NOTE =
  'rows: below, one per line, in key order (snapshot -e; never in git)';

export function renderTableHead(
  dialect: SqlDialect,
  table: PlannedTable,
  definition: ObjectDefinition,
  rowNote: string = ROW_NOTE[table.category],
): string {
  return `${fileHeader(dialect, `table ${dialect.quoteIdentifier(table.name)}, category ${table.category}`, [rowNote])}\n${dialect.statementLine(definition.sql)}`;
}

/**
 * What closes a table file, after its rows: the statements that complete the table
 * (PostgreSQL: constraints, indexes, comments, row-level security, sequence ownership;
 * after the rows so that they load fast and unchecked), then the state of its identity
 * sequences, so that new rows do not reuse a stored value. Empty for an engine whose CREATE
 * TABLE says it all (MariaDB): its files are as before.
 */
export function renderTableTail(
  dialect: SqlDialect,
  definition: ObjectDefinition,
  sequenceStates: readonly { readonly name: string; readonly state: SequenceState }[] = [],
): string {
  const statements = [
    ...(definition.after ?? []),
    ...sequenceStates.map(({ name, state }) => dialect.sequenceStateStatement(name, state)),
  ];
  if (statements.length === 0) return '';
  return `\n${statements.map((sql) => dialect.statementLine(sql)).join('')}`;
}

/**
 * Streams the rows part of a table file: `INSERT` lines, one row each, with the column list so
 * invisible columns load too, between the lines that open and commit one transaction (the
 * stock client would otherwise commit every row on its own: minutes instead of a second for
 * 16,000 rows). Nothing at all for a table without rows. The text is the manifest's rows part.
 * `format` 1 (the manifest's format number): without the transaction, as that format was.
 */
export async function* renderRows(
  dialect: SqlDialect,
  description: TableDescription,
  batches: AsyncIterable<readonly RowLiterals[]>,
  format: number = MANIFEST_FORMAT,
): AsyncIterable<SqlChunk> {
  const transaction = format >= 2;
  // The transaction opens after the CREATE TABLE, which would commit it.
  let open = false;
  for await (const chunk of renderInsertLines(dialect, description, batches)) {
    const begin = open
      ? ''
      : transaction
        ? `\n${dialect.statementLine(dialect.rowsTransaction.begin)}`
        : '\n';
    open = true;
    yield { text: begin + chunk.text, rows: chunk.rows };
  }
  if (open && transaction)
    yield { text: dialect.statementLine(dialect.rowsTransaction.end), rows: 0 };
}

/** Row lines as bytes (a session's `TableRead.lines`) and how many rows they hold. */
export interface SqlBytesChunk {
  readonly bytes: Buffer;
  readonly rows: number;
}

/**
 * The rows part of a table file as {@link renderRows} writes it, from row lines the session
 * wrote already: the same bytes, framed by the same transaction lines.
 */
export async function* renderRowLines(
  dialect: SqlDialect,
  lines: AsyncIterable<RowLineChunk>,
  format: number = MANIFEST_FORMAT,
): AsyncIterable<SqlBytesChunk> {
  const transaction = format >= 2;
  let open = false;
  for await (const chunk of lines) {
    if (chunk.rows === 0) continue;
    if (!open) {
      const begin = transaction
        ? `\n${dialect.statementLine(dialect.rowsTransaction.begin)}`
        : '\n';
      yield { bytes: Buffer.from(begin, 'utf8'), rows: 0 };
    }
    open = true;
    yield chunk;
  }
  if (open && transaction)
    yield {
      bytes: Buffer.from(dialect.statementLine(dialect.rowsTransaction.end), 'utf8'),
      rows: 0,
    };
}

/** `INSERT` lines, one row each, in the batches' order. */
async function* renderInsertLines(
  dialect: SqlDialect,
  description: TableDescription,
  batches: AsyncIterable<readonly RowLiterals[]>,
): AsyncIterable<SqlChunk> {
  const columns = insertableColumns(description).map((column) => column.name);
  const rowLine = dialect.rowLineWriter(description.name, columns);
  for await (const batch of batches) {
    if (batch.length === 0) continue;
    let text = '';
    for (const row of batch) text += rowLine(row);
    yield { text, rows: batch.length };
  }
}

/**
 * The plaintext of a user-data file: the preamble and the rows of a local table, as `INSERT`
 * lines of a global table's format, so that `age -d ... | mariadb db` loads them into a
 * database that has the table. No transaction around them: the keyed fingerprints of copies
 * made so far are of this text, and a copy is compared by them.
 */
export async function* renderUserDataRows(
  dialect: SqlDialect,
  description: TableDescription,
  batches: AsyncIterable<readonly RowLiterals[]>,
): AsyncIterable<SqlChunk> {
  yield {
    rows: 0,
    text: fileHeader(
      dialect,
      `rows of table ${dialect.quoteIdentifier(description.name)}, category local`,
      ['load into a database that has the table (its structure is in the git snapshot)'],
    ),
  };
  let first = true;
  for await (const chunk of renderInsertLines(dialect, description, batches)) {
    yield { text: first ? `\n${chunk.text}` : chunk.text, rows: chunk.rows };
    first = false;
  }
}

/**
 * A file for a view, trigger, sequence, routine or event. A sequence's file ends with the
 * statement that sets its `state`, when there is one.
 */
export function renderObjectFile(
  dialect: SqlDialect,
  definition: ObjectDefinition,
  state?: SequenceState,
  format: number = MANIFEST_FORMAT,
): string {
  const onTable =
    definition.table === undefined ? '' : ` on table ${dialect.quoteIdentifier(definition.table)}`;
  const title = `${definition.kind} ${dialect.quoteObjectName(definition.kind, definition.name)}${onTable}`;
  const notes =
    definition.kind === 'trigger'
      ? ['load after the rows of every table, so that loading them fires nothing']
      : state === undefined
        ? []
        : [SEQUENCE_STATE_NOTE];
  const setState =
    state === undefined
      ? ''
      : dialect.statementLine(dialect.sequenceStateStatement(definition.name, state));
  // What completes the object (PostgreSQL: its comments, a table's further foreign keys).
  const after = (definition.after ?? []).map((sql) => dialect.statementLine(sql)).join('');
  return `${fileHeader(dialect, title, notes)}\n${renderReplayable(dialect, definition, format >= 2)}${after}${setState}`;
}

/** Why a sequence's file changes when the sequence moved, and by how much. */
const SEQUENCE_STATE_NOTE =
  'state: its next value not yet cached, so a restore never hands out a value handed out before';

/**
 * One object's statement with the session settings it was created under, and its definer as
 * a comment. `withContext`: with its client character set and collation (format 2 on).
 */
function renderReplayable(
  dialect: SqlDialect,
  definition: ObjectDefinition,
  withContext: boolean,
): string {
  const lines: string[] = [];
  const title = `${definition.kind} ${dialect.quoteObjectName(definition.kind, definition.name)}`;
  lines.push(
    dialect.comment(
      `${title}${definition.definer === undefined ? '' : `, definer ${definition.definer}`}`,
    ),
  );
  lines.push(...dialect.replayableLines(definition, withContext));
  return `${lines.join('\n')}\n`;
}

/**
 * The database defaults file: the database's default character set and collation, as a
 * statement that names no database, so that it loads into whichever one the client uses.
 * Restore runs it first, before any table or routine is created (a routine records the
 * database's collation when it is created).
 */
export function renderDatabaseFile(
  dialect: SqlDialect,
  defaults: DatabaseDefaults,
): string | undefined {
  const statement = dialect.databaseDefaultsStatement(defaults);
  if (statement === undefined) return undefined;
  const header = fileHeader(dialect, 'database defaults', [
    'load first, into the database you restore into',
  ]);
  return `${header}\n${dialect.statementLine(statement)}`;
}
