/**
 * Rows as COPY's text format, the form pg_dump's plain format moves them in: a dump writes
 * each table's rows as `COPY "schema"."table" ("a", "b") FROM stdin;`, then one line a row
 * (values separated by tabs, `\N` for NULL, backslash escapes for a backslash and control
 * characters), then a line `\.`. psql loads that, and so does `load`, which streams the lines
 * to the server as COPY data.
 *
 * A loaded dump is not trusted: {@link CopyDataChecker} lets a COPY through only in the form a
 * dump writes, into a table the dump itself created, and checks its data while it streams
 * (each line has exactly one field a column, only the escapes COPY TO writes, the `\.` line
 * ends it), so that data cannot go anywhere else, nor a line be anything but a row.
 */
import { UnexpectedStatementError } from '../../errors.js';
import type { DataChecker } from '../engine.js';
import { qualifiedName, quoteName, quoteQualified } from './names.js';
import { parseCreateTable } from './table-file-lines.js';

/** The statement (without `;`) that heads a table's COPY data in a dump. */
export function copyStatement(table: string, columns: readonly string[]): string {
  return `COPY ${quoteQualified(table)} (${columns.map(quoteName).join(', ')}) FROM stdin`;
}

/** The line that ends COPY data. */
export const COPY_DATA_END = '\\.\n';

const QUOTED = '"((?:[^"]|"")*)"';
const COPY_HEAD = new RegExp(
  `^COPY ${QUOTED}\\.${QUOTED} \\(((?:${QUOTED}, )*${QUOTED})\\) FROM stdin$`,
);
const CREATE_HEAD = new RegExp(`^CREATE (?:UNLOGGED )?TABLE ${QUOTED}\\.${QUOTED}[ \\n]`);
const QUOTED_GLOBAL = new RegExp(QUOTED, 'g');

function unquoted(text: string): string {
  return text.replace(/""/g, '"');
}

/** The table (carried name) and columns of a COPY in the form {@link copyStatement} writes; undefined for any other text. */
export function parseCopyStatement(
  sql: string,
): { table: string; columns: readonly string[] } | undefined {
  const match = COPY_HEAD.exec(sql);
  if (!match) return undefined;
  const columns = [...(match[3] ?? '').matchAll(QUOTED_GLOBAL)].map((found) =>
    unquoted(found[1] ?? ''),
  );
  return { table: qualifiedName(unquoted(match[1] ?? ''), unquoted(match[2] ?? '')), columns };
}

interface CreatedTable {
  readonly columns: readonly string[];
  readonly parents: readonly string[];
}

/**
 * Checks the COPYs of one load against the tables its dump created: give it every statement
 * the load runs ({@link note}), and each COPY with its data ({@link check}).
 */
export class CopyDataChecker implements DataChecker {
  private readonly created = new Map<string, CreatedTable>();
  private readonly parentsOf: (sql: string) => readonly string[] | undefined;

  /** `parentsOf`: the tables a CREATE TABLE inherits its columns from (a partition's parent). */
  constructor(parentsOf: (sql: string) => readonly string[] | undefined) {
    this.parentsOf = parentsOf;
  }

  /**
   * Records the table a CREATE TABLE of the dump creates, and its columns. Refuses a COPY
   * without data (the reader gives every COPY FROM stdin its data): `FROM PROGRAM`, a file,
   * `TO`, which a dump never holds.
   */
  note(sql: string): void {
    if (/^copy(?![a-z0-9_$])/i.test(sql))
      throw new UnexpectedStatementError(
        `a COPY that is not followed by its data (FROM PROGRAM, a file, TO): not in a dump: ${describeCopy(sql)}`,
      );
    const head = CREATE_HEAD.exec(sql);
    if (!head) return;
    const table = qualifiedName(unquoted(head[1] ?? ''), unquoted(head[2] ?? ''));
    const columns = parseCreateTable(sql)?.columns.map((column) => column.name) ?? [];
    this.created.set(table, { columns, parents: this.parentsOf(sql) ?? [] });
  }

  /**
   * The table of a COPY and its data (the raw lines after it, its `\.` line included) checked
   * as they stream, without the `\.` line. Throws UnexpectedStatementError for a COPY of
   * another form, or into a table the dump did not create, or naming a column it has not;
   * the data throws at its first line out of form.
   */
  check(sql: string, data: AsyncIterable<Buffer>): { table: string; data: AsyncIterable<Buffer> } {
    const target = parseCopyStatement(sql);
    if (target === undefined)
      throw new UnexpectedStatementError(
        `not a COPY as a dump writes it (COPY "schema"."table" ("column", ...) FROM stdin): ${describeCopy(sql)}`,
      );
    const quoted = quoteQualified(target.table);
    if (!this.created.has(target.table))
      throw new UnexpectedStatementError(
        `COPY into ${quoted}, a table the dump did not create before its rows`,
      );
    const known = this.columnsOf(target.table, new Set());
    const seen = new Set<string>();
    for (const column of target.columns) {
      if (seen.has(column) || !known.has(column))
        throw new UnexpectedStatementError(
          `COPY into ${quoted} names column ${quoteName(column)} ${seen.has(column) ? 'twice' : 'that the dump did not create'}`,
        );
      seen.add(column);
    }
    return { table: target.table, data: checkedCopyData(data, target.columns.length, quoted) };
  }

  /** A table's own columns and those it inherits. */
  private columnsOf(table: string, visited: Set<string>): Set<string> {
    const columns = new Set<string>();
    const created = this.created.get(table);
    if (created === undefined || visited.has(table)) return columns;
    visited.add(table);
    for (const column of created.columns) columns.add(column);
    for (const parent of created.parents)
      for (const column of this.columnsOf(parent, visited)) columns.add(column);
    return columns;
  }
}

/** The first words of a statement that is not a COPY as written, for a message (never values). */
function describeCopy(sql: string): string {
  const head = sql.split('\n', 1)[0] ?? '';
  return head.length > 120 ? `${head.slice(0, 120)}...` : head;
}

const TAB = 0x09;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const BACKSLASH = 0x5c;
/** What may follow a backslash in a field: the escapes COPY TO writes (`\N` alone is NULL). */
const ESCAPES = new Uint8Array(256);
for (const char of '\\btnrfv') ESCAPES[char.charCodeAt(0)] = 1;
const NULL_MARK = 0x4e;
/** Bytes that need a look in a line; the rest are skipped fast. */
const SPECIAL = new Uint8Array(256);
for (const byte of [TAB, NEWLINE, CARRIAGE_RETURN, BACKSLASH]) SPECIAL[byte] = 1;

/**
 * `data` (raw lines, the last one `\.`) checked as it streams, in the same chunks, without
 * the `\.` line: each line has exactly `columns` fields (a table of none has no COPY), each
 * field holds only the escapes COPY TO writes and no raw carriage return, and the `\.` line
 * ends the data. Throws UnexpectedStatementError, naming the line (1-based in the data).
 */
export async function* checkedCopyData(
  data: AsyncIterable<Buffer>,
  columns: number,
  table: string,
): AsyncIterable<Buffer> {
  let row = 0;
  let ended = false;
  /** A line whose end is in a later chunk: its fields so far. */
  let fields = 1;
  let fieldStart = true;
  const refuse = (what: string): never => {
    throw new UnexpectedStatementError(
      `COPY data of ${table}, row ${String(row + 1)}: ${what}: not a dump's data`,
    );
  };
  for await (const chunk of data) {
    if (ended) refuse('data after the \\. line');
    // The reader's chunks hold whole lines, and its last one ends with the `\.` line.
    let stop = chunk.length;
    const endAt = chunk.length - COPY_DATA_END.length;
    if (
      endAt >= 0 &&
      (endAt === 0 || chunk[endAt - 1] === NEWLINE) &&
      chunk.toString('latin1', endAt) === COPY_DATA_END
    ) {
      stop = endAt;
      ended = true;
    }
    for (let index = 0; index < stop;) {
      let byte = chunk[index] as number;
      if (SPECIAL[byte] === 0) {
        fieldStart = false;
        do {
          index += 1;
          byte = chunk[index] as number;
        } while (index < stop && SPECIAL[byte] === 0);
      }
      if (index >= stop) break;
      if (byte === TAB) {
        fields += 1;
        fieldStart = true;
        index += 1;
      } else if (byte === NEWLINE) {
        if (fields !== columns)
          refuse(`${String(fields)} fields where the COPY names ${String(columns)} columns`);
        row += 1;
        fields = 1;
        fieldStart = true;
        index += 1;
      } else if (byte === CARRIAGE_RETURN) {
        refuse('a raw carriage return');
      } else {
        const next = chunk[index + 1] ?? -1;
        if (next === NULL_MARK) {
          // `\N` is NULL, the whole field.
          const after = chunk[index + 2] ?? -1;
          if (!fieldStart || (after !== TAB && after !== NEWLINE)) refuse('\\N inside a value');
          index += 2;
          fieldStart = false;
          continue;
        }
        if (next === -1 || ESCAPES[next] !== 1) refuse('a backslash escape COPY does not write');
        fieldStart = false;
        index += 2;
      }
    }
    if (stop > 0) yield stop === chunk.length ? chunk : chunk.subarray(0, stop);
  }
  if (!ended)
    refuse(
      fields === 1 && fieldStart
        ? 'no \\. line ends the data (cut short)'
        : 'a line without its end (cut short)',
    );
}
