/**
 * The PostgreSQL definitions read from the catalogs re-create the same schema: every object's
 * statements, loaded with psql in restore order into an empty database, give the same
 * `pg_dump --schema-only --no-owner` as the source.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  listObjects,
  PG_OBJECT_KINDS,
  readDefinition,
  type PgObjectDefinition,
} from '../../../src/engine/postgresql/definitions.js';
import { PG_SCHEMA_OBJECTS } from '../../fixtures/pg-schema-objects.js';
import { createPgDatabase, pgClient, pgDumpSchema, psqlFile } from '../../helpers/pg-database.js';

/** What every file starts with, as a snapshot's preamble would say it. */
const PREAMBLE = [
  "SET client_encoding = 'UTF8'",
  'SET standard_conforming_strings = on',
  "SET search_path = ''",
  'SET check_function_bodies = false',
  'SET client_min_messages = warning',
];

function fileText(definition: PgObjectDefinition): string {
  return [...PREAMBLE, definition.sql, ...definition.after].map((sql) => `${sql};\n`).join('');
}

async function readAll(database: string): Promise<PgObjectDefinition[]> {
  const client = await pgClient(database);
  const definitions: PgObjectDefinition[] = [];
  for (const ref of await listObjects(client))
    definitions.push(await readDefinition(client, ref.kind, ref.name, ref.table));
  return definitions;
}

describe('PostgreSQL definitions', () => {
  it('re-create every object of the source, as pg_dump sees it', async () => {
    const source = await createPgDatabase();
    const target = await createPgDatabase();
    const client = await pgClient(source);
    await client.query(PG_SCHEMA_OBJECTS);

    const definitions = await readAll(source);
    const kinds = new Set(definitions.map((definition) => definition.kind));
    expect([...kinds]).toEqual(PG_OBJECT_KINDS.filter((kind) => kinds.has(kind)));
    expect(kinds.size).toBe(PG_OBJECT_KINDS.length);

    const dir = mkdtempSync(join(tmpdir(), 'pgddl-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    let index = 0;
    for (const definition of definitions) {
      const file = join(dir, `${String(index++).padStart(3, '0')}.sql`);
      writeFileSync(file, fileText(definition));
      try {
        await psqlFile(target, file);
      } catch (error) {
        throw new Error(
          `${definition.kind} ${definition.name}: ${String(error)}\n${fileText(definition)}`,
        );
      }
    }
    const [restored, original] = [await pgDumpSchema(target), await pgDumpSchema(source)];
    if (restored !== original) {
      writeFileSync('/tmp/pgddl-restored.sql', restored);
      writeFileSync('/tmp/pgddl-original.sql', original);
    }
    expect(restored).toBe(original);
  });

  it('reads the same text twice, and the copy reads as the source', async () => {
    const source = await createPgDatabase();
    const client = await pgClient(source);
    await client.query(PG_SCHEMA_OBJECTS);
    const first = await readAll(source);
    expect(await readAll(source)).toEqual(first);
    // The session's own settings are left as they were.
    await client.query("SET search_path = app; SET TimeZone = 'Europe/Paris'");
    await readDefinition(client, 'table', 'app.events_2024');
    const settings = await client.query<{ path: string; zone: string }>(
      "SELECT current_setting('search_path') AS path, current_setting('TimeZone') AS zone",
    );
    expect(settings.rows[0]).toEqual({ path: 'app', zone: 'Europe/Paris' });
    expect(JSON.stringify(first)).not.toMatch(/\boid\b|OWNER/);
  });
});
