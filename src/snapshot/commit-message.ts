/** The commit message of a snapshot: a subject that counts, then one line per kind of change. */
import { formatRowChanges } from '../diff/count-row-changes.js';

export interface ObjectChange {
  readonly kind: string;
  readonly name: string;
  readonly change: 'added' | 'removed' | 'changed';
  readonly structureChanged: boolean;
  readonly rowsAdded: number;
  readonly rowsRemoved: number;
  /** Rows whose key stayed and whose values changed. */
  readonly rowsChanged: number;
  /** False when the rows were too many to compare one by one. */
  readonly rowsCounted?: boolean | undefined;
}

/** The snapshot's file format changed from `from` to `to` (the manifest's format numbers). */
export interface FormatChange {
  readonly from: number;
  readonly to: number;
  /** What the new format writes differently, e.g. `a table's rows load in one transaction`. */
  readonly what: string;
}

/**
 * e.g. `snapshot db1: 1 table added, rows +3 -1 ~2 in 2 tables` and a body naming them; rows
 * are counted as `diff` and `log` count them (countRowChanges). An
 * empty list (git saw changes this run did not make, e.g. left by a run that stopped before
 * committing) gives a subject that says so. With `formatChange`, the first snapshot in a new
 * file format: the subject says so first, and tables whose files changed but not their
 * structure or row counts are not listed (the new format rewrote them all).
 */
export function composeCommitMessage(
  host: string,
  database: string,
  changes: readonly ObjectChange[],
  formatChange?: FormatChange,
): string {
  const format =
    formatChange === undefined
      ? undefined
      : `file format ${String(formatChange.from)} -> ${String(formatChange.to)}`;
  const formatBody =
    format === undefined
      ? []
      : [
          `File format: ${String(formatChange?.from)} -> ${String(formatChange?.to)}. This version writes the files anew (${formatChange?.what ?? ''}): tables whose structure and row counts stayed the same are not listed.`,
        ];
  if (changes.length === 0)
    return format === undefined
      ? `snapshot ${host}: changes left by an earlier run\n\nDatabase: ${database}\n`
      : `snapshot ${host}: ${format}\n\n${[`Database: ${database}`, '', ...formatBody].join('\n')}\n`;
  const tables = changes.filter((change) => change.kind === 'table');
  const others = changes.filter((change) => change.kind !== 'table');
  const names = (list: readonly ObjectChange[]): string =>
    list.map((change) => change.name).join(', ');
  const count = (n: number, what: string): string => `${String(n)} ${what}${n === 1 ? '' : 's'}`;

  const added = tables.filter((change) => change.change === 'added');
  const removed = tables.filter((change) => change.change === 'removed');
  const structure = tables.filter(
    (change) => change.change === 'changed' && change.structureChanged,
  );
  const rows = tables.filter((change) => change.change === 'changed' && hasRowChanges(change));
  const unchangedCounts = (change: ObjectChange): boolean =>
    change.change === 'changed' && !change.structureChanged && !hasRowChanges(change);
  // Changed bytes with the same structure and the same rows: rows in another order. Where the
  // rows were too many to compare, only that some changed is known.
  const reordered = tables.filter(
    (change) => unchangedCounts(change) && change.rowsCounted !== false && format === undefined,
  );
  const uncounted = tables.filter(
    (change) => unchangedCounts(change) && change.rowsCounted === false && format === undefined,
  );
  const rowTotals = {
    added: rows.reduce((sum, change) => sum + change.rowsAdded, 0),
    removed: rows.reduce((sum, change) => sum + change.rowsRemoved, 0),
    changed: rows.reduce((sum, change) => sum + change.rowsChanged, 0),
  };

  const parts: string[] = format === undefined ? [] : [format];
  if (added.length > 0) parts.push(`${count(added.length, 'table')} added`);
  if (removed.length > 0) parts.push(`${count(removed.length, 'table')} removed`);
  if (structure.length > 0) parts.push(`${count(structure.length, 'structure')} changed`);
  if (rows.length > 0)
    parts.push(`rows ${formatRowChanges(rowTotals)} in ${count(rows.length, 'table')}`);
  if (uncounted.length > 0)
    parts.push(`rows changed in ${count(uncounted.length, 'table')} (too many to count)`);
  if (reordered.length > 0) parts.push(`rows reordered in ${count(reordered.length, 'table')}`);
  if (others.length > 0) parts.push(`${count(others.length, 'other object')} changed`);

  const body: string[] = [`Database: ${database}`, '', ...formatBody];
  if (added.length > 0) body.push(`Tables added: ${names(added)}`);
  if (removed.length > 0) body.push(`Tables removed: ${names(removed)}`);
  if (structure.length > 0) body.push(`Structure changed: ${names(structure)}`);
  if (rows.length > 0) {
    body.push(
      `Rows changed: ${rows.map((change) => `${change.name} (${formatRowChanges(rowCounts(change))})`).join(', ')}`,
    );
  }
  if (uncounted.length > 0) body.push(`Rows changed (too many to count): ${names(uncounted)}`);
  if (reordered.length > 0) body.push(`Rows reordered: ${names(reordered)}`);
  for (const change of others)
    body.push(`${capitalize(change.kind)} ${change.change}: ${change.name}`);
  return `snapshot ${host}: ${parts.join(', ')}\n\n${body.join('\n')}\n`;
}

function hasRowChanges(change: ObjectChange): boolean {
  return change.rowsAdded > 0 || change.rowsRemoved > 0 || change.rowsChanged > 0;
}

function rowCounts(change: ObjectChange): { added: number; removed: number; changed: number } {
  return { added: change.rowsAdded, removed: change.rowsRemoved, changed: change.rowsChanged };
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
