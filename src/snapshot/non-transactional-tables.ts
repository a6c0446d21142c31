/**
 * Tables whose rows a snapshot reads but whose storage engine has no MVCC read view (Aria,
 * MyISAM, MEMORY, CSV…): their rows are read as they are at the moment they are read, not
 * at the snapshot's one consistent instant, so `check` and `snapshot` warn about them.
 */
import type { TableSizeEstimate } from '../engine/engine.js';
import { printable } from '../support/printable.js';
import type { SnapshotPlan } from './plan-snapshot.js';

/** A table whose rows are not read at the snapshot's instant. */
export interface NonTransactionalTable {
  readonly name: string;
  /** The storage engine as the server names it, e.g. `Aria`. */
  readonly engine: string;
}

/**
 * The tables of `plan` whose rows the snapshot reads (global rows into git, local rows into
 * the user-data copy) and whose engine in `sizes` is not transactional, in the plan's order.
 * Tables missing from `sizes` are left out.
 */
export function listNonTransactionalTables(
  plan: SnapshotPlan,
  sizes: ReadonlyMap<string, TableSizeEstimate>,
): NonTransactionalTable[] {
  return plan.tables.flatMap((table) => {
    const estimate = sizes.get(table.name);
    return table.rows !== 'none' && estimate !== undefined && !estimate.transactional
      ? [{ name: table.name, engine: estimate.engine }]
      : [];
  });
}

/** The warning for `tables` (not empty), e.g. `… not at the snapshot's instant: a (Aria), b (MyISAM)`. */
export function nonTransactionalWarning(tables: readonly NonTransactionalTable[]): string {
  return `not transactional, so their rows are not read at the snapshot's one instant: ${tables
    .map((table) => `${printable(table.name)} (${table.engine})`)
    .join(', ')}`;
}
