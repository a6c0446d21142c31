/**
 * Helpers both engines' sessions share for choosing a table's row key and ordering names.
 */
import { EngineError } from '../../errors.js';

/** An index as read from the catalog: its columns in order, and whether it can be a row key. */
export interface CandidateKey {
  readonly columns: string[];
  usable: boolean;
}

/**
 * For each table, the columns of its first usable index, where `indexes` holds each table's
 * indexes in the order the catalog query gave them (the primary key first, then by name).
 * Tables with no usable index are left out.
 */
export function firstUsableKeys(
  indexes: ReadonlyMap<string, ReadonlyMap<string, CandidateKey>>,
): Map<string, string[]> {
  const result = new Map<string, string[]>();
  for (const [table, perTable] of indexes) {
    for (const index of perTable.values()) {
      if (index.usable) {
        result.set(table, index.columns);
        break;
      }
    }
  }
  return result;
}

/** `value` if it is an integer's decimal text; throws otherwise (it goes into SQL unquoted). */
export function integerText(value: string): string {
  if (!/^-?\d+$/.test(value)) throw new EngineError(`not an integer: ${value}`);
  return value;
}

/** Sorts by UTF-16 code units: locale-independent, so every host orders names alike. */
export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
