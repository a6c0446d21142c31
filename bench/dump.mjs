/**
 * Benchmark suite `dump`: `schema_backup dump` against `mariadb-dump --single-transaction` and
 * `mydumper`, each plain and compressed; and `schema_backup load` against `mariadb <` and
 * `myloader`, on one generated database of about BENCH_DUMP_MB megabytes of SQL (default 2000:
 * several million rows of mixed types, a table without a key, and BLOBs). Wall time,
 * throughput (MB of SQL per second) and peak RSS (/usr/bin/time %M: the largest process of
 * the command's tree). Creates `sbbench_dump*` databases and a temp directory, removes both.
 *
 * Run: `BENCH_ONLY=dump npm run bench` (or `npm run bench -- --suite dump`).
 * Knobs: BENCH_DUMP_MB (size), BENCH_DUMP_THREADS (default 2), BENCH_DUMP_RUNS (default 3:
 * runs of the compared rows, interleaved, median reported), BENCH_DUMP_SKIP_LOAD=1,
 * BENCH_KEEP=1 (keep the temp directory), BENCH_DB_HOST/PORT/USER, BENCH_TIMEOUT (s per command).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure } from './lib/measure.mjs';
import { intEnv } from './lib/env.mjs';
import { CLIENT_ARGS, connect, DB, dropDatabasesLike, waitForQuietServer } from './lib/db.mjs';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const MB = intEnv('BENCH_DUMP_MB', 2000);
const THREADS = intEnv('BENCH_DUMP_THREADS', 2);
const KEEP = process.env.BENCH_KEEP === '1';
const SKIP_LOAD = process.env.BENCH_DUMP_SKIP_LOAD === '1';
/** Runs of the rows the verdicts compare (the others run once); the median is reported. */
const RUNS = Math.max(1, intEnv('BENCH_DUMP_RUNS', 3));
/** Longest wait for InnoDB to flush dirty pages (the generated rows, a previous load) before a timed command. */
const QUIET_WAIT_S = 30;
const SOURCE = 'sbbench_dump';
const log = (line) => process.stderr.write(`[bench dump] ${line}\n`);

function which(command) {
  try {
    return (
      execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

function dropDatabases() {
  return dropDatabasesLike('sbbench\\_dump%');
}

/**
 * The source database, generated on the server (seq_1_to_N): `events` (most rows: integers,
 * text with quotes and non-ASCII, dates, decimals, doubles, NULLs), `blobs` (random bytes,
 * incompressible), `nopk` (no key: read in one piece), and 20 small tables. Sizes scale with
 * BENCH_DUMP_MB; about 2/3 of the SQL is `events`.
 */
export async function createSource() {
  const connection = await connect();
  const events = Math.round(MB * 3300);
  const blobs = Math.round(MB * 12);
  const nopk = Math.round(MB * 900);
  const fill = async (table, rows, select, batch = 500_000) => {
    // In batches, so no single statement holds a huge undo log.
    for (let from = 1; from <= rows; from += batch) {
      const to = Math.min(rows, from + batch - 1);
      await connection.query(
        `INSERT INTO ${table} ${select.replaceAll('SEQ_TABLE', `seq_${String(from)}_to_${String(to)}`)}`,
      );
    }
  };
  try {
    await connection.query(`CREATE DATABASE ${SOURCE} CHARACTER SET utf8mb4`);
    await connection.query(`USE ${SOURCE}`);
    await connection.query(`CREATE TABLE events (
      id BIGINT UNSIGNED NOT NULL PRIMARY KEY, account INT NOT NULL, kind TINYINT NOT NULL,
      label VARCHAR(64) NOT NULL, note TEXT, created DATETIME(3) NOT NULL, amount DECIMAL(14,2),
      ratio DOUBLE, flag BIT(1), uuid CHAR(36), KEY (account)) ENGINE=InnoDB`);
    await fill(
      'events',
      events,
      `SELECT seq, seq % 100003, seq % 7, CONCAT('label ', seq % 977, IF(seq % 13 = 0, ' o''brien\\\\', ' ünï')),
        IF(seq % 5 = 0, NULL, CONCAT(REPEAT('lorem ipsum ', 1 + seq % 8), MD5(seq), '\\n', SHA1(seq))),
        FROM_UNIXTIME(1600000000 + seq * 7 + 0.125), (seq % 1000000) / 100, seq / 7, seq % 2,
        CONCAT(LEFT(MD5(seq), 8), '-', MID(MD5(seq), 9, 4), '-4', MID(MD5(seq), 14, 3), '-a', MID(MD5(seq), 18, 3), '-', RIGHT(MD5(seq), 12))
       FROM SEQ_TABLE`,
    );
    await connection.query(
      `CREATE TABLE blobs (id INT NOT NULL PRIMARY KEY, name VARCHAR(40), data MEDIUMBLOB) ENGINE=InnoDB`,
    );
    await fill(
      'blobs',
      blobs,
      // RANDOM_BYTES gives at most 1024 bytes: eight of them, about 8 KiB a row.
      `SELECT seq, CONCAT('file-', seq, '.bin'), CONCAT(${Array(8).fill('RANDOM_BYTES(1024)').join(', ')}) FROM SEQ_TABLE`,
      2000,
    );
    await connection.query(
      `CREATE TABLE nopk (a INT, b VARCHAR(100), c DATE, d FLOAT) ENGINE=InnoDB`,
    );
    await fill(
      'nopk',
      nopk,
      `SELECT seq % 1000, CONCAT('value ', seq, ' with a tab\\there'), '2020-01-01' + INTERVAL (seq % 2000) DAY, seq / 3 FROM SEQ_TABLE`,
    );
    for (let index = 0; index < 20; index += 1) {
      const name = `small_${String(index).padStart(2, '0')}`;
      await connection.query(`CREATE TABLE ${name} (id INT PRIMARY KEY, v VARCHAR(50), j JSON)`);
      await fill(name, 200, `SELECT seq, CONCAT('v', seq), JSON_OBJECT('k', seq) FROM SEQ_TABLE`);
    }
    await connection.query('ANALYZE TABLE events, blobs, nopk');
    const [[{ rowsTotal }]] = await connection.query(
      `SELECT (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM blobs) + (SELECT COUNT(*) FROM nopk) + 4000 AS rowsTotal`,
    );
    return Number(rowsTotal);
  } finally {
    await connection.end();
  }
}

async function sizeOf(path) {
  const info = await stat(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const name of await readdir(path)) total += await sizeOf(join(path, name));
  return total;
}

async function checksums(database) {
  const connection = await connect();
  try {
    const [rows] = await connection.query(
      `CHECKSUM TABLE ${['events', 'blobs', 'nopk', 'small_00'].map((t) => `\`${database}\`.\`${t}\``).join(', ')} EXTENDED`,
    );
    return rows.map((row) => String(row.Checksum)).join(',');
  } finally {
    await connection.end();
  }
}

async function recreate(database) {
  const connection = await connect();
  try {
    await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await connection.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4`);
  } finally {
    await connection.end();
  }
}

async function drop(database) {
  const connection = await connect();
  try {
    await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
  } finally {
    await connection.end();
  }
}

/**
 * The order of the timed commands: every case once, then RUNS - 1 more rounds of the cases
 * marked `repeat`, each round rotated by one so that no tool always runs first.
 */
function schedule(cases) {
  const order = cases.map((entry) => [0, entry]);
  const repeated = cases.filter((entry) => entry.repeat === true);
  for (let run = 1; run < RUNS; run += 1)
    for (let index = 0; index < repeated.length; index += 1)
      order.push([run, repeated[(index + run) % repeated.length]]);
  return order;
}

/** Adds a run to its row: `seconds` is the median of the runs, `rssKiB` the largest. */
function record(rows, entry, measured, extra) {
  let row = rows.find(
    (candidate) => candidate.tool === entry.tool && candidate.variant === entry.variant,
  );
  if (row === undefined) {
    row = { tool: entry.tool, variant: entry.variant, samples: [], rssKiB: undefined };
    rows.push(row);
  }
  row.samples.push(measured.seconds);
  const sorted = [...row.samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  row.seconds =
    sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  if (measured.rssKiB !== undefined) row.rssKiB = Math.max(row.rssKiB ?? 0, measured.rssKiB);
  // A load is checksum-equal only if every run was.
  if (extra.checksumsEqual !== undefined)
    row.checksumsEqual = (row.checksumsEqual ?? true) && extra.checksumsEqual;
  if (extra.bytes !== undefined) row.bytes = extra.bytes;
}

export async function runDumpSuite() {
  if (!existsSync(CLI))
    throw new Error(`${CLI} is missing: run npm run build (npm run bench does)`);
  const mydumper = which('mydumper') !== undefined && which('myloader') !== undefined;
  if (!mydumper)
    log('mydumper/myloader not installed (apt-get install -y mydumper): their rows are skipped');
  const zstd = which('zstd') !== undefined;
  await dropDatabases();
  const scratch = await mkdtemp(join(tmpdir(), 'sbbench-dump-'));
  const results = { dump: [], load: [] };
  const started = Date.now();
  let sqlBytes;
  let rowsTotal;
  try {
    log(
      `generating about ${String(MB)} MB of SQL in ${SOURCE} (threads=${String(THREADS)}, cpus=${String(cpus().length)}, load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')})`,
    );
    const t0 = Date.now();
    rowsTotal = await createSource();
    log(`generated ${String(rowsTotal)} rows in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    const sourceSums = await checksums(SOURCE);
    const config = join(scratch, 'schema_backup.conf');
    await writeFile(
      config,
      `hostname: bench\ndatabase:\n  host: ${DB.host}\n  port: ${String(DB.port)}\n  user: ${DB.user}\n  name: ${SOURCE}\ndump:\n  dir: ${join(scratch, 'dumps')}\n  threads: ${String(THREADS)}\n`,
    );
    const ours = (args) => ['node', CLI, '-c', config, '-q', ...args];
    const out = (name) => join(scratch, name);
    const dumpCases = [
      {
        tool: 'schema_backup dump',
        variant: 'plain',
        repeat: true,
        path: out('ours.sql'),
        argv: ours(['dump', '--compress', 'none', '--no-encrypt', '-o', out('ours.sql')]),
      },
      ...(zstd
        ? [
            {
              tool: 'schema_backup dump',
              variant: 'zstd',
              path: out('ours.sql.zst'),
              argv: ours(['dump', '--compress', 'zstd', '--no-encrypt', '-o', out('ours.sql.zst')]),
            },
          ]
        : []),
      {
        tool: 'schema_backup dump',
        variant: 'gzip',
        path: out('ours.sql.gz'),
        argv: ours(['dump', '--compress', 'gzip', '--no-encrypt', '-o', out('ours.sql.gz')]),
      },
      {
        tool: 'schema_backup dump --dir',
        variant: 'plain',
        path: out('ours-dir'),
        argv: ours(['dump', '--dir', '--compress', 'none', '--no-encrypt', '-o', out('ours-dir')]),
      },
      {
        tool: 'mariadb-dump --single-transaction',
        variant: 'plain',
        repeat: true,
        path: out('mariadb-dump.sql'),
        argv: [
          'mariadb-dump',
          ...CLIENT_ARGS,
          '--single-transaction',
          '--quick',
          `--result-file=${out('mariadb-dump.sql')}`,
          SOURCE,
        ],
      },
      ...(zstd
        ? [
            {
              tool: 'mariadb-dump --single-transaction',
              variant: 'zstd (| zstd -3 -T2)',
              path: out('mariadb-dump.sql.zst'),
              argv: [
                'sh',
                '-c',
                `mariadb-dump ${CLIENT_ARGS.join(' ')} --single-transaction --quick ${SOURCE} | zstd -q -3 -T2 > ${out('mariadb-dump.sql.zst')}`,
              ],
            },
          ]
        : []),
      {
        tool: 'mariadb-dump --single-transaction',
        variant: 'gzip (| gzip -1)',
        path: out('mariadb-dump.sql.gz'),
        argv: [
          'sh',
          '-c',
          `mariadb-dump ${CLIENT_ARGS.join(' ')} --single-transaction --quick ${SOURCE} | gzip -1 > ${out('mariadb-dump.sql.gz')}`,
        ],
      },
      ...(mydumper
        ? [
            {
              tool: `mydumper -t ${String(THREADS)}`,
              variant: 'plain',
              repeat: true,
              path: out('mydumper'),
              argv: [
                'mydumper',
                '-h',
                DB.host,
                '-P',
                String(DB.port),
                '-u',
                DB.user,
                '-B',
                SOURCE,
                '-t',
                String(THREADS),
                '-r',
                '500000',
                '-o',
                out('mydumper'),
              ],
            },
            {
              tool: `mydumper -t ${String(THREADS)}`,
              variant: 'gzip (-c)',
              path: out('mydumper-c'),
              argv: [
                'mydumper',
                '-h',
                DB.host,
                '-P',
                String(DB.port),
                '-u',
                DB.user,
                '-B',
                SOURCE,
                '-t',
                String(THREADS),
                '-r',
                '500000',
                '-c',
                '-o',
                out('mydumper-c'),
              ],
            },
          ]
        : []),
    ];
    for (const [run, entry] of schedule(dumpCases)) {
      log(`dump: ${entry.tool} ${entry.variant} (run ${String(run + 1)})`);
      // A repeated run writes anew: schema_backup refuses an existing output.
      if (run > 0) await rm(entry.path, { recursive: true, force: true });
      // The first dump would otherwise share the disk with the flushing of the generated rows.
      await waitForQuietServer(QUIET_WAIT_S);
      const measured = await measure(entry.argv);
      record(results.dump, entry, measured, { bytes: await sizeOf(entry.path) });
    }
    sqlBytes = await sizeOf(out('ours.sql'));
    if (!SKIP_LOAD) {
      const loadCases = [
        {
          tool: 'schema_backup load',
          variant: 'plain file',
          repeat: true,
          target: 'sbbench_dump_l1',
          argv: ours(['load', out('ours.sql'), '--into', 'sbbench_dump_l1']),
        },
        ...(zstd
          ? [
              {
                tool: 'schema_backup load',
                variant: 'zstd file',
                target: 'sbbench_dump_l2',
                argv: ours(['load', out('ours.sql.zst'), '--into', 'sbbench_dump_l2']),
              },
            ]
          : []),
        {
          tool: 'schema_backup load',
          variant: 'directory',
          target: 'sbbench_dump_l3',
          argv: ours(['load', out('ours-dir'), '--into', 'sbbench_dump_l3']),
        },
        {
          tool: 'mariadb <',
          variant: 'mariadb-dump file',
          target: 'sbbench_dump_l4',
          create: true,
          argv: ['mariadb', ...CLIENT_ARGS, 'sbbench_dump_l4'],
          stdinFile: out('mariadb-dump.sql'),
        },
        ...(mydumper
          ? [
              {
                tool: `myloader -t ${String(THREADS)}`,
                variant: 'mydumper directory',
                repeat: true,
                target: 'sbbench_dump_l5',
                argv: [
                  'myloader',
                  '-h',
                  DB.host,
                  '-P',
                  String(DB.port),
                  '-u',
                  DB.user,
                  '-d',
                  out('mydumper'),
                  '-B',
                  'sbbench_dump_l5',
                  '-t',
                  String(THREADS),
                ],
              },
            ]
          : []),
      ];
      for (const [run, entry] of schedule(loadCases)) {
        log(`load: ${entry.tool} ${entry.variant} (run ${String(run + 1)})`);
        if (entry.create) await recreate(entry.target);
        const quiet = await waitForQuietServer(QUIET_WAIT_S);
        if (quiet.waitedSeconds > 1)
          log(`waited ${quiet.waitedSeconds.toFixed(1)} s for InnoDB to flush dirty pages`);
        const measured = await measure(entry.argv, { stdinFile: entry.stdinFile });
        const same = (await checksums(entry.target)) === sourceSums;
        record(results.load, entry, measured, { checksumsEqual: same });
        await drop(entry.target);
      }
    }
  } finally {
    await dropDatabases().catch((error) => log(`could not drop databases: ${error.message}`));
    if (!KEEP) await rm(scratch, { recursive: true, force: true });
    else log(`kept ${scratch}`);
  }
  const mb = (bytes) => bytes / 1e6;
  const samplesText = (r) =>
    r.samples.length > 1 ? r.samples.map((seconds) => seconds.toFixed(1)).join(' ') : '1';
  const pad = (text, width, right = false) =>
    right ? String(text).padStart(width) : String(text).padEnd(width);
  const line = (cells) => process.stdout.write(`${cells.join('  ')}\n`);
  process.stdout.write(
    `\ndump suite: ${mb(sqlBytes).toFixed(0)} MB of SQL (schema_backup plain), ${String(rowsTotal)} rows, threads ${String(THREADS)}\n\n`,
  );
  line([
    pad('dump', 36),
    pad('variant', 22),
    pad('wall s', 8, true),
    pad('MB/s', 7, true),
    pad('peak MB', 8, true),
    pad('output MB', 10, true),
    'runs',
  ]);
  for (const r of results.dump)
    line([
      pad(r.tool, 36),
      pad(r.variant, 22),
      pad(r.seconds.toFixed(1), 8, true),
      pad((mb(sqlBytes) / r.seconds).toFixed(0), 7, true),
      pad(r.rssKiB === undefined ? '?' : (r.rssKiB / 1024).toFixed(0), 8, true),
      pad(mb(r.bytes).toFixed(0), 10, true),
      samplesText(r),
    ]);
  if (results.load.length > 0) {
    process.stdout.write('\n');
    line([
      pad('load', 36),
      pad('from', 22),
      pad('wall s', 8, true),
      pad('MB/s', 7, true),
      pad('peak MB', 8, true),
      pad('same', 6, true),
      'runs',
    ]);
    for (const r of results.load)
      line([
        pad(r.tool, 36),
        pad(r.variant, 22),
        pad(r.seconds.toFixed(1), 8, true),
        pad((mb(sqlBytes) / r.seconds).toFixed(0), 7, true),
        pad(r.rssKiB === undefined ? '?' : (r.rssKiB / 1024).toFixed(0), 8, true),
        pad(r.checksumsEqual ? 'yes' : 'NO', 6, true),
        samplesText(r),
      ]);
  }
  const find = (list, tool, variant) =>
    list.find((r) => r.tool.startsWith(tool) && r.variant.startsWith(variant));
  const verdicts = [];
  const oursPlain = find(results.dump, 'schema_backup dump', 'plain');
  const mdPlain = find(results.dump, 'mariadb-dump', 'plain');
  if (oursPlain && mdPlain)
    verdicts.push({
      check: `dump >= 1.3x faster than mariadb-dump (got ${(mdPlain.seconds / oursPlain.seconds).toFixed(2)}x)`,
      pass: mdPlain.seconds / oursPlain.seconds >= 1.3,
    });
  const peak = Math.max(
    ...results.dump.filter((r) => r.tool.startsWith('schema_backup')).map((r) => r.rssKiB ?? 0),
  );
  verdicts.push({
    check: `schema_backup dump peak memory < 200 MB (got ${(peak / 1024).toFixed(0)} MB)`,
    pass: peak < 200 * 1024,
  });
  const oursLoad = find(results.load, 'schema_backup load', 'plain');
  const myloader = find(results.load, 'myloader', '');
  if (oursLoad && myloader)
    verdicts.push({
      check: `load at least as fast as myloader -t ${String(THREADS)} (got ${(myloader.seconds / oursLoad.seconds).toFixed(2)}x)`,
      pass: oursLoad.seconds <= myloader.seconds,
    });
  for (const r of results.load.filter((entry) => entry.tool.startsWith('schema_backup')))
    verdicts.push({
      check: `${r.tool} (${r.variant}) restores CHECKSUM TABLE-equal tables`,
      pass: r.checksumsEqual,
    });
  // mariadb-dump and mydumper print FLOAT with 6 digits and mydumper DOUBLE with 9, so their
  // restores differ from the source (shown in the table, not a verdict on them).
  process.stdout.write('\n');
  for (const verdict of verdicts)
    process.stdout.write(`${verdict.pass ? 'PASS' : 'FAIL'}  ${verdict.check}\n`);
  const resultsDir = join(ROOT, 'bench', 'results');
  await mkdir(resultsDir, { recursive: true });
  const file = join(
    resultsDir,
    `dump-${new Date()
      .toISOString()
      .replaceAll(':', '-')
      .replace(/\.\d+Z$/, 'Z')}.json`,
  );
  await writeFile(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), elapsedSeconds: (Date.now() - started) / 1000, settings: { mb: MB, threads: THREADS, runs: RUNS }, environment: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryMB: Math.round(totalmem() / 2 ** 20), loadavg: loadavg() }, sqlBytes, rowsTotal, results, verdicts }, null, 2)}\n`,
  );
  process.stdout.write(`\nresults: ${file}\n`);
  return verdicts.every((v) => v.pass) ? 0 : 1;
}
