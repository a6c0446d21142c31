/**
 * The PostgreSQL definitions read from the catalogs re-create the same schema: every object's
 * statements, loaded with psql in restore order into an empty database, give the same
 * `pg_dump --schema-only --no-owner` as the source.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it, onTestFinished } from 'vitest';
import { postgresqlScriptFormat } from '../../../src/engine/postgresql/script-format.js';
import { readPsqlScript } from '../../../src/engine/postgresql/script-reader.js';
import type { PgFileExpectation } from '../../../src/engine/postgresql/statement-guard.js';
import {
  listIdentitySequences,
  listObjects,
  PG_OBJECT_KINDS,
  readDefinition,
  type PgObjectDefinition,
} from '../../../src/engine/postgresql/definitions.js';
import { PG_SCHEMA_OBJECTS } from '../../fixtures/pg-schema-objects.js';
import { createPgDatabase, pgClient, pgDumpSchema, runPsql } from '../../helpers/postgres.js';

/** The definitions of the fixture; regenerate with SCHEMA_BACKUP_UPDATE_GOLDEN=1. */
const GOLDEN = 'test/golden/postgresql/definitions.sql';

/** What every file starts with, as a snapshot's preamble would say it. */
const PREAMBLE = [
  "SET client_encoding = 'UTF8'",
  'SET standard_conforming_strings = on',
  "SET search_path = ''",
  'SET check_function_bodies = false',
  'SET client_min_messages = warning',
];

/** Rows and sequence states, as the dialect writes them, for some of the fixture's objects. */
const DATA: Readonly<Record<string, readonly string[]>> = {
  'app.settings': [
    'BEGIN',
    `INSERT INTO "app"."settings" ("id","name","value","code","mood","amount","place","span","updated_at") OVERRIDING SYSTEM VALUE VALUES (12,'a;b',E'back\\slash''s','X1','happy'::"app"."mood",3,ROW('s',1,'ok')::app.address,'[1,5)'::int4range,'2024-01-02 03:04:05+00'::timestamp with time zone)`,
    `INSERT INTO "app"."settings" ("id","name","value","code","mood","amount","place","span","updated_at") OVERRIDING SYSTEM VALUE VALUES (14,'$$x$$',NULL,'X2','ok',+2.0e0::integer,NULL,NULL,NULL)`,
    'COMMIT',
    `SELECT pg_catalog.setval('"app"."settings_id_seq"', 16, true)`,
  ],
  'public.users': [
    'BEGIN',
    `INSERT INTO "public"."users" ("id","login","setting_id","manager") VALUES (1,'root',12,NULL)`,
    `INSERT INTO "public"."users" ("id","login","setting_id","manager") VALUES (2,'x',NULL,1)`,
    'COMMIT',
  ],
  'app.codes': [`SELECT pg_catalog.setval('"app"."codes"', 200, true)`],
};

function fileText(definition: PgObjectDefinition): string {
  const data =
    definition.kind === 'table' || definition.kind === 'sequence'
      ? (DATA[definition.name] ?? [])
      : [];
  return [...PREAMBLE, definition.sql, ...data, ...definition.after]
    .map((sql) => `${sql};\n`)
    .join('');
}

function expectationOf(definition: PgObjectDefinition): PgFileExpectation {
  return definition.kind === 'trigger' || definition.kind === 'policy'
    ? { kind: definition.kind, name: definition.name, table: definition.table }
    : { kind: definition.kind, name: definition.name };
}

/** Checks a file as restore does: every statement, then what it must hold. */
async function checkFile(text: string, expected: PgFileExpectation): Promise<number> {
  const guard = postgresqlScriptFormat.checker(expected);
  let count = 0;
  for await (const statement of readPsqlScript(Readable.from([Buffer.from(text)]))) {
    guard.check(statement.sql);
    count += 1;
  }
  guard.finish();
  return count;
}

async function readAll(database: string): Promise<PgObjectDefinition[]> {
  const client = await pgClient(database);
  const definitions: PgObjectDefinition[] = [];
  for (const ref of await listObjects(client))
    definitions.push(await readDefinition(client, ref.kind, ref.name, ref.table));
  return definitions;
}

/**
 * Creates `objects` in a new database, loads the definitions read from it with psql into
 * another, and expects the same `pg_dump --schema-only`. Returns the definitions.
 */
async function expectRecreated(objects: string): Promise<PgObjectDefinition[]> {
  const source = await createPgDatabase();
  const target = await createPgDatabase();
  const client = await pgClient(source);
  await client.query(objects);
  const definitions = await readAll(source);
  const dir = mkdtempSync(join(tmpdir(), 'pgddl-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  let index = 0;
  for (const definition of definitions) {
    const file = join(dir, `${String(index++).padStart(3, '0')}.sql`);
    writeFileSync(file, fileText(definition));
    expect(await checkFile(fileText(definition), expectationOf(definition))).toBeGreaterThan(
      PREAMBLE.length,
    );
    try {
      await runPsql(target, file);
    } catch (error) {
      throw new Error(
        `${definition.kind} ${definition.name}: ${String(error)}\n${fileText(definition)}`,
      );
    }
  }
  expect(await pgDumpSchema(target)).toBe(await pgDumpSchema(source));
  return definitions;
}

describe('PostgreSQL definitions', () => {
  it('re-create every object of the source, as pg_dump sees it', async () => {
    const definitions = await expectRecreated(PG_SCHEMA_OBJECTS);
    const kinds = new Set(definitions.map((definition) => definition.kind));
    expect([...kinds]).toEqual(PG_OBJECT_KINDS.filter((kind) => kinds.has(kind)));
    expect(kinds.size).toBe(PG_OBJECT_KINDS.length);
  });

  it('keep the storage parameters of the indexes of keys and exclusion constraints', async () => {
    // pg_get_constraintdef leaves them out; WITH goes after INCLUDE, before WHERE and DEFERRABLE.
    const definitions = await expectRecreated(`
      CREATE TABLE public.keyed (
        id integer, code text, "odd ( name" text, span int4range, note text,
        CONSTRAINT keyed_pk PRIMARY KEY (id) INCLUDE (note) WITH (fillfactor = 80),
        CONSTRAINT keyed_code UNIQUE NULLS NOT DISTINCT (code, "odd ( name") WITH (fillfactor = 60, deduplicate_items = off)
          DEFERRABLE INITIALLY DEFERRED,
        CONSTRAINT keyed_span EXCLUDE USING gist (span WITH &&) WITH (fillfactor = 75, buffering = on)
          WHERE (note <> 'a '')'' b' AND id > 0),
        CONSTRAINT keyed_plain UNIQUE (note)
      );`);
    const table = definitions.find((definition) => definition.name === 'public.keyed');
    expect([table?.sql ?? '', ...(table?.after ?? [])].join('\n')).toContain(
      "INCLUDE (note) WITH (fillfactor='80')",
    );
  });

  it('reads the same text twice, and the copy reads as the source', async () => {
    const source = await createPgDatabase();
    const client = await pgClient(source);
    await client.query(PG_SCHEMA_OBJECTS);
    expect(await listIdentitySequences(client, 'app.settings')).toEqual(['app.settings_id_seq']);
    // `database.schemas`: only these schemas' objects (and extensions installed in them).
    const appOnly = await listObjects(client, { schemas: ['app'] });
    expect(appOnly.filter((ref) => ref.kind === 'schema').map((ref) => ref.name)).toEqual(['app']);
    expect(appOnly.every((ref) => ref.kind === 'schema' || ref.name.startsWith('app.'))).toBe(true);
    expect(appOnly.some((ref) => ref.kind === 'extension')).toBe(false);
    expect(await listIdentitySequences(client, 'public.users')).toEqual([]);
    const first = await readAll(source);
    expect(await readAll(source)).toEqual(first);
    // The session's own settings are left as they were.
    await client.query("SET search_path = app; SET TimeZone = 'Europe/Paris'");
    await readDefinition(client, 'table', 'app.events_2024');
    const settings = await client.query<{ path: string; zone: string }>(
      "SELECT current_setting('search_path') AS path, current_setting('TimeZone') AS zone",
    );
    expect(settings.rows[0]).toEqual({ path: 'app', zone: 'Europe/Paris' });
    // The state every file starts from is one statement the server takes.
    await client.query(postgresqlScriptFormat.sessionReset);
    const reset = await client.query<{ path: string; strings: string }>(
      "SELECT current_setting('search_path') AS path, current_setting('standard_conforming_strings') AS strings",
    );
    expect(reset.rows[0]).toEqual({ path: '', strings: 'on' });
    expect(JSON.stringify(first)).not.toMatch(/\boid\b|OWNER/);
    // The text itself, for review (PostgreSQL 15's rendering of expressions and views).
    const text = first
      .map(
        (definition) =>
          `-- ${definition.kind} ${definition.name}${definition.table === undefined ? '' : ` on ${definition.table}`}\n${[definition.sql, ...definition.after].map((sql) => `${sql};\n`).join('')}`,
      )
      .join('\n');
    if (process.env.SCHEMA_BACKUP_UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, text);
    expect(text).toBe(readFileSync(GOLDEN, 'utf8'));
  });

  it('runs one statement a query in the extended protocol, as restore should send them', async () => {
    // Defence in depth behind the checker: a statement sent so can never carry a second one.
    const client = await pgClient(await createPgDatabase());
    // queryMode is in pg 8.11 and later, not yet in @types/pg.
    const twoStatements = {
      text: 'CREATE TABLE public.a (x int); CREATE TABLE public.b (x int)',
      queryMode: 'extended',
    };
    await expect(client.query(twoStatements)).rejects.toThrow(/multiple commands/);
    const tables = await client.query(
      "SELECT count(*)::int AS n FROM pg_class WHERE relname IN ('a', 'b')",
    );
    expect(tables.rows[0]).toEqual({ n: 0 });
  });
});
