/**
 * Ranges of an integer key column, the {@link RowRange}s both engines' sessions cut a table
 * into when they cut it by its key (MariaDB always; PostgreSQL before 14, which has no TID
 * range scan).
 */
import { InternalError } from '../../errors.js';
import type { RowRange, TableDescription } from '../engine.js';
import { integerText } from './row-keys.js';

/** Rows whose integer key column is in `[from, to)`; an absent bound is open. Decimal text. */
export interface KeyRange extends RowRange {
  readonly kind: 'key';
  readonly column: string;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
}

/**
 * The column a table is cut by in key ranges: its single-column unique key when that column
 * has one of `integerTypes` (the engine's type names, as {@link ColumnDescription.dataType}
 * gives them); undefined otherwise.
 */
export function integerKeyColumn(
  table: TableDescription,
  integerTypes: ReadonlySet<string>,
): string | undefined {
  const key = table.uniqueKey;
  if (key.length !== 1) return undefined;
  const column = table.columns.find((candidate) => candidate.name === key[0]);
  return column !== undefined && integerTypes.has(column.dataType) ? column.name : undefined;
}

/**
 * `pieces` ranges of `column` of equal width between `bounds.min` and `bounds.max` (decimal
 * text), the first open below and the last open above, so that together they hold every
 * value (one range when `pieces` is 1; ranges of width 1, some empty, when the span is
 * narrower than `pieces`).
 */
export function keyRanges(
  column: string,
  bounds: { readonly min: string; readonly max: string },
  pieces: number,
): KeyRange[] {
  const count = Math.max(1, Math.floor(pieces));
  const low = BigInt(integerText(bounds.min));
  const span = BigInt(integerText(bounds.max)) - low + 1n;
  const step = span / BigInt(count) > 0n ? span / BigInt(count) : 1n;
  const ranges: KeyRange[] = [];
  for (let index = 0; index < count; index += 1) {
    const from = index === 0 ? undefined : String(low + step * BigInt(index));
    const to = index === count - 1 ? undefined : String(low + step * BigInt(index + 1));
    ranges.push({ kind: 'key', column, from, to, description: describeKeyRange(column, from, to) });
  }
  return ranges;
}

/** True for a range that {@link keyRanges} made. */
export function isKeyRange(range: RowRange): range is KeyRange {
  return (range as Partial<KeyRange>).kind === 'key';
}

/**
 * The conditions (joined with AND) that select `range`'s rows, the column named with
 * `quote`; empty for a range open at both ends. Throws InternalError for a range that is not
 * a key range (a bug: one another engine made), EngineError for bounds that are not integers.
 */
export function keyRangeConditions(range: RowRange, quote: (name: string) => string): string[] {
  if (!isKeyRange(range))
    throw new InternalError(`not a range of this engine's making: ${range.description}`);
  const conditions: string[] = [];
  if (range.from !== undefined)
    conditions.push(`${quote(range.column)} >= ${integerText(range.from)}`);
  if (range.to !== undefined) conditions.push(`${quote(range.column)} < ${integerText(range.to)}`);
  return conditions;
}

function describeKeyRange(
  column: string,
  from: string | undefined,
  to: string | undefined,
): string {
  if (from === undefined && to === undefined) return `every ${column}`;
  if (from === undefined) return `${column} < ${to ?? ''}`;
  if (to === undefined) return `${column} >= ${from}`;
  return `${column} >= ${from} and < ${to}`;
}
