/**
 * The keys of a PostgreSQL load with several connections (#16): a plain primary key or unique
 * constraint of a table that is not partitioned is built as a unique index beside the table's
 * other indexes, then attached as the constraint (`ADD CONSTRAINT … USING INDEX`); every other
 * key runs as the dump wrote it. Either way the loaded database is the source's: the same
 * schema by `pg_dump --schema-only --no-owner`, the same rows; and a duplicate key in the data
 * still fails the load.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { loadDump } from '../../../src/dump/load-dump.js';
import { postgresqlEngine } from '../../../src/engine/postgresql/postgresql-engine.js';
import { loadOptionsForTest, pgDumpForTest } from '../../helpers/dump.js';
import type { ConnectionOptions } from '../../../src/engine/engine.js';
import {
  createPgTestDatabase,
  pgConnectionTo,
  pgDumpData,
  pgDumpSchema,
} from '../../helpers/postgres.js';

const KEYS = String.raw`
CREATE SCHEMA app;
CREATE TABLE app."Odd ""Keys""" ("a b" integer NOT NULL, "C" text NOT NULL, d integer, e integer,
  f integer, g integer, h integer, pad text,
  CONSTRAINT "pk ""odd""" PRIMARY KEY ("a b", "C"),
  CONSTRAINT "u.d" UNIQUE (d),
  CONSTRAINT u_e UNIQUE (e) INCLUDE (pad),
  CONSTRAINT u_f UNIQUE (f) DEFERRABLE INITIALLY DEFERRED,
  CONSTRAINT u_g UNIQUE NULLS NOT DISTINCT (g),
  CONSTRAINT u_h UNIQUE (h));
CREATE INDEX odd_pad ON app."Odd ""Keys""" (pad);
CREATE INDEX odd_e_desc ON app."Odd ""Keys""" (e DESC);
COMMENT ON CONSTRAINT "pk ""odd""" ON app."Odd ""Keys""" IS 'the key';
INSERT INTO app."Odd ""Keys""" SELECT g, 'c' || g, g, g, g, g, g, repeat('x', g % 50)
  FROM generate_series(1, 20000) g;
CREATE TABLE public.events (id bigint PRIMARY KEY, account integer NOT NULL, note text);
CREATE INDEX events_account ON public.events (account);
CREATE INDEX events_note ON public.events (note);
INSERT INTO public.events SELECT g, g % 101, 'note ' || g FROM generate_series(1, 30000) g;
CREATE TABLE public.refs (id integer PRIMARY KEY, event bigint REFERENCES public.events (id),
  odd integer REFERENCES app."Odd ""Keys""" (d));
INSERT INTO public.refs SELECT g, g, g FROM generate_series(1, 100) g;
CREATE TABLE public.parted (id integer, k text, PRIMARY KEY (id, k)) PARTITION BY LIST (k);
CREATE TABLE public.parted_a PARTITION OF public.parted (UNIQUE (id)) FOR VALUES IN ('a');
CREATE TABLE public.parted_b PARTITION OF public.parted FOR VALUES IN ('b');
INSERT INTO public.parted SELECT g, CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b' END
  FROM generate_series(1, 1000) g;
CREATE TABLE public.base (id integer PRIMARY KEY, v text);
CREATE TABLE public.derived (w text, CONSTRAINT derived_pkey PRIMARY KEY (id)) INHERITS (public.base);
INSERT INTO public.derived SELECT g, 'v', 'w' FROM generate_series(1, 500) g;
`;

async function serverConnection(): Promise<ConnectionOptions> {
  const { options } = await pgConnectionTo('postgres');
  return { ...options, database: undefined };
}

async function sourceDatabase(): Promise<string> {
  const source = await createPgTestDatabase('sbpgload_keys');
  await source.exec(KEYS);
  return source.name;
}

describe('the keys of a PostgreSQL load on several connections', () => {
  it('loads every form of key as the source has it', async () => {
    const source = await sourceDatabase();
    const connection = await serverConnection();
    const result = await pgDumpForTest(connection, source, { threads: 2 });
    const path = result.path ?? '';
    // The dump writes the plain keys the load splits, and the others it runs as they are.
    const text = await readFile(path, 'utf8');
    expect(text).toContain(
      'ALTER TABLE ONLY "public"."events" ADD CONSTRAINT "events_pkey" PRIMARY KEY (id)',
    );
    expect(text).toContain('ALTER TABLE "public"."parted" ADD CONSTRAINT "parted_pkey"');
    for (const threads of [2, 3]) {
      const target = await createPgTestDatabase('sbpgload_keys_dst');
      const loaded = await loadDump(
        postgresqlEngine,
        loadOptionsForTest({ connection, path, into: target.name, threads }),
      );
      expect(loaded.rows).toBe(result.rows);
      expect(await pgDumpSchema(target.name)).toEqual(await pgDumpSchema(source));
      expect(await pgDumpData(target.name)).toEqual(await pgDumpData(source));
    }
  });

  it('still fails on a duplicate key in the data, and leaves nothing', async () => {
    const source = await sourceDatabase();
    const connection = await serverConnection();
    const result = await pgDumpForTest(connection, source, { threads: 2 });
    const path = result.path ?? '';
    const lines = (await readFile(path, 'utf8')).split('\n');
    // The event row 7 again as row 8: both keys of events hold 7 twice.
    const seventh = lines.findIndex((line) => line.startsWith('7\t7\tnote 7'));
    expect(seventh).toBeGreaterThan(0);
    const eighth = seventh + 1;
    expect(lines[eighth]).toMatch(/^8\t/);
    lines[eighth] = lines[seventh] ?? '';
    await writeFile(path, lines.join('\n'));
    const target = await createPgTestDatabase('sbpgload_keys_dup');
    await expect(
      loadDump(postgresqlEngine, loadOptionsForTest({ connection, path, into: target.name })),
    ).rejects.toThrow(/statement at line \d+ failed: .*(unique|duplicate)/is);
    const left = await target.query<{ count: string }>(
      "SELECT count(*) AS count FROM pg_catalog.pg_class WHERE relnamespace = 'public'::regnamespace",
    );
    expect(left[0]?.count).toBe('0');
  });
});
