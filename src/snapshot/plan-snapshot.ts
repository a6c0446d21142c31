/**
 * Decides what a snapshot writes, from the database's objects and the config's categories,
 * without touching anything: the same plan feeds `check`, `--dry-run` and the real run.
 */
import type { Categories, Category } from '../config/schema.js';
import {
  namesOfKind,
  type Engine,
  type ObjectKind,
  type SchemaInventory,
} from '../engine/engine.js';
import { ConfigError } from '../errors.js';
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
  /** For a trigger, a policy or a table's foreign keys: the table. */
  readonly table?: string | undefined;
  readonly name: string;
  readonly file: string;
}

export interface SnapshotPlan {
  /** Tables to write, sorted by name. */
  readonly tables: readonly PlannedTable[];
  /**
   * Every other object (sequences, views, routines, triggers by table in firing order,
   * events; PostgreSQL's types, schemas, policies…), in the order a restore creates them.
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

/** How the engine names files and reads a config's table names. */
export type PlanNaming = Pick<Engine, 'fileNameParts' | 'tableNamed'>;

/**
 * The plan for `inventory` under `categories` (names as the config writes them, read by
 * `naming.tableNamed`). Pure.
 */
export function planSnapshot(
  inventory: SchemaInventory,
  categories: Categories,
  naming: PlanNaming,
): SnapshotPlan {
  const categoryOf = new Map<string, Category>();
  for (const [category, names] of Object.entries(categories) as [Category, readonly string[]][]) {
    for (const name of names) categoryOf.set(naming.tableNamed(name), category);
  }
  const fileOf = (kind: ObjectKind, name: string): string =>
    fileNameForObject(kind, naming.fileNameParts(kind, name));
  const tables: PlannedTable[] = [];
  const ignored: string[] = [];
  const uncategorized: string[] = [];
  const tableNames = new Set<string>();
  const objects: PlannedObject[] = [];
  for (const object of inventory.objects) {
    const { kind, name } = object;
    if (kind === 'table') {
      tableNames.add(name);
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
        file: fileOf('table', name),
      });
      continue;
    }
    // Objects of a table (triggers, which have files of their own loaded after every table's
    // rows so that a restore fires none of them; policies; foreign keys) go with it.
    const table = object.table;
    if (table !== undefined && (categoryOf.get(table) === 'ignore' || !tableNames.has(table)))
      continue;
    if (categoryOf.get(name) === 'ignore') ignored.push(name);
    else
      objects.push({
        kind,
        name,
        file: fileOf(kind, name),
        ...(table === undefined ? {} : { table }),
      });
  }

  const present = new Set(inventory.objects.map((object) => object.name));
  const missing = [...categoryOf.entries()]
    .filter(([name]) => !present.has(name))
    .map(([name, category]) => ({ name, category }));
  return { tables, objects, ignored: ignored.sort(), uncategorized, missing };
}

/** Where a config's category entries are written: for errors that point at one. */
export interface CategorySource {
  readonly file: string;
  /** The line of each entry, by table name as written. */
  readonly lines?: ReadonlyMap<string, number> | undefined;
}

/**
 * Throws a ConfigError (exit 2, file:line: key) for the first category entry written with a
 * schema (`app.settings`: the engine reads it as itself) that `inventory` does not cover: not
 * in `database.schemas`, or no such schema. A name without a schema that the database lacks
 * stays a warning, as a missing MariaDB table does. Nothing to check for an engine whose
 * databases have no schemas (the inventory lists none).
 */
export function checkCoveredSchemas(
  inventory: SchemaInventory,
  categories: Categories,
  naming: PlanNaming,
  source: CategorySource,
): void {
  const covered = new Set(namesOfKind(inventory, 'schema'));
  if (covered.size === 0) return;
  for (const [category, names] of Object.entries(categories) as [Category, readonly string[]][]) {
    for (const written of names) {
      if (naming.tableNamed(written) !== written) continue;
      const parts = naming.fileNameParts('table', written);
      const schema = parts[0];
      if (parts.length < 2 || schema === undefined || covered.has(schema)) continue;
      throw new ConfigError(
        { file: source.file, line: source.lines?.get(written), key: category },
        `${written}: schema ${schema} is not in this snapshot (not in database.schemas, or no such schema)`,
        {
          hint: `Snapshotted schemas: ${[...covered].sort().join(', ')}. Fix the name, or add the schema to database.schemas.`,
        },
      );
    }
  }
}
