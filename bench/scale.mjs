#!/usr/bin/env node
/**
 * Scale benchmark: how `schema_backup snapshot` grows with the number of tables and with the
 * size of one table. For each size it creates a database (`sbbench_scale_*`, filled
 * server-side), takes a fresh snapshot into a new repository, then the unchanged re-run, and
 * prints wall time and peak RSS of both. See bench/README.md ("Scale suite").
 *
 * Run with `BENCH_ONLY=scale npm run bench` (or `node bench/scale.mjs` after `npm run build`).
 * Knobs: BENCH_SCALE_TABLES (default 100,1000,10000), BENCH_SCALE_ROWS (rows per small table,
 * default 100), BENCH_SCALE_BIG_ROWS (rows of the one big table, default 1000000; 5000000 for
 * the figure; 0 skips it), BENCH_SCALE_PROFILE=1 (one more fresh run and re-run of the
 * largest table count under `node --cpu-prof`; prints the top functions), BENCH_KEEP=1.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir, cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { connect, DB, DB_PREFIX, dropDatabasesLike } from './lib/db.mjs';
import { GIT_ENV } from './lib/env.mjs';
import { unbundleProfile } from './lib/unbundle.mjs';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const TIME = '/usr/bin/time';
const PREFIX = `${DB_PREFIX}scale_`;

function listEnv(name, fallback) {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  return value.split(',').map((item) => {
    const number = Number(item.trim());
    if (!Number.isInteger(number) || number < 1)
      throw new Error(`${name} must be positive integers separated by commas, not ${value}`);
    return number;
  });
}

function countEnv(name, fallback) {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0)
    throw new Error(`${name} must be an integer >= 0, not ${value}`);
  return number;
}

const TABLE_COUNTS = listEnv('BENCH_SCALE_TABLES', [100, 1000, 10000]);
const ROWS = countEnv('BENCH_SCALE_ROWS', 100);
const BIG_ROWS = countEnv('BENCH_SCALE_BIG_ROWS', 1000000);
const PROFILE = process.env.BENCH_SCALE_PROFILE === '1';
const KEEP = process.env.BENCH_KEEP === '1';
const RSS_LIMIT_MB = 200;

const log = (line) => process.stderr.write(`[scale] ${line}\n`);

/** Runs node CLI args under /usr/bin/time: wall seconds and peak RSS (MB). */
function measure(args, cwd, nodeOptions = []) {
  return new Promise((resolve, reject) => {
    const rssFile = join(
      tmpdir(),
      `sbbench-scale-rss-${String(process.pid)}-${String(Date.now())}`,
    );
    const useTime = existsSync(TIME);
    const argv = [...nodeOptions, CLI, ...args];
    const [file, fileArgs] = useTime
      ? [TIME, ['-f', '%M', '-o', rssFile, process.execPath, ...argv]]
      : [process.execPath, argv];
    const start = process.hrtime.bigint();
    const child = spawn(file, fileArgs, {
      cwd,
      env: { ...process.env, ...GIT_ENV },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      let rssMB;
      if (useTime) {
        try {
          const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
          rssMB = Number(lines.at(-1)) / 1024;
        } catch {
          rssMB = undefined;
        }
        void rm(rssFile, { force: true });
      }
      if (code !== 0) {
        reject(new Error(`schema_backup ${args.join(' ')} exited ${String(code)}:\n${stderr}`));
        return;
      }
      resolve({ seconds, rssMB, stderr });
    });
  });
}

const tableName = (index, width) => `t${String(index).padStart(width, '0')}`;

/** N small tables of the `many` shape, each filled with ROWS rows from the sequence engine. */
async function createTables(database, count) {
  const started = Date.now();
  const width = String(count - 1).length;
  const connection = await connect();
  try {
    await connection.query(
      `CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`,
    );
    await connection.query(`USE \`${database}\``);
    const statements = (name) => [
      `CREATE TABLE \`${name}\` (id INT NOT NULL PRIMARY KEY, name VARCHAR(64) NOT NULL, created DATETIME NULL, ` +
        `amount DECIMAL(12,2) NULL, note TEXT NULL, payload BLOB NULL, KEY (name)) ENGINE=InnoDB`,
      ...(ROWS === 0
        ? []
        : [
            `INSERT INTO \`${name}\` SELECT seq, CONCAT('n''', seq, '\\\\', MD5(seq)), ` +
              `IF(seq % 20 = 0, NULL, FROM_UNIXTIME(1600000000 + seq * 7919)), IF(seq % 20 = 1, NULL, seq * 12.34), ` +
              `IF(seq % 10 = 0, NULL, REPEAT(CONCAT('word ', seq, ' é\\n'), 1 + seq % 7)), ` +
              `IF(seq % 10 = 1, NULL, UNHEX(MD5(seq))) FROM seq_1_to_${String(ROWS)}`,
          ]),
    ];
    for (let index = 0; index < count; index += 50) {
      const batch = [];
      for (let j = index; j < Math.min(index + 50, count); j += 1)
        batch.push(...statements(tableName(j, width)));
      await connection.query(batch.join(';\n'));
    }
  } finally {
    await connection.end();
  }
  log(
    `created ${database}: ${String(count)} tables x ${String(ROWS)} rows in ${seconds(started)} s`,
  );
}

/** One table `big` of `rows` rows (~145 bytes of SQL each), filled in slices. */
async function createBigTable(database, rows) {
  const started = Date.now();
  const connection = await connect();
  try {
    await connection.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4`);
    await connection.query(`USE \`${database}\``);
    await connection.query(
      'CREATE TABLE big (id INT NOT NULL PRIMARY KEY, name VARCHAR(64) NOT NULL, created DATETIME NULL, amount DECIMAL(12,2) NULL, note VARCHAR(100) NULL) ENGINE=InnoDB',
    );
    const slice = 500000;
    for (let from = 0; from < rows; from += slice) {
      const to = Math.min(rows, from + slice);
      await connection.query(
        `INSERT INTO big SELECT seq, CONCAT('n-', seq), FROM_UNIXTIME(1600000000 + seq * 37), seq * 0.37, ` +
          `IF(seq % 10 = 0, NULL, CONCAT('it''s ', MD5(seq))) FROM seq_${String(from + 1)}_to_${String(to)}`,
      );
    }
  } finally {
    await connection.end();
  }
  log(`created ${database}: 1 table x ${String(rows)} rows in ${seconds(started)} s`);
}

const seconds = (started) => ((Date.now() - started) / 1000).toFixed(1);

async function writeConfig(work, database, global) {
  const backupDir = join(work, 'backup');
  await mkdir(backupDir, { recursive: true });
  const configFile = join(work, 'schema_backup.conf');
  await writeFile(
    configFile,
    yaml.dump(
      {
        csv2_backup_dir: backupDir,
        hostname: 'bench',
        database: { name: database, host: DB.host, port: DB.port, user: DB.user },
        git: { init: true },
        global,
      },
      { lineWidth: -1 },
    ),
  );
  return { configFile, backupDir };
}

async function tableNames(database) {
  const connection = await connect();
  try {
    const [rows] = await connection.query(
      'SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?',
      [database],
    );
    return rows.map((row) => row.name).sort();
  } finally {
    await connection.end();
  }
}

/** A fresh snapshot into a new repository, then the unchanged re-run (checked: no new commit). */
async function snapshotTwice(scratch, label, database) {
  const work = join(scratch, label);
  await mkdir(work, { recursive: true });
  const { configFile, backupDir } = await writeConfig(work, database, await tableNames(database));
  const args = ['--config', configFile, '--quiet'];
  const fresh = await measure(args, work);
  const head = git(backupDir, ['rev-parse', 'HEAD']);
  const rerun = await measure(args, work);
  const unchanged = git(backupDir, ['rev-parse', 'HEAD']) === head;
  const clean = git(backupDir, ['status', '--porcelain']) === '';
  if (!unchanged || !clean) throw new Error(`${label}: the re-run committed or left changes`);
  let profile;
  if (PROFILE && label === `tables-${String(Math.max(...TABLE_COUNTS))}`)
    profile = await profileRuns(work, database);
  if (!KEEP) await rm(work, { recursive: true, force: true });
  return { fresh, rerun, profile };
}

/** A fresh run and a re-run under --cpu-prof: top self-time functions of each. */
async function profileRuns(work, database) {
  const result = {};
  const profileWork = join(work, 'profiled');
  await mkdir(profileWork, { recursive: true });
  const { configFile } = await writeConfig(profileWork, database, await tableNames(database));
  for (const run of ['fresh', 'rerun']) {
    const dir = join(profileWork, `prof-${run}`);
    await measure(['--config', configFile, '--quiet'], profileWork, [
      '--cpu-prof',
      `--cpu-prof-dir=${dir}`,
    ]);
    const file = (await readdir(dir)).find((name) => name.endsWith('.cpuprofile'));
    result[run] = summarizeProfile(
      unbundleProfile(JSON.parse(await readFile(join(dir, file), 'utf8'))),
    );
    if (KEEP) log(`profile of the ${run} run: ${join(dir, file)}`);
  }
  return result;
}

/** Self time by function (top 15) and the idle share, from a .cpuprofile. */
function summarizeProfile(profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map();
  const deltas = profile.timeDeltas;
  let total = 0;
  for (let index = 0; index < profile.samples.length; index += 1) {
    const node = byId.get(profile.samples[index]);
    const delta = deltas[index] ?? 0;
    total += delta;
    const frame = node.callFrame;
    const where =
      frame.url === '' ? '' : ` ${frame.url.replace(/^.*?\/(node_modules|src|dist)\//, '$1/')}`;
    const key = `${frame.functionName || '(anonymous)'}${where}`;
    selfMicros.set(key, (selfMicros.get(key) ?? 0) + delta);
  }
  const top = [...selfMicros.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([name, micros]) => ({ name, seconds: micros / 1e6 }));
  return { totalSeconds: total / 1e6, top };
}

function git(cwd, args) {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...GIT_ENV },
  }).trim();
}

function printRows(rows) {
  const header = ['size', 'fresh s', 'fresh RSS MB', 're-run s', 're-run RSS MB', 'fresh ms/table'];
  const lines = rows.map((row) => [
    row.label,
    row.fresh.seconds.toFixed(2),
    row.fresh.rssMB?.toFixed(0) ?? 'n/a',
    row.rerun.seconds.toFixed(2),
    row.rerun.rssMB?.toFixed(0) ?? 'n/a',
    row.tables === undefined ? '' : ((row.fresh.seconds * 1000) / row.tables).toFixed(2),
  ]);
  const widths = header.map((title, index) =>
    Math.max(title.length, ...lines.map((line) => line[index].length)),
  );
  const format = (cells) => cells.map((cell, index) => cell.padStart(widths[index])).join('  ');
  process.stdout.write(`${format(header)}\n`);
  for (const line of lines) process.stdout.write(`${format(line)}\n`);
}

export async function main() {
  const scratch = await mkdtemp(join(tmpdir(), 'sbbench-scale-'));
  const dropped = await dropDatabasesLike(`${PREFIX}%`);
  if (dropped.length > 0) log(`dropped leftovers: ${dropped.join(', ')}`);
  const onSignal = () => {
    void dropDatabasesLike(`${PREFIX}%`).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  const rows = [];
  try {
    log(
      `${String(cpus().length)} cores, load ${loadavg()
        .map((value) => value.toFixed(2))
        .join(' ')}`,
    );
    for (const count of TABLE_COUNTS) {
      const database = `${PREFIX}${String(count)}`;
      await createTables(database, count);
      const label = `tables-${String(count)}`;
      const result = await snapshotTwice(scratch, label, database);
      rows.push({ label: `${String(count)} tables`, tables: count, ...result });
      log(
        `${label}: fresh ${result.fresh.seconds.toFixed(2)} s, re-run ${result.rerun.seconds.toFixed(2)} s`,
      );
      if (!KEEP) await dropDatabasesLike(database);
    }
    if (BIG_ROWS > 0) {
      const database = `${PREFIX}big`;
      await createBigTable(database, BIG_ROWS);
      const result = await snapshotTwice(scratch, 'big', database);
      rows.push({ label: `1 table x ${String(BIG_ROWS)} rows`, ...result });
      if (!KEEP) await dropDatabasesLike(database);
    }
  } finally {
    process.off('SIGINT', onSignal);
    if (!KEEP) {
      await dropDatabasesLike(`${PREFIX}%`);
      await rm(scratch, { recursive: true, force: true });
    } else log(`kept ${scratch} and the ${PREFIX}* databases`);
  }
  printRows(rows);
  const peak = Math.max(...rows.flatMap((row) => [row.fresh.rssMB ?? 0, row.rerun.rssMB ?? 0]));
  process.stdout.write(
    `${peak <= RSS_LIMIT_MB ? 'PASS' : 'FAIL'}: peak RSS ${peak.toFixed(0)} MB (target <= ${String(RSS_LIMIT_MB)} MB)\n`,
  );
  for (const row of rows) {
    if (row.profile === undefined) continue;
    for (const [run, summary] of Object.entries(row.profile)) {
      process.stdout.write(
        `\n${row.label}, ${run} run under --cpu-prof: ${summary.totalSeconds.toFixed(2)} s sampled; top self time:\n`,
      );
      for (const { name, seconds: s } of summary.top)
        process.stdout.write(`  ${s.toFixed(3).padStart(7)} s  ${name}\n`);
    }
  }
  return peak <= RSS_LIMIT_MB ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`${error.stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
