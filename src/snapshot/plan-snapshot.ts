/**
 * Decides what a snapshot writes, from the database's objects and the config's categories,
 * without touching anything: the same plan feeds `check`, `--dry-run` and the real run.
 */
import type { Categories, Category } from '../config/schema.js';
import {
  namesOfKind,
  OBJECT_KINDS,
  type ObjectKind,
  type SchemaInventory,
} from '../engine/engine.js';
import { fileNameForObject } from './layout.js';

/** What happens to a table's rows. */
export type RowDestination = 'git' | 'user-data' | 'none';

/** A table's category, or `uncategorized` when the config names it nowhere. */
export type TableCategory = Category | 'uncategorized';

export interface PlannedTable {
  readonly kind: 'table';
  readonly name: string;
  readonly category: Exclude<TableCategory, 'ignore'>;
  readonly rows: RowDestination;
  readonly file: string;
}

export interface PlannedObject {
  readonly kind: Exclude<ObjectKind, 'table'>;
  /** For a trigger: its table. */
  readonly table?: string | undefined;
  readonly name: string;
  readonly file: string;
}

export interface SnapshotPlan {
  /** Tables to write, sorted by name. */
  readonly tables: readonly PlannedTable[];
  /**
   * Sequences, views, functions, procedures, triggers (by table, in firing order) and events,
   * in the order a restore creates them.
   */
  readonly objects: readonly PlannedObject[];
  /** Tables (and other objects) in the `ignore` category that exist: nothing is written. */
  readonly ignored: readonly string[];
  /** Tables in no category. */
  readonly uncategorized: readonly string[];
  /** Names in the config that the database does not have. */
  readonly missing: readonly { readonly name: string; readonly category: Category }[];
}

const ROWS_BY_CATEGORY: Readonly<Record<Exclude<TableCategory, 'ignore'>, RowDestination>> = {
  global: 'git',
  local: 'user-data',
  ephemeral: 'none',
  uncategorized: 'none',
};

/** The plan for `inventory` under `categories`. Pure. */
export function planSnapshot(inventory: SchemaInventory, categories: Categories): SnapshotPlan {
  const categoryOf = new Map<string, Category>();
  for (const [category, names] of Object.entries(categories) as [Category, readonly string[]][]) {
    for (const name of names) categoryOf.set(name, category);
  }
  const tables: PlannedTable[] = [];
  const ignored: string[] = [];
  const uncategorized: string[] = [];
  for (const name of inventory.tables) {
    const category = categoryOf.get(name);
    if (category === 'ignore') {
      ignored.push(name);
      continue;
    }
    if (category === undefined) uncategorized.push(name);
    const tableCategory = category ?? 'uncategorized';
    tables.push({
      kind: 'table',
      name,
      category: tableCategory,
      rows: ROWS_BY_CATEGORY[tableCategory],
      file: fileNameForObject('table', name),
    });
  }

  const objects: PlannedObject[] = [];
  const addObjects = (kind: PlannedObject['kind'], names: readonly string[]): void => {
    for (const name of names) {
      if (categoryOf.get(name) === 'ignore') ignored.push(name);
      else objects.push({ kind, name, file: fileNameForObject(kind, name) });
    }
  };
  for (const kind of OBJECT_KINDS) {
    if (kind === 'table') continue;
    if (kind !== 'trigger') {
      addObjects(kind, namesOfKind(inventory, kind));
      continue;
    }
    // Triggers have files of their own, loaded after every table's rows (the user data of local
    // tables included), so that a restore fires none of them. Those of ignored tables go too.
    for (const trigger of inventory.triggers) {
      if (categoryOf.get(trigger.table) === 'ignore' || !inventory.tables.includes(trigger.table))
        continue;
      if (categoryOf.get(trigger.name) === 'ignore') ignored.push(trigger.name);
      else
        objects.push({
          kind: 'trigger',
          name: trigger.name,
          file: fileNameForObject('trigger', trigger.name),
          table: trigger.table,
        });
    }
  }

  const present = new Set([...inventory.tables, ...inventory.views, ...inventory.sequences]);
  const missing = [...categoryOf.entries()]
    .filter(([name]) => !present.has(name))
    .map(([name, category]) => ({ name, category }));
  return { tables, objects, ignored: ignored.sort(), uncategorized, missing };
}
