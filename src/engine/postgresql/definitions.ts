/**
 * The schema objects of a PostgreSQL database as deterministic CREATE statements, read from
 * the catalogs (pg_catalog) over one connection: no pg_dump. Names are schema-qualified
 * everywhere, read with an empty search_path so that the server's `pg_get_*def` functions
 * qualify every name too. No OIDs, no owners (like `pg_dump --no-owner`), no versions.
 *
 * A name is carried as `schema.name` text, split at its first dot (a schema name holding a
 * dot cannot be told apart). A function or procedure is `schema.name(identity arguments)`,
 * as overloads share a name. Triggers and policies belong to a table, which they are read
 * with. Objects that belong to an extension are left to its CREATE EXTENSION.
 */
import { EngineError, InternalError } from '../../errors.js';

/** What the definitions need of a connection: a `pg.Client` is one. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/**
 * Kinds of PostgreSQL schema objects, in the order a restore creates them. Schemas before
 * extensions (`CREATE EXTENSION … WITH SCHEMA app` needs `app`). Functions come
 * before tables (a column default or check may call one; files load with
 * check_function_bodies off, so their bodies may name tables not created yet); views after
 * every table's rows; foreign keys (and the checks that reach a table's or a view's row type)
 * after the views and the routines made of a view's row type that such a check may call;
 * a table's row-level security after every foreign key and materialized view (a table that
 * forces it shows its owner who is no superuser no row to check a reference against or to
 * fill a materialized view of a dump with, but through a policy); triggers and policies last.
 */
export const PG_OBJECT_KINDS = [
  'schema',
  'extension',
  'type',
  'domain',
  'function',
  'procedure',
  'sequence',
  'table',
  'view',
  'materialized-view',
  'foreign-keys',
  'row-security',
  'trigger',
  'policy',
] as const;
export type PgObjectKind = (typeof PG_OBJECT_KINDS)[number];

/** One object, named as listed, with its table for a trigger or a policy. */
export interface PgObjectRef {
  readonly kind: PgObjectKind;
  readonly name: string;
  readonly table?: string | undefined;
}

/** A normalised CREATE statement and the statements that complete it. */
export interface PgObjectDefinition {
  readonly kind: PgObjectKind;
  readonly name: string;
  /** For triggers and policies: the table, `schema.table`. */
  readonly table?: string | undefined;
  /** The CREATE (for foreign keys and row-level security: the first ALTER TABLE), no trailing `;`. */
  readonly sql: string;
  /**
   * Statements (no `;`) after the CREATE — for a table after its rows: constraints, indexes,
   * comments, a serial sequence's OWNED BY; for foreign keys and row-level security the rest.
   */
  readonly after: readonly string[];
}

/** Which schemas a snapshot covers: every non-system one, or these. */
export interface ListOptions {
  readonly schemas?: readonly string[] | undefined;
}

/** The schema and the rest of a `schema.name` (split at the first dot). */
export function splitQualifiedName(qualified: string): { schema: string; name: string } {
  const dot = qualified.indexOf('.');
  if (dot <= 0) return { schema: 'public', name: qualified };
  return { schema: qualified.slice(0, dot), name: qualified.slice(dot + 1) };
}

/** `"a""b"` — always quoted, so any name reads back as itself. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A standard string literal (standard_conforming_strings on: backslashes are plain). */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** The schemas a snapshot reads: not the server's own ones, nor those an extension owns. */
const SCHEMA_FILTER = `n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
    WHERE d.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND d.objid = n.oid AND d.deptype = 'e')
  AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))`;

/** Not a member of an extension (`catalog`: the catalog the object's row lives in). */
function notInExtension(alias: string, catalog: string): string {
  return `NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
    WHERE e.classid = '${catalog}'::pg_catalog.regclass AND e.objid = ${alias}.oid AND e.deptype = 'e')`;
}

/**
 * True for a CHECK constraint `k` that reaches the row type of a table, view or materialized
 * view: it names one (`ROW(…)::app.v`), or calls a routine taking or returning one, directly
 * or through an array of it, a domain over it or a composite type with a field of it. Such a
 * type or routine is created among the tables or the views, after the relation it is made
 * of, so the check cannot be in its table's file (whose table the relation may use): it waits
 * with the table's foreign keys until every table, view and such routine exists, as pg_dump
 * adds it apart.
 */
const CHECK_OF_ROW_TYPE = `(k.contype = 'c' AND k.oid IN (
    -- What is made of a relation's row type, found once per query (not once per check) by
    -- walking pg_depend from each row type to what depends on it, by index: arrays and
    -- domains of it, composite types with a field of it (then their own type), routines
    -- taking or returning it, and the constraints naming such a type or calling such a routine.
    WITH RECURSIVE made_of_rows(classid, objid) AS (
      SELECT 'pg_catalog.pg_type'::pg_catalog.regclass, t.oid FROM pg_catalog.pg_type t
        JOIN pg_catalog.pg_class c ON c.oid = t.typrelid AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
        JOIN pg_catalog.pg_namespace tn ON tn.oid = c.relnamespace
        WHERE tn.nspname NOT IN ('pg_catalog', 'information_schema')
      UNION
      SELECT CASE WHEN d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
          THEN 'pg_catalog.pg_type'::pg_catalog.regclass ELSE d.classid END,
        CASE WHEN d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass THEN dc.reltype ELSE d.objid END
      FROM made_of_rows m
      JOIN pg_catalog.pg_depend d ON d.refclassid = m.classid AND d.refobjid = m.objid
      LEFT JOIN pg_catalog.pg_class dc
        ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND dc.oid = d.objid
      WHERE m.classid IN ('pg_catalog.pg_type'::pg_catalog.regclass, 'pg_catalog.pg_proc'::pg_catalog.regclass)
        AND (d.classid IN ('pg_catalog.pg_type'::pg_catalog.regclass,
            'pg_catalog.pg_proc'::pg_catalog.regclass, 'pg_catalog.pg_constraint'::pg_catalog.regclass)
          OR dc.relkind = 'c'))
    SELECT objid FROM made_of_rows
      WHERE classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass))`;

/** The constraints `k` of a table's foreign-keys object: one condition for listing and reading. */
const WAITING_CONSTRAINT = `(k.contype = 'f' OR ${CHECK_OF_ROW_TYPE})`;

function byName<T extends { name: string }>(items: T[]): T[] {
  return items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Orders `items` (sorted by name) so that each comes after those it depends on, ties by
 * name; a cycle keeps name order.
 */
function dependencyOrder<T extends { name: string }>(
  items: readonly T[],
  dependsOn: ReadonlyMap<string, readonly string[]>,
): T[] {
  const byKey = new Map(items.map((item) => [item.name, item]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const result: T[] = [];
  const visit = (item: T): void => {
    if (done.has(item.name) || visiting.has(item.name)) return;
    visiting.add(item.name);
    for (const dependency of [...(dependsOn.get(item.name) ?? [])].sort()) {
      const other = byKey.get(dependency);
      if (other !== undefined) visit(other);
    }
    visiting.delete(item.name);
    done.add(item.name);
    result.push(item);
  };
  for (const item of items) visit(item);
  return result;
}

/**
 * Joins that name the type `d.refobjid` as `un.nspname`, `u.typname` for a dependency
 * order: an array type or a multirange as its element or range type.
 */
const NORMALISED_TYPE = `JOIN pg_catalog.pg_type ut ON ut.oid = d.refobjid
  JOIN pg_catalog.pg_type u ON u.oid = CASE
    WHEN ut.typtype = 'b' AND ut.typcategory = 'A' AND ut.typelem <> 0 THEN ut.typelem
    WHEN ut.typtype = 'm' THEN (SELECT m.rngtypid FROM pg_catalog.pg_range m WHERE m.rngmultitypid = ut.oid)
    ELSE ut.oid END
  JOIN pg_catalog.pg_namespace un ON un.oid = u.typnamespace`;

/**
 * Settings the server's rendering of definitions depends on: an empty search_path (every
 * name qualified), and fixed forms of the constants in expressions and partition bounds.
 */
const RENDER_SETTINGS: readonly (readonly [string, string])[] = [
  ['search_path', ''],
  ['TimeZone', 'UTC'],
  ['DateStyle', 'ISO, MDY'],
  ['IntervalStyle', 'postgres'],
  ['extra_float_digits', '1'],
];

/** Runs `work` under {@link RENDER_SETTINGS}, then sets the session back as it was. */
async function withRenderSettings<T>(client: Queryable, work: () => Promise<T>): Promise<T> {
  const names = RENDER_SETTINGS.map(([name]) => name);
  const saved = (
    await client.query(
      'SELECT pg_catalog.current_setting(name) AS value FROM pg_catalog.unnest($1::text[]) WITH ORDINALITY AS s(name, n) ORDER BY n',
      [names],
    )
  ).rows.map((row) => (row as { value: string }).value);
  const apply = (values: readonly string[]) =>
    client.query(
      'SELECT pg_catalog.set_config(name, value, false) FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[])) AS s(name, value)',
      [names, values],
    );
  await apply(RENDER_SETTINGS.map(([, value]) => value));
  try {
    return await work();
  } finally {
    await apply(saved);
  }
}

/**
 * Every object of the snapshot's schemas, kind by kind in {@link PG_OBJECT_KINDS} order, but
 * types and domains together, each after those it is made of; and the types, domains and
 * routines made of a table's row type among the tables: each after the tables (and such
 * objects) it needs and before the tables that need it, else after the tables.
 */
export async function listObjects(
  client: Queryable,
  options: ListOptions = {},
): Promise<readonly PgObjectRef[]> {
  const schemas = options.schemas === undefined ? null : [...options.schemas];
  const query = async <T>(sql: string): Promise<T[]> =>
    (await client.query(sql, [schemas])).rows as T[];
  const refs: PgObjectRef[] = [];
  const add = (kind: PgObjectKind, rows: { name: string; table?: string }[]): void => {
    for (const row of rows)
      refs.push(
        row.table === undefined
          ? { kind, name: row.name }
          : { kind, name: row.name, table: row.table },
      );
  };

  const schemaRows = byName(
    await query<{ name: string }>(
      `SELECT n.nspname AS name FROM pg_catalog.pg_namespace n WHERE ${SCHEMA_FILTER}`,
    ),
  );
  // Names are `schema.name`, split at the first dot.
  const dotted = schemaRows.find((row) => row.name.includes('.'));
  if (dotted !== undefined)
    throw new EngineError(
      `schema ${JSON.stringify(dotted.name)} has a dot in its name, which snapshots cannot tell apart from a qualified name`,
      { hint: 'rename it, or leave it out with database.schemas' },
    );
  add('schema', schemaRows);
  // Extensions are database-wide; those whose schema is covered (or all when none is given).
  add(
    'extension',
    byName(
      await query<{ name: string }>(`SELECT x.extname AS name FROM pg_catalog.pg_extension x
        JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace
        WHERE $1::text[] IS NULL OR n.nspname = ANY ($1::text[])`),
    ),
  );
  // Parents (partitioned or inherited from) before their children.
  const tables = byName(
    await query<{ name: string; parents: string[] }>(`SELECT n.nspname || '.' || c.relname AS name,
        ARRAY(SELECT pn.nspname || '.' || pc.relname FROM pg_catalog.pg_inherits i
          JOIN pg_catalog.pg_class pc ON pc.oid = i.inhparent
          JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
          WHERE i.inhrelid = c.oid) AS parents
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE ${SCHEMA_FILTER} AND ${notInExtension('c', 'pg_catalog.pg_class')}
        AND c.relkind IN ('r', 'p') AND c.relpersistence <> 't'`),
  );
  // Types and domains in one order, each after the types and domains it is made of (a
  // composite type's fields, a domain's base type, a range's subtype; an array or a
  // multirange counting as its element or range type): enum and range types first, then
  // composite types, then domains, by name, except where one needs another that would
  // come after it. Types and domains may then interleave (a domain over an enum before the
  // composite type that has a field of it).
  const typeRows = await query<{
    name: string;
    kind: 'type' | 'domain';
    rank: number;
    uses: string[];
  }>(`SELECT n.nspname || '.' || t.typname AS name,
      CASE t.typtype WHEN 'd' THEN 'domain' ELSE 'type' END AS kind,
      CASE t.typtype WHEN 'c' THEN 1 WHEN 'd' THEN 2 ELSE 0 END AS rank,
      ARRAY(SELECT DISTINCT un.nspname || '.' || u.typname
        FROM (SELECT a.atttypid AS oid FROM pg_catalog.pg_attribute a
              WHERE t.typtype = 'c' AND a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
            UNION ALL SELECT t.typbasetype WHERE t.typtype = 'd'
            UNION ALL SELECT r.rngsubtype FROM pg_catalog.pg_range r WHERE r.rngtypid = t.oid) used
        JOIN pg_catalog.pg_type ut ON ut.oid = used.oid
        JOIN pg_catalog.pg_type u ON u.oid = CASE
          WHEN ut.typtype = 'b' AND ut.typcategory = 'A' AND ut.typelem <> 0 THEN ut.typelem
          WHEN ut.typtype = 'm' THEN (SELECT m.rngtypid FROM pg_catalog.pg_range m WHERE m.rngmultitypid = ut.oid)
          ELSE ut.oid END
        JOIN pg_catalog.pg_namespace un ON un.oid = u.typnamespace) AS uses
    FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
    LEFT JOIN pg_catalog.pg_class c ON c.oid = t.typrelid
    WHERE ${SCHEMA_FILTER} AND ${notInExtension('t', 'pg_catalog.pg_type')}
      AND (t.typtype IN ('e', 'r', 'd') OR (t.typtype = 'c' AND c.relkind = 'c'))`);
  const typeOrder = dependencyOrder(
    byName(typeRows).sort((a, b) => a.rank - b.rank),
    new Map(typeRows.map((row) => [row.name, row.uses])),
  );
  const routineRows = await query<{ name: string; kind: string }>(`SELECT
      n.nspname || '.' || p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')' AS name,
      p.prokind AS kind
    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    WHERE ${SCHEMA_FILTER} AND ${notInExtension('p', 'pg_catalog.pg_proc')} AND p.prokind IN ('f', 'p', 'w')
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend i
        WHERE i.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND i.objid = p.oid AND i.deptype = 'i')`);
  // A routine's argument and result types that are not the server's own (a table's row type
  // among them), as the server records them. Not a subquery per routine: its estimated cost
  // over pg_proc set off the server's JIT compiler, 150-250 ms a listing.
  const routineUses = new Map<string, string[]>();
  if (routineRows.length > 0)
    for (const row of await query<{ name: string; used: string }>(`SELECT DISTINCT
        n.nspname || '.' || p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')' AS name,
        un.nspname || '.' || u.typname AS used
      FROM pg_catalog.pg_depend d
      JOIN pg_catalog.pg_proc p ON p.oid = d.objid
      JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
      ${NORMALISED_TYPE}
      WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
        AND d.refclassid = 'pg_catalog.pg_type'::pg_catalog.regclass AND ${SCHEMA_FILTER}`)) {
      const list = routineUses.get(row.name);
      if (list === undefined) routineUses.set(row.name, [row.used]);
      else list.push(row.used);
    }
  const routines = byName(
    routineRows.map((row) => ({ ...row, uses: routineUses.get(row.name) ?? [] })),
  );
  // Types, domains and routines made of a table's row type (or of such a type) can only be
  // created once that table is: they go among the tables, each after the tables and those
  // objects it needs, and a table whose CREATE needs one (a column of that type, a typed
  // table of it, a default calling it) after it.
  const tableNames = new Set(tables.map((table) => table.name));
  const amongTables = new Set<string>();
  const candidates: { kind: PgObjectKind; name: string; uses: string[] }[] = [
    ...typeOrder.map((row) => ({ kind: row.kind, name: row.name, uses: row.uses })),
    ...routines.map((row) => ({
      kind: row.kind === 'p' ? ('procedure' as const) : ('function' as const),
      name: row.name,
      uses: row.uses,
    })),
  ];
  const spread = (among: Set<string>, roots: ReadonlySet<string>): void => {
    for (let grew = true; grew;) {
      grew = false;
      for (const row of candidates)
        if (!among.has(row.name) && row.uses.some((used) => roots.has(used) || among.has(used))) {
          among.add(row.name);
          grew = true;
        }
    }
  };
  spread(amongTables, tableNames);
  // Those made of a view's row type (or of such an object) wait for the views: they go
  // among them, in the same way.
  const views = byName(
    await query<{
      name: string;
      kind: string;
      uses: string[];
    }>(`SELECT n.nspname || '.' || c.relname AS name,
        c.relkind AS kind,
        ARRAY(SELECT DISTINCT un.nspname || '.' || u.relname FROM pg_catalog.pg_rewrite r
          JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = r.oid
          JOIN pg_catalog.pg_class u ON u.oid = d.refobjid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
          JOIN pg_catalog.pg_namespace un ON un.oid = u.relnamespace
          WHERE r.ev_class = c.oid AND u.oid <> c.oid AND u.relkind IN ('v', 'm')) AS uses
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE ${SCHEMA_FILTER} AND ${notInExtension('c', 'pg_catalog.pg_class')} AND c.relkind IN ('v', 'm')`),
  );
  const amongViews = new Set<string>();
  spread(amongViews, new Set(views.map((view) => view.name)));
  for (const name of amongViews) amongTables.delete(name);
  const early = (row: { name: string }): boolean =>
    !amongTables.has(row.name) && !amongViews.has(row.name);
  for (const row of typeOrder.filter(early)) refs.push({ kind: row.kind, name: row.name });
  const earlyRoutines = routines.filter(early);
  add(
    'function',
    earlyRoutines.filter((row) => row.kind !== 'p'),
  );
  add(
    'procedure',
    earlyRoutines.filter((row) => row.kind === 'p'),
  );
  // Identity sequences belong to their column's table: its CREATE TABLE makes them.
  add(
    'sequence',
    byName(
      await query<{ name: string }>(`SELECT n.nspname || '.' || c.relname AS name
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE ${SCHEMA_FILTER} AND ${notInExtension('c', 'pg_catalog.pg_class')} AND c.relkind = 'S'
          AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend i
            WHERE i.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND i.objid = c.oid AND i.deptype = 'i')`),
    ),
  );
  // What a table's CREATE needs besides its parents, as far as it can order it: its
  // columns' types and the type of a typed table (OF type) that are not the server's own
  // (a table's row type among them), and the functions among the tables that its columns'
  // defaults or its constraints call, as the server records them (pg_depend, which holds no
  // row for the server's own types and functions). One query for every table each: per-table
  // subqueries, or a scan of every column, made this listing 2-3 times slower for 1,000
  // tables.
  const tableUses = new Map<string, string[]>();
  const addUses = (rows: { name: string; used: string }[]): void => {
    for (const row of rows) {
      if (row.used === row.name) continue;
      const list = tableUses.get(row.name);
      if (list === undefined) tableUses.set(row.name, [row.used]);
      else list.push(row.used);
    }
  };
  addUses(
    await query<{
      name: string;
      used: string;
    }>(`SELECT DISTINCT n.nspname || '.' || c.relname AS name, un.nspname || '.' || u.typname AS used
      FROM pg_catalog.pg_depend d
      JOIN pg_catalog.pg_class c ON c.oid = d.objid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      ${NORMALISED_TYPE}
      WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
        AND d.refclassid = 'pg_catalog.pg_type'::pg_catalog.regclass
        AND ${SCHEMA_FILTER} AND c.relkind IN ('r', 'p')`),
  );
  if (routines.some((row) => amongTables.has(row.name)))
    addUses(
      await query<{
        name: string;
        used: string;
      }>(`SELECT DISTINCT n.nspname || '.' || c.relname AS name,
          fn.nspname || '.' || f.proname || '(' || pg_catalog.pg_get_function_identity_arguments(f.oid) || ')' AS used
        FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_proc f ON f.oid = d.refobjid
        JOIN pg_catalog.pg_namespace fn ON fn.oid = f.pronamespace
        LEFT JOIN pg_catalog.pg_attrdef ad
          ON d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass AND ad.oid = d.objid
        LEFT JOIN pg_catalog.pg_constraint k
          ON d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND k.oid = d.objid
        JOIN pg_catalog.pg_class c ON c.oid = COALESCE(ad.adrelid, k.conrelid)
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass
          AND d.classid IN ('pg_catalog.pg_attrdef'::pg_catalog.regclass, 'pg_catalog.pg_constraint'::pg_catalog.regclass)
          AND (k.oid IS NULL OR NOT ${CHECK_OF_ROW_TYPE})
          AND ${SCHEMA_FILTER} AND c.relkind IN ('r', 'p') AND fn.nspname <> 'pg_catalog'`),
    );
  // Tables by name, each after its parents and what it uses; those objects after the tables
  // when no table needs them.
  const phase: { kind: PgObjectKind; name: string; uses: string[] }[] = [
    ...tables.map((table) => ({
      kind: 'table' as const,
      name: table.name,
      uses: [...table.parents, ...(tableUses.get(table.name) ?? [])],
    })),
    ...candidates.filter((row) => amongTables.has(row.name)),
  ];
  for (const row of dependencyOrder(phase, new Map(phase.map((row) => [row.name, row.uses]))))
    refs.push({ kind: row.kind, name: row.name });
  // Views and materialized views in dependency order (one may select from another), and
  // what waits for them, each after the views and such objects it is made of and before
  // a view that uses it (calls such a function, names such a type).
  const viewUses = new Map(views.map((view) => [view.name, [...view.uses]]));
  if (amongViews.size > 0)
    for (const row of await query<{ name: string; used: string }>(`SELECT DISTINCT
        n.nspname || '.' || c.relname AS name,
        COALESCE(fn.nspname || '.' || f.proname || '(' || pg_catalog.pg_get_function_identity_arguments(f.oid) || ')',
          tn.nspname || '.' || t.typname) AS used
      FROM pg_catalog.pg_rewrite r
      JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = r.oid
      LEFT JOIN pg_catalog.pg_proc f
        ON d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND f.oid = d.refobjid
      LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = f.pronamespace
      LEFT JOIN pg_catalog.pg_type t
        ON d.refclassid = 'pg_catalog.pg_type'::pg_catalog.regclass AND t.oid = d.refobjid
      LEFT JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
      WHERE ${SCHEMA_FILTER} AND c.relkind IN ('v', 'm') AND (f.oid IS NOT NULL OR t.oid IS NOT NULL)`))
      if (amongViews.has(row.used)) viewUses.get(row.name)?.push(row.used);
  const viewPhase: { kind: PgObjectKind; name: string; uses: readonly string[] }[] = [
    ...views.map((view) => ({
      kind: view.kind === 'm' ? ('materialized-view' as const) : ('view' as const),
      name: view.name,
      uses: viewUses.get(view.name) ?? [],
    })),
    ...candidates.filter((row) => amongViews.has(row.name)),
  ];
  for (const row of dependencyOrder(
    viewPhase,
    new Map(viewPhase.map((row) => [row.name, row.uses])),
  ))
    refs.push({ kind: row.kind, name: row.name });
  // After the views: a check that waits with them may call a routine made of a view's rows.
  add(
    'foreign-keys',
    byName(
      await query<{ name: string }>(`SELECT DISTINCT n.nspname || '.' || c.relname AS name
        FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE ${SCHEMA_FILTER} AND ${notInExtension('c', 'pg_catalog.pg_class')}
          AND ${WAITING_CONSTRAINT} AND k.conislocal AND k.conparentid = 0
          AND c.relpersistence <> 't'`),
    ),
  );
  add(
    'row-security',
    byName(
      await query<{ name: string }>(`SELECT n.nspname || '.' || c.relname AS name
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE ${SCHEMA_FILTER} AND ${notInExtension('c', 'pg_catalog.pg_class')}
          AND c.relkind IN ('r', 'p') AND c.relpersistence <> 't'
          AND (c.relrowsecurity OR c.relforcerowsecurity)`),
    ),
  );
  // Triggers and policies by table, then name.
  const byTableThenName = <T extends { name: string; table: string }>(rows: T[]): T[] =>
    rows.sort((a, b) =>
      a.table !== b.table
        ? a.table < b.table
          ? -1
          : 1
        : a.name < b.name
          ? -1
          : a.name > b.name
            ? 1
            : 0,
    );
  add(
    'trigger',
    byTableThenName(
      await query<{ name: string; table: string }>(`SELECT n.nspname || '.' || t.tgname AS name,
          n.nspname || '.' || c.relname AS table
        FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE ${SCHEMA_FILTER} AND ${notInExtension('c', 'pg_catalog.pg_class')}
          AND NOT t.tgisinternal AND t.tgparentid = 0`),
    ),
  );
  add(
    'policy',
    byTableThenName(
      await query<{ name: string; table: string }>(`SELECT n.nspname || '.' || p.polname AS name,
          n.nspname || '.' || c.relname AS table
        FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE ${SCHEMA_FILTER} AND ${notInExtension('c', 'pg_catalog.pg_class')}`),
    ),
  );
  return refs;
}

/**
 * The normalised definition of one object. `qualifiedName` as {@link listObjects} names it;
 * `table` for a trigger or a policy. Throws EngineError when there is no such object.
 */
export async function readDefinition(
  client: Queryable,
  kind: PgObjectKind,
  qualifiedName: string,
  table?: string,
): Promise<PgObjectDefinition> {
  return withRenderSettings(client, async () => {
    // Extensions and schemas are not in a schema: their name is whole.
    const { schema, name } =
      kind === 'extension' || kind === 'schema'
        ? { schema: qualifiedName, name: '' }
        : splitQualifiedName(qualifiedName);
    const found = await READERS[kind](client, schema, name, table);
    if (found === undefined)
      throw new EngineError(
        `no ${kind} ${qualifiedName}${table === undefined ? '' : ` on ${table}`}`,
      );
    const [sql, ...after] = found;
    return {
      kind,
      name: qualifiedName,
      ...(table === undefined ? {} : { table }),
      sql: sql ?? '',
      after,
    };
  });
}

type Reader = (
  client: Queryable,
  schema: string,
  name: string,
  table: string | undefined,
) => Promise<string[] | undefined>;

async function one<T>(client: Queryable, sql: string, values: unknown[]): Promise<T | undefined> {
  return (await client.query(sql, values)).rows[0] as T | undefined;
}

async function all<T>(client: Queryable, sql: string, values: unknown[]): Promise<T[]> {
  return (await client.query(sql, values)).rows as T[];
}

/** `schema.name`, each part quoted. */
function qualified(schema: string, name: string): string {
  return `${quoteIdentifier(schema)}.${quoteIdentifier(name)}`;
}

/** `COMMENT ON … IS '…'` when `comment` is set. */
function commentStatement(target: string, comment: string | null | undefined): string[] {
  return comment === null || comment === undefined
    ? []
    : [`COMMENT ON ${target} IS ${quoteLiteral(comment)}`];
}

/** `WITH (a='1', b='x')` from reloptions (`prefix` for a TOAST table's), or nothing. */
function storageOptions(options: (string[] | null)[], prefixes: string[]): string {
  const parts: string[] = [];
  options.forEach((list, index) => {
    for (const option of list ?? []) {
      const equals = option.indexOf('=');
      const key = equals === -1 ? option : option.slice(0, equals);
      const value = equals === -1 ? 'true' : option.slice(equals + 1);
      parts.push(`${prefixes[index] ?? ''}${key}=${quoteLiteral(value)}`);
    }
  });
  return parts.length === 0 ? '' : ` WITH (${parts.join(', ')})`;
}

/** A relation of the given kinds, by schema and name. */
const RELATION = `SELECT c.oid, c.relkind, c.relpersistence, c.relispartition, c.reloptions,
    c.relrowsecurity, c.relforcerowsecurity, t.reloptions AS toast_options,
    pg_catalog.obj_description(c.oid, 'pg_class') AS comment
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_catalog.pg_class t ON t.oid = c.reltoastrelid
  WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = ANY ($3::"char"[])`;

interface RelationRow {
  oid: number;
  relkind: string;
  relpersistence: string;
  relispartition: boolean;
  reloptions: string[] | null;
  toast_options: string[] | null;
  relrowsecurity: boolean;
  relforcerowsecurity: boolean;
  comment: string | null;
}

const READERS: Record<PgObjectKind, Reader> = {
  async extension(client, name) {
    const row = await one<{ schema: string }>(
      client,
      `SELECT n.nspname AS schema FROM pg_catalog.pg_extension x
        JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace WHERE x.extname = $1`,
      [name],
    );
    if (row === undefined) return undefined;
    // No version: the target's default one (objects of the extension come with it).
    return [
      `CREATE EXTENSION IF NOT EXISTS ${quoteIdentifier(name)} WITH SCHEMA ${quoteIdentifier(row.schema)}`,
    ];
  },

  async schema(client, schemaName) {
    const row = await one<{ comment: string | null }>(
      client,
      `SELECT pg_catalog.obj_description(oid, 'pg_namespace') AS comment
        FROM pg_catalog.pg_namespace WHERE nspname = $1`,
      [schemaName],
    );
    if (row === undefined) return undefined;
    // IF NOT EXISTS: `public` is in every new database.
    return [
      `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schemaName)}`,
      ...commentStatement(`SCHEMA ${quoteIdentifier(schemaName)}`, row.comment),
    ];
  },

  async type(client, schema, name) {
    const row = await one<{
      oid: number;
      typtype: string;
      typrelid: number;
      comment: string | null;
    }>(
      client,
      `SELECT t.oid, t.typtype, t.typrelid, pg_catalog.obj_description(t.oid, 'pg_type') AS comment
        FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = $1 AND t.typname = $2 AND t.typtype IN ('e', 'r', 'c')`,
      [schema, name],
    );
    if (row === undefined) return undefined;
    const target = qualified(schema, name);
    let create: string;
    if (row.typtype === 'e') {
      const labels = await all<{ label: string }>(
        client,
        'SELECT enumlabel AS label FROM pg_catalog.pg_enum WHERE enumtypid = $1 ORDER BY enumsortorder',
        [row.oid],
      );
      create = `CREATE TYPE ${target} AS ENUM (${labels.map((label) => quoteLiteral(label.label)).join(', ')})`;
    } else if (row.typtype === 'c') {
      const attributes = await all<{ name: string; type: string; collation: string | null }>(
        client,
        `SELECT a.attname AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
            CASE WHEN a.attcollation <> t.typcollation
              THEN pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname) END AS collation
          FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
          LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
          LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
          WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
        [row.typrelid],
      );
      const list = attributes.map(
        (attribute) =>
          `\n  ${quoteIdentifier(attribute.name)} ${attribute.type}${attribute.collation === null ? '' : ` COLLATE ${attribute.collation}`}`,
      );
      create = `CREATE TYPE ${target} AS (${list.join(',')}${list.length > 0 ? '\n' : ''})`;
    } else {
      const range = await one<{
        subtype: string;
        opclass: string | null;
        collation: string | null;
        canonical: string | null;
        diff: string | null;
        multirange: string;
      }>(
        client,
        `SELECT pg_catalog.format_type(r.rngsubtype, NULL) AS subtype,
            CASE WHEN NOT oc.opcdefault THEN pg_catalog.quote_ident(ocn.nspname) || '.' || pg_catalog.quote_ident(oc.opcname) END AS opclass,
            CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> st.typcollation
              THEN pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname) END AS collation,
            CASE WHEN r.rngcanonical <> 0 THEN r.rngcanonical::pg_catalog.regproc::text END AS canonical,
            CASE WHEN r.rngsubdiff <> 0 THEN r.rngsubdiff::pg_catalog.regproc::text END AS diff,
            pg_catalog.format_type(r.rngmultitypid, NULL) AS multirange
          FROM pg_catalog.pg_range r JOIN pg_catalog.pg_type st ON st.oid = r.rngsubtype
          JOIN pg_catalog.pg_opclass oc ON oc.oid = r.rngsubopc
          JOIN pg_catalog.pg_namespace ocn ON ocn.oid = oc.opcnamespace
          LEFT JOIN pg_catalog.pg_collation co ON co.oid = r.rngcollation
          LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
          WHERE r.rngtypid = $1`,
        [row.oid],
      );
      if (range === undefined) return undefined;
      const parts = [`subtype = ${range.subtype}`];
      if (range.opclass !== null) parts.push(`subtype_opclass = ${range.opclass}`);
      if (range.collation !== null) parts.push(`collation = ${range.collation}`);
      if (range.canonical !== null) parts.push(`canonical = ${range.canonical}`);
      if (range.diff !== null) parts.push(`subtype_diff = ${range.diff}`);
      parts.push(`multirange_type_name = ${range.multirange}`);
      create = `CREATE TYPE ${target} AS RANGE (\n  ${parts.join(',\n  ')}\n)`;
    }
    const columnComments =
      row.typtype === 'c'
        ? await all<{ name: string; comment: string }>(
            client,
            `SELECT a.attname AS name, d.description AS comment FROM pg_catalog.pg_attribute a
              JOIN pg_catalog.pg_description d ON d.objoid = a.attrelid AND d.objsubid = a.attnum
                AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass
              WHERE a.attrelid = $1 AND NOT a.attisdropped ORDER BY a.attnum`,
            [row.typrelid],
          )
        : [];
    return [
      create,
      ...commentStatement(`TYPE ${target}`, row.comment),
      ...columnComments.flatMap((column) =>
        commentStatement(`COLUMN ${target}.${quoteIdentifier(column.name)}`, column.comment),
      ),
    ];
  },

  async domain(client, schema, name) {
    const row = await one<{
      oid: number;
      base: string;
      collation: string | null;
      default: string | null;
      notnull: boolean;
      comment: string | null;
    }>(
      client,
      `SELECT t.oid, pg_catalog.format_type(t.typbasetype, t.typtypmod) AS base,
          CASE WHEN t.typcollation <> bt.typcollation
            THEN pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname) END AS collation,
          t.typdefault AS default, t.typnotnull AS notnull,
          pg_catalog.obj_description(t.oid, 'pg_type') AS comment
        FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
        JOIN pg_catalog.pg_type bt ON bt.oid = t.typbasetype
        LEFT JOIN pg_catalog.pg_collation co ON co.oid = t.typcollation
        LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
        WHERE n.nspname = $1 AND t.typname = $2 AND t.typtype = 'd'`,
      [schema, name],
    );
    if (row === undefined) return undefined;
    const constraints = await all<{ name: string; definition: string; comment: string | null }>(
      client,
      `SELECT conname AS name, pg_catalog.pg_get_constraintdef(oid) AS definition,
          pg_catalog.obj_description(oid, 'pg_constraint') AS comment
        FROM pg_catalog.pg_constraint WHERE contypid = $1 ORDER BY conname COLLATE "C"`,
      [row.oid],
    );
    const target = qualified(schema, name);
    let create = `CREATE DOMAIN ${target} AS ${row.base}`;
    if (row.collation !== null) create += ` COLLATE ${row.collation}`;
    if (row.default !== null) create += ` DEFAULT ${row.default}`;
    if (row.notnull) create += ' NOT NULL';
    for (const constraint of constraints)
      create += `\n  CONSTRAINT ${quoteIdentifier(constraint.name)} ${constraint.definition}`;
    return [
      create,
      ...commentStatement(`DOMAIN ${target}`, row.comment),
      ...constraints.flatMap((constraint) =>
        commentStatement(
          `CONSTRAINT ${quoteIdentifier(constraint.name)} ON DOMAIN ${target}`,
          constraint.comment,
        ),
      ),
    ];
  },

  function: readRoutine,
  procedure: readRoutine,

  async sequence(client, schema, name) {
    const row = await one<{
      type: string;
      start: string;
      increment: string;
      min: string;
      max: string;
      cache: string;
      cycle: boolean;
      persistence: string;
      comment: string | null;
    }>(
      client,
      `SELECT pg_catalog.format_type(s.seqtypid, NULL) AS type, s.seqstart::text AS start,
          s.seqincrement::text AS increment, s.seqmin::text AS min, s.seqmax::text AS max,
          s.seqcache::text AS cache, s.seqcycle AS cycle, c.relpersistence AS persistence,
          pg_catalog.obj_description(c.oid, 'pg_class') AS comment
        FROM pg_catalog.pg_sequence s JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2`,
      [schema, name],
    );
    if (row === undefined) return undefined;
    const target = qualified(schema, name);
    return [
      `CREATE ${row.persistence === 'u' ? 'UNLOGGED ' : ''}SEQUENCE ${target}${sequenceOptions(row, '\n  ')}`,
      ...commentStatement(`SEQUENCE ${target}`, row.comment),
    ];
  },

  table: readTable,

  async 'foreign-keys'(client, schema, name) {
    const relation = await one<{ oid: number; relkind: string }>(
      client,
      `SELECT c.oid, c.relkind FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
      [schema, name],
    );
    if (relation === undefined) return undefined;
    const keys =
      (await tableConstraints(client, [relation.oid], WAITING_CONSTRAINT)).get(relation.oid) ?? [];
    if (keys.length === 0) return undefined;
    return keys.flatMap((key) => constraintStatements(schema, name, relation.relkind, key));
  },

  async 'row-security'(client, schema, name) {
    const row = await one<{ enabled: boolean; forced: boolean }>(
      client,
      `SELECT c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
      [schema, name],
    );
    if (row === undefined) return undefined;
    const statements = rowSecurityStatements(qualified(schema, name), row.enabled, row.forced);
    return statements.length === 0 ? undefined : statements;
  },

  async view(client, schema, name) {
    const row = await one<RelationRow & { definition: string }>(
      client,
      `SELECT r.*, pg_catalog.pg_get_viewdef(r.oid) AS definition FROM (${RELATION}) r`,
      [schema, name, ['v']],
    );
    if (row === undefined) return undefined;
    const target = qualified(schema, name);
    return [
      `CREATE VIEW ${target}${storageOptions([row.reloptions], [''])} AS\n${withoutSemicolon(row.definition)}`,
      ...commentStatement(`VIEW ${target}`, row.comment),
      ...(await columnComments(client, row.oid, target)),
    ];
  },

  async 'materialized-view'(client, schema, name) {
    const row = await one<RelationRow & { definition: string }>(
      client,
      `SELECT r.*, pg_catalog.pg_get_viewdef(r.oid) AS definition FROM (${RELATION}) r`,
      [schema, name, ['m']],
    );
    if (row === undefined) return undefined;
    const target = qualified(schema, name);
    return [
      `CREATE MATERIALIZED VIEW ${target}${storageOptions([row.reloptions, row.toast_options], ['', 'toast.'])} AS\n${withoutSemicolon(row.definition)}\nWITH NO DATA`,
      ...(await indexStatements(client, row.oid, row.relkind)),
      ...commentStatement(`MATERIALIZED VIEW ${target}`, row.comment),
      ...(await columnComments(client, row.oid, target)),
    ];
  },

  async trigger(client, schema, name, table) {
    if (table === undefined) return undefined;
    const { schema: tableSchema, name: tableName } = splitQualifiedName(table);
    const row = await one<{ definition: string; enabled: string; comment: string | null }>(
      client,
      `SELECT pg_catalog.pg_get_triggerdef(t.oid) AS definition, t.tgenabled AS enabled,
          pg_catalog.obj_description(t.oid, 'pg_trigger') AS comment
        FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND t.tgname = $3 AND NOT t.tgisinternal`,
      [tableSchema, tableName, name],
    );
    if (row === undefined || tableSchema !== schema) return undefined;
    const target = qualified(tableSchema, tableName);
    const state: Record<string, string> = {
      D: 'DISABLE TRIGGER',
      R: 'ENABLE REPLICA TRIGGER',
      A: 'ENABLE ALWAYS TRIGGER',
    };
    const enable = state[row.enabled];
    return [
      row.definition,
      ...(enable === undefined ? [] : [`ALTER TABLE ${target} ${enable} ${quoteIdentifier(name)}`]),
      ...commentStatement(`TRIGGER ${quoteIdentifier(name)} ON ${target}`, row.comment),
    ];
  },

  async policy(client, schema, name, table) {
    if (table === undefined) return undefined;
    const { schema: tableSchema, name: tableName } = splitQualifiedName(table);
    const row = await one<{
      command: string;
      permissive: boolean;
      roles: string[];
      qual: string | null;
      check: string | null;
      comment: string | null;
    }>(
      client,
      `SELECT p.polcmd AS command, p.polpermissive AS permissive,
          ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(r)) END
            FROM pg_catalog.unnest(p.polroles) r ORDER BY 1) AS roles,
          pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS qual,
          pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS check,
          pg_catalog.obj_description(p.oid, 'pg_policy') AS comment
        FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND p.polname = $3`,
      [tableSchema, tableName, name],
    );
    if (row === undefined || tableSchema !== schema) return undefined;
    const commands: Record<string, string> = {
      r: 'SELECT',
      a: 'INSERT',
      w: 'UPDATE',
      d: 'DELETE',
      '*': 'ALL',
    };
    const target = qualified(tableSchema, tableName);
    let create = `CREATE POLICY ${quoteIdentifier(name)} ON ${target}`;
    create += `\n  AS ${row.permissive ? 'PERMISSIVE' : 'RESTRICTIVE'}`;
    create += `\n  FOR ${commands[row.command] ?? 'ALL'}`;
    create += `\n  TO ${row.roles.join(', ')}`;
    if (row.qual !== null) create += `\n  USING (${row.qual})`;
    if (row.check !== null) create += `\n  WITH CHECK (${row.check})`;
    return [
      create,
      ...commentStatement(`POLICY ${quoteIdentifier(name)} ON ${target}`, row.comment),
    ];
  },
};

/** `ALTER TABLE … ENABLE` and `… FORCE ROW LEVEL SECURITY`, as far as a table has them. */
function rowSecurityStatements(target: string, enabled: boolean, forced: boolean): string[] {
  return [
    ...(enabled ? [`ALTER TABLE ${target} ENABLE ROW LEVEL SECURITY`] : []),
    ...(forced ? [`ALTER TABLE ${target} FORCE ROW LEVEL SECURITY`] : []),
  ];
}

function withoutSemicolon(definition: string): string {
  return definition.trim().replace(/;$/, '');
}

/** ` AS type START WITH … NO CYCLE` for a sequence or an identity column. */
function sequenceOptions(
  row: {
    type?: string;
    start: string;
    increment: string;
    min: string;
    max: string;
    cache: string;
    cycle: boolean;
  },
  separator: string,
): string {
  return [
    ...(row.type === undefined ? [] : [`AS ${row.type}`]),
    `START WITH ${row.start}`,
    `INCREMENT BY ${row.increment}`,
    `MINVALUE ${row.min}`,
    `MAXVALUE ${row.max}`,
    `CACHE ${row.cache}`,
    row.cycle ? 'CYCLE' : 'NO CYCLE',
  ]
    .map((option) => `${separator}${option}`)
    .join('');
}

async function readRoutine(
  client: Queryable,
  schema: string,
  signature: string,
): Promise<string[] | undefined> {
  const row = await one<{
    definition: string;
    comment: string | null;
    args: string;
    name: string;
    kind: string;
  }>(
    client,
    `SELECT pg_catalog.pg_get_functiondef(p.oid) AS definition,
        pg_catalog.obj_description(p.oid, 'pg_proc') AS comment,
        pg_catalog.pg_get_function_identity_arguments(p.oid) AS args, p.proname AS name,
        p.prokind AS kind
      FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = $1 AND p.prokind IN ('f', 'p', 'w')
        AND p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')' = $2`,
    [schema, signature],
  );
  if (row === undefined) return undefined;
  const target = `${qualified(schema, row.name)}(${row.args})`;
  return [
    row.definition.trimEnd(),
    ...commentStatement(`${row.kind === 'p' ? 'PROCEDURE' : 'FUNCTION'} ${target}`, row.comment),
  ];
}

interface ConstraintRow {
  name: string;
  definition: string;
  comment: string | null;
}

/**
 * A key's or an exclusion constraint's definition with the storage parameters of its index,
 * which pg_get_constraintdef leaves out of keys (`UNIQUE (h) WITH (fillfactor=70)` reads back
 * as `UNIQUE (h)`; PostgreSQL 15): `WITH (…)` goes after the column or element list and its INCLUDE list, before
 * WHERE and DEFERRABLE, where ADD CONSTRAINT reads it.
 */
export function withIndexStorage(definition: string, options: string[] | null): string {
  const storage = storageOptions([options], ['']);
  const open = definition.indexOf('(');
  if (storage === '' || open === -1) return definition;
  let at = afterParentheses(definition, open);
  const include = ' INCLUDE (';
  if (definition.startsWith(include, at))
    at = afterParentheses(definition, at + include.length - 1);
  // An exclusion constraint's definition has them already (as a server may some day write them for keys).
  if (definition.startsWith(' WITH (', at)) return definition;
  return `${definition.slice(0, at)}${storage}${definition.slice(at)}`;
}

/** Where the `(` at `open` is closed (the index after its `)`), past quoted names and strings. */
function afterParentheses(text: string, open: number): number {
  let depth = 0;
  for (let index = open; index < text.length; index += 1) {
    const char = text[index];
    if (char === '"' || char === "'") {
      // To the closing quote; a doubled one stays inside (backslashes are doubled too).
      index += 1;
      while (index < text.length && !(text[index] === char && text[index + 1] !== char))
        index += text[index] === char ? 2 : 1;
    } else if (char === '(') depth += 1;
    else if (char === ')' && --depth === 0) return index + 1;
  }
  throw new InternalError(`unbalanced parentheses in a constraint: ${text}`);
}

/**
 * Local constraints of tables (not inherited from a partitioned parent), by table oid, each
 * table's in name order.
 */
async function tableConstraints(
  client: Queryable,
  oids: readonly number[],
  condition: string,
): Promise<Map<number, ConstraintRow[]>> {
  const rows = await all<ConstraintRow & { relid: number; index_options: string[] | null }>(
    client,
    `SELECT k.conrelid AS relid, k.conname AS name, pg_catalog.pg_get_constraintdef(k.oid) AS definition,
        pg_catalog.obj_description(k.oid, 'pg_constraint') AS comment, i.reloptions AS index_options
      FROM pg_catalog.pg_constraint k
      LEFT JOIN pg_catalog.pg_class i ON i.oid = k.conindid AND k.contype IN ('p', 'u', 'x')
      WHERE k.conrelid = ANY ($1::pg_catalog.oid[]) AND k.conparentid = 0 AND k.conislocal AND ${condition}
      ORDER BY k.conrelid, k.conname COLLATE "C"`,
    [oids],
  );
  return groupBy(
    rows.map(({ index_options: options, ...row }) => ({
      ...row,
      definition: withIndexStorage(row.definition, options),
    })),
    (row) => row.relid,
  );
}

/**
 * `ALTER TABLE [ONLY] t ADD CONSTRAINT …` and its comment. A partitioned table's constraint
 * is added to the whole tree (ONLY would leave its partitions without it).
 */
function constraintStatements(
  schema: string,
  name: string,
  relkind: string,
  constraint: ConstraintRow,
): string[] {
  const target = qualified(schema, name);
  return [
    `ALTER TABLE ${relkind === 'p' ? '' : 'ONLY '}${target} ADD CONSTRAINT ${quoteIdentifier(constraint.name)} ${constraint.definition}`,
    ...commentStatement(
      `CONSTRAINT ${quoteIdentifier(constraint.name)} ON ${target}`,
      constraint.comment,
    ),
  ];
}

interface IndexRow {
  definition: string;
  name: string;
  schema: string;
  comment: string | null;
}

/**
 * The indexes of relations that no constraint makes and no parent's index gives them, by
 * relation oid, each relation's in name order, with their comments.
 */
async function indexRows(
  client: Queryable,
  oids: readonly number[],
): Promise<Map<number, IndexRow[]>> {
  const rows = await all<IndexRow & { relid: number }>(
    client,
    `SELECT i.indrelid AS relid, pg_catalog.pg_get_indexdef(i.indexrelid) AS definition, c.relname AS name,
        n.nspname AS schema, pg_catalog.obj_description(i.indexrelid, 'pg_class') AS comment
      FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE i.indrelid = ANY ($1::pg_catalog.oid[])
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid)
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h WHERE h.inhrelid = i.indexrelid)
      ORDER BY i.indrelid, c.relname COLLATE "C"`,
    [oids],
  );
  return groupBy(rows, (row) => row.relid);
}

/** A relation's index statements. A partitioned table's index is made on the whole tree. */
function indexStatementsOf(indexes: readonly IndexRow[], relkind: string): string[] {
  return indexes.flatMap((index) => [
    relkind === 'p' ? index.definition.replace(/ ON ONLY /, ' ON ') : index.definition,
    ...commentStatement(`INDEX ${qualified(index.schema, index.name)}`, index.comment),
  ]);
}

async function indexStatements(client: Queryable, oid: number, relkind: string): Promise<string[]> {
  return indexStatementsOf((await indexRows(client, [oid])).get(oid) ?? [], relkind);
}

/** Comments on the columns of relations, by relation oid, each relation's in column order. */
async function columnCommentRows(
  client: Queryable,
  oids: readonly number[],
): Promise<Map<number, { name: string; comment: string }[]>> {
  const rows = await all<{ relid: number; name: string; comment: string }>(
    client,
    `SELECT a.attrelid AS relid, a.attname AS name, d.description AS comment FROM pg_catalog.pg_attribute a
      JOIN pg_catalog.pg_description d ON d.objoid = a.attrelid AND d.objsubid = a.attnum
        AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass
      WHERE a.attrelid = ANY ($1::pg_catalog.oid[]) AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attrelid, a.attnum`,
    [oids],
  );
  return groupBy(rows, (row) => row.relid);
}

function columnCommentStatements(
  rows: readonly { name: string; comment: string }[],
  target: string,
): string[] {
  return rows.flatMap((row) =>
    commentStatement(`COLUMN ${target}.${quoteIdentifier(row.name)}`, row.comment),
  );
}

async function columnComments(client: Queryable, oid: number, target: string): Promise<string[]> {
  return columnCommentStatements((await columnCommentRows(client, [oid])).get(oid) ?? [], target);
}

interface ColumnRow {
  name: string;
  type: string;
  collation: string | null;
  notnull: boolean;
  default: string | null;
  identity: string;
  generated: string;
  local: boolean;
  sequence_schema: string | null;
  sequence_name: string | null;
  start: string | null;
  increment: string | null;
  min: string | null;
  max: string | null;
  cache: string | null;
  cycle: boolean | null;
}

/** A table's relation row, with what its CREATE TABLE needs besides its columns. */
type TableRow = RelationRow & {
  schema: string;
  name: string;
  partition_key: string | null;
  bound: string | null;
  parents: string[];
  /** A typed table's composite type (`CREATE TABLE … OF type`), qualified. */
  of_type: string | null;
};

/** `rows` grouped by their `key` (an oid), each group in the rows' order. */
function groupBy<T>(rows: readonly T[], key: (row: T) => number): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const row of rows) {
    const id = key(row);
    const list = groups.get(id);
    if (list === undefined) groups.set(id, [row]);
    else list.push(row);
  }
  return groups;
}

/**
 * The statements of each of `tables` (`{schema, name}`), in their order; undefined for one
 * that is no table. One query per catalog for all of them: a snapshot of many small tables
 * spent most of its time in these queries' round trips and planning, nine per table.
 * Runs under the render settings of its caller.
 */
async function readTableStatements(
  client: Queryable,
  tables: readonly { schema: string; name: string }[],
): Promise<(string[] | undefined)[]> {
  if (tables.length === 0) return [];
  const found = await all<TableRow>(
    client,
    `SELECT w.schema, w.name, c.oid, c.relkind, c.relpersistence, c.relispartition, c.reloptions,
        c.relrowsecurity, c.relforcerowsecurity, t.reloptions AS toast_options,
        pg_catalog.obj_description(c.oid, 'pg_class') AS comment,
        CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END AS partition_key,
        CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END AS bound,
        CASE WHEN c.reloftype <> 0 THEN pg_catalog.format_type(c.reloftype, NULL) END AS of_type,
        ARRAY(SELECT pg_catalog.quote_ident(pn.nspname) || '.' || pg_catalog.quote_ident(pc.relname)
          FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class pc ON pc.oid = i.inhparent
          JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
          WHERE i.inhrelid = c.oid ORDER BY i.inhseqno) AS parents
      FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[])) AS w(schema, name)
      JOIN pg_catalog.pg_namespace n ON n.nspname = w.schema
      JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = w.name
      LEFT JOIN pg_catalog.pg_class t ON t.oid = c.reltoastrelid
      WHERE c.relkind IN ('r', 'p')`,
    [tables.map((table) => table.schema), tables.map((table) => table.name)],
  );
  const byName = new Map(found.map((row) => [`${row.schema}\u0000${row.name}`, row]));
  const oids = found.map((row) => row.oid);
  const columns = groupBy(
    await all<ColumnRow & { relid: number }>(
      client,
      `SELECT a.attrelid AS relid, a.attname AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
        CASE WHEN a.attcollation <> t.typcollation
          THEN pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname) END AS collation,
        a.attnotnull AS notnull, pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS default,
        a.attidentity AS identity, a.attgenerated AS generated, a.attislocal AS local,
        sn.nspname AS sequence_schema, sc.relname AS sequence_name,
        s.seqstart::text AS start, s.seqincrement::text AS increment, s.seqmin::text AS min,
        s.seqmax::text AS max, s.seqcache::text AS cache, s.seqcycle AS cycle
      FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
      LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
      LEFT JOIN pg_catalog.pg_depend dep ON a.attidentity <> ''
        AND dep.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND dep.refobjid = a.attrelid
        AND dep.refobjsubid = a.attnum AND dep.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
        AND dep.deptype = 'i'
      LEFT JOIN pg_catalog.pg_class sc ON sc.oid = dep.objid AND sc.relkind = 'S'
      LEFT JOIN pg_catalog.pg_namespace sn ON sn.oid = sc.relnamespace
      LEFT JOIN pg_catalog.pg_sequence s ON s.seqrelid = sc.oid
      WHERE a.attrelid = ANY ($1::pg_catalog.oid[]) AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attrelid, a.attnum`,
      [oids],
    ),
    (row) => row.relid,
  );
  const constraints = await tableConstraints(
    client,
    oids,
    `k.contype IN ('p', 'u', 'c', 'x') AND NOT ${CHECK_OF_ROW_TYPE}`,
  );
  const indexes = await indexRows(client, oids);
  // Serial columns: the sequence (created before) goes with the column.
  const owned = groupBy(
    await all<{ relid: number; schema: string; name: string; column: string }>(
      client,
      `SELECT d.refobjid AS relid, sn.nspname AS schema, sc.relname AS name, a.attname AS column
        FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class sc ON sc.oid = d.objid AND sc.relkind = 'S'
        JOIN pg_catalog.pg_namespace sn ON sn.oid = sc.relnamespace
        JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = ANY ($1::pg_catalog.oid[])
          AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype = 'a'
        ORDER BY d.refobjid, sn.nspname COLLATE "C", sc.relname COLLATE "C"`,
      [oids],
    ),
    (row) => row.relid,
  );
  const comments = await columnCommentRows(client, oids);
  return tables.map(({ schema, name }) => {
    const row = byName.get(`${schema}\u0000${name}`);
    if (row === undefined) return undefined;
    return tableStatements(schema, name, row, {
      columns: columns.get(row.oid) ?? [],
      constraints: constraints.get(row.oid) ?? [],
      indexes: indexes.get(row.oid) ?? [],
      owned: owned.get(row.oid) ?? [],
      comments: comments.get(row.oid) ?? [],
    });
  });
}

/** The CREATE TABLE of one table and its `after` statements, from its catalog rows. */
function tableStatements(
  schema: string,
  name: string,
  row: TableRow,
  parts: {
    columns: readonly ColumnRow[];
    constraints: readonly ConstraintRow[];
    indexes: readonly IndexRow[];
    owned: readonly { schema: string; name: string; column: string }[];
    comments: readonly { name: string; comment: string }[];
  },
): string[] {
  const { columns } = parts;
  const target = qualified(schema, name);
  const persistence = row.relpersistence === 'u' ? 'UNLOGGED ' : '';
  let create: string;
  if (row.relispartition) {
    // A partition takes its columns from its parent; only its own defaults are its own.
    const parent = row.parents[0] ?? '';
    create = `CREATE ${persistence}TABLE ${target} PARTITION OF ${parent}\n${row.bound ?? ''}`;
  } else if (row.of_type !== null) {
    // A typed table takes its columns from its type: each listed (so that the file names
    // them) with only its own options. Its collations are the type's, and it has no
    // identity or generated column.
    const lines = columns.map((column) => `  ${typedColumnDefinition(column)}`);
    create = `CREATE ${persistence}TABLE ${target} OF ${row.of_type}${lines.length > 0 ? ` (\n${lines.join(',\n')}\n)` : ''}`;
  } else {
    const lines = columns
      .filter((column) => column.local)
      .map((column) => `  ${columnDefinition(column)}`);
    create = `CREATE ${persistence}TABLE ${target} (${lines.length > 0 ? `\n${lines.join(',\n')}\n` : ''})`;
    if (row.parents.length > 0) create += `\nINHERITS (${row.parents.join(', ')})`;
  }
  if (row.partition_key !== null) create += `\nPARTITION BY ${row.partition_key}`;
  const options = storageOptions([row.reloptions, row.toast_options], ['', 'toast.']);
  if (options !== '') create += `\n${options.trimStart()}`;

  const after: string[] = [];
  // Inherited columns' own defaults (a partition's or a child's), set after the CREATE.
  for (const column of columns) {
    if (column.local || column.default === null || column.generated !== '') continue;
    after.push(
      `ALTER TABLE ONLY ${target} ALTER COLUMN ${quoteIdentifier(column.name)} SET DEFAULT ${column.default}`,
    );
  }
  for (const constraint of parts.constraints)
    after.push(...constraintStatements(schema, name, row.relkind, constraint));
  after.push(...indexStatementsOf(parts.indexes, row.relkind));
  for (const sequence of parts.owned)
    after.push(
      `ALTER SEQUENCE ${qualified(sequence.schema, sequence.name)} OWNED BY ${target}.${quoteIdentifier(sequence.column)}`,
    );
  // Row-level security is an object of its own (`row-security`), turned on after every
  // table's rows and foreign keys.
  after.push(...commentStatement(`TABLE ${target}`, row.comment));
  after.push(...columnCommentStatements(parts.comments, target));
  return [create, ...after];
}

async function readTable(
  client: Queryable,
  schema: string,
  name: string,
): Promise<string[] | undefined> {
  const [statements] = await readTableStatements(client, [{ schema, name }]);
  return statements;
}

/**
 * The definitions of many tables (`schema.name` each), in their order, the same as
 * {@link readDefinition} gives table by table, in a few queries for all of them. Throws
 * EngineError when one is no table.
 */
export async function readTableDefinitions(
  client: Queryable,
  qualifiedNames: readonly string[],
): Promise<PgObjectDefinition[]> {
  return withRenderSettings(client, async () => {
    const found = await readTableStatements(client, qualifiedNames.map(splitQualifiedName));
    return qualifiedNames.map((qualifiedName, index) => {
      const statements = found[index];
      if (statements === undefined) throw new EngineError(`no table ${qualifiedName}`);
      const [sql, ...after] = statements;
      return { kind: 'table', name: qualifiedName, sql: sql ?? '', after };
    });
  });
}

/** A typed table's column: `"name" WITH OPTIONS`, then its default and NOT NULL. */
function typedColumnDefinition(column: ColumnRow): string {
  let definition = `${quoteIdentifier(column.name)} WITH OPTIONS`;
  if (column.default !== null) definition += ` DEFAULT ${column.default}`;
  if (column.notnull) definition += ' NOT NULL';
  return definition;
}

function columnDefinition(column: ColumnRow): string {
  let definition = `${quoteIdentifier(column.name)} ${column.type}`;
  if (column.collation !== null) definition += ` COLLATE ${column.collation}`;
  if (column.generated === 's' && column.default !== null)
    definition += ` GENERATED ALWAYS AS (${column.default}) STORED`;
  else if (column.identity !== '' && column.sequence_name !== null) {
    const options = sequenceOptions(
      {
        start: column.start ?? '1',
        increment: column.increment ?? '1',
        min: column.min ?? '1',
        max: column.max ?? '1',
        cache: column.cache ?? '1',
        cycle: column.cycle ?? false,
      },
      ' ',
    );
    definition += ` GENERATED ${column.identity === 'a' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY (SEQUENCE NAME ${qualified(column.sequence_schema ?? '', column.sequence_name)}${options})`;
  } else if (column.default !== null) definition += ` DEFAULT ${column.default}`;
  if (column.notnull) definition += ' NOT NULL';
  return definition;
}

/**
 * The identity sequences of table `qualifiedName` (`schema.name`), by column order: their
 * state goes in the table's file, after its rows, as they are not objects of their own.
 */
export async function listIdentitySequences(
  client: Queryable,
  qualifiedName: string,
): Promise<readonly string[]> {
  const { schema, name } = splitQualifiedName(qualifiedName);
  const rows = await all<{ name: string }>(
    client,
    `SELECT sn.nspname || '.' || sc.relname AS name
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attidentity <> '' AND NOT a.attisdropped
      JOIN pg_catalog.pg_depend d ON d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
        AND d.refobjid = c.oid AND d.refobjsubid = a.attnum AND d.deptype = 'i'
        AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
      JOIN pg_catalog.pg_class sc ON sc.oid = d.objid AND sc.relkind = 'S'
      JOIN pg_catalog.pg_namespace sn ON sn.oid = sc.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2
      ORDER BY a.attnum`,
    [schema, name],
  );
  return rows.map((row) => row.name);
}
