#!/usr/bin/env node
/**
 * Benchmark: schema_backup's snapshot against the original's approach (one mariadb-dump
 * process per table, then git add + commit) and two references (one whole-database
 * mariadb-dump, mydumper). Creates its own databases (`sbbench_*`) and temp directories and
 * removes them at the end, also on failure or Ctrl-C. See bench/README.md.
 *
 * Run with `npm run bench` (builds dist/ first). Knobs: BENCH_RUNS, BENCH_TABLES, BENCH_ROWS,
 * BENCH_ONLY, BENCH_TIMEOUT, BENCH_KEEP, BENCH_PHASES, BENCH_CRYPTO_ROWS, BENCH_DB_HOST,
 * BENCH_DB_PORT, BENCH_DB_USER.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir, cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import mysql from 'mysql2/promise';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const FIXTURE = '/work/shared/fixtures/csv2';
const FIXTURE_DUMPS = join(FIXTURE, 'schema_backup', 'stable-2.11.0.rc1');
const FIXTURE_CONFIG = join(FIXTURE, 'etc', 'schema_backup.conf');
const TIME = '/usr/bin/time';

const intEnv = (name, fallback) => {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1)
    throw new Error(`${name} must be a positive integer, not ${value}`);
  return number;
};

const RUNS = intEnv('BENCH_RUNS', 3);
const TABLES = intEnv('BENCH_TABLES', 1000);
const ROWS = intEnv('BENCH_ROWS', 100);
const TIMEOUT_S = intEnv('BENCH_TIMEOUT', 180);
const KEEP = process.env.BENCH_KEEP === '1';
const PHASES = process.env.BENCH_PHASES !== '0';
const ONLY = (process.env.BENCH_ONLY ?? 'many,csv2,crypto')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const DB = {
  host: process.env.BENCH_DB_HOST ?? '127.0.0.1',
  port: intEnv('BENCH_DB_PORT', 3306),
  user: process.env.BENCH_DB_USER ?? 'root',
};
const CLIENT_ARGS = [`--user=${DB.user}`, `--host=${DB.host}`, `--port=${String(DB.port)}`];
const TARGET_SPEEDUP = 10;
const DATABASES = { many: 'sbbench_many', csv2: 'sbbench_csv2', crypto: 'sbbench_crypto' };

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@localhost',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@localhost',
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
 * seconds, peak RSS in KiB (largest single process of the tree, as wait4 reports it) and output.
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
      ? [TIME, ['-f', '%M', '-o', rssFile, command, ...args]]
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
      if (useTime) {
        try {
          const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
          rssKiB = Number(lines[lines.length - 1]);
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
      resolve({ seconds, rssKiB: Number.isFinite(rssKiB) ? rssKiB : undefined, stdout, stderr });
    });
  });
}

function shellQuote(text) {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

// ---------------------------------------------------------------------------------------------
// Databases

async function connect(options = {}) {
  return mysql.createConnection({ ...DB, multipleStatements: true, ...options });
}

async function dropBenchDatabases() {
  const connection = await connect();
  try {
    const [rows] = await connection.query(
      "SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE 'sbbench\\_%'",
    );
    for (const { name } of rows) await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
    return rows.map((row) => row.name);
  } finally {
    await connection.end();
  }
}

/** A deterministic pseudo-random generator (mulberry32), so that every run loads the same data. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
      const next = random(i + 1);
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
      log(`could not drop the sbbench_ databases: ${error.message}`);
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
    `runs=${String(RUNS)} tables=${String(TABLES)} rows=${String(ROWS)} databases=${ONLY.join(',')} server=${version} cpus=${String(cpus().length)}`,
  );

  const results = [];
  let crypto;
  let failed = false;
  try {
    for (const key of ONLY) {
      if (!(key in DATABASES))
        throw new Error(`BENCH_ONLY: unknown scenario ${key} (many, csv2, crypto)`);
      if (key === 'crypto') crypto = await benchCrypto(scratch);
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
