/**
 * The definition and rows of each planned table, in plan order, in as few round trips as the
 * session allows: a session with {@link Session.readTables} reads many tables per query
 * (a snapshot of 1,000 small tables was two round trips per table, most of its time).
 */
import type {
  ObjectDefinition,
  RowLineChunk,
  RowLiterals,
  Session,
  TableDescription,
  TableReadRequest,
} from '../engine/engine.js';
import { UsageError } from '../errors.js';
import { prefetch } from '../support/concurrency.js';
import type { PlannedTable } from './plan-snapshot.js';

export interface TableInHand {
  readonly table: PlannedTable;
  readonly description: TableDescription;
  readonly definition: ObjectDefinition;
  /** The rows when the table's rows go to git, else none. Read them before the next table. */
  readonly rows: AsyncIterable<readonly RowLiterals[]>;
  /** The rows as row lines instead, when the session gave them so (`rows` is then empty). */
  readonly lines?: AsyncIterable<RowLineChunk> | undefined;
}

/**
 * Yields each of `tables` with its definition and, for tables whose rows go to git, its rows.
 * A table for which `readsAlone` is true is read on its own, between the groups, so that the
 * caller may run more reads of it on the session (the rows of a local table for the user-data
 * copy). Each yielded table must be done with before the next is asked for.
 */
export async function* readPlannedTables(
  session: Session,
  database: string,
  tables: readonly PlannedTable[],
  descriptions: ReadonlyMap<string, TableDescription>,
  readsAlone: (table: PlannedTable) => boolean,
): AsyncIterable<TableInHand> {
  const describe = (table: PlannedTable): TableDescription => {
    const description = descriptions.get(table.name);
    if (description === undefined)
      throw new UsageError(`table ${table.name} disappeared while the snapshot was read`);
    return description;
  };
  let group: PlannedTable[] = [];
  for (const table of tables) {
    if (!readsAlone(table)) {
      group.push(table);
      continue;
    }
    yield* readGroup(session, database, group, describe);
    group = [];
    yield* readGroup(session, database, [table], describe, { alone: true });
  }
  yield* readGroup(session, database, group, describe);
}

async function* readGroup(
  session: Session,
  database: string,
  tables: readonly PlannedTable[],
  describe: (table: PlannedTable) => TableDescription,
  { alone = false } = {},
): AsyncIterable<TableInHand> {
  if (tables.length === 0) return;
  const descriptions = tables.map(describe);
  // A table read alone is read with the plain calls: no query of the group is left open
  // while the caller reads the table again.
  if (session.readTables === undefined || alone) {
    // SHOW CREATE of the next tables is queued while this one is rendered, so the server
    // works while Node does (one connection, one transaction: queries still run in order).
    const definitions = prefetch(tables, (table) =>
      session.showCreate(database, 'table', table.name),
    );
    for (const [index, table] of tables.entries()) {
      const description = descriptions[index] as TableDescription;
      const definition = await definitions.get(index);
      yield {
        table,
        description,
        definition,
        rows: table.rows === 'git' ? session.readRowBatches(database, description) : noRows(),
      };
    }
    return;
  }
  const requests: TableReadRequest[] = tables.map((table, index) => ({
    name: table.name,
    // Rows for git go into the file as the session's row lines: no literals in between.
    ...(table.rows === 'git' ? { rows: descriptions[index], asLines: true } : {}),
  }));
  let index = 0;
  for await (const read of session.readTables(database, requests)) {
    const table = tables[index] as PlannedTable;
    yield {
      table,
      description: descriptions[index] as TableDescription,
      definition: read.definition,
      rows: read.rows,
      lines: read.lines,
    };
    index += 1;
  }
}

async function* noRows(): AsyncIterable<readonly RowLiterals[]> {
  // A table whose rows are not in git.
}
