/**
 * What changed in a table between two snapshot files: columns, keys, constraints and options
 * from the `CREATE TABLE` (rows are counted by count-row-changes.ts). Pure.
 */
import type { ColumnDefinition, TableDefinition } from '../engine/engine.js';

export type ColumnAspect = 'type' | 'nullability' | 'default' | 'charset' | 'other';

export interface ColumnChange {
  readonly name: string;
  readonly from: string;
  readonly to: string;
  readonly aspects: readonly ColumnAspect[];
}

export interface NamedChange {
  readonly name: string;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
}

export interface StructureChange {
  readonly columnsAdded: readonly ColumnDefinition[];
  readonly columnsRemoved: readonly ColumnDefinition[];
  readonly columnsChanged: readonly ColumnChange[];
  /** Same columns, another order. */
  readonly columnsReordered: boolean;
  readonly indexes: readonly NamedChange[];
  readonly foreignKeys: readonly NamedChange[];
  readonly checks: readonly NamedChange[];
  readonly options?: { readonly from: string; readonly to: string } | undefined;
  /** A column that went away and one of the same type that appeared: maybe a rename. */
  readonly renameHints: readonly { readonly from: string; readonly to: string }[];
}

/** The structural difference from `before` to `after`. */
export function compareStructures(
  before: TableDefinition,
  after: TableDefinition,
): StructureChange {
  const oldColumns = new Map(before.columns.map((column) => [column.name, column]));
  const newColumns = new Map(after.columns.map((column) => [column.name, column]));
  const columnsAdded = after.columns.filter((column) => !oldColumns.has(column.name));
  const columnsRemoved = before.columns.filter((column) => !newColumns.has(column.name));
  const columnsChanged: ColumnChange[] = [];
  for (const column of after.columns) {
    const old = oldColumns.get(column.name);
    if (old === undefined || old.definition === column.definition) continue;
    const aspects: ColumnAspect[] = [];
    if (old.type !== column.type) aspects.push('type');
    if (old.nullable !== column.nullable) aspects.push('nullability');
    if (old.default !== column.default) aspects.push('default');
    if (old.charset !== column.charset) aspects.push('charset');
    if (aspects.length === 0) aspects.push('other');
    columnsChanged.push({
      name: column.name,
      from: old.definition,
      to: column.definition,
      aspects,
    });
  }
  const kept = (
    list: readonly ColumnDefinition[],
    other: ReadonlyMap<string, ColumnDefinition>,
  ): string[] => list.filter((column) => other.has(column.name)).map((column) => column.name);
  const columnsReordered =
    kept(before.columns, newColumns).join('\0') !== kept(after.columns, oldColumns).join('\0');
  const renameHints: { from: string; to: string }[] = [];
  const candidates = [...columnsAdded];
  for (const removed of columnsRemoved) {
    const index = candidates.findIndex((added) => added.type === removed.type);
    if (index === -1) continue;
    renameHints.push({ from: removed.name, to: candidates[index]?.name ?? '' });
    candidates.splice(index, 1);
  }
  return {
    columnsAdded,
    columnsRemoved,
    columnsChanged,
    columnsReordered,
    indexes: compareNamed(before.indexes, after.indexes),
    foreignKeys: compareNamed(before.foreignKeys, after.foreignKeys),
    checks: compareNamed(before.checks, after.checks),
    options:
      before.options === after.options ? undefined : { from: before.options, to: after.options },
    renameHints,
  };
}

/** True when nothing in the structure changed. */
export function isStructureUnchanged(change: StructureChange): boolean {
  return (
    change.columnsAdded.length === 0 &&
    change.columnsRemoved.length === 0 &&
    change.columnsChanged.length === 0 &&
    !change.columnsReordered &&
    change.indexes.length === 0 &&
    change.foreignKeys.length === 0 &&
    change.checks.length === 0 &&
    change.options === undefined
  );
}

function compareNamed(
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
): NamedChange[] {
  const changes: NamedChange[] = [];
  for (const [name, to] of after) {
    const from = before.get(name);
    if (from !== to) changes.push({ name, from, to });
  }
  for (const [name, from] of before) if (!after.has(name)) changes.push({ name, from });
  return changes;
}
