/**
 * `dump` of PostgreSQL tables big enough to be read in parts (#16): the engine cuts them into
 * ranges of pages (a TID range scan, PostgreSQL 14+) that several connections read at once.
 * Pages with holes (deleted rows, space reused by later rows) and HOT chains (rows updated
 * in place, several versions on a page) must still give every row of the snapshot exactly
 * once, also while a writer moves rows from page to page during the dump. A table bigger
 * than a quarter of shared_buffers is read in parts by sequential scans (which keep the
 * server's cache), one per reader.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DumpManifest } from '../../../src/dump/dump-format.js';
import { loadDump } from '../../../src/dump/load-dump.js';
import type { ConnectionOptions } from '../../../src/engine/engine.js';
import { postgresqlEngine } from '../../../src/engine/postgresql/postgresql-engine.js';
import { loadOptionsForTest, pgDumpForTest } from '../../helpers/dump.js';
import {
  createPgTestDatabase,
  pgClient,
  pgConnectionTo,
  pgDumpData,
} from '../../helpers/postgres.js';

/** Directory form, three readers, parts of 2,000 rows: every table of these tests is split. */
const SPLIT = { form: 'directory', threads: 3, chunkRows: 2000 } as const;

/** Rows of each table: a few hundred pages, far more than the dump's `chunkRows`. */
const ROWS = 30_000;

/**
 * A table with a key and one without, both with room on their pages for HOT updates
 * (fillfactor), then rows deleted, updated in place and out of place, a VACUUM that frees
 * the dead rows' space, new rows in the holes, and updates after it whose old versions stay.
 */
const SETUP = `
  CREATE TABLE public.items (id bigint PRIMARY KEY, item integer NOT NULL, note text, pad text)
    WITH (fillfactor = 70);
  CREATE TABLE public.loose (item integer, note text, pad text) WITH (fillfactor = 70);
  INSERT INTO public.items SELECT g, g, 'n' || g, repeat('p', 150) FROM generate_series(1, ${String(ROWS)}) g;
  INSERT INTO public.loose SELECT g, 'n' || g, repeat('q', 150) FROM generate_series(1, ${String(ROWS)}) g;
  DELETE FROM public.items WHERE item % 7 = 0;
  DELETE FROM public.loose WHERE item % 7 = 0;
  UPDATE public.items SET note = 'hot ' || item WHERE item % 5 = 0;
  UPDATE public.loose SET note = 'hot ' || item WHERE item % 5 = 0;
  UPDATE public.items SET id = id + ${String(ROWS)} WHERE item % 11 = 0;
`;
const AFTER_VACUUM = `
  INSERT INTO public.items SELECT g, g, 'refill ' || g, repeat('r', 100) FROM generate_series(${String(2 * ROWS + 1)}, ${String(2 * ROWS + 3000)}) g;
  INSERT INTO public.loose SELECT g, 'refill ' || g, repeat('r', 100) FROM generate_series(${String(2 * ROWS + 1)}, ${String(2 * ROWS + 3000)}) g;
  UPDATE public.items SET note = 'hot again ' || item WHERE item % 3 = 0;
  UPDATE public.loose SET note = 'hot again ' || item WHERE item % 3 = 0;
  DELETE FROM public.items WHERE item % 13 = 0;
  ANALYZE public.items;
  ANALYZE public.loose;
`;

/** Connection options of the engine, to no database (the workflows name it). */
async function serverConnection(): Promise<ConnectionOptions> {
  const { options } = await pgConnectionTo('postgres');
  return { ...options, database: undefined };
}

/** How many data files of the directory-form dump hold rows of `table`. */
async function dataFilesOf(path: string, table: string): Promise<number> {
  const manifest = JSON.parse(await readFile(join(path, 'manifest.json'), 'utf8')) as DumpManifest;
  return manifest.files.filter((file) => file.kind === 'data' && file.table === table).length;
}

describe('dump of PostgreSQL tables read in page ranges', () => {
  it('gives every row exactly once from pages with holes and HOT chains', async () => {
    const source = await createPgTestDatabase('sbpgsplit_src');
    await source.exec(SETUP);
    // On its own: VACUUM runs in no transaction block.
    await source.exec('VACUUM public.items');
    await source.exec('VACUUM public.loose');
    await source.exec(AFTER_VACUUM);
    const [pages] = await source.query<{ pages: string }>(
      "SELECT pg_relation_size('public.items') / current_setting('block_size')::int8 AS pages",
    );
    expect(Number(pages?.pages)).toBeGreaterThan(100);
    const connection = await serverConnection();
    const result = await pgDumpForTest(connection, source.name, SPLIT);
    const path = result.path ?? '';
    // Read in parts: each part is a data file of its own.
    expect(await dataFilesOf(path, 'public.items')).toBeGreaterThan(5);
    expect(await dataFilesOf(path, 'public.loose')).toBeGreaterThan(5);
    const target = await createPgTestDatabase('sbpgsplit_dst');
    await loadDump(postgresqlEngine, loadOptionsForTest({ connection, path, into: target.name }));
    // Every row, each once (pg_dump's lines sorted: a row twice would show, as would one missing).
    const loaded = await pgDumpData(target.name);
    expect(loaded).toEqual(await pgDumpData(source.name));
    const [counts] = await target.query<{ items: string; loose: string }>(
      'SELECT (SELECT count(*) FROM public.items) AS items, (SELECT count(*) FROM public.loose) AS loose',
    );
    const [expected] = await source.query<{ items: string; loose: string }>(
      'SELECT (SELECT count(*) FROM public.items) AS items, (SELECT count(*) FROM public.loose) AS loose',
    );
    expect(counts).toEqual(expected);
  });

  it('reads one instant while a writer moves rows between pages', async () => {
    const source = await createPgTestDatabase('sbpgsplit_moving');
    await source.exec(`
      CREATE TABLE public.items (id bigint PRIMARY KEY, item integer NOT NULL, note text, pad text)
        WITH (fillfactor = 80);
      INSERT INTO public.items SELECT g, g, 'n', repeat('p', 150) FROM generate_series(1, ${String(ROWS)}) g;
      ANALYZE public.items;`);
    const client = await pgClient(source.name);
    const control = { running: true };
    let moves = 0;
    // Each transaction moves one item: a new key (a new version on another page, often the
    // last), an update in place (HOT), and a delete and insert of another item.
    const writing = (async () => {
      let step = 0;
      while (control.running) {
        step += 1;
        const item = 1 + ((step * 7919) % ROWS);
        const other = 1 + ((step * 104729) % ROWS);
        await client.query(
          `BEGIN;
           UPDATE public.items SET id = id + ${String(ROWS)} WHERE item = ${String(item)};
           UPDATE public.items SET note = note || 'x' WHERE item = ${String((item % ROWS) + 1)};
           WITH gone AS (DELETE FROM public.items WHERE item = ${String(other)} RETURNING id, item, pad)
             INSERT INTO public.items SELECT id + ${String(4 * ROWS)}, item, 'moved', pad FROM gone;
           COMMIT`,
        );
        moves += 1;
      }
    })();
    const connection = await serverConnection();
    try {
      while (moves < 20) await new Promise((resolve) => setTimeout(resolve, 10));
      const atStart = moves;
      const result = await pgDumpForTest(connection, source.name, SPLIT);
      expect(await dataFilesOf(result.path ?? '', 'public.items')).toBeGreaterThan(5);
      // The writer committed while the dump read.
      expect(moves).toBeGreaterThan(atStart);
      const target = await createPgTestDatabase('sbpgsplit_movingdst');
      await loadDump(
        postgresqlEngine,
        loadOptionsForTest({ connection, path: result.path ?? '', into: target.name }),
      );
      // Each item once (the primary key, added after the rows, refuses a key twice).
      const [row] = await target.query<{ rows: string; items: string; total: string }>(
        'SELECT count(*) AS rows, count(DISTINCT item) AS items, sum(item) AS total FROM public.items',
      );
      expect(row).toEqual({
        rows: String(ROWS),
        items: String(ROWS),
        total: String((ROWS * (ROWS + 1)) / 2),
      });
    } finally {
      control.running = false;
      await writing;
    }
  });

  it('reads a table bigger than a quarter of shared_buffers by one sequential scan per reader', async () => {
    const source = await createPgTestDatabase('sbpgsplit_ring');
    const [settings] = await source.query<{ buffers: string }>(
      "SELECT setting AS buffers FROM pg_settings WHERE name = 'shared_buffers'",
    );
    // One row a page (fillfactor 10, rows of 1 kB): just past the quarter of shared_buffers.
    const bigPages = Math.floor(Number(settings?.buffers) / 4) + 64;
    await source.exec(`
      CREATE TABLE public.big (id bigint PRIMARY KEY, pad text) WITH (fillfactor = 10);
      INSERT INTO public.big SELECT g, repeat(md5(g::text), 32) FROM generate_series(1, ${String(bigPages)}) g;
      CREATE TABLE public.small (id bigint PRIMARY KEY, note text);
      INSERT INTO public.small SELECT g, 'n' || g FROM generate_series(1, 5000) g;
      ANALYZE public.big;
      ANALYZE public.small;`);
    const [size] = await source.query<{ pages: string }>(
      "SELECT pg_relation_size('public.big') / current_setting('block_size')::int8 AS pages",
    );
    expect(Number(size?.pages)).toBeGreaterThan(Number(settings?.buffers) / 4);
    const scans = async (): Promise<{ big: number; small: number }> => {
      await source.query('SELECT pg_stat_clear_snapshot()');
      const rows = await source.query<{ relname: string; seq_scan: string }>(
        "SELECT relname, seq_scan FROM pg_stat_user_tables WHERE relname IN ('big', 'small')",
      );
      const of = (name: string): number =>
        Number(rows.find((row) => row.relname === name)?.seq_scan ?? 0);
      return { big: of('big'), small: of('small') };
    };
    const before = await scans();
    const connection = await serverConnection();
    const result = await pgDumpForTest(connection, source.name, {
      form: 'directory',
      threads: 2,
      chunkRows: 1000,
    });
    const path = result.path ?? '';
    // Two parts for two readers, though its rows would make more; the small table's parts
    // (TID range scans) are as many as its rows make.
    expect(await dataFilesOf(path, 'public.big')).toBe(2);
    expect(await dataFilesOf(path, 'public.small')).toBe(5);
    // The dump's connections report their scans when they end: wait for both of big's.
    let after = await scans();
    for (let wait = 0; after.big - before.big < 2 && wait < 100; wait += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      after = await scans();
    }
    expect(after.big - before.big).toBe(2);
    expect(after.small - before.small).toBe(0);
    const target = await createPgTestDatabase('sbpgsplit_ringdst');
    await loadDump(postgresqlEngine, loadOptionsForTest({ connection, path, into: target.name }));
    expect(await pgDumpData(target.name)).toEqual(await pgDumpData(source.name));
  });
});
