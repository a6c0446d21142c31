/**
 * Benchmark suite `pgdump` (#16): `schema_backup dump` of a PostgreSQL database against
 * `pg_dump -Fd -j N`, and `schema_backup load` against `pg_restore -j N`, on one generated
 * database of about BENCH_PGDUMP_MB megabytes of SQL (default 300: an `events` table of mixed
 * types with an integer key and two indexes, a table without a key, a bytea table, and 20
 * small tables with foreign keys). Both sides uncompressed (`--compress none`, `-Z 0`), with
 * the same number of connections. Wall time (median of BENCH_PGDUMP_RUNS interleaved runs,
 * default 3), peak RSS (/usr/bin/time %M: the largest process of the command's tree). Each
 * timed command runs after `sync` and a second's pause, both sides alike.
 * Creates `<BENCH_DB_PREFIX>pgdump*` databases (default `sbbench_pgdump*`) and a temp directory,
 * removes both.
 *
 * Run: `BENCH_ONLY=pgdump npm run bench` (or `npm run bench -- --suite pgdump`).
 * Knobs: BENCH_PGDUMP_MB, BENCH_PGDUMP_THREADS (default 2), BENCH_PGDUMP_RUNS,
 * BENCH_PG_HOST/PORT/USER (default 127.0.0.1, 5432, postgres; trust or ~/.pgpass),
 * BENCH_KEEP=1 (keep the temp directory), BENCH_TIMEOUT (s per command).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile, readdir } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure } from './lib/measure.mjs';
import { DB_PREFIX } from './lib/db.mjs';
import { intEnv } from './lib/env.mjs';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const MB = intEnv('BENCH_PGDUMP_MB', 300);
const THREADS = intEnv('BENCH_PGDUMP_THREADS', 2);
const RUNS = Math.max(1, intEnv('BENCH_PGDUMP_RUNS', 3));
const KEEP = process.env.BENCH_KEEP === '1';
const HOST = process.env.BENCH_PG_HOST ?? '127.0.0.1';
const PORT = intEnv('BENCH_PG_PORT', 5432);
const USER = process.env.BENCH_PG_USER ?? 'postgres';
const SOURCE = `${DB_PREFIX}pgdump`;
const log = (line) => process.stderr.write(`[bench pgdump] ${line}\n`);

/** The client tools' connection arguments (the password, if any, from ~/.pgpass or $PGPASSWORD). */
const CLIENT = ['-h', HOST, '-p', String(PORT), '-U', USER];
const LOAD_REFERENCE = `load: createdb + pg_restore -j ${String(THREADS)}`;

function shellQuote(word) {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/** psql's argv (after `psql`) running `sql` in `database`, stopping at the first error. */
function psqlArgs(database, sql) {
  return [...CLIENT, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', database, '-c', sql];
}

function psql(database, sql) {
  execFileSync('psql', psqlArgs(database, sql), { stdio: ['ignore', 'ignore', 'inherit'] });
}

/**
 * Before each timed command, both sides alike: writes the dirty page cache to disk and waits
 * a second, so that no command pays for the writeback of the one before (the dumps write
 * ~470 MB, and a DROP DATABASE forces a checkpoint: without this, `load` ran in the dumps'
 * writeback and pg_restore after a checkpoint).
 */
function settle() {
  execFileSync('sync');
  execFileSync('sleep', ['1']);
}

function dropDatabases() {
  const names = execFileSync(
    'psql',
    [
      ...CLIENT,
      '-X',
      '-At',
      '-d',
      'postgres',
      '-c',
      `SELECT datname FROM pg_database WHERE datname LIKE '${SOURCE.replaceAll('_', '\\_')}%'`,
    ],
    { encoding: 'utf8' },
  )
    .split('\n')
    .filter((name) => name !== '');
  for (const name of names) psql('postgres', `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

/**
 * The source database, generated on the server: `events` (most rows: integers, text with
 * quotes and non-ASCII, timestamptz, numeric, float8, NULLs, uuid, jsonb), `blobs` (random
 * bytes), `nopk` (no key), 20 small tables with a foreign key to the first. Sizes scale with MB.
 */
function createSource() {
  const events = Math.round(MB * 3000);
  const blobs = Math.round(MB * 10);
  const nopk = Math.round(MB * 900);
  psql('postgres', `CREATE DATABASE ${SOURCE} ENCODING 'UTF8' TEMPLATE template0`);
  psql(
    SOURCE,
    `CREATE TABLE public.events (
       id bigint PRIMARY KEY, account integer NOT NULL, kind smallint NOT NULL, label text NOT NULL,
       note text, created timestamptz NOT NULL, amount numeric(14,2), ratio float8, uuid uuid, attrs jsonb);
     INSERT INTO public.events SELECT g, g % 100003, g % 7,
       'label ' || (g % 977) || CASE WHEN g % 13 = 0 THEN ' o''brien\\' ELSE ' ünï' END,
       CASE WHEN g % 5 = 0 THEN NULL ELSE repeat('lorem ipsum ', 1 + g % 8) || md5(g::text) || E'\\n' || md5((g * 7)::text) END,
       to_timestamp(1600000000 + g * 7 + 0.125), (g % 1000000) / 100.0, g / 7.0,
       md5(g::text)::uuid, jsonb_build_object('g', g, 'even', g % 2 = 0)
       FROM generate_series(1, ${String(events)}) g;
     CREATE INDEX events_account ON public.events (account);
     CREATE INDEX events_created ON public.events (created);
     CREATE TABLE public.blobs (id integer PRIMARY KEY, name text, data bytea);
     INSERT INTO public.blobs SELECT g, 'blob ' || g,
       (SELECT string_agg(decode(md5(g::text || x::text), 'hex'), ''::bytea) FROM generate_series(1, 200) x)
       FROM generate_series(1, ${String(blobs)}) g;
     CREATE TABLE public.nopk (a integer, b text, c float8);
     INSERT INTO public.nopk SELECT g % 1000, 'row ' || g, g * 0.5 FROM generate_series(1, ${String(nopk)}) g;
     CREATE TABLE public.small_0 (id integer PRIMARY KEY, name text);
     INSERT INTO public.small_0 SELECT g, 'n' || g FROM generate_series(1, 1000) g;
     ${Array.from(
       { length: 19 },
       (
         _,
         index,
       ) => `CREATE TABLE public.small_${String(index + 1)} (id integer PRIMARY KEY, ref integer REFERENCES public.small_0 (id), name text);
     INSERT INTO public.small_${String(index + 1)} SELECT g, 1 + g % 1000, 'n' || g FROM generate_series(1, 1000) g;`,
     ).join('\n')}
`,
  );
  // On its own: psql -c runs several statements in one transaction, and VACUUM needs none.
  psql(SOURCE, 'VACUUM ANALYZE');
}

async function sizeOf(path) {
  const info = await stat(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const name of await readdir(path)) total += (await stat(join(path, name))).size;
  return total;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export async function runPgDumpSuite() {
  if (!existsSync(CLI))
    throw new Error(`${CLI} is missing: run npm run build (npm run bench does)`);
  const work = await mkdtemp(join(tmpdir(), 'sbbench-pgdump-'));
  const config = join(work, 'schema_backup.conf');
  await writeFile(
    config,
    [
      `csv2_backup_dir: ${join(work, 'backups')}`,
      'database:',
      '  engine: postgresql',
      `  name: ${SOURCE}`,
      `  host: ${HOST}`,
      `  port: ${String(PORT)}`,
      `  user: ${USER}`,
      '  sslmode: disable',
      '',
    ].join('\n'),
  );
  log(
    `${String(MB)} MB target, ${String(THREADS)} connections, ${String(RUNS)} runs; ${String(cpus().length)} cores, load ${loadavg()[0].toFixed(2)}, ${String(Math.round(totalmem() / 2 ** 30))} GiB`,
  );
  dropDatabases();
  const rows = new Map();
  const add = (name, result, bytes) => {
    const row = rows.get(name) ?? { runs: [], rssKiB: 0, bytes };
    row.runs.push(result.seconds);
    row.rssKiB = Math.max(row.rssKiB, result.rssKiB ?? 0);
    rows.set(name, row);
  };
  try {
    const started = Date.now();
    createSource();
    log(`source generated in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    const ours = join(work, 'ours.sql');
    const theirs = join(work, 'pg_dump.d');
    let load = 0;
    for (let run = 0; run < RUNS; run += 1) {
      // Interleaved, so that a slower moment of the machine weighs on both.
      await rm(ours, { force: true });
      settle();

      add(
        'dump: schema_backup dump',
        await measure([
          'node',
          CLI,
          '--config',
          config,
          'dump',
          '--no-encrypt',
          '--compress',
          'none',
          '--threads',
          String(THREADS),
          '--no-offsite',
          '-o',
          ours,
        ]),
        await sizeOf(ours).catch(() => 0),
      );
      rows.get('dump: schema_backup dump').bytes = await sizeOf(ours);
      await rm(theirs, { recursive: true, force: true });
      settle();

      add(
        `dump: pg_dump -Fd -j ${String(THREADS)} -Z 0`,
        await measure([
          'pg_dump',
          ...CLIENT,
          '-Fd',
          '-j',
          String(THREADS),
          '-Z',
          '0',
          '-f',
          theirs,
          SOURCE,
        ]),
      );
      rows.get(`dump: pg_dump -Fd -j ${String(THREADS)} -Z 0`).bytes = await sizeOf(theirs);
      const oursTarget = `${SOURCE}_l${String((load += 1))}`;
      settle();

      add(
        'load: schema_backup load',
        await measure([
          'node',
          CLI,
          '--config',
          config,
          'load',
          '--threads',
          String(THREADS),
          '--into',
          oursTarget,
          ours,
        ]),
      );
      psql('postgres', `DROP DATABASE "${oursTarget}" WITH (FORCE)`);
      const theirsTarget = `${SOURCE}_l${String((load += 1))}`;
      // `load --into` creates its database; pg_restore needs it made first: both are timed.
      const createdb = [
        'psql',
        ...psqlArgs(
          'postgres',
          `CREATE DATABASE "${theirsTarget}" ENCODING 'UTF8' TEMPLATE template0`,
        ),
      ];
      const restore = [
        'pg_restore',
        ...CLIENT,
        '-j',
        String(THREADS),
        '--no-owner',
        '-d',
        theirsTarget,
        theirs,
      ];
      settle();

      add(
        LOAD_REFERENCE,
        await measure([
          'sh',
          '-c',
          `${createdb.map(shellQuote).join(' ')} && exec ${restore.map(shellQuote).join(' ')}`,
        ]),
      );
      psql('postgres', `DROP DATABASE "${theirsTarget}" WITH (FORCE)`);
      log(`run ${String(run + 1)} of ${String(RUNS)} done`);
    }
    const medianOfRow = (name) => median(rows.get(name).runs);
    const lines = [
      '| command | median s | runs | peak RSS MB | output MB |',
      '| --- | ---: | --- | ---: | ---: |',
    ];
    for (const [name, row] of rows)
      lines.push(
        `| ${name} | ${median(row.runs).toFixed(2)} | ${row.runs.map((s) => s.toFixed(1)).join(', ')} | ${(row.rssKiB / 1024).toFixed(0)} | ${row.bytes === undefined ? '' : (row.bytes / 2 ** 20).toFixed(0)} |`,
      );
    const dumpRatio =
      medianOfRow(`dump: pg_dump -Fd -j ${String(THREADS)} -Z 0`) /
      medianOfRow('dump: schema_backup dump');
    const loadRatio = medianOfRow(LOAD_REFERENCE) / medianOfRow('load: schema_backup load');
    lines.push('');
    lines.push(`dump: schema_backup is ${dumpRatio.toFixed(2)}x pg_dump's speed (target >= 1)`);
    lines.push(`load: schema_backup is ${loadRatio.toFixed(2)}x pg_restore's speed (target >= 1)`);
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    dropDatabases();
    if (!KEEP) await rm(work, { recursive: true, force: true });
    else log(`kept ${work}`);
  }
}
