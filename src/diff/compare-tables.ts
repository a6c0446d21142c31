/**
 * What changed in a table between two snapshot files: columns, keys, constraints and options
 * from the `CREATE TABLE`, and rows of global tables counted by row key. Pure.
 */
import type { ColumnDefinition, TableDefinition } from './parse-create-table.js';

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

export interface RowChange {
  readonly added: number;
  readonly removed: number;
  /** Rows whose key stayed and whose values changed (only when the table has a row key). */
  readonly changed: number;
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

/**
 * Row changes between the INSERT lines of two versions of a global table. With a row key
 * (its column names), rows are matched by key and a row whose values changed counts once as
 * changed; without one, rows are compared whole (a changed row is one removed, one added).
 */
export function compareRows(
  before: readonly string[],
  after: readonly string[],
  rowKey: readonly string[],
): RowChange {
  const keyed =
    rowKey.length > 0 ? (lines: readonly string[]) => keyRows(lines, rowKey) : undefined;
  if (keyed !== undefined) {
    const old = keyed(before);
    const now = keyed(after);
    if (old !== undefined && now !== undefined) {
      let added = 0;
      let changed = 0;
      for (const [key, line] of now) {
        const previous = old.get(key);
        if (previous === undefined) added += 1;
        else if (previous !== line) changed += 1;
      }
      let removed = 0;
      for (const key of old.keys()) if (!now.has(key)) removed += 1;
      return { added, removed, changed };
    }
  }
  const counts = new Map<string, number>();
  for (const line of before) counts.set(line, (counts.get(line) ?? 0) + 1);
  let added = 0;
  for (const line of after) {
    const count = counts.get(line) ?? 0;
    if (count > 0) counts.set(line, count - 1);
    else added += 1;
  }
  let removed = 0;
  for (const count of counts.values()) removed += count;
  return { added, removed, changed: 0 };
}

/** Rows by the literals of their key columns; undefined when a line cannot be read. */
function keyRows(
  lines: readonly string[],
  rowKey: readonly string[],
): Map<string, string> | undefined {
  const rows = new Map<string, string>();
  for (const line of lines) {
    const parsed = parseInsertLine(line);
    if (parsed === undefined) return undefined;
    const positions = rowKey.map((name) => parsed.columns.indexOf(name));
    if (positions.some((position) => position === -1)) return undefined;
    const key = positions.map((position) => parsed.values[position] ?? '');
    // A unique key may hold NULLs (and repeat them): then rows are compared whole.
    if (key.includes('NULL')) return undefined;
    const joined = key.join('\0');
    if (rows.has(joined)) return undefined;
    rows.set(joined, line);
  }
  return rows;
}

/** The column names and value literals of `INSERT INTO `t` (`a`,`b`) VALUES (1,'x');`. */
export function parseInsertLine(line: string): { columns: string[]; values: string[] } | undefined {
  const head = /^INSERT INTO `(?:[^`]|``)+` \(((?:`(?:[^`]|``)*`,?)*)\) VALUES \(/.exec(line);
  if (!head) return undefined;
  const columns = [...(head[1] ?? '').matchAll(/`((?:[^`]|``)*)`/g)].map((match) =>
    (match[1] ?? '').replace(/``/g, '`'),
  );
  const values: string[] = [];
  let index = head[0].length;
  let current = '';
  let inString = false;
  for (; index < line.length; index += 1) {
    const char = line[index] ?? '';
    if (inString) {
      current += char;
      if (char === '\\') {
        current += line[index + 1] ?? '';
        index += 1;
      } else if (char === "'") inString = false;
    } else if (char === "'") {
      inString = true;
      current += char;
    } else if (char === ',') {
      values.push(current);
      current = '';
    } else if (char === ')') {
      values.push(current);
      return values.length === columns.length ? { columns, values } : undefined;
    } else current += char;
  }
  return undefined;
}
