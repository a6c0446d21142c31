#!/usr/bin/env node
/**
 * Benchmark: schema_backup's snapshot against the original's approach (one mariadb-dump
 * process per table, then git add + commit) and two references (one whole-database
 * mariadb-dump, mydumper); the cost of encrypting user data; and `schema_backup restore`
 * against `mariadb < dump.sql` and myloader. `BENCH_ONLY=dump`, `BENCH_ONLY=pgsnap` and `BENCH_ONLY=userdata` run
 * the suites of bench/dump.mjs, bench/pgsnap.mjs and bench/userdata.mjs instead. Creates its own databases
 * (`sbbench_*`) and temp directories and removes them at the end, also on failure or Ctrl-C.
 * See bench/README.md.
 *
 * Run with `npm run bench` (builds dist/ first). Knobs: BENCH_RUNS, BENCH_TABLES, BENCH_ROWS,
 * BENCH_ONLY, BENCH_TIMEOUT, BENCH_KEEP, BENCH_PHASES, BENCH_CRYPTO_ROWS, BENCH_RESTORE_MB,
 * BENCH_RESTORE_PROFILE, BENCH_RESTORE_BASE, BENCH_DB_HOST, BENCH_DB_PORT, BENCH_DB_USER, BENCH_DB_PREFIX.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir, cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { seededRandom } from './lib/prng.mjs';
import { GIT_ENV, intEnv } from './lib/env.mjs';
import { unbundleProfile } from './lib/unbundle.mjs';
import {
  CLIENT_ARGS,
  connect,
  DB,
  DB_PREFIX,
  DB_PREFIX_LIKE,
  dropDatabasesLike,
  waitForQuietServer,
} from './lib/db.mjs';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const FIXTURE = '/work/shared/fixtures/csv2';
const FIXTURE_DUMPS = join(FIXTURE, 'schema_backup', 'stable-2.11.0.rc1');
const FIXTURE_CONFIG = join(FIXTURE, 'etc', 'schema_backup.conf');
const TIME = '/usr/bin/time';

const RUNS = intEnv('BENCH_RUNS', 3);
const TABLES = intEnv('BENCH_TABLES', 1000);
const ROWS = intEnv('BENCH_ROWS', 100);
const TIMEOUT_S = intEnv('BENCH_TIMEOUT', 180);
const KEEP = process.env.BENCH_KEEP === '1';
const PHASES = process.env.BENCH_PHASES !== '0';
const ONLY = (process.env.BENCH_ONLY ?? 'many,csv2,crypto,restore')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const TARGET_SPEEDUP = 10;
const DATABASES = {
  many: `${DB_PREFIX}many`,
  csv2: `${DB_PREFIX}csv2`,
  crypto: `${DB_PREFIX}crypto`,
  restore: `${DB_PREFIX}restore`,
};

// ---------------------------------------------------------------------------------------------
// Small helpers

const log = (line) => process.stderr.write(`[bench] ${line}\n`);

function which(command) {
  try {
    return (
      execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Total size in bytes of the files under `dir`, skipping directories named in `skip`. */
async function treeSize(dir, skip = ['.git', '.schema_backup']) {
  let total = 0;
  let files = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (skip.includes(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const sub = await treeSize(path, skip);
      total += sub.bytes;
      files += sub.files;
    } else if (entry.isFile()) {
      total += (await stat(path)).size;
      files += 1;
    }
  }
  return { bytes: total, files };
}

/** path -> "ino:mtimeNs:size" of every file under `dir` (not .git, not the work dir). */
async function fileStamps(dir, prefix = '', out = new Map()) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === '.git' || entry.name === '.schema_backup') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await fileStamps(path, `${prefix}${entry.name}/`, out);
    else {
      const s = await stat(path, { bigint: true });
      out.set(`${prefix}${entry.name}`, `${String(s.ino)}:${String(s.mtimeNs)}:${String(s.size)}`);
    }
  }
  return out;
}

function git(cwd, args) {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...GIT_ENV },
  }).trim();
}

/**
 * Runs `command args` (under /usr/bin/time when present, for the peak RSS) and returns wall
 * seconds, peak RSS in KiB (largest single process of the tree, as wait4 reports it), CPU
 * seconds (user + system, the command and the children it waited for) and output.
 * `stdoutFile`: the child's stdout goes to that file instead of being captured.
 */
function measure(command, args, { cwd, stdoutFile, env } = {}) {
  return new Promise((resolve, reject) => {
    const rssFile = join(
      tmpdir(),
      `sbbench-rss-${String(process.pid)}-${String(Date.now())}-${String(Math.random()).slice(2)}`,
    );
    const useTime = existsSync(TIME);
    const [file, argv] = useTime
      ? [TIME, ['-f', '%M %U %S', '-o', rssFile, command, ...args]]
      : [command, args];
    const outFd = stdoutFile === undefined ? undefined : openSync(stdoutFile, 'w');
    const start = process.hrtime.bigint();
    const child = spawn(file, argv, {
      cwd,
      env: { ...process.env, ...GIT_ENV, ...env },
      stdio: ['ignore', outFd ?? 'pipe', 'pipe'],
    });
    if (outFd !== undefined) closeSync(outFd);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => (stdout += String(chunk)));
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, TIMEOUT_S * 1000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      let rssKiB;
      let cpuSeconds;
      if (useTime) {
        try {
          // "%M %U %S": peak RSS KiB, user and system CPU seconds of the command and its
          // waited-for children (the last line: time prefixes a note when the exit is not 0).
          const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
          const [rss, user, system] = lines[lines.length - 1].trim().split(/\s+/).map(Number);
          rssKiB = rss;
          cpuSeconds = user + system;
        } catch {
          rssKiB = undefined;
        }
        void rm(rssFile, { force: true });
      }
      if (code !== 0) {
        const why =
          signal === null
            ? `exit ${String(code)}`
            : `signal ${signal}${seconds >= TIMEOUT_S ? ` (timeout ${String(TIMEOUT_S)} s)` : ''}`;
        reject(
          new Error(
            `${command} ${args.join(' ').slice(0, 200)} failed (${why}):\n${stderr.slice(-2000)}`,
          ),
        );
        return;
      }
      resolve({
        seconds,
        rssKiB: Number.isFinite(rssKiB) ? rssKiB : undefined,
        cpuSeconds: Number.isFinite(cpuSeconds) ? cpuSeconds : undefined,
        stdout,
        stderr,
      });
    });
  });
}

function shellQuote(text) {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

// ---------------------------------------------------------------------------------------------
// Databases

function dropBenchDatabases() {
  return dropDatabasesLike(DB_PREFIX_LIKE);
}

/** A deterministic pseudo-random generator (mulberry32), so that every run loads the same data. */

const WORDS = [
  'alpha',
  'beta',
  "o'brien",
  'back\\slash',
  'tab\there',
  'new\nline',
  'ünïcødé',
  '日本語',
  'percent%',
  '"quoted"',
  'zeta',
  'NULL',
];

function tableName(i) {
  return `t${String(i).padStart(4, '0')}`;
}

async function setupMany() {
  const name = DATABASES.many;
  const started = Date.now();
  const connection = await connect({ database: undefined });
  try {
    await connection.query(
      `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`,
    );
    await connection.query(`USE \`${name}\``);
    const create = (t) =>
      `CREATE TABLE \`${t}\` (id INT NOT NULL PRIMARY KEY, name VARCHAR(64) NOT NULL, created DATETIME NULL, ` +
      `amount DECIMAL(12,2) NULL, note TEXT NULL, payload BLOB NULL, KEY (name)) ENGINE=InnoDB`;
    for (let i = 0; i < TABLES; i += 50) {
      const batch = [];
      for (let j = i; j < Math.min(i + 50, TABLES); j++) batch.push(create(tableName(j)));
      await connection.query(batch.join(';\n'));
    }
    await connection.query('SET unique_checks = 0');
    await connection.beginTransaction();
    let batch = [];
    for (let i = 0; i < TABLES; i++) {
      const next = seededRandom(i + 1);
      const rows = [];
      for (let id = 1; id <= ROWS; id++) {
        const word = () => WORDS[Math.floor(next() * WORDS.length)];
        const day = new Date(Date.UTC(2020, 0, 1) + Math.floor(next() * 1.5e11));
        const note =
          next() < 0.1 ? null : Array.from({ length: 3 + Math.floor(next() * 12) }, word).join(' ');
        const payload =
          next() < 0.1
            ? null
            : Buffer.from(
                Array.from({ length: 8 + Math.floor(next() * 40) }, () => Math.floor(next() * 256)),
              );
        rows.push([
          id,
          `${word()}-${String(id)}`,
          next() < 0.05 ? null : day,
          next() < 0.05 ? null : (next() * 1e6).toFixed(2),
          note,
          payload,
        ]);
      }
      batch.push(connection.format(`INSERT INTO \`${tableName(i)}\` VALUES ?`, [rows]));
      if (batch.length === 50 || i === TABLES - 1) {
        await connection.query(batch.join(';\n'));
        batch = [];
      }
    }
    await connection.commit();
  } finally {
    await connection.end();
  }
  log(
    `created ${name}: ${String(TABLES)} tables x ${String(ROWS)} rows in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return { tables: TABLES };
}

async function setupCsv2() {
  const name = DATABASES.csv2;
  const started = Date.now();
  const connection = await connect();
  try {
    await connection.query(
      `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`,
    );
  } finally {
    await connection.end();
  }
  const files = (await readdir(FIXTURE_DUMPS)).sort();
  for (const file of files) {
    // The stock client, as a user would load it. Triggers carry DEFINER=`csv2`@`localhost`;
    // MariaDB accepts a missing definer user (a warning only) when the loader has SUPER/SET
    // USER, as root does, so neither the user nor DEFINER stripping is needed.
    execFileSync(
      'sh',
      [
        '-c',
        `exec mariadb ${CLIENT_ARGS.map(shellQuote).join(' ')} ${shellQuote(name)} < ${shellQuote(join(FIXTURE_DUMPS, file))}`,
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
  }
  log(
    `created ${name}: loaded ${String(files.length)} fixture dumps in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return { tables: files.length };
}

async function listTables(database) {
  const connection = await connect();
  try {
    const [rows] = await connection.query(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name",
      [database],
    );
    return rows.map((row) => row.name);
  } finally {
    await connection.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Configs

const databaseBlock = (name) => ({ name, host: DB.host, port: DB.port, user: DB.user });

function manyConfig(backupDir, tables) {
  return {
    csv2_backup_dir: backupDir,
    hostname: 'bench',
    database: databaseBlock(DATABASES.many),
    git: { init: true },
    global: tables,
  };
}

/** The fixture's real categories; ec2_regions (listed in global and ephemeral) stays global only. */
async function csv2Categories() {
  const original = yaml.load(await readFile(FIXTURE_CONFIG, 'utf8'));
  const categories = {};
  for (const category of ['global', 'local', 'ephemeral', 'ignore'])
    categories[category] = [...(original[category] ?? [])];
  const global = new Set(categories.global);
  const dropped = categories.ephemeral.filter((name) => global.has(name));
  categories.ephemeral = categories.ephemeral.filter((name) => !global.has(name));
  return { categories, dropped };
}

function csv2Config(backupDir, categories) {
  return {
    csv2_backup_dir: backupDir,
    hostname: 'bench',
    database: databaseBlock(DATABASES.csv2),
    git: { init: true },
    ...categories,
  };
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/** a + b: a fresh snapshot into a new repository, then the unchanged re-run with its checks. */
const seenStderr = new Set();

async function runOurs(work, config, label) {
  const backupDir = join(work, 'ours');
  await mkdir(backupDir, { recursive: true });
  const configFile = join(work, 'schema_backup.conf');
  await writeFile(
    configFile,
    yaml.dump({ ...config, csv2_backup_dir: backupDir }, { lineWidth: -1 }),
  );
  const args = [CLI, '--config', configFile, '--quiet'];

  const fresh = await measure(process.execPath, args, { cwd: work });
  const size = await treeSize(join(backupDir, 'bench'));
  const commitsBefore = Number(git(backupDir, ['rev-list', '--count', 'HEAD']));
  const stampsBefore = await fileStamps(backupDir);
  const headBefore = git(backupDir, ['rev-parse', 'HEAD']);

  const rerun = await measure(process.execPath, args, { cwd: work });
  const commitsAfter = Number(git(backupDir, ['rev-list', '--count', 'HEAD']));
  const stampsAfter = await fileStamps(backupDir);
  const headAfter = git(backupDir, ['rev-parse', 'HEAD']);
  const status = git(backupDir, ['status', '--porcelain', '--untracked-files=all']);

  const touched = [...new Set([...stampsBefore.keys(), ...stampsAfter.keys()])].filter(
    (path) => stampsBefore.get(path) !== stampsAfter.get(path),
  );
  const checks = {
    firstRunCommitted: commitsBefore === 1,
    noNewCommit: commitsAfter === commitsBefore && headAfter === headBefore,
    noFileRewritten: touched.length === 0,
    workTreeClean: status === '',
  };
  const warnings = [
    ...new Set(
      [...fresh.stderr.split('\n'), ...rerun.stderr.split('\n')].filter(
        (line) => line.trim() !== '',
      ),
    ),
  ];
  const newLines = warnings.filter((line) => !seenStderr.has(line));
  for (const line of newLines) seenStderr.add(line);
  if (newLines.length > 0)
    log(
      `${label}: schema_backup stderr: ${newLines.slice(0, 5).join(' | ')}${newLines.length > 5 ? ' ...' : ''}`,
    );
  return {
    fresh: { seconds: fresh.seconds, rssKiB: fresh.rssKiB, bytes: size.bytes, files: size.files },
    rerun: {
      seconds: rerun.seconds,
      rssKiB: rerun.rssKiB,
      bytes: size.bytes,
      files: size.files,
      checks,
      details: {
        commitsBefore,
        commitsAfter,
        touched: touched.slice(0, 10),
        touchedCount: touched.length,
        status: status.slice(0, 500),
      },
    },
    stderr: warnings,
  };
}

/** c: the original's approach, one mariadb-dump per table, sequentially, then git add + commit. */
async function runBaseline(work, database, tables, globalTables) {
  const dir = join(work, 'baseline');
  await mkdir(dir, { recursive: true });
  git(dir, ['init', '--quiet']);
  const client = CLIENT_ARGS.map(shellQuote).join(' ');
  const lines = ['set -e', `cd ${shellQuote(dir)}`];
  for (const table of tables) {
    const noData = globalTables.has(table) ? '' : ' --no-data';
    lines.push(
      `mariadb-dump ${client} --skip-dump-date${noData} ${shellQuote(database)} ${shellQuote(table)} > ${shellQuote(table)}`,
    );
  }
  lines.push('git add --all .', "git commit --quiet -m 'schema backup'");
  const script = join(work, 'baseline.sh');
  await writeFile(script, `${lines.join('\n')}\n`);
  const result = await measure('sh', [script], { cwd: dir });
  const size = await treeSize(dir);
  return { seconds: result.seconds, rssKiB: result.rssKiB, bytes: size.bytes, files: size.files };
}

/** d: one mariadb-dump of the whole database. */
async function runWholeDump(work, database) {
  const file = join(work, 'whole.sql');
  const result = await measure(
    'mariadb-dump',
    [...CLIENT_ARGS, '--single-transaction', '--skip-dump-date', database],
    { stdoutFile: file },
  );
  return {
    seconds: result.seconds,
    rssKiB: result.rssKiB,
    bytes: (await stat(file)).size,
    files: 1,
  };
}

/** e: mydumper, 2 threads. */
async function runMydumper(work, database) {
  const dir = join(work, 'mydumper');
  const result = await measure(
    'mydumper',
    [
      '-h',
      DB.host,
      '-P',
      String(DB.port),
      '-u',
      DB.user,
      '-B',
      database,
      '-o',
      dir,
      '--threads',
      '2',
    ],
    {},
  );
  const size = await treeSize(dir, []);
  return { seconds: result.seconds, rssKiB: result.rssKiB, bytes: size.bytes, files: size.files };
}

/**
 * Where schema_backup's time goes: one extra fresh run and one unchanged re-run with --verbose,
 * timing the stderr lines as they arrive (stderr is a pipe, written synchronously). Phases are
 * cut at the first and last per-table line (`NAME: added|changed|unchanged...`), the
 * `N file(s) written` line and the `committed`/exit. Best effort: depends on the log wording.
 */
async function measurePhases(work, config) {
  const backupDir = join(work, 'ours');
  await mkdir(backupDir, { recursive: true });
  const configFile = join(work, 'schema_backup.conf');
  await writeFile(
    configFile,
    yaml.dump({ ...config, csv2_backup_dir: backupDir }, { lineWidth: -1 }),
  );
  const once = () =>
    new Promise((resolve, reject) => {
      const start = process.hrtime.bigint();
      const at = () => Number(process.hrtime.bigint() - start) / 1e9;
      const child = spawn(process.execPath, [CLI, '--config', configFile, '--verbose'], {
        cwd: work,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const marks = {};
      let buffer = '';
      child.stderr.on('data', (chunk) => {
        const now = at();
        buffer += String(chunk);
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        for (const line of lines) {
          if (/^[^\s:]+: (added|changed|unchanged)\b/.test(line)) {
            marks.firstTable ??= now;
            marks.lastTable = now;
          } else if (/file\(s\) written/.test(line)) marks.written = now;
          else if (/^committed /.test(line)) marks.committed = now;
        }
      });
      child.on('error', reject);
      child.on('close', (code) => {
        if (code !== 0) {
          reject(new Error(`schema_backup --verbose exited ${String(code)}`));
          return;
        }
        const end = at();
        const written = marks.written ?? marks.lastTable ?? end;
        const phase = (from, to) =>
          from === undefined || to === undefined ? undefined : to - from;
        resolve({
          total: end,
          'start, connect, metadata (until 1st table)': marks.firstTable,
          'read + render + compare tables': phase(marks.firstTable, marks.lastTable),
          'write files (fsync, rename)': phase(marks.lastTable, marks.written),
          'git add + commit': phase(written, marks.committed),
          'after last line (re-run: git add + diff; exit)': end - (marks.committed ?? written),
        });
      });
    });
  return { fresh: await once(), rerun: await once() };
}

// ---------------------------------------------------------------------------------------------
// Encryption scenario (BENCH_ONLY=crypto): one big table, saved as `global` (plain SQL) and as
// `local` (age-encrypted as it streams), plus the stock `age` CLI as a reference.

/** Rows of sbbench_crypto.big: about 395 bytes of SQL each, so ~200 MB of output. */
const CRYPTO_ROWS = intEnv('BENCH_CRYPTO_ROWS', 506000);
const CRYPTO_TARGET_OVERHEAD = 0.3;
const CRYPTO_TARGET_RSS_MB = 150;

async function setupCrypto() {
  const name = DATABASES.crypto;
  const started = Date.now();
  const connection = await connect();
  try {
    await connection.query(
      `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`,
    );
    await connection.query(`USE \`${name}\``);
    await connection.query(
      'CREATE TABLE big (id INT NOT NULL PRIMARY KEY, a VARCHAR(200), b TEXT, c BLOB, d DATETIME, ' +
        'e DECIMAL(12,2)) ENGINE=InnoDB',
    );
    await connection.query(
      'CREATE TABLE tiny (id INT NOT NULL PRIMARY KEY, name VARCHAR(32) NOT NULL) ENGINE=InnoDB',
    );
    await connection.query("INSERT INTO tiny VALUES (1, 'one'), (2, 'two'), (3, 'three')");
    // Sequence engine + MD5/REPEAT/RANDOM_BYTES: about 3 s for 506,000 rows, no client round trips.
    await connection.query('SET unique_checks = 0');
    const step = 100000;
    for (let from = 1; from <= CRYPTO_ROWS; from += step) {
      const to = Math.min(from + step - 1, CRYPTO_ROWS);
      await connection.query(
        `INSERT INTO big SELECT seq, CONCAT(MD5(seq), ' ', LEFT(MD5(seq * 7), 1 + seq % 32)), ` +
          `REPEAT(CONCAT(MD5(seq * 3), ' '), 1 + seq % 8), RANDOM_BYTES(16 + seq % 64), ` +
          `'2020-01-01' + INTERVAL (seq * 7919) % 150000000 SECOND, (seq * 37) % 100000000 / 100 ` +
          `FROM seq_${String(from)}_to_${String(to)}`,
      );
    }
  } finally {
    await connection.end();
  }
  log(
    `created ${name}: big ${String(CRYPTO_ROWS)} rows + tiny 3 rows in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

function cryptoConfig(backupDir, { local, userDataDir, recipient }) {
  return {
    csv2_backup_dir: backupDir,
    hostname: 'bench',
    database: databaseBlock(DATABASES.crypto),
    git: { commit: false },
    global: local ? ['tiny'] : ['big', 'tiny'],
    ...(local
      ? {
          local: ['big'],
          user_data_backup_dir: userDataDir,
          // The cost of encryption alone: compression (the default) is the userdata suite's.
          user_data_compression: 'none',
          encryption: { recipients: [recipient] },
        }
      : {}),
  };
}

async function runSnapshotOnce(work, name, config) {
  const configFile = join(work, `${name}.conf`);
  await writeFile(configFile, yaml.dump(config, { lineWidth: -1 }));
  const result = await measure(process.execPath, [CLI, '--config', configFile, '--quiet'], {
    cwd: work,
  });
  return { ...result, configFile };
}

/** Count, bytes and SHA-256 of the lines starting with `INSERT` in the stdout of `sh -c script`. */
function insertLines(script) {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', `${script} | grep '^INSERT'`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const hash = createHash('sha256');
    let bytes = 0;
    let lines = 0;
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      hash.update(chunk);
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    });
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${script} | grep failed (${String(code)}): ${stderr}`));
      else resolve({ lines, bytes, sha256: hash.digest('hex') });
    });
  });
}

async function benchCrypto(scratch) {
  for (const tool of ['age', 'age-keygen'])
    if (which(tool) === undefined) throw new Error(`${tool} is not on PATH (apt-get install age)`);
  await setupCrypto();
  const keyDir = join(scratch, 'crypto-key');
  await mkdir(keyDir, { recursive: true, mode: 0o700 });
  const keyFile = join(keyDir, 'key.txt');
  execFileSync('age-keygen', ['-o', keyFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  const recipient = /^# public key: (age1\S+)$/m.exec(await readFile(keyFile, 'utf8'))?.[1];
  if (recipient === undefined) throw new Error(`no public key in ${keyFile}`);

  const samples = { plain: [], encrypted: [], ageCli: [], ageDecrypt: [] };
  const checks = [];
  for (let run = 1; run <= RUNS; run++) {
    const work = join(scratch, `crypto-${String(run)}`);
    await mkdir(work, { recursive: true });

    // a: big as global, plain SQL in the backup directory, no commit.
    const plainDir = join(work, 'plain');
    const a = await runSnapshotOnce(work, 'plain', cryptoConfig(plainDir, { local: false }));
    const plainFile = join(plainDir, 'bench', 'big.sql');
    const plainBytes = (await stat(plainFile)).size;
    samples.plain.push({ seconds: a.seconds, rssKiB: a.rssKiB, bytes: plainBytes });

    // b: big as local, encrypted into a fresh user data directory, no commit.
    const encDir = join(work, 'encrypted');
    const userDataDir = join(work, 'user-data');
    const b = await runSnapshotOnce(
      work,
      'encrypted',
      cryptoConfig(encDir, { local: true, userDataDir, recipient }),
    );
    const latest = join(userDataDir, 'bench', 'latest');
    const manifest = JSON.parse(await readFile(join(latest, 'manifest.json'), 'utf8'));
    const entry = manifest.tables.big;
    const encFile = join(latest, entry.file);
    const encBytes = (await stat(encFile)).size;
    samples.encrypted.push({
      seconds: b.seconds,
      rssKiB: b.rssKiB,
      bytes: entry.plaintextBytes,
      cipherBytes: encBytes,
    });

    // c: the stock age CLI on the plain file, and age -d of ours | wc -c.
    const c = await measure('age', ['-r', recipient, '-o', join(work, 'plain.sql.age'), plainFile]);
    samples.ageCli.push({ seconds: c.seconds, rssKiB: c.rssKiB, bytes: plainBytes });
    const d = await measure('sh', [
      '-c',
      `age -d -i ${shellQuote(keyFile)} ${shellQuote(encFile)} | wc -c`,
    ]);
    const decryptedBytes = Number(d.stdout.trim());
    samples.ageDecrypt.push({ seconds: d.seconds, rssKiB: d.rssKiB, bytes: decryptedBytes });
    // The decrypted copy has its own short header (SET lines, no CREATE TABLE), so the
    // comparison is of the INSERT lines: same count, same bytes, same SHA-256.
    const decryptedRows = await insertLines(
      `age -d -i ${shellQuote(keyFile)} ${shellQuote(encFile)}`,
    );
    const plainRows = await insertLines(`cat ${shellQuote(plainFile)}`);
    const check = {
      run,
      plainFileBytes: plainBytes,
      decryptedBytes,
      manifestPlaintextBytes: entry.plaintextBytes,
      manifestRows: entry.rows,
      plainInsertLines: plainRows.lines,
      decryptedInsertLines: decryptedRows.lines,
      plainInsertBytes: plainRows.bytes,
      decryptedInsertBytes: decryptedRows.bytes,
      sameSize: decryptedBytes === entry.plaintextBytes && decryptedRows.bytes === plainRows.bytes,
      sameInserts:
        decryptedRows.lines === plainRows.lines &&
        plainRows.lines === CRYPTO_ROWS &&
        entry.rows === CRYPTO_ROWS &&
        decryptedRows.sha256 === plainRows.sha256,
    };
    checks.push(check);
    log(
      `${DATABASES.crypto} run ${String(run)}/${String(RUNS)}: plain ${a.seconds.toFixed(2)} s, ` +
        `encrypted ${b.seconds.toFixed(2)} s, age CLI ${c.seconds.toFixed(2)} s; ` +
        `${(plainBytes / 1e6).toFixed(1)} MB plain; age -d | wc -c ${String(decryptedBytes)} B; ` +
        `INSERT lines decrypted/plain ${String(decryptedRows.lines)}/${String(plainRows.lines)}, ` +
        `${String(decryptedRows.bytes)}/${String(plainRows.bytes)} B` +
        `${decryptedRows.sha256 === plainRows.sha256 ? ', same SHA-256' : ', SHA-256 DIFFERS'}`,
    );
    for (const [label, result] of [
      ['plain', a],
      ['encrypted', b],
    ]) {
      const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
      if (lines.length > 0 && run === 1)
        log(`crypto ${label}: schema_backup stderr: ${lines.slice(0, 5).join(' | ')}`);
    }
    if (!KEEP) await rm(work, { recursive: true, force: true });
  }

  const summarize = (id, label, list) => {
    const seconds = median(list.map((s) => s.seconds));
    const bytes = median(list.map((s) => s.bytes));
    const rss = list.map((s) => s.rssKiB).filter((v) => v !== undefined);
    return {
      scenario: id,
      label,
      runs: list.length,
      medianSeconds: seconds,
      minSeconds: Math.min(...list.map((s) => s.seconds)),
      maxSeconds: Math.max(...list.map((s) => s.seconds)),
      plaintextBytes: bytes,
      mbPerSecond: bytes / 1e6 / seconds,
      peakRssMB: rss.length === 0 ? undefined : Math.max(...rss) / 1024,
      samplesSeconds: list.map((s) => s.seconds),
      samplesRssMB: rss.map((v) => v / 1024),
    };
  };
  const rows = [
    summarize('plain', 'a: snapshot, big as global (plain SQL)', samples.plain),
    summarize('encrypted', 'b: snapshot, big as local (age)', samples.encrypted),
    summarize('age-cli', 'c: age -r (CLI) on the plain file', samples.ageCli),
    summarize('age-decrypt', 'c: age -d (CLI) of b | wc -c', samples.ageDecrypt),
  ];
  const a = rows[0];
  const b = rows[1];
  const ratio = b.medianSeconds / a.medianSeconds;
  return {
    key: 'crypto',
    database: DATABASES.crypto,
    rowsInBigTable: CRYPTO_ROWS,
    rows,
    ratio,
    overhead: ratio - 1,
    checks,
  };
}

function printCrypto(result) {
  const header = ['scenario', 'median s', 'min-max s', 'MB/s', 'plain MB', 'peak RSS MB'];
  const widths = [42, 9, 13, 8, 9, 12];
  const line = (cells) => cells.map((cell, i) => pad(cell, widths[i], i >= 1)).join('  ');
  const out = [
    `${result.database}: table big, ${String(result.rowsInBigTable)} rows (MB/s = plaintext SQL MB / s)`,
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
  ];
  for (const row of result.rows)
    out.push(
      line([
        row.label,
        row.medianSeconds.toFixed(2),
        `${row.minSeconds.toFixed(2)}-${row.maxSeconds.toFixed(2)}`,
        row.mbPerSecond.toFixed(1),
        (row.plaintextBytes / 1e6).toFixed(1),
        row.peakRssMB === undefined ? 'n/a' : row.peakRssMB.toFixed(1),
      ]),
    );
  out.push(
    `b/a = ${result.ratio.toFixed(2)}x, encryption overhead (b-a)/a = ${(result.overhead * 100).toFixed(1)}%`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

function cryptoVerdicts(result) {
  const b = result.rows.find((row) => row.scenario === 'encrypted');
  const checksOk = result.checks.every((c) => c.sameSize && c.sameInserts);
  return [
    {
      check: `${result.database}: encryption overhead (b-a)/a <= ${String(CRYPTO_TARGET_OVERHEAD * 100)}% (got ${(result.overhead * 100).toFixed(1)}%)`,
      pass: result.overhead <= CRYPTO_TARGET_OVERHEAD,
    },
    {
      check: `${result.database}: peak RSS of the encrypted snapshot < ${String(CRYPTO_TARGET_RSS_MB)} MB (got ${b.peakRssMB === undefined ? 'n/a' : b.peakRssMB.toFixed(1)} MB)`,
      pass: b.peakRssMB !== undefined && b.peakRssMB < CRYPTO_TARGET_RSS_MB,
    },
    {
      check: `${result.database}: age -d of the copy gives the plain file's rows (same INSERT lines: count, bytes, SHA-256; wc -c = manifest size; ${String(result.checks.length)} runs)`,
      pass: checksOk,
      detail: checksOk
        ? undefined
        : result.checks
            .filter((c) => !(c.sameSize && c.sameInserts))
            .map(
              (c) =>
                `run ${String(c.run)}: age -d | wc -c ${String(c.decryptedBytes)} B (manifest ${String(c.manifestPlaintextBytes)}), INSERT lines ${String(c.decryptedInsertLines)}/${String(c.plainInsertLines)} (${String(c.decryptedInsertBytes)}/${String(c.plainInsertBytes)} B, rows ${String(CRYPTO_ROWS)})`,
            )
            .join('; '),
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Restore scenario (BENCH_ONLY=restore): `schema_backup restore` of a ~0.5-1 GB snapshot against
// the stock client (`mariadb X < dump.sql`) and myloader, into a fresh database every time.

/**
 * MB of snapshot SQL in sbbench_restore. 1000 takes ~8-9 min with 3 runs on 2 cores (one
 * restore ~30-45 s), so the default is 500: the whole scenario in ~4-4.5 min.
 */
const RESTORE_MB = intEnv('BENCH_RESTORE_MB', 500);
const RESTORE_PARALLEL = 2;
const RESTORE_PARALLEL_ONCE = 4;
/** `auto`: profile one restore with node --cpu-prof when ours is slower than `mariadb <`. */
const RESTORE_PROFILE = process.env.BENCH_RESTORE_PROFILE || 'auto';
if (!['auto', '0', '1'].includes(RESTORE_PROFILE))
  throw new Error(`BENCH_RESTORE_PROFILE must be auto, 0 or 1, not ${RESTORE_PROFILE}`);
/**
 * Another build's CLI (`/path/to/worktree/dist/cli/main.js`): restored with the same
 * arguments as (a), interleaved in the same runs (row `base`), for a before/after in one run.
 */
const RESTORE_BASE = process.env.BENCH_RESTORE_BASE || undefined;
/** Before each timed restore, wait (at most this long) for InnoDB to flush the last one's pages. */
const RESTORE_QUIET_WAIT_S = 10;

/**
 * The tables of sbbench_restore. Rows = rowsPerMB x BENCH_RESTORE_MB; rowsPerMB from the
 * snapshot's measured bytes a row (orders ~172, events ~150, documents ~1,070, attachments
 * ~1,200 with its BLOB in hex), so that BENCH_RESTORE_MB is about the snapshot's SQL in MB.
 * Deterministic but for the BLOBs (RANDOM_BYTES); every restore is checked against the source.
 */
const RESTORE_TABLES = [
  {
    name: 'attachments',
    rowsPerMB: 100,
    step: 50000,
    create:
      'CREATE TABLE attachments (id INT NOT NULL PRIMARY KEY, document_id INT NOT NULL, ' +
      'mime VARCHAR(64) NOT NULL, data BLOB NOT NULL, sha1 CHAR(40) NOT NULL, KEY (document_id)) ENGINE=InnoDB',
    select: (rows) =>
      `SELECT seq, 1 + seq % ${String(rows.documents)}, ELT(1 + seq % 3, 'image/png', 'application/pdf', 'text/plain'), ` +
      `RANDOM_BYTES(64 + seq % 960), SHA1(seq)`,
  },
  {
    name: 'documents',
    rowsPerMB: 240,
    step: 50000,
    create:
      'CREATE TABLE documents (id INT NOT NULL PRIMARY KEY, title VARCHAR(200) NOT NULL, body TEXT NOT NULL, ' +
      "lang CHAR(2) NOT NULL, updated TIMESTAMP NOT NULL DEFAULT '2020-01-01 00:00:00', score DOUBLE NULL) ENGINE=InnoDB",
    select: () =>
      `SELECT seq, CONCAT('Document ', seq, ' ', LEFT(MD5(seq), 16), ' ünïcødé'), ` +
      `REPEAT(CONCAT(MD5(seq * 3), ' lorem "ipsum" 日本語\\n'), 4 + seq % 24), ELT(1 + seq % 3, 'en', 'de', 'fr'), ` +
      `'2020-01-01' + INTERVAL (seq * 104729) % 150000000 SECOND, IF(seq % 10 = 0, NULL, seq / 7)`,
  },
  {
    name: 'events',
    rowsPerMB: 2000,
    step: 250000,
    create:
      'CREATE TABLE events (id BIGINT NOT NULL PRIMARY KEY, at DATETIME(3) NOT NULL, ' +
      "kind ENUM('login','logout','view','edit','delete') NOT NULL, user_id INT NOT NULL, ip VARBINARY(16) NULL, " +
      'payload JSON NULL, KEY (user_id)) ENGINE=InnoDB',
    select: () =>
      `SELECT seq, '2021-01-01' + INTERVAL (seq * 7) % 31536000000 / 1000 SECOND, 1 + seq % 5, seq % 100003, ` +
      `IF(seq % 4 = 0, NULL, INET6_ATON(CONCAT('10.', seq % 256, '.', (seq DIV 256) % 256, '.', seq % 7))), ` +
      `IF(seq % 2 = 0, NULL, JSON_OBJECT('n', seq, 'k', LEFT(MD5(seq), 8)))`,
  },
  {
    name: 'orders',
    rowsPerMB: 2000,
    step: 250000,
    create:
      'CREATE TABLE orders (id INT NOT NULL PRIMARY KEY, customer INT NOT NULL, status VARCHAR(16) NOT NULL, ' +
      'created DATETIME NOT NULL, amount DECIMAL(12,2) NULL, qty SMALLINT NOT NULL, note VARCHAR(100) NULL, ' +
      'KEY (customer)) ENGINE=InnoDB',
    select: () =>
      `SELECT seq, seq % 50021, ELT(1 + seq % 5, 'new', 'paid', 'shipped', 'cancelled', "o'brien"), ` +
      `'2020-01-01' + INTERVAL (seq * 7919) % 150000000 SECOND, IF(seq % 20 = 0, NULL, (seq * 37) % 10000000 / 100), ` +
      `seq % 100, IF(seq % 3 = 0, NULL, CONCAT('note ', LEFT(MD5(seq), 1 + seq % 32), '\\tback\\\\slash\\n'))`,
  },
];

const restoreRows = () =>
  Object.fromEntries(
    RESTORE_TABLES.map((t) => [t.name, Math.max(10, Math.round(t.rowsPerMB * RESTORE_MB))]),
  );

async function setupRestore() {
  const name = DATABASES.restore;
  const rows = restoreRows();
  const started = Date.now();
  const connection = await connect();
  try {
    await connection.query(
      `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`,
    );
    await connection.query(`USE \`${name}\``);
    await connection.query('SET unique_checks = 0');
    for (const table of RESTORE_TABLES) {
      await connection.query(table.create);
      const select = table.select(rows);
      for (let from = 1; from <= rows[table.name]; from += table.step) {
        const to = Math.min(from + table.step - 1, rows[table.name]);
        await connection.query(
          `INSERT INTO ${table.name} ${select} FROM seq_${String(from)}_to_${String(to)}`,
        );
      }
    }
  } finally {
    await connection.end();
  }
  const seconds = (Date.now() - started) / 1000;
  log(
    `created ${name}: ${Object.entries(rows)
      .map(([table, n]) => `${table} ${String(n)}`)
      .join(', ')} rows in ${seconds.toFixed(1)} s`,
  );
  return { rows, seconds };
}

/** Base tables of `database` with their exact row counts and CHECKSUM TABLE. */
async function tableFacts(database) {
  const tables = await listTables(database);
  const connection = await connect();
  try {
    const facts = {};
    for (const table of tables) {
      const [[{ n }]] = await connection.query(
        `SELECT COUNT(*) AS n FROM \`${database}\`.\`${table}\``,
      );
      const [[{ Checksum }]] = await connection.query(
        `CHECKSUM TABLE \`${database}\`.\`${table}\``,
      );
      facts[table] = { rows: Number(n), checksum: String(Checksum) };
    }
    return facts;
  } finally {
    await connection.end();
  }
}

async function adminQuery(sql) {
  const connection = await connect();
  try {
    const [rows] = await connection.query(sql);
    return rows;
  } finally {
    await connection.end();
  }
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** The local server's pid (CPU accounting only; undefined when it is not on this machine). */
const SERVER_PID = (() => {
  if (!['127.0.0.1', 'localhost', '::1'].includes(DB.host)) return undefined;
  for (const name of ['mariadbd', 'mysqld']) {
    try {
      const pid = execFileSync('pidof', ['-s', name], { encoding: 'utf8' }).trim();
      if (pid !== '') return Number(pid);
    } catch {
      // not running under that name
    }
  }
  return undefined;
})();

/** CPU seconds so far: the whole machine's busy time (/proc/stat) and the server's (/proc/PID/stat). */
function cpuCounters() {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
    const busy = fields.slice(0, 8).reduce((sum, v, i) => (i === 3 || i === 4 ? sum : sum + v), 0);
    let server;
    if (SERVER_PID !== undefined) {
      const stat = readFileSync(`/proc/${String(SERVER_PID)}/stat`, 'utf8');
      const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      server = (Number(after[11]) + Number(after[12])) / CLOCK_TICKS; // utime, stime
    }
    return { busy: busy / CLOCK_TICKS, server };
  } catch {
    return undefined;
  }
}

/** pid -> { name, cpu seconds } of every process now (threads included), from /proc/PID/stat. */
function processCpu() {
  const out = new Map();
  let entries;
  try {
    entries = execFileSync('ls', ['/proc'], { encoding: 'utf8' }).split('\n');
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(entry), { name, cpu: (Number(after[11]) + Number(after[12])) / CLOCK_TICKS });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The processes (other than the server) that used the most CPU between two processCpu(). */
function topOtherProcesses(before, after, limit = 4) {
  const rows = [];
  for (const [pid, now] of after) {
    if (pid === SERVER_PID) continue;
    const then = before.get(pid);
    const cpu = now.cpu - (then?.name === now.name ? then.cpu : 0);
    if (cpu >= 0.2)
      rows.push({
        pid,
        name: pid === process.pid ? 'bench (this script)' : now.name,
        cpuSeconds: cpu,
      });
  }
  return rows.sort((a, b) => b.cpuSeconds - a.cpuSeconds).slice(0, limit);
}

/** Bytes of the `.sql` files in `dir` (the snapshot's SQL, manifest.json not counted). */
async function sqlBytes(dir) {
  let bytes = 0;
  let files = 0;
  for (const entry of await readdir(dir)) {
    if (!entry.endsWith('.sql')) continue;
    bytes += (await stat(join(dir, entry))).size;
    files += 1;
  }
  return { bytes, files };
}

/** The restored `target` against the source's facts: same tables, row counts, checksums. */
async function verifyRestore(target, source) {
  const facts = await tableFacts(target);
  const names = Object.keys(source);
  const problems = [];
  const extra = Object.keys(facts).filter((table) => !(table in source));
  if (extra.length > 0) problems.push(`extra tables ${extra.join(',')}`);
  for (const table of names) {
    const got = facts[table];
    if (got === undefined) problems.push(`${table} missing`);
    else {
      if (got.rows !== source[table].rows)
        problems.push(`${table} rows ${String(got.rows)} != ${String(source[table].rows)}`);
      if (got.checksum !== source[table].checksum)
        problems.push(`${table} checksum ${got.checksum} != ${source[table].checksum}`);
    }
  }
  return {
    ok: problems.length === 0,
    problems,
    rows: Object.values(facts).reduce((sum, f) => sum + f.rows, 0),
    tablesChecksummed: names.length,
  };
}

const RESTORE_ROWS = [
  ['ours', `a: schema_backup restore --parallel ${String(RESTORE_PARALLEL)}`],
  ['mariadb', 'b: mariadb X < dump.sql'],
  ['myloader', 'c: myloader -t 2'],
  ['ours-p4', `a': schema_backup restore --parallel ${String(RESTORE_PARALLEL_ONCE)} (1 run)`],
  ...(RESTORE_BASE === undefined
    ? []
    : [['base', `d: BENCH_RESTORE_BASE --parallel ${String(RESTORE_PARALLEL)}`]]),
];

async function benchRestore(scratch) {
  const database = DATABASES.restore;
  const myloader = which('myloader') !== undefined && which('mydumper') !== undefined;
  const setup = await setupRestore();
  const work = join(scratch, 'restore');
  await mkdir(work, { recursive: true });

  const sourceStarted = Date.now();
  const source = await tableFacts(database);
  const sourceFactsSeconds = (Date.now() - sourceStarted) / 1000;

  // Once: the snapshot (every table global, no commit), one mariadb-dump file, one mydumper dir.
  const backupDir = join(work, 'snapshot');
  const snapshot = await runSnapshotOnce(work, 'snapshot', {
    csv2_backup_dir: backupDir,
    hostname: 'bench',
    database: databaseBlock(database),
    git: { commit: false },
    global: Object.keys(source),
  });
  const snapshotStderr = snapshot.stderr.split('\n').filter((line) => line.trim() !== '');
  if (snapshotStderr.length > 0)
    log(`restore snapshot: schema_backup stderr: ${snapshotStderr.slice(0, 5).join(' | ')}`);
  const hostDir = join(backupDir, 'bench');
  const snapshotSql = await sqlBytes(hostDir);
  const dump = await runWholeDump(work, database);
  const dumpFile = join(work, 'whole.sql');
  const mydump = myloader ? await runMydumper(work, database) : undefined;
  const mydumpDir = join(work, 'mydumper');
  log(
    `${database}: snapshot ${(snapshotSql.bytes / 1e6).toFixed(1)} MB of SQL (${String(snapshotSql.files)} files) in ${snapshot.seconds.toFixed(1)} s; ` +
      `mariadb-dump ${(dump.bytes / 1e6).toFixed(1)} MB in ${dump.seconds.toFixed(1)} s` +
      (mydump === undefined
        ? '; myloader/mydumper not installed: its rows are skipped'
        : `; mydumper ${(mydump.bytes / 1e6).toFixed(1)} MB in ${mydump.seconds.toFixed(1)} s`) +
      `; source counts + checksums ${sourceFactsSeconds.toFixed(1)} s`,
  );

  const commandFor = (tool, target) => {
    switch (tool) {
      case 'ours':
      case 'ours-p4':
      case 'base':
        return [
          process.execPath,
          [
            tool === 'base' ? RESTORE_BASE : CLI,
            'restore',
            '--config',
            snapshot.configFile,
            '--target',
            target,
            '--parallel',
            String(tool === 'ours-p4' ? RESTORE_PARALLEL_ONCE : RESTORE_PARALLEL),
          ],
        ];
      case 'mariadb':
        return [
          'sh',
          [
            '-c',
            `exec mariadb ${CLIENT_ARGS.map(shellQuote).join(' ')} ${shellQuote(target)} < ${shellQuote(dumpFile)}`,
          ],
        ];
      case 'myloader':
        return [
          'myloader',
          [
            '-h',
            DB.host,
            '-P',
            String(DB.port),
            '-u',
            DB.user,
            '-d',
            mydumpDir,
            '-B',
            target,
            '-t',
            '2',
          ],
        ];
      default:
        throw new Error(`unknown restore tool ${tool}`);
    }
  };

  const dropTarget = (target) => adminQuery(`DROP DATABASE IF EXISTS \`${target}\``);
  const restoreOnce = async (tool, run) => {
    const target = `${database}_${tool.replace('-', '_')}_${String(run)}`;
    await dropTarget(target);
    const quiet = await waitForQuietServer(RESTORE_QUIET_WAIT_S);
    // The stock client needs the database; schema_backup and myloader create it themselves.
    if (tool === 'mariadb')
      await adminQuery(
        `CREATE DATABASE \`${target}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`,
      );
    const [command, args] = commandFor(tool, target);
    const load = loadavg()[0];
    const processesBefore = processCpu();
    const before = cpuCounters();
    const result = await measure(command, args, { cwd: work });
    const after = cpuCounters();
    // Processes that ran all along (another engineer's tests, kernel threads); short-lived
    // ones are only in the machine's total.
    const otherTop = topOtherProcesses(processesBefore, processCpu());
    const serverCpu =
      before?.server === undefined || after?.server === undefined
        ? undefined
        : after.server - before.server;
    const busy = before === undefined || after === undefined ? undefined : after.busy - before.busy;
    const otherCpu =
      busy === undefined || serverCpu === undefined || result.cpuSeconds === undefined
        ? undefined
        : Math.max(0, busy - serverCpu - result.cpuSeconds);
    const verify = await verifyRestore(target, source);
    await dropTarget(target);
    const stderr = result.stderr.split('\n').filter((line) => line.trim() !== '');
    if (stderr.length > 0 && run === 1)
      log(`restore ${tool}: stderr: ${stderr.slice(0, 5).join(' | ')}`);
    log(
      `${database} run ${String(run)}: ${tool} ${result.seconds.toFixed(2)} s, ` +
        `client CPU ${result.cpuSeconds?.toFixed(1) ?? 'n/a'} s, server CPU ${serverCpu?.toFixed(1) ?? 'n/a'} s, ` +
        `other CPU ${otherCpu?.toFixed(1) ?? 'n/a'} s` +
        (otherTop.length === 0
          ? ''
          : ` (${otherTop.map((p) => `${p.name} ${String(p.pid)} ${p.cpuSeconds.toFixed(1)} s`).join(', ')})`) +
        `, load ${load.toFixed(2)}, ` +
        `waited ${quiet.waitedSeconds.toFixed(1)} s for ${String(quiet.dirtyPagesBefore)} dirty pages; ` +
        `${verify.ok ? 'rows + checksums match' : `MISMATCH ${verify.problems.join('; ')}`}`,
    );
    return {
      run,
      target,
      seconds: result.seconds,
      rssKiB: result.rssKiB,
      clientCpuSeconds: result.cpuSeconds,
      serverCpuSeconds: serverCpu,
      otherCpuSeconds: otherCpu,
      otherTop,
      loadavg1: load,
      quiet,
      verify,
      stdout: result.stdout.trim().slice(0, 500),
    };
  };

  const tools = [
    'ours',
    'mariadb',
    ...(myloader ? ['myloader'] : []),
    ...(RESTORE_BASE === undefined ? [] : ['base']),
  ];
  const samples = Object.fromEntries(RESTORE_ROWS.map(([id]) => [id, []]));
  for (let run = 1; run <= RUNS; run++) {
    // Rotated each run, so that no tool always follows the same one.
    const order = tools.map((_, i) => tools[(i + run - 1) % tools.length]);
    for (const tool of order) samples[tool].push(await restoreOnce(tool, run));
  }
  samples['ours-p4'].push(await restoreOnce('ours-p4', 1));

  const rows = [];
  for (const [id, label] of RESTORE_ROWS) {
    const list = samples[id];
    if (list.length === 0) {
      rows.push({
        scenario: id,
        label,
        skipped: 'myloader/mydumper not installed (apt-get install -y mydumper)',
      });
      continue;
    }
    const pick = (key) => list.map((s) => s[key]).filter((v) => v !== undefined);
    const orUndefined = (values, f) => (values.length === 0 ? undefined : f(values));
    const seconds = median(list.map((s) => s.seconds));
    rows.push({
      scenario: id,
      label,
      runs: list.length,
      medianSeconds: seconds,
      minSeconds: Math.min(...list.map((s) => s.seconds)),
      maxSeconds: Math.max(...list.map((s) => s.seconds)),
      snapshotSqlBytes: snapshotSql.bytes,
      mbPerSecond: snapshotSql.bytes / 1e6 / seconds,
      peakRssMB: orUndefined(pick('rssKiB'), (v) => Math.max(...v) / 1024),
      clientCpuSeconds: orUndefined(pick('clientCpuSeconds'), median),
      serverCpuSeconds: orUndefined(pick('serverCpuSeconds'), median),
      otherCpuSeconds: orUndefined(pick('otherCpuSeconds'), median),
      samplesSeconds: list.map((s) => s.seconds),
      samples: list,
    });
  }
  const ours = rows.find((row) => row.scenario === 'ours');
  for (const row of rows)
    if (row.medianSeconds !== undefined) row.thisOverOurs = row.medianSeconds / ours.medianSeconds;
  const mariadbRow = rows.find((row) => row.scenario === 'mariadb');
  const myloaderRow = rows.find((row) => row.scenario === 'myloader');

  let profile;
  const slower = ours.medianSeconds > mariadbRow.medianSeconds;
  if (RESTORE_PROFILE === '1' || (RESTORE_PROFILE === 'auto' && slower)) {
    profile = await profileRestore(work, snapshot.configFile, `${database}_profile`, source);
  }

  if (!KEEP) await rm(work, { recursive: true, force: true });
  return {
    key: 'restore',
    database,
    setup: { ...setup, sourceFactsSeconds },
    source,
    snapshot: {
      seconds: snapshot.seconds,
      rssKiB: snapshot.rssKiB,
      sqlBytes: snapshotSql.bytes,
      files: snapshotSql.files,
    },
    dump: { seconds: dump.seconds, bytes: dump.bytes },
    mydumper:
      mydump === undefined
        ? undefined
        : { seconds: mydump.seconds, bytes: mydump.bytes, files: mydump.files },
    serverPid: SERVER_PID,
    rows,
    mariadbOverOurs: mariadbRow.medianSeconds / ours.medianSeconds,
    myloaderOverOurs:
      myloaderRow?.medianSeconds === undefined
        ? undefined
        : myloaderRow.medianSeconds / ours.medianSeconds,
    profile,
  };
}

/**
 * One restore under `node --cpu-prof` (main thread only): where the client's time goes.
 * Self time by function and by area (file), inclusive time of the restore's own functions.
 */
async function profileRestore(work, configFile, target, source) {
  const dir = join(work, 'cpu-prof');
  await mkdir(dir, { recursive: true });
  await adminQuery(`DROP DATABASE IF EXISTS \`${target}\``);
  await waitForQuietServer(RESTORE_QUIET_WAIT_S);
  const before = cpuCounters();
  const result = await measure(
    process.execPath,
    [
      '--cpu-prof',
      `--cpu-prof-dir=${dir}`,
      CLI,
      'restore',
      '--config',
      configFile,
      '--target',
      target,
      '--parallel',
      String(RESTORE_PARALLEL),
    ],
    { cwd: work },
  );
  const after = cpuCounters();
  const verify = await verifyRestore(target, source);
  await adminQuery(`DROP DATABASE IF EXISTS \`${target}\``);
  const [file] = (await readdir(dir)).filter((name) => name.endsWith('.cpuprofile'));
  if (file === undefined) return { error: 'no .cpuprofile written' };
  const summary = summarizeProfile(
    unbundleProfile(JSON.parse(await readFile(join(dir, file), 'utf8'))),
  );
  if (KEEP) log(`cpu profile kept: ${join(dir, file)}`);
  return {
    wallSeconds: result.seconds,
    clientCpuSeconds: result.cpuSeconds,
    serverCpuSeconds:
      before?.server === undefined || after?.server === undefined
        ? undefined
        : after.server - before.server,
    verified: verify.ok,
    ...summary,
  };
}

function profileArea(frame) {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native / builtins)';
  if (url.includes('node_modules/sql-escaper/')) return 'sql-escaper (mysql2 format: scans for ?)';
  if (url.includes('node_modules/mysql2/')) return 'mysql2 driver';
  if (url.includes('node_modules/')) return 'other npm packages';
  // Frames of the bundle, mapped back to src/ by unbundleProfile (an older build: dist/).
  if (/\/(src|dist)\/restore\/sql-statements\.[jt]s$/.test(url))
    return 'schema_backup readStatements + splitInsert';
  if (/\/(src|dist)\/restore\/restore-snapshot\.[jt]s$/.test(url))
    return 'schema_backup executeScript (batching)';
  if (url.includes('/src/') || url.includes('/dist/')) return 'schema_backup other';
  if (url.includes('readline')) return 'node readline (line splitting)';
  if (url.includes('streams') || url.includes('node:stream')) return 'node streams';
  if (url.startsWith('node:internal/fs') || url.startsWith('node:fs')) return 'node fs';
  if (url.includes('net') || url.includes('stream_base')) return 'node net (socket writes)';
  return 'node other';
}

function summarizeProfile(profile) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const key = (frame) =>
    `${frame.functionName || '(anonymous)'} ${frame.url === '' ? '' : `${frame.url.replace(/^.*?\/(src|dist|node_modules)\//, '$1/').replace(/^file:\/\//, '')}:${String(frame.lineNumber + 1)}`}`.trim();
  const self = new Map();
  const inclusive = new Map();
  const areas = new Map();
  let total = 0;
  const add = (map, k, v) => map.set(k, (map.get(k) ?? 0) + v);
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    total += ms;
    const node = nodes.get(profile.samples[i]);
    if (node === undefined) continue;
    add(self, key(node.callFrame), ms);
    add(areas, profileArea(node.callFrame), ms);
    const seen = new Set();
    for (let id = node.id; id !== undefined; id = parent.get(id)) {
      const k = key(nodes.get(id).callFrame);
      if (seen.has(k)) continue;
      seen.add(k);
      add(inclusive, k, ms);
    }
  }
  const top = (map, n, filter = () => true) =>
    [...map.entries()]
      .filter(([k]) => filter(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, ms]) => ({ name, seconds: ms / 1000, percent: (100 * ms) / total }));
  const idle = (areas.get('(idle)') ?? 0) / 1000;
  return {
    profiledSeconds: total / 1000,
    idleSeconds: idle,
    busySeconds: total / 1000 - idle,
    areas: top(areas, 20),
    topSelf: top(self, 15, (k) => k !== '(idle)'),
    topInclusive: top(
      inclusive,
      15,
      (k) =>
        !k.startsWith('(') &&
        !k.startsWith('processTicksAndRejections') &&
        !k.startsWith('(anonymous) node:internal/process'),
    ),
  };
}

function printRestore(result) {
  const header = [
    'restore into a fresh database',
    'median s',
    'min-max s',
    'MB/s',
    'peak RSS MB',
    'client CPU s',
    'server CPU s',
    'other CPU s',
    'this/ours',
  ];
  const widths = [46, 9, 13, 7, 12, 13, 13, 12, 10];
  const line = (cells) => cells.map((cell, i) => pad(cell, widths[i], i >= 1)).join('  ');
  const fmt = (v, digits = 1) => (v === undefined ? 'n/a' : v.toFixed(digits));
  const rowsLine = Object.entries(result.source)
    .map(([table, f]) => `${table} ${String(f.rows)}`)
    .join(', ');
  const out = [
    `${result.database}: ${(result.snapshot.sqlBytes / 1e6).toFixed(1)} MB of snapshot SQL in ${String(result.snapshot.files)} files (${rowsLine} rows); ` +
      `dump.sql ${(result.dump.bytes / 1e6).toFixed(1)} MB` +
      (result.mydumper === undefined
        ? ''
        : `, mydumper dir ${(result.mydumper.bytes / 1e6).toFixed(1)} MB`) +
      ` (MB/s = snapshot SQL MB / s for every row)`,
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
  ];
  for (const row of result.rows) {
    if (row.skipped !== undefined) {
      out.push(`${line([row.label, 'skipped'])}  (${row.skipped})`);
      continue;
    }
    out.push(
      line([
        row.label,
        row.medianSeconds.toFixed(2),
        `${row.minSeconds.toFixed(2)}-${row.maxSeconds.toFixed(2)}`,
        row.mbPerSecond.toFixed(1),
        fmt(row.peakRssMB),
        fmt(row.clientCpuSeconds),
        fmt(row.serverCpuSeconds),
        fmt(row.otherCpuSeconds),
        `${row.thisOverOurs.toFixed(2)}x`,
      ]),
    );
  }
  out.push(
    `mariadb/ours = ${result.mariadbOverOurs.toFixed(2)}x` +
      (result.myloaderOverOurs === undefined
        ? ''
        : `, myloader/ours = ${result.myloaderOverOurs.toFixed(2)}x`) +
      ' (> 1: schema_backup restore is faster)',
  );
  out.push(
    'CPU columns (medians): client = the command and its children (/usr/bin/time %U+%S); server = mariadbd (/proc); ' +
      'other = the rest of the machine in the same interval (other processes, kernel): CPU noise when it is large',
  );
  const p = result.profile;
  if (p !== undefined && p.error === undefined) {
    out.push(
      '',
      `node --cpu-prof of one restore --parallel ${String(RESTORE_PARALLEL)}: ${p.wallSeconds.toFixed(2)} s wall (profiler on), ` +
        `main thread busy ${p.busySeconds.toFixed(2)} s, idle ${p.idleSeconds.toFixed(2)} s (waiting for the server / I/O); ` +
        `client CPU ${fmt(p.clientCpuSeconds)} s, server CPU ${fmt(p.serverCpuSeconds)} s; restored data ${p.verified ? 'matches' : 'DOES NOT match'}`,
      'self time by area:',
      ...p.areas.map(
        (a) =>
          `  ${pad(a.name, 46)}${pad(a.seconds.toFixed(2), 8, true)} s ${pad(a.percent.toFixed(1), 6, true)} %`,
      ),
      'top functions, self time:',
      ...p.topSelf.map(
        (a) =>
          `  ${pad(a.name, 70)}${pad(a.seconds.toFixed(2), 8, true)} s ${pad(a.percent.toFixed(1), 6, true)} %`,
      ),
      'top functions, inclusive time:',
      ...p.topInclusive.map(
        (a) =>
          `  ${pad(a.name, 70)}${pad(a.seconds.toFixed(2), 8, true)} s ${pad(a.percent.toFixed(1), 6, true)} %`,
      ),
    );
  } else if (p?.error !== undefined) out.push(`profile: ${p.error}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

function restoreVerdicts(result) {
  const ours = result.rows.find((row) => row.scenario === 'ours');
  const mariadbRow = result.rows.find((row) => row.scenario === 'mariadb');
  const all = result.rows.flatMap((row) => row.samples ?? []);
  const bad = all.filter((s) => !s.verify.ok);
  return [
    {
      check: `${result.database}: schema_backup restore --parallel ${String(RESTORE_PARALLEL)} at least as fast as mariadb < dump.sql (${ours.medianSeconds.toFixed(2)} s vs ${mariadbRow.medianSeconds.toFixed(2)} s, mariadb/ours = ${result.mariadbOverOurs.toFixed(2)}x)`,
      pass: ours.medianSeconds <= mariadbRow.medianSeconds,
    },
    {
      check: `${result.database}: every restored database has the source's tables, row counts and CHECKSUM TABLE (${String(all.length)} restores)`,
      pass: bad.length === 0,
      detail:
        bad.length === 0
          ? undefined
          : bad.map((s) => `${s.target}: ${s.verify.problems.join(', ')}`).join('; '),
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Main

const SCENARIOS = [
  ['ours-fresh', 'schema_backup snapshot, fresh repo'],
  ['ours-rerun', 'schema_backup re-run, unchanged'],
  ['baseline', 'mariadb-dump per table + git commit'],
  ['whole-dump', 'mariadb-dump whole db (reference)'],
  ['mydumper', 'mydumper --threads 2 (reference)'],
];

async function benchDatabase(key, scratch, mydumper) {
  const database = DATABASES[key];
  const setup = key === 'many' ? await setupMany() : await setupCsv2();
  const tables = await listTables(database);
  let config;
  let globalTables;
  let note;
  if (key === 'many') {
    config = (dir) => manyConfig(dir, tables);
    globalTables = new Set(tables);
  } else {
    const { categories, dropped } = await csv2Categories();
    config = (dir) => csv2Config(dir, categories);
    globalTables = new Set(categories.global);
    note = `removed from ephemeral (also global): ${dropped.join(', ') || 'none'}`;
  }

  const samples = Object.fromEntries(SCENARIOS.map(([id]) => [id, []]));
  const checks = [];
  let stderr = [];
  for (let run = 1; run <= RUNS; run++) {
    const work = join(scratch, `${key}-${String(run)}`);
    await mkdir(work, { recursive: true });
    const ours = await runOurs(work, config(join(work, 'ours')), `${database} run ${String(run)}`);
    samples['ours-fresh'].push(ours.fresh);
    samples['ours-rerun'].push(ours.rerun);
    checks.push({ run, ...ours.rerun.checks, ...ours.rerun.details });
    stderr = [...new Set([...stderr, ...ours.stderr])];
    samples.baseline.push(await runBaseline(work, database, tables, globalTables));
    samples['whole-dump'].push(await runWholeDump(work, database));
    if (mydumper.available) samples.mydumper.push(await runMydumper(work, database));
    log(
      `${database} run ${String(run)}/${String(RUNS)}: ` +
        SCENARIOS.filter(([id]) => samples[id].length === run)
          .map(([id]) => `${id} ${samples[id][run - 1].seconds.toFixed(2)} s`)
          .join(', '),
    );
    if (!KEEP) await rm(work, { recursive: true, force: true });
  }

  let phases;
  if (PHASES) {
    const work = join(scratch, `${key}-phases`);
    await mkdir(work, { recursive: true });
    phases = await measurePhases(work, config(join(work, 'ours')));
    if (!KEEP) await rm(work, { recursive: true, force: true });
  }

  const baselineSeconds = median(samples.baseline.map((s) => s.seconds));
  const rows = [];
  for (const [id, label] of SCENARIOS) {
    const list = samples[id];
    if (list.length === 0) {
      rows.push({ database, scenario: id, label, skipped: mydumper.reason });
      continue;
    }
    const seconds = median(list.map((s) => s.seconds));
    const bytes = median(list.map((s) => s.bytes));
    const rss = list.map((s) => s.rssKiB).filter((v) => v !== undefined);
    rows.push({
      database,
      scenario: id,
      label,
      runs: list.length,
      medianSeconds: seconds,
      minSeconds: Math.min(...list.map((s) => s.seconds)),
      maxSeconds: Math.max(...list.map((s) => s.seconds)),
      tables: tables.length,
      tablesPerSecond: tables.length / seconds,
      outputBytes: bytes,
      outputFiles: median(list.map((s) => s.files)),
      mbPerSecond: bytes / 1e6 / seconds,
      peakRssMB: rss.length === 0 ? undefined : Math.max(...rss) / 1024,
      baselineOverThis: baselineSeconds / seconds,
      samplesSeconds: list.map((s) => s.seconds),
    });
  }
  return { key, database, setup, tables: tables.length, note, rows, checks, stderr, phases };
}

function pad(text, width, right = false) {
  const s = String(text);
  return right ? s.padStart(width) : s.padEnd(width);
}

function printTable(results) {
  const header = [
    'database',
    'scenario',
    'median s',
    'min-max s',
    'tables/s',
    'MB/s',
    'out MB',
    'peak RSS MB',
    'baseline/this',
  ];
  const widths = [13, 37, 9, 13, 9, 8, 8, 12, 14];
  const line = (cells) => cells.map((cell, i) => pad(cell, widths[i], i >= 2)).join('  ');
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const result of results) {
    for (const row of result.rows) {
      if (row.skipped !== undefined) {
        out.push(
          line([row.database, row.label, 'skipped', '', '', '', '', '', '']) + `  (${row.skipped})`,
        );
        continue;
      }
      out.push(
        line([
          row.database,
          row.label,
          row.medianSeconds.toFixed(2),
          `${row.minSeconds.toFixed(2)}-${row.maxSeconds.toFixed(2)}`,
          row.tablesPerSecond.toFixed(0),
          row.mbPerSecond.toFixed(2),
          (row.outputBytes / 1e6).toFixed(2),
          row.peakRssMB === undefined ? 'n/a' : row.peakRssMB.toFixed(1),
          `${row.baselineOverThis.toFixed(2)}x`,
        ]),
      );
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
  const withPhases = results.filter((result) => result.phases !== undefined);
  if (withPhases.length === 0) return;
  process.stdout.write(
    '\nwhere schema_backup spends its time (one extra --verbose run each, seconds from log timestamps):\n',
  );
  const names = Object.keys(withPhases[0].phases.fresh);
  const cols = withPhases.flatMap((result) => [
    `${result.database} fresh`,
    `${result.database} rerun`,
  ]);
  process.stdout.write(`${pad('phase', 46)}${cols.map((c) => pad(c, 20, true)).join('')}\n`);
  for (const name of names) {
    const cells = withPhases.flatMap((result) => [
      result.phases.fresh[name],
      result.phases.rerun[name],
    ]);
    process.stdout.write(
      `${pad(name, 46)}${cells.map((v) => pad(v === undefined ? '-' : v.toFixed(2), 20, true)).join('')}\n`,
    );
  }
}

async function main() {
  // The dump suite (bench/dump.mjs) stands alone: BENCH_ONLY=dump or --suite dump.
  const suite = process.argv.indexOf('--suite');
  if (process.env.BENCH_ONLY === 'dump' || (suite !== -1 && process.argv[suite + 1] === 'dump')) {
    const { runDumpSuite } = await import('./dump.mjs');
    return runDumpSuite();
  }
  // So does the PostgreSQL dump suite (bench/pgdump.mjs): BENCH_ONLY=pgdump or --suite pgdump.
  if (
    process.env.BENCH_ONLY === 'pgdump' ||
    (suite !== -1 && process.argv[suite + 1] === 'pgdump')
  ) {
    const { runPgDumpSuite } = await import('./pgdump.mjs');
    return runPgDumpSuite();
  }
  // So does the PostgreSQL snapshot suite (bench/pgsnap.mjs): BENCH_ONLY=pgsnap or --suite pgsnap.
  if (
    process.env.BENCH_ONLY === 'pgsnap' ||
    (suite !== -1 && process.argv[suite + 1] === 'pgsnap')
  ) {
    const { runPgSnapSuite } = await import('./pgsnap.mjs');
    return runPgSnapSuite();
  }
  // So does the user-data disk suite (bench/userdata.mjs): BENCH_ONLY=userdata or --suite userdata.
  if (
    process.env.BENCH_ONLY === 'userdata' ||
    (suite !== -1 && process.argv[suite + 1] === 'userdata')
  ) {
    const { runUserDataSuite } = await import('./userdata.mjs');
    return runUserDataSuite();
  }
  // The scale suite (bench/scale.mjs) stands alone too: BENCH_ONLY=scale or --suite scale.
  if (process.env.BENCH_ONLY === 'scale' || (suite !== -1 && process.argv[suite + 1] === 'scale')) {
    const { main: runScaleSuite } = await import('./scale.mjs');
    return runScaleSuite();
  }
  if (!existsSync(CLI))
    throw new Error(`${CLI} is missing: run npm run build (npm run bench does)`);
  for (const tool of ['mariadb', 'mariadb-dump', 'git'])
    if (which(tool) === undefined) throw new Error(`${tool} is not on PATH`);
  const mydumperPath = which('mydumper');
  const mydumper =
    mydumperPath === undefined
      ? { available: false, reason: 'mydumper not installed (apt-get install -y mydumper)' }
      : { available: true, path: mydumperPath };
  let mydumperVersion;
  if (mydumper.available) {
    try {
      mydumperVersion = execFileSync('mydumper', ['--version'], { encoding: 'utf8' }).trim();
    } catch {
      mydumperVersion = 'unknown';
    }
  }
  const rssMethod = existsSync(TIME)
    ? `${TIME} -f %M (max RSS of the largest process in the tree, via wait4)`
    : 'not measured (/usr/bin/time missing: apt-get install -y time)';
  if (!existsSync(TIME)) log(`peak RSS ${rssMethod}`);
  if (!mydumper.available) log(`${mydumper.reason}: its rows are skipped`);

  const leftovers = await dropBenchDatabases();
  if (leftovers.length > 0)
    log(`dropped leftover databases of an earlier run: ${leftovers.join(', ')}`);
  const scratch = await mkdtemp(join(tmpdir(), 'sbbench-'));
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    try {
      await dropBenchDatabases();
    } catch (error) {
      log(`could not drop the ${DB_PREFIX} databases: ${error.message}`);
    }
    if (!KEEP) await rm(scratch, { recursive: true, force: true });
    else log(`kept ${scratch}`);
  };
  const onSignal = (signal) => {
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const started = Date.now();
  const connection = await connect();
  const [[{ version }]] = await connection.query('SELECT VERSION() AS version');
  await connection.end();
  log(
    `runs=${String(RUNS)} tables=${String(TABLES)} rows=${String(ROWS)} databases=${ONLY.join(',')}` +
      `${ONLY.includes('restore') ? ` restore_mb=${String(RESTORE_MB)}` : ''} server=${version} cpus=${String(cpus().length)}`,
  );

  const results = [];
  let crypto;
  let restore;
  let failed = false;
  try {
    for (const key of ONLY) {
      if (!(key in DATABASES))
        throw new Error(`BENCH_ONLY: unknown scenario ${key} (many, csv2, crypto, restore)`);
      if (key === 'crypto') crypto = await benchCrypto(scratch);
      else if (key === 'restore') restore = await benchRestore(scratch);
      else results.push(await benchDatabase(key, scratch, mydumper));
    }
  } finally {
    await cleanup();
  }

  process.stdout.write('\n');
  if (results.length > 0) {
    printTable(results);
    process.stdout.write('\n');
  }
  if (crypto !== undefined) {
    printCrypto(crypto);
    process.stdout.write('\n');
  }
  if (restore !== undefined) {
    printRestore(restore);
    process.stdout.write('\n');
  }

  const verdicts = [];
  for (const result of results) {
    const allOk = result.checks.every(
      (c) => c.firstRunCommitted && c.noNewCommit && c.noFileRewritten && c.workTreeClean,
    );
    const bad = result.checks.filter(
      (c) => !(c.noNewCommit && c.noFileRewritten && c.workTreeClean),
    );
    verdicts.push({
      check: `${result.database}: unchanged re-run rewrites no file and makes no commit (${String(result.checks.length)} runs)`,
      pass: allOk,
      detail: allOk
        ? undefined
        : bad
            .map(
              (c) =>
                `run ${String(c.run)}: commits ${String(c.commitsBefore)}->${String(c.commitsAfter)}, ${String(c.touchedCount)} file(s) touched ${c.touched.join(',')}`,
            )
            .join('; '),
    });
    if (result.key === 'many') {
      const fresh = result.rows.find((row) => row.scenario === 'ours-fresh');
      verdicts.push({
        check: `${result.database}: snapshot >= ${String(TARGET_SPEEDUP)}x faster than one mariadb-dump per table (got ${fresh.baselineOverThis.toFixed(2)}x)`,
        pass: fresh.baselineOverThis >= TARGET_SPEEDUP,
      });
    }
    if (result.note !== undefined)
      process.stdout.write(`note ${result.database}: ${result.note}\n`);
    if (result.stderr.length > 0)
      process.stdout.write(
        `note ${result.database}: schema_backup printed on stderr: ${result.stderr.join(' | ')}\n`,
      );
  }
  if (crypto !== undefined) verdicts.push(...cryptoVerdicts(crypto));
  if (restore !== undefined) verdicts.push(...restoreVerdicts(restore));
  for (const verdict of verdicts) {
    process.stdout.write(
      `${verdict.pass ? 'PASS' : 'FAIL'}  ${verdict.check}${verdict.detail === undefined ? '' : `: ${verdict.detail}`}\n`,
    );
    if (!verdict.pass) failed = true;
  }

  const stamp = new Date()
    .toISOString()
    .replaceAll(':', '-')
    .replace(/\.\d+Z$/, 'Z');
  const resultsDir = join(ROOT, 'bench', 'results');
  await mkdir(resultsDir, { recursive: true });
  const file = join(resultsDir, `${stamp}.json`);
  const report = {
    date: new Date().toISOString(),
    elapsedSeconds: (Date.now() - started) / 1000,
    settings: {
      runs: RUNS,
      tables: TABLES,
      rows: ROWS,
      only: ONLY,
      cryptoRows: CRYPTO_ROWS,
      restoreMB: RESTORE_MB,
      restoreProfile: RESTORE_PROFILE,
      timeoutSeconds: TIMEOUT_S,
      db: DB,
    },
    environment: {
      node: process.version,
      server: version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryMB: Math.round(totalmem() / 2 ** 20),
      commit: (() => {
        try {
          return (
            git(ROOT, ['rev-parse', 'HEAD']) +
            (git(ROOT, ['status', '--porcelain', '--', 'src']) === '' ? '' : ' (src modified)')
          );
        } catch {
          return undefined;
        }
      })(),
      rssMethod,
      mydumper: mydumper.available ? mydumperVersion : mydumper.reason,
    },
    results,
    crypto,
    restore,
    verdicts,
  };
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(
    `\nresults: ${file} (${((Date.now() - started) / 1000).toFixed(0)} s in all)\n`,
  );
  return failed ? 1 : 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  process.stderr.write(
    `[bench] error: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exitCode = 1;
}
