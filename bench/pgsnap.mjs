/**
 * Benchmark suite `pgsnap` (#16): `schema_backup snapshot` of a PostgreSQL database of many
 * small tables against the original's approach, one `pg_dump --no-owner -t TABLE DB >
 * TABLE.sql` per table then `git add` + `git commit` (the baseline), with one `pg_dump` of
 * the whole database as a reference. Tables `t00000..` (int PK, varchar, timestamp, numeric,
 * text, bytea; NULLs, quotes, backslashes, newlines, UTF-8), BENCH_PGSNAP_ROWS rows each
 * (default 100), every table `global` (rows saved). For each size in BENCH_PGSNAP_TABLES
 * (default 1000; e.g. `100,1000,10000` for a scale curve), BENCH_RUNS runs (default 3),
 * interleaved: fresh snapshot, unchanged re-run (checked: no new commit, clean tree), baseline,
 * whole pg_dump. Then (BENCH_PGSNAP_RESTORE, default 1) BENCH_RUNS times, interleaved, the
 * snapshot restored: `schema_backup restore` (its default --parallel 2) against `psql -f` of
 * the same files (one psql, every file) and `pg_restore -j 2` of a `pg_dump -Fc` of the source
 * (taken once, untimed); each restored database is checked (every table, every row).
 * Prints medians, ratios, tables/s, peak RSS (/usr/bin/time %M: the largest
 * process of the command's tree), and PASS/FAIL for baseline/fresh >= 10x and RSS < 200 MB.
 * Creates BENCH_PGSNAP_DB (default `sbbench_pgsnap`) and, to restore into,
 * BENCH_PGSNAP_DB_restored, and a temp directory, removes them.
 *
 * Run: `BENCH_ONLY=pgsnap npm run bench` (or `npm run bench -- --suite pgsnap`).
 * Knobs: BENCH_PGSNAP_TABLES, BENCH_PGSNAP_ROWS, BENCH_RUNS, BENCH_PGSNAP_DB, BENCH_PGSNAP_RESTORE,
 * BENCH_PG_HOST/PORT/USER (default 127.0.0.1, 5432, postgres; trust or ~/.pgpass),
 * BENCH_KEEP=1 (keep the temp directory), BENCH_TIMEOUT (s per command).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure as measureCommand } from './lib/measure.mjs';
import { GIT_ENV, intEnv } from './lib/env.mjs';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
/** A measured command, with the bench's git identity (the baseline commits). */
const measure = (argv, options = {}) => measureCommand(argv, { ...options, env: GIT_ENV });
const SIZES = (process.env.BENCH_PGSNAP_TABLES ?? '1000')
  .split(',')
  .map((text) => Number(text.trim()))
  .filter((n) => Number.isInteger(n) && n > 0);
const ROWS = intEnv('BENCH_PGSNAP_ROWS', 100);
const RUNS = Math.max(1, intEnv('BENCH_RUNS', 3));
const KEEP = process.env.BENCH_KEEP === '1';
const HOST = process.env.BENCH_PG_HOST ?? '127.0.0.1';
const PORT = intEnv('BENCH_PG_PORT', 5432);
const USER = process.env.BENCH_PG_USER ?? 'postgres';
const SOURCE = process.env.BENCH_PGSNAP_DB ?? 'sbbench_pgsnap';
if (!/^[a-z_][a-z0-9_]*$/.test(SOURCE))
  throw new Error(`BENCH_PGSNAP_DB: not a plain name: ${SOURCE}`);
const BASELINE = process.env.BENCH_PGSNAP_BASELINE !== '0';
const RESTORE = process.env.BENCH_PGSNAP_RESTORE !== '0';
const TARGET = `${SOURCE}_restored`;
const TARGET_SPEEDUP = 10;
const TARGET_RSS_MB = 200;
const log = (line) => process.stderr.write(`[bench pgsnap] ${line}\n`);

const CLIENT = ['-h', HOST, '-p', String(PORT), '-U', USER];
const shellQuote = (text) => `'${String(text).replace(/'/g, "'\\''")}'`;
const tableName = (index) => `t${String(index).padStart(5, '0')}`;

function psql(database, sql) {
  execFileSync(
    'psql',
    [...CLIENT, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', database, '-c', sql],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
}

function dropSource() {
  psql('postgres', `DROP DATABASE IF EXISTS "${SOURCE}" WITH (FORCE)`);
  psql('postgres', `DROP DATABASE IF EXISTS "${TARGET}" WITH (FORCE)`);
}

function dropTarget() {
  psql('postgres', `DROP DATABASE IF EXISTS "${TARGET}" WITH (FORCE)`);
}

function createTarget() {
  psql('postgres', `CREATE DATABASE "${TARGET}" ENCODING 'UTF8' TEMPLATE template0`);
}

/** The tables of TARGET and their rows in all: what a good restore of SOURCE has. */
function restoredShape() {
  return execFileSync(
    'psql',
    [
      ...CLIENT,
      '-X',
      '-q',
      '-A',
      '-t',
      '-d',
      TARGET,
      '-c',
      `SELECT count(*) || ' tables, ' || coalesce(sum((xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM public.%I', relname), false, true, '')))[1]::text::bigint), 0) || ' rows' FROM pg_catalog.pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'`,
    ],
    { encoding: 'utf8' },
  ).trim();
}

/** `tables` tables of ROWS rows each, generated on the server. */
function createSource(tables) {
  psql('postgres', `CREATE DATABASE "${SOURCE}" ENCODING 'UTF8' TEMPLATE template0`);
  // In chunks: one DO block per 500 tables keeps each transaction's locks few.
  for (let from = 0; from < tables; from += 500) {
    const to = Math.min(tables, from + 500) - 1;
    psql(
      SOURCE,
      `DO $$
       BEGIN
         FOR i IN ${String(from)}..${String(to)} LOOP
           EXECUTE format('CREATE TABLE public.%I (id integer PRIMARY KEY, name varchar(100), created timestamp, amount numeric(12,2), body text, data bytea)', 't' || lpad(i::text, 5, '0'));
           EXECUTE format($q$INSERT INTO public.%1$I SELECT g,
               CASE WHEN g %% 7 = 0 THEN NULL ELSE 'name ' || g || ' o''brien\\' || %2$s END,
               timestamp '2024-01-01' + (g + %2$s) * interval '1 minute',
               CASE WHEN g %% 11 = 0 THEN NULL ELSE (g * 1.25 + %2$s) END,
               CASE WHEN g %% 5 = 0 THEN NULL ELSE E'line1\\nline2 ünï ' || md5((g * %2$s)::text) END,
               CASE WHEN g %% 3 = 0 THEN NULL ELSE decode(md5((g + %2$s)::text), 'hex') END
             FROM generate_series(1, ${String(ROWS)}) g$q$, 't' || lpad(i::text, 5, '0'), i);
         END LOOP;
       END $$`,
    );
  }
  psql(SOURCE, 'VACUUM ANALYZE');
}

function git(dir, args) {
  return execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, ...GIT_ENV },
  }).trim();
}

async function treeSize(dir) {
  let bytes = 0;
  let files = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath ?? entry.path, entry.name);
    if (path.includes(`${join(dir, '.git')}`)) continue;
    bytes += (await stat(path)).size;
    files += 1;
  }
  return { bytes, files };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function writeConfig(work, tables) {
  const config = join(work, 'schema_backup.conf');
  const names = Array.from({ length: tables }, (_, index) => `  - ${tableName(index)}`);
  await writeFile(
    config,
    [
      `csv2_backup_dir: ${join(work, 'ours')}`,
      'hostname: bench',
      'git:',
      '  init: true',
      'database:',
      '  engine: postgresql',
      `  name: ${SOURCE}`,
      `  host: ${HOST}`,
      `  port: ${String(PORT)}`,
      `  user: ${USER}`,
      '  sslmode: disable',
      'global:',
      ...names,
      '',
    ].join('\n'),
  );
  return config;
}

/** The original's approach: one pg_dump per table, sequentially, then git add + commit. */
async function runBaseline(work, tables) {
  const dir = join(work, 'baseline');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  git(dir, ['init', '--quiet']);
  const client = CLIENT.map(shellQuote).join(' ');
  const lines = ['set -e', `cd ${shellQuote(dir)}`];
  for (let index = 0; index < tables; index += 1) {
    const table = tableName(index);
    lines.push(
      `pg_dump ${client} --no-owner -t ${shellQuote(`public.${table}`)} ${shellQuote(SOURCE)} > ${shellQuote(`${table}.sql`)}`,
    );
  }
  lines.push('git add --all .', "git commit --quiet -m 'schema backup'");
  const script = join(work, 'baseline.sh');
  await writeFile(script, `${lines.join('\n')}\n`);
  const result = await measure(['sh', script], { cwd: dir });
  return { ...result, ...(await treeSize(dir)) };
}

async function runSize(tables) {
  const work = await mkdtemp(join(tmpdir(), 'sbbench-pgsnap-'));
  const samples = {
    fresh: [],
    rerun: [],
    baseline: [],
    whole: [],
    restore: [],
    psqlFiles: [],
    pgRestore: [],
  };
  const checks = [];
  try {
    const started = Date.now();
    dropSource();
    createSource(tables);
    log(
      `${String(tables)} tables x ${String(ROWS)} rows generated in ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
    const config = await writeConfig(work, tables);
    const ours = join(work, 'ours');
    const command = ['node', CLI, '--config', config, '--quiet'];
    for (let run = 0; run < RUNS; run += 1) {
      // Interleaved, so that a slower moment of the shared machine weighs on every row.
      await rm(ours, { recursive: true, force: true });
      const fresh = await measure(command);
      samples.fresh.push({ ...fresh, ...(await treeSize(ours)) });
      const repo = join(ours, 'bench');
      const head = git(ours, ['rev-parse', 'HEAD']);
      const rerun = await measure(command);
      samples.rerun.push({ ...rerun, ...(await treeSize(ours)) });
      const unchanged =
        git(ours, ['rev-parse', 'HEAD']) === head && git(ours, ['status', '--porcelain']) === '';
      checks.push({ run: run + 1, unchanged });
      if (!unchanged) log(`run ${String(run + 1)}: the re-run changed ${repo}`);
      if (BASELINE) samples.baseline.push(await runBaseline(work, tables));
      const whole = join(work, 'whole.sql');
      samples.whole.push({
        ...(await measure([
          'sh',
          '-c',
          `exec pg_dump ${CLIENT.map(shellQuote).join(' ')} --no-owner ${shellQuote(SOURCE)} > ${shellQuote(whole)}`,
        ])),
        bytes: (await stat(whole)).size,
        files: 1,
      });
      log(
        `${String(tables)} tables, run ${String(run + 1)}/${String(RUNS)}: ` +
          Object.entries(samples)
            .filter(([, list]) => list.length > run)
            .map(([id, list]) => `${id} ${list[run].seconds.toFixed(2)} s`)
            .join(', '),
      );
    }
    if (RESTORE) await runRestores(work, config, tables, samples, checks);
  } finally {
    dropSource();
    if (!KEEP) await rm(work, { recursive: true, force: true });
    else log(`kept ${work}`);
  }
  return { tables, samples, checks };
}

/**
 * The last snapshot restored BENCH_RUNS times, interleaved: `schema_backup restore` (it
 * creates the target), `psql -f` of every file of the snapshot in one psql, `pg_restore -j 2`
 * of a `pg_dump -Fc` of the source (into a target created first, untimed). Each restored
 * database must hold every table and every row.
 */
async function runRestores(work, config, tables, samples, checks) {
  const hostDir = join(work, 'ours', 'bench');
  const files = (await readdir(hostDir)).filter((file) => file.endsWith('.sql')).sort();
  const archive = join(work, 'source.dump');
  execFileSync('pg_dump', [...CLIENT, '--no-owner', '-Fc', '-f', archive, SOURCE], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const expected = `${String(tables)} tables, ${String(tables * ROWS)} rows`;
  const check = (id, run) => {
    const shape = restoredShape();
    const ok = shape === expected;
    checks.push({ run, unchanged: ok });
    if (!ok) log(`run ${String(run)}: ${id} restored ${shape}, not ${expected}`);
  };
  for (let run = 0; run < RUNS; run += 1) {
    dropTarget();
    samples.restore.push({
      ...(await measure([
        'node',
        CLI,
        '--config',
        config,
        '--quiet',
        'restore',
        '--target',
        TARGET,
      ])),
      bytes: 0,
      files: files.length,
    });
    check('restore', run + 1);
    dropTarget();
    createTarget();
    samples.psqlFiles.push({
      ...(await measure(
        [
          'psql',
          ...CLIENT,
          '-X',
          '-q',
          '-v',
          'ON_ERROR_STOP=1',
          '-d',
          TARGET,
          ...files.flatMap((file) => ['-f', file]),
        ],
        { cwd: hostDir },
      )),
      bytes: 0,
      files: files.length,
    });
    check('psql -f', run + 1);
    dropTarget();
    createTarget();
    samples.pgRestore.push({
      ...(await measure(['pg_restore', ...CLIENT, '--no-owner', '-j', '2', '-d', TARGET, archive])),
      bytes: (await stat(archive)).size,
      files: 1,
    });
    check('pg_restore', run + 1);
    log(
      `${String(tables)} tables, restore run ${String(run + 1)}/${String(RUNS)}: ` +
        ['restore', 'psqlFiles', 'pgRestore']
          .map((id) => `${id} ${samples[id][run].seconds.toFixed(2)} s`)
          .join(', '),
    );
  }
  dropTarget();
}

const LABELS = {
  fresh: 'schema_backup snapshot, fresh repo',
  rerun: 'schema_backup re-run, unchanged',
  baseline: 'pg_dump -t per table + git commit (baseline)',
  whole: 'pg_dump whole db (reference)',
  restore: 'schema_backup restore (--parallel 2)',
  psqlFiles: 'psql -f every snapshot file (one psql)',
  pgRestore: 'pg_restore -j 2 of pg_dump -Fc (reference)',
};

function report(results) {
  const lines = [
    '| tables | command | median s | runs s | tables/s | baseline/this | peak RSS MB | output MB |',
    '| ---: | --- | ---: | --- | ---: | ---: | ---: | ---: |',
  ];
  const verdicts = [];
  for (const { tables, samples, checks } of results) {
    const baseline =
      samples.baseline.length === 0 ? NaN : median(samples.baseline.map((s) => s.seconds));
    const ratio = (seconds) =>
      Number.isNaN(baseline) ? 'n/a' : `${(baseline / seconds).toFixed(1)}x`;
    for (const [id, list] of Object.entries(samples)) {
      if (list.length === 0) continue;
      const seconds = median(list.map((s) => s.seconds));
      const rss = Math.max(...list.map((s) => s.rssKiB ?? 0)) / 1024;
      lines.push(
        `| ${String(tables)} | ${LABELS[id]} | ${seconds.toFixed(2)} | ${list.map((s) => s.seconds.toFixed(1)).join(', ')} | ${(tables / seconds).toFixed(0)} | ${ratio(seconds)} | ${rss === 0 ? 'n/a' : rss.toFixed(0)} | ${(median(list.map((s) => s.bytes)) / 1e6).toFixed(1)} |`,
      );
    }
    const fresh = median(samples.fresh.map((s) => s.seconds));
    const rerun = median(samples.rerun.map((s) => s.seconds));
    const rss = Math.max(...[...samples.fresh, ...samples.rerun].map((s) => s.rssKiB ?? 0)) / 1024;
    const pass = (ok) => (ok ? 'PASS' : 'FAIL');
    if (samples.restore.length > 0) {
      const ours = median(samples.restore.map((s) => s.seconds));
      const against = (id) => median(samples[id].map((s) => s.seconds)) / ours;
      verdicts.push(
        `INFO ${String(tables)} tables: schema_backup restore ${ours.toFixed(2)} s, ${against('psqlFiles').toFixed(2)}x the speed of psql -f of the same files, ${against('pgRestore').toFixed(2)}x pg_restore -j 2's; peak RSS ${(Math.max(...samples.restore.map((s) => s.rssKiB ?? 0)) / 1024).toFixed(0)} MB`,
      );
    }
    verdicts.push(
      Number.isNaN(baseline)
        ? `SKIP ${String(tables)} tables: no baseline (BENCH_PGSNAP_BASELINE=0)`
        : `${tables >= 1000 ? pass(baseline / fresh >= TARGET_SPEEDUP) : 'INFO'} ${String(tables)} tables: fresh snapshot ${ratio(fresh)} faster than pg_dump -t per table (target >= ${String(TARGET_SPEEDUP)}x at 1,000 tables and more); unchanged re-run ${ratio(rerun)}`,
      `${pass(rss > 0 && rss < TARGET_RSS_MB)} ${String(tables)} tables: peak RSS of schema_backup ${rss.toFixed(0)} MB (target < ${String(TARGET_RSS_MB)} MB)`,
      `${pass(checks.every((check) => check.unchanged))} ${String(tables)} tables: every unchanged re-run made no commit and left the tree clean${samples.restore.length > 0 ? ', every restore holds every table and row' : ''}`,
    );
  }
  process.stdout.write(`${[...lines, '', ...verdicts].join('\n')}\n`);
}

export async function runPgSnapSuite() {
  if (!existsSync(CLI))
    throw new Error(`${CLI} is missing: run npm run build (npm run bench does)`);
  log(
    `sizes ${SIZES.join(', ')} tables x ${String(ROWS)} rows, ${String(RUNS)} runs; ${String(cpus().length)} cores, load ${loadavg()[0].toFixed(2)}, ${String(Math.round(totalmem() / 2 ** 30))} GiB`,
  );
  const results = [];
  for (const tables of SIZES) results.push(await runSize(tables));
  report(results);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runPgSnapSuite().catch((error) => {
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exit(1);
  });
}
