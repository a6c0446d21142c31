/**
 * Tables whose rows a snapshot reads but whose storage engine has no MVCC read view (Aria,
 * MyISAM, MEMORY, CSV…): their rows are read as they are at the moment they are read, not
 * at the snapshot's one consistent instant, so `check` and `snapshot` warn about them.
 */
import type { TableSizeEstimate } from '../engine/engine.js';
import { printable } from '../support/printable.js';
import type { SnapshotPlan } from './plan-snapshot.js';

/**
 * Storage engines (lower case) whose reads in a consistent-snapshot transaction all see its
 * instant. InnoDB is MariaDB's and MySQL's one such engine in common use (RocksDB too, when
 * the plugin is installed).
 */
const TRANSACTIONAL_ENGINES: ReadonlySet<string> = new Set(['innodb', 'rocksdb']);

/** A table whose rows are not read at the snapshot's instant. */
export interface NonTransactionalTable {
  readonly name: string;
  /** The storage engine as the server names it, e.g. `Aria`. */
  readonly engine: string;
}

/**
 * The tables of `plan` whose rows the snapshot reads (global rows into git, local rows into
 * the user-data copy) and whose engine in `sizes` is not transactional, in the plan's order.
 * Tables missing from `sizes`, or with no engine there, are left out.
 */
export function listNonTransactionalTables(
  plan: SnapshotPlan,
  sizes: ReadonlyMap<string, TableSizeEstimate>,
): NonTransactionalTable[] {
  return plan.tables.flatMap((table) => {
    const engine = sizes.get(table.name)?.engine ?? '';
    return table.rows !== 'none' &&
      engine !== '' &&
      !TRANSACTIONAL_ENGINES.has(engine.toLowerCase())
      ? [{ name: table.name, engine }]
      : [];
  });
}

/** The warning for `tables` (not empty), e.g. `… not at the snapshot's instant: a (Aria), b (MyISAM)`. */
export function nonTransactionalWarning(tables: readonly NonTransactionalTable[]): string {
  return `not transactional, so their rows are not read at the snapshot's one instant: ${tables
    .map((table) => `${printable(table.name)} (${table.engine})`)
    .join(', ')}`;
}
