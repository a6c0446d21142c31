/**
 * PostgreSQL types and domains that use one another (#16): a composite type with a field of
 * a composite type, domain or enum named after it, a domain over a domain or a composite
 * type, a range over a domain, arrays of them, a table and a function of them, and a composite
 * type with a field of a table's row type (created after the tables), and an extension in a
 * schema of the snapshot (created after its schema). Taken from
 * the command line through snapshot → restore, the snapshot's files loaded with psql in the
 * README's order (and by the README's script itself), and dump → load and `psql -f` of the dump: each copy compares equal to the
 * source (`pg_dump --schema-only`, every table's rows).
 *
 * And typed tables (`CREATE TABLE … OF type`), tables, types, domains and functions that use a
 * table's row type (a column of a type with a field of one, a typed table of such a type, a
 * function taking or returning rows of a table, a default calling one), and tables that
 * inherit from two parents, the same ways.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  createPgTestDatabase,
  pgDumpSchema,
  postgresServer,
  runPsql,
} from '../helpers/postgres.js';
import {
  loadWithPsql,
  pgCliEnv,
  pgDatabaseConfigLines,
  pgDatabaseToDrop,
  pgTableRows,
} from '../helpers/pg-snapshot.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { createTempDir } from '../helpers/temp-dir.js';

const HOST = 'types.example.org';

/**
 * Each object is created after what it uses, and named so that name order (and the kind
 * order: types before domains) puts it before what it uses.
 */
const TYPE_OBJECTS = String.raw`
CREATE SCHEMA app;
CREATE EXTENSION citext WITH SCHEMA app;
CREATE TYPE app.z_mood AS ENUM ('happy', 'sad');
CREATE DOMAIN app.y_text AS text CHECK (VALUE <> '');
CREATE DOMAIN app.c_code AS app.y_text CHECK (length(VALUE) <= 8);
CREATE DOMAIN app.x_small AS integer CHECK (VALUE BETWEEN 0 AND 1000);
CREATE TYPE app.a_span AS RANGE (subtype = app.x_small);
CREATE TYPE app.b_inner AS (code app.c_code, mood app.z_mood, codes app.c_code[], span app.a_span);
CREATE TYPE app.a_outer AS (inner_value app.b_inner, many app.b_inner[], moods app.z_mood[]);
CREATE DOMAIN app.a_checked AS app.a_outer CHECK ((VALUE).moods IS NOT NULL OR VALUE IS NULL);
CREATE DOMAIN app.a_codes AS app.c_code[];
CREATE FUNCTION app.a_first(app.a_outer) RETURNS app.b_inner
  LANGUAGE sql IMMUTABLE AS 'SELECT ($1).inner_value';
CREATE TABLE app.things (
  id integer PRIMARY KEY,
  outer_value app.a_outer,
  checked app.a_checked,
  codes app.a_codes,
  span app.a_span
);
CREATE TABLE app.b_items (id integer PRIMARY KEY, label app.c_code, tag app.citext);
CREATE TYPE app.a_pair AS (first app.b_items, rest app.b_items[]);
CREATE VIEW app.pairs AS SELECT ROW(i, ARRAY[i])::app.a_pair AS pair FROM app.b_items i;
INSERT INTO app.b_items VALUES (1, 'one', 'MiXed'), (2, NULL, NULL);
INSERT INTO app.things VALUES
  (1,
   ROW(ROW('ab', 'happy', '{x,y}', '[1,5)'), ARRAY[ROW('cd', 'sad', '{}', 'empty')::app.b_inner], '{happy,sad}'),
   ROW(ROW('ef', 'sad', NULL, NULL), NULL, '{sad}'),
   '{one,two}',
   '[3,7)'),
  (2, NULL, NULL, NULL, NULL);
`;

/**
 * The README's psql script for a PostgreSQL snapshot, run with `bash -e` in `hostDir` against
 * `database` (which exists): its `createdb` left out, psql pointed at the test server.
 */
async function runReadmeScript(hostDir: string, database: string): Promise<void> {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('cd schema_backup/db1.example.org\ncreatedb restored\n');
  expect(start).toBeGreaterThanOrEqual(0);
  const server = await postgresServer();
  const script = readme
    .slice(start, readme.indexOf('```', start))
    .replace('cd schema_backup/db1.example.org', '')
    .replace('createdb restored', '')
    .replaceAll(
      '-d restored',
      `-h ${server.host} -p ${String(server.port)} -U ${server.user} -d ${database}`,
    );
  await promisify(execFile)('bash', ['-e', '-c', script], {
    cwd: hostDir,
    env: { PATH: process.env.PATH, PGPASSWORD: server.password },
  });
}

/**
 * Asserts that, in a dump's text or a list of files loaded, each pair's first entry is found
 * and comes before its second.
 */
function expectEachBefore(
  haystack: string | readonly string[],
  pairs: readonly (readonly [string, string])[],
): void {
  const at = (needle: string): number => {
    const index = haystack.indexOf(needle);
    expect(index, `${needle} is missing`).toBeGreaterThanOrEqual(0);
    return index;
  };
  for (const [before, after] of pairs) {
    expect(at(before), `${before} must come before ${after}`).toBeLessThan(at(after));
  }
}

async function cli(config: string, ...argv: string[]): Promise<CliResult> {
  return runCli(['--config', config, ...argv], await pgCliEnv());
}

/** The source's schema and rows, and its snapshot's config: what every way back must give. */
interface Source {
  readonly config: string;
  readonly dir: string;
  readonly schema: string;
  readonly tables: readonly string[];
  readonly rows: Record<string, string[]>;
}

/** Asserts that `database` holds the source's schema (pg_dump --schema-only) and rows. */
async function expectSameAsSource(source: Source, database: string): Promise<void> {
  expect(await pgDumpSchema(database)).toBe(source.schema);
  expect(await pgTableRows(database, source.tables)).toEqual(source.rows);
}

/**
 * Snapshots the source, then brings it back four ways, each giving its schema and rows:
 * `restore`, `restore --force` over that, psql in the README's order, the README's script.
 * Returns the files in the order psql loaded them.
 */
async function expectRestoredEveryWay(source: Source, label: string): Promise<string[]> {
  const snapshot = await cli(source.config, 'snapshot');
  expect(snapshot.code, snapshot.stderr).toBe(0);
  const hostDir = join(source.dir, 'backups', HOST);

  const restored = await pgDatabaseToDrop(`${label}_restored`);
  const restore = await cli(source.config, 'restore', '--target', restored);
  expect(restore.code, restore.stderr).toBe(0);
  await expectSameAsSource(source, restored);

  // Again over it (--force): what the snapshot creates is dropped first.
  const again = await cli(source.config, 'restore', '--target', restored, '--force');
  expect(again.code, again.stderr).toBe(0);
  await expectSameAsSource(source, restored);

  const viaPsql = await createPgTestDatabase(`${label}_psql`);
  const order = await loadWithPsql(hostDir, viaPsql.name);
  await expectSameAsSource(source, viaPsql.name);

  const viaScript = await createPgTestDatabase(`${label}_script`);
  await runReadmeScript(hostDir, viaScript.name);
  await expectSameAsSource(source, viaScript.name);
  return order;
}

/**
 * Dumps the source (one file, or `--dir`) and loads it with `load` and, a file, with
 * `psql -f`, each giving its schema and rows. Returns a file dump's text ('' for a directory).
 */
async function expectDumpedAndLoaded(
  source: Source,
  label: string,
  form: 'file' | 'directory' = 'file',
): Promise<string> {
  const dumpPath = join(source.dir, `dump-${form}${form === 'file' ? '.sql' : ''}`);
  const dump = await cli(
    source.config,
    'dump',
    '--no-encrypt',
    '--compress',
    'none',
    ...(form === 'directory' ? ['--dir'] : []),
    '-o',
    dumpPath,
  );
  expect(dump.code, dump.stderr).toBe(0);
  const loaded = await pgDatabaseToDrop(`${label}_loaded_${form}`);
  const load = await cli(source.config, 'load', '--into', loaded, dumpPath);
  expect(load.code, load.stderr).toBe(0);
  await expectSameAsSource(source, loaded);
  if (form === 'directory') return '';
  const viaPsql = await createPgTestDatabase(`${label}_dumppsql`);
  await runPsql(viaPsql.name, dumpPath);
  await expectSameAsSource(source, viaPsql.name);
  return readFile(dumpPath, 'utf8');
}

async function writeConfig(
  dir: string,
  database: string,
  global: readonly string[],
): Promise<string> {
  const config = join(dir, 'schema_backup.conf');
  await writeFile(
    config,
    [
      'csv2_backup_dir: backups',
      `hostname: ${HOST}`,
      ...(await pgDatabaseConfigLines(database)),
      'git:',
      '  init: true',
      `global: [${global.join(', ')}]`,
      '',
    ].join('\n'),
  );
  return config;
}

/** A source database made by `sql`, its snapshot's config, and what every way back must give. */
async function sourceOf(label: string, sql: string, tables: readonly string[]): Promise<Source> {
  const source = await createPgTestDatabase(`${label}_src`);
  await source.exec(sql);
  const dir = await createTempDir(`${label.replaceAll('_', '-')}-e2e`);
  return {
    config: await writeConfig(dir, source.name, tables),
    dir,
    schema: await pgDumpSchema(source.name),
    tables,
    rows: await pgTableRows(source.name, tables),
  };
}

describe('postgresql types and domains in dependency order', () => {
  it('restores, loads with psql and dumps types and domains that use ones named after them', async () => {
    const expected = await sourceOf('sbtyp', TYPE_OBJECTS, ['app.things', 'app.b_items']);
    // psql, in the README's order: types and domains load together.
    const order = await expectRestoredEveryWay(expected, 'sbtyp');
    expectEachBefore(order, [
      ['app.x_small.domain.sql', 'app.a_span.type.sql'],
      ['app.b_items.sql', 'app.a_pair.type.sql'],
    ]);
    // A dump creates each type and domain after those it is made of.
    const text = await expectDumpedAndLoaded(expected, 'sbtyp');
    expectEachBefore(text, [
      ['CREATE DOMAIN "app"."y_text"', 'CREATE DOMAIN "app"."c_code"'],
      ['CREATE DOMAIN "app"."x_small"', 'CREATE TYPE "app"."a_span"'],
      ['CREATE TYPE "app"."b_inner"', 'CREATE TYPE "app"."a_outer"'],
      ['CREATE TYPE "app"."a_outer"', 'CREATE DOMAIN "app"."a_checked"'],
      ['COPY "app"."b_items"', 'CREATE TYPE "app"."a_pair"'],
      ['CREATE TYPE "app"."a_pair"', 'CREATE VIEW "app"."pairs"'],
    ]);
  }, 300_000);
});

/**
 * Typed tables, and objects that use a table's row type, each named so that name order (and
 * kind order: types, domains and functions before tables) puts it before what it uses.
 */
const TYPED_OBJECTS = String.raw`
CREATE SCHEMA app;
CREATE TYPE app.person AS (id integer, name text, nick text);
CREATE TABLE app.people OF app.person (
  id WITH OPTIONS PRIMARY KEY,
  name WITH OPTIONS NOT NULL DEFAULT 'anon',
  CONSTRAINT nick_short CHECK (length(nick) < 10)
);
COMMENT ON COLUMN app.people.nick IS 'a short name';
CREATE TABLE app.plain_people OF app.person;
CREATE TABLE app.people_by_id OF app.person (id WITH OPTIONS NOT NULL) PARTITION BY RANGE (id);
CREATE TABLE app.people_low PARTITION OF app.people_by_id FOR VALUES FROM (0) TO (100);
CREATE TABLE app.z_items (id integer PRIMARY KEY, label text);
CREATE TYPE app.a_pair AS (first app.z_items, rest app.z_items[]);
CREATE DOMAIN app.a_items AS app.z_items[] CHECK (cardinality(VALUE) < 5);
CREATE FUNCTION app.a_label(app.z_items) RETURNS text
  LANGUAGE sql IMMUTABLE AS 'SELECT ($1).label';
CREATE FUNCTION app.a_make(integer) RETURNS app.z_items
  LANGUAGE sql IMMUTABLE AS 'SELECT ROW($1, NULL)::app.z_items';
CREATE FUNCTION app.a_count(app.a_pair) RETURNS integer
  LANGUAGE sql IMMUTABLE AS 'SELECT 1 + cardinality(($1).rest)';
CREATE TABLE app.a_holder (
  id integer PRIMARY KEY,
  pair app.a_pair,
  items app.a_items,
  one app.z_items,
  label text DEFAULT app.a_label(ROW(0, 'zero')::app.z_items)
);
CREATE TABLE app.a_typed OF app.a_pair;
CREATE TYPE app.a_wrap AS (holder app.a_holder);
CREATE TABLE app.a_wrapped (id integer, wrap app.a_wrap);
CREATE TABLE app.y_base1 (a integer);
CREATE TABLE app.x_base2 (b text DEFAULT 'b');
CREATE TABLE app.both_bases (c integer) INHERITS (app.y_base1, app.x_base2);
INSERT INTO app.people VALUES (1, 'Ann', 'an'), (2, DEFAULT, NULL);
INSERT INTO app.plain_people VALUES (3, NULL, NULL);
INSERT INTO app.people_by_id VALUES (4, 'Dan', 'd');
INSERT INTO app.z_items VALUES (1, 'one'), (2, NULL);
INSERT INTO app.a_holder (id, pair, items, one) VALUES
  (1, ROW(ROW(1, 'one'), ARRAY[ROW(2, NULL)::app.z_items]), ARRAY[ROW(1, 'x')::app.z_items], ROW(5, 'five')),
  (2, NULL, NULL, NULL);
INSERT INTO app.a_typed VALUES (ROW(1, 'one'), '{}');
INSERT INTO app.a_wrapped VALUES (1, ROW(ROW(9, NULL, NULL, NULL, 'nine')));
INSERT INTO app.both_bases VALUES (1, 'x', 2);
INSERT INTO app.y_base1 VALUES (7);
`;

const TYPED_TABLES = [
  'app.people',
  'app.plain_people',
  'app.people_by_id',
  'app.people_low',
  'app.z_items',
  'app.a_holder',
  'app.a_typed',
  'app.a_wrapped',
  'app.y_base1',
  'app.x_base2',
  'app.both_bases',
];

describe('postgresql typed tables and objects of a table row type', () => {
  it('restores, loads with psql and dumps them as they were', async () => {
    const expected = await sourceOf('sbtyp_typed', TYPED_OBJECTS, TYPED_TABLES);
    expect(expected.schema).toContain('CREATE TABLE app.people OF app.person (');
    expect(expected.schema).toContain('CREATE TABLE app.a_typed OF app.a_pair;');
    await expectRestoredEveryWay(expected, 'sbtyp_typed');
    for (const form of ['file', 'directory'] as const)
      await expectDumpedAndLoaded(expected, 'sbtyp_typed', form);
  }, 300_000);
});

/**
 * Types, domains and routines made of a view's row type, and views that use them, each named
 * so that name and kind order put it before what it uses.
 */
const VIEW_TYPED_OBJECTS = String.raw`
CREATE SCHEMA app;
CREATE TABLE app.z_items (id integer PRIMARY KEY, label text);
CREATE VIEW app.y_labelled AS SELECT id, label FROM app.z_items WHERE label IS NOT NULL;
CREATE MATERIALIZED VIEW app.x_counted AS SELECT count(*) AS n FROM app.z_items;
CREATE FUNCTION app.a_labelled() RETURNS SETOF app.y_labelled
  LANGUAGE sql STABLE AS 'SELECT id, label FROM app.y_labelled';
CREATE TYPE app.a_view_pair AS (first app.y_labelled, counted app.x_counted);
CREATE DOMAIN app.a_labels AS app.y_labelled[] CHECK (cardinality(VALUE) < 5);
CREATE FUNCTION app.a_first(app.a_labels) RETURNS app.a_view_pair
  LANGUAGE sql IMMUTABLE AS 'SELECT ROW(($1)[1], NULL)::app.a_view_pair';
CREATE PROCEDURE app.a_touch(app.y_labelled) LANGUAGE sql AS 'SELECT 1';
CREATE VIEW app.b_from_function AS SELECT id, label FROM app.a_labelled();
CREATE VIEW app.c_pairs AS
  SELECT app.a_first(ARRAY[ROW(1, 'x')::app.y_labelled]::app.a_labels) AS pair;
INSERT INTO app.z_items VALUES (1, 'one'), (2, NULL);
`;

describe('postgresql objects of a view row type', () => {
  it('restores, loads with psql and dumps types, domains and routines made of a view row type', async () => {
    const expected = await sourceOf('sbtyp_view', VIEW_TYPED_OBJECTS, ['app.z_items']);
    expect(expected.schema).toContain('RETURNS SETOF app.y_labelled');
    const order = await expectRestoredEveryWay(expected, 'sbtyp_view');
    expectEachBefore(order, [['app.y_labelled.view.sql', 'app.a_labelled%28%29.function.sql']]);
    const text = await expectDumpedAndLoaded(expected, 'sbtyp_view');
    expectEachBefore(text, [
      ['CREATE VIEW "app"."y_labelled"', '"app"."a_labelled"()'],
      ['"app"."a_labelled"()', 'CREATE VIEW "app"."b_from_function"'],
      ['CREATE MATERIALIZED VIEW "app"."x_counted"', 'CREATE TYPE "app"."a_view_pair"'],
    ]);
  }, 300_000);
});

/**
 * Checks that call a routine made of their own table's row type (the routine can only be
 * created after the table, the table's file can hold no check that calls it), one of another
 * table's, an array of rows, a routine of a view's row type (created with the views, after
 * the tables) and one of a composite type with a field of the table's row type; named so that
 * name order puts the routine first.
 */
const ROW_CHECK_OBJECTS = String.raw`
CREATE SCHEMA app;
CREATE TABLE app.z_items (id integer PRIMARY KEY, qty integer, price numeric);
CREATE FUNCTION app.a_item_ok(app.z_items) RETURNS boolean
  LANGUAGE sql IMMUTABLE AS 'SELECT ($1).qty >= 0 AND ($1).price >= 0';
CREATE FUNCTION app.a_items_ok(app.z_items[]) RETURNS boolean
  LANGUAGE sql IMMUTABLE AS 'SELECT cardinality($1) > 0';
ALTER TABLE app.z_items ADD CONSTRAINT z_items_ok CHECK (app.a_item_ok(z_items.*));
ALTER TABLE app.z_items ADD CONSTRAINT z_items_one CHECK (app.a_items_ok(ARRAY[z_items.*]));
ALTER TABLE app.z_items ADD CONSTRAINT z_items_qty CHECK (qty < 1000);
CREATE VIEW app.x_item_view AS SELECT id, qty FROM app.z_items;
CREATE FUNCTION app.a_view_ok(app.x_item_view) RETURNS boolean
  LANGUAGE sql IMMUTABLE AS 'SELECT ($1).qty IS NULL OR ($1).qty >= 0';
ALTER TABLE app.z_items ADD CONSTRAINT z_items_view CHECK (app.a_view_ok(ROW(id, qty)::app.x_item_view));
CREATE TYPE app.b_wrap AS (item app.z_items);
CREATE FUNCTION app.a_wrap_ok(app.b_wrap) RETURNS boolean
  LANGUAGE sql IMMUTABLE AS 'SELECT (($1).item).price IS NULL OR (($1).item).price < 1000';
ALTER TABLE app.z_items ADD CONSTRAINT z_items_wrap
  CHECK (app.a_wrap_ok(ROW(ROW(id, qty, price)::app.z_items)::app.b_wrap));
CREATE TABLE app.y_orders (id integer PRIMARY KEY, item integer REFERENCES app.z_items (id),
  sample app.z_items CHECK (app.a_item_ok(sample)));
COMMENT ON CONSTRAINT z_items_ok ON app.z_items IS 'every item adds up';
INSERT INTO app.z_items VALUES (1, 2, 3.5), (2, 0, 0);
INSERT INTO app.y_orders VALUES (1, 1, ROW(9, 1, 1)), (2, 2, NULL);
`;

const ROW_CHECK_TABLES = ['app.z_items', 'app.y_orders'];

describe('postgresql checks that call a routine of a table row type', () => {
  it('restores, loads with psql and dumps them, the checks after the routine', async () => {
    const expected = await sourceOf('sbtyp_rowcheck', ROW_CHECK_OBJECTS, ROW_CHECK_TABLES);
    expect(expected.schema).toContain('CHECK (app.a_item_ok(z_items.*))');
    await expectRestoredEveryWay(expected, 'sbtyp_rowcheck');
    const hostDir = join(expected.dir, 'backups', HOST);
    // The table's file keeps its plain check; the others wait in its foreign-keys file.
    const tableFile = await readFile(join(hostDir, 'app.z_items.sql'), 'utf8');
    expect(tableFile).toContain('"z_items_qty" CHECK');
    expect(tableFile).not.toContain('a_item_ok');
    const later = await readFile(join(hostDir, 'app.z_items.foreign-keys.sql'), 'utf8');
    expect(later).toContain('"z_items_ok" CHECK (app.a_item_ok(z_items.*))');
    expect(later).toContain('"z_items_one" CHECK');
    expect(later).toContain('"z_items_view" CHECK');
    expect(later).toContain('"z_items_wrap" CHECK');
    expect(later).toContain('COMMENT ON CONSTRAINT "z_items_ok"');
    const text = await expectDumpedAndLoaded(expected, 'sbtyp_rowcheck');
    expectEachBefore(text, [
      ['CREATE OR REPLACE FUNCTION app.a_item_ok', '"z_items_ok" CHECK'],
      ['CREATE OR REPLACE FUNCTION app.a_view_ok', '"z_items_view" CHECK'],
      ['CREATE OR REPLACE FUNCTION app.a_wrap_ok', '"z_items_wrap" CHECK'],
    ]);
  }, 300_000);
});
