/**
 * Benchmark suite `userdata` (issue 21): bytes on disk of user-data copies after a month of
 * nightly snapshots. Creates `sbbench_userdata` with BENCH_USERDATA_TABLES local tables of
 * realistic rows (an `events` table of BENCH_USERDATA_ROWS rows, the others a tenth of that
 * each), then BENCH_USERDATA_NIGHTS snapshots with the built CLI: the first saves everything,
 * and before each later one 1 % of the rows of one table (round robin) change. Then it counts
 * the user-data directory (hard links once, as `du` does) and compares it with:
 *
 * - the old scheme: every copy a full uncompressed age file per table (computed from the
 *   copies' manifests: age's header + plaintext + 16 bytes per 64 KiB chunk);
 * - compression alone: every copy's files counted in full (no sharing of unchanged tables);
 * - a restic/borg-style ideal: the first copy, compressed, plus each night only the compressed
 *   changed rows (estimated as the changed fraction of that table's compressed file).
 *
 * Run: `BENCH_ONLY=userdata npm run bench` (or `npm run bench -- --suite userdata`).
 * Knobs: BENCH_USERDATA_ROWS (50000), BENCH_USERDATA_TABLES (5), BENCH_USERDATA_NIGHTS (30),
 * BENCH_USERDATA_DB (sbbench_userdata),
 * BENCH_KEEP=1 (keep the temp directory), BENCH_DB_HOST/PORT/USER, BENCH_TIMEOUT (s a run).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { intEnv } from './lib/env.mjs';
import { connect, DB, dropDatabasesLike } from './lib/db.mjs';
import { seededRandom } from './lib/prng.mjs';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const ROWS = intEnv('BENCH_USERDATA_ROWS', 50000);
const TABLES = intEnv('BENCH_USERDATA_TABLES', 5);
const NIGHTS = intEnv('BENCH_USERDATA_NIGHTS', 30);
const TIMEOUT_S = intEnv('BENCH_TIMEOUT', 600);
const KEEP = process.env.BENCH_KEEP === '1';
/** Another name keeps it clear of a concurrent bench run, which drops every `sbbench_*`. */
const DATABASE = process.env.BENCH_USERDATA_DB ?? 'sbbench_userdata';
const HOST = 'bench';
/** Share of a table's rows changed before each night's snapshot. */
const CHANGE = 0.01;
const AGE_CHUNK = 64 * 1024;
const AGE_TAG = 16;

const log = (line) => process.stderr.write(`[bench:userdata] ${line}\n`);
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

/** `events`, then `t1`, `t2`, …: the local tables and their row counts. */
function tablePlan() {
  const tables = [{ name: 'events', rows: ROWS }];
  for (let index = 1; index < TABLES; index++)
    tables.push({ name: `t${String(index)}`, rows: Math.max(100, Math.round(ROWS / 10)) });
  return tables;
}

/**
 * Rows that look like an application's: ids, a user, a kind, times, an address, a sentence
 * of words drawn from a small vocabulary (as messages and log lines are), a JSON payload.
 */
async function createDatabase(tables) {
  const connection = await connect();
  const words =
    "'order','payment','shipped','customer','invoice','delivery','account','update','failed','retry','warehouse','address','confirmed','refund','message','session','login','cart','item','price'";
  try {
    await connection.query(`CREATE DATABASE \`${DATABASE}\` CHARACTER SET utf8mb4`);
    await connection.query(`USE \`${DATABASE}\``);
    await connection.query('SET unique_checks = 0');
    for (const table of tables) {
      await connection.query(
        `CREATE TABLE \`${table.name}\` (id INT PRIMARY KEY, user_id INT NOT NULL, kind VARCHAR(20) NOT NULL, ` +
          'created DATETIME NOT NULL, ip VARCHAR(15), message TEXT, payload JSON) ENGINE=InnoDB',
      );
      const step = 100000;
      for (let from = 1; from <= table.rows; from += step) {
        const to = Math.min(from + step - 1, table.rows);
        const word = (k) => `ELT(1 + (seq * ${String(k)}) % 20, ${words})`;
        await connection.query(
          `INSERT INTO \`${table.name}\` SELECT seq, 1 + (seq * 7919) % 50000, ${word(3)}, ` +
            `'2025-01-01' + INTERVAL (seq * 37) SECOND, ` +
            `CONCAT('10.', seq % 256, '.', (seq * 7) % 256, '.', (seq * 13) % 256), ` +
            `CONCAT_WS(' ', ${word(5)}, ${word(11)}, 'for', ${word(17)}, ${word(23)}, LEFT(MD5(seq), 8), ${word(29)}, ${word(31)}, 'from user', 1 + (seq * 7919) % 50000), ` +
            `JSON_OBJECT('amount', (seq * 37) % 100000 / 100, 'currency', ELT(1 + seq % 3, 'EUR', 'USD', 'CHF'), 'items', 1 + seq % 9, 'ref', LEFT(MD5(seq * 3), 12)) ` +
            `FROM seq_${String(from)}_to_${String(to)}`,
        );
      }
    }
  } finally {
    await connection.end();
  }
}

/** Changes 1 % of `table`'s rows (seeded ids): a new message, as an edit or a status change. */
async function changeRows(table, night, random) {
  const count = Math.max(1, Math.round(table.rows * CHANGE));
  const ids = new Set();
  while (ids.size < count) ids.add(1 + Math.floor(random() * table.rows));
  const connection = await connect({ database: DATABASE });
  try {
    const list = [...ids];
    for (let at = 0; at < list.length; at += 5000)
      await connection.query(
        `UPDATE \`${table.name}\` SET message = CONCAT('edited night ${String(night)}: ', message), ` +
          `kind = 'updated' WHERE id IN (?)`,
        [list.slice(at, at + 5000)],
      );
  } finally {
    await connection.end();
  }
  return count;
}

function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += String(chunk)));
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_S * 1000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code === 0) resolve({ stdout, stderr, seconds });
      else reject(new Error(`${command} ${args.join(' ')} exited ${String(code)}: ${stderr}`));
    });
  });
}

/** Apparent bytes of the files under `dir`, each hard-linked file once (as `du -b` counts them). */
async function uniqueBytes(dir, seen = new Set()) {
  let total = 0;
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const info = await lstat(path);
    if (info.isDirectory()) total += await uniqueBytes(path, seen);
    else {
      const key = `${String(info.dev)}:${String(info.ino)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      total += info.size;
    }
  }
  return total;
}

/** Bytes of an age file of `plaintext` bytes with this header: the old, uncompressed scheme. */
function ageSize(headerBytes, plaintext) {
  const chunks = Math.max(1, Math.ceil(plaintext / AGE_CHUNK));
  return headerBytes + plaintext + chunks * AGE_TAG;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Header + nonce of an age file: everything before the first payload chunk. */
async function ageHeaderBytes(file) {
  const head = (await readFile(file)).subarray(0, 4096);
  const mac = head.indexOf('\n--- ');
  return head.indexOf(10, mac + 5) + 1 + 16;
}

export async function runUserDataSuite() {
  if (!existsSync(CLI))
    throw new Error(`${CLI} is missing: run npm run build (npm run bench does)`);
  for (const tool of ['age', 'age-keygen', 'zstd'])
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} is not on PATH (apt-get install age zstd)`);
    }
  await dropDatabasesLike(`${DATABASE}%`);
  const scratch = await mkdtemp(join(tmpdir(), 'sbbench-userdata-'));
  const tables = tablePlan();
  const started = Date.now();
  try {
    log(
      `tables ${tables.map((t) => `${t.name}:${String(t.rows)}`).join(' ')}, ${String(NIGHTS)} nights, ${String(CHANGE * 100)} % of one table's rows a night; load ${loadavg()[0].toFixed(1)} on ${String(cpus().length)} cpus`,
    );
    await createDatabase(tables);
    log(`created ${DATABASE} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const keyFile = join(scratch, 'key.txt');
    execFileSync('age-keygen', ['-o', keyFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    const recipient = /^# public key: (age1\S+)$/m.exec(await readFile(keyFile, 'utf8'))?.[1];
    const userDataDir = join(scratch, 'user-data');
    const configFile = join(scratch, 'schema_backup.conf');
    await writeFile(
      configFile,
      yaml.dump(
        {
          csv2_backup_dir: join(scratch, 'backup'),
          hostname: HOST,
          database: { name: DATABASE, host: DB.host, port: DB.port, user: DB.user },
          git: { commit: false },
          local: tables.map((t) => t.name),
          user_data_backup_dir: userDataDir,
          encryption: { recipients: [recipient] },
        },
        { lineWidth: -1 },
      ),
    );

    const random = seededRandom(21);
    const nights = [];
    for (let night = 1; night <= NIGHTS; night++) {
      let changed;
      if (night > 1) {
        const table = tables[(night - 2) % tables.length];
        changed = { table: table.name, rows: await changeRows(table, night, random) };
      }
      const result = await run(process.execPath, [CLI, '--config', configFile, '--json'], {
        cwd: scratch,
      });
      const summary = JSON.parse(result.stdout);
      const userData = summary.userData ?? {};
      nights.push({ night, changed, seconds: result.seconds, userData });
      log(
        `night ${String(night)}: ${changed === undefined ? 'first copy' : `${String(changed.rows)} rows of ${changed.table} changed`}, ${userData.outcome}, ${mb(userData.newBytes ?? 0)} new, ${String(userData.reused ?? 0)} table(s) linked, ${result.seconds.toFixed(1)} s`,
      );
    }

    const hostDir = join(userDataDir, HOST);
    const copies = (await readdir(hostDir)).filter((name) => /^\d{4}-/.test(name)).sort();
    const manifests = [];
    for (const copy of copies)
      manifests.push(JSON.parse(await readFile(join(hostDir, copy, 'manifest.json'), 'utf8')));
    const firstFile = join(hostDir, copies[0], manifests[0].tables.events.file);
    const header = await ageHeaderBytes(firstFile);
    const onDisk = await uniqueBytes(hostDir);
    const du = Number(
      execFileSync('du', ['-s', '--block-size=1', hostDir], { encoding: 'utf8' }).split('\t')[0],
    );
    const duApparent = Number(
      execFileSync('du', ['-s', '-b', hostDir], { encoding: 'utf8' }).split('\t')[0],
    );
    const sum = (values) => values.reduce((total, value) => total + value, 0);
    const entries = (manifest) => Object.values(manifest.tables);
    const oldScheme = sum(
      manifests.map((m) => sum(entries(m).map((e) => ageSize(header, e.plaintextBytes)))),
    );
    const compressedOnly = sum(manifests.map((m) => sum(entries(m).map((e) => e.bytes))));
    // Ideal: the first copy, then per night the changed share of the changed table's file.
    let ideal = sum(entries(manifests[0]).map((e) => e.bytes));
    for (const [index, night] of nights.entries()) {
      if (night.changed === undefined) continue;
      const manifest = manifests[Math.min(index, manifests.length - 1)];
      const table = tables.find((t) => t.name === night.changed.table);
      ideal += (manifest.tables[table.name].bytes * night.changed.rows) / table.rows;
    }
    const plaintextPerCopy = sum(entries(manifests[0]).map((e) => e.plaintextBytes));
    const compressedPerCopy = sum(entries(manifests[0]).map((e) => e.bytes));

    // The latest events file reads back with the stock tools.
    const latest = JSON.parse(await readFile(join(hostDir, 'latest', 'manifest.json'), 'utf8'));
    const file = join(hostDir, 'latest', latest.tables.events.file);
    const back = Number(
      execFileSync('sh', ['-c', `age -d -i '${keyFile}' '${file}' | zstd -d -c | wc -c`], {
        encoding: 'utf8',
      }).trim(),
    );

    const report = {
      date: new Date().toISOString(),
      settings: { rows: ROWS, tables: tables.length, nights: NIGHTS, change: CHANGE },
      environment: { node: process.version, cpus: cpus().length, load: loadavg() },
      tables,
      copies: copies.length,
      plaintextPerCopy,
      compressedPerCopy,
      onDisk,
      du: { allocated: du, apparent: duApparent },
      oldScheme,
      compressedOnly,
      ideal: Math.round(ideal),
      snapshotSeconds: nights.map((n) => n.seconds),
      latestEventsReadBack: { bytes: back, manifest: latest.tables.events.plaintextBytes },
      nights,
    };
    const ok = back === latest.tables.events.plaintextBytes;
    process.stdout.write(
      [
        '',
        `user-data copies after ${String(NIGHTS)} nights (${String(copies.length)} copies; one copy: ${mb(plaintextPerCopy)} of SQL, ${mb(compressedPerCopy)} compressed):`,
        `  on disk now (files, hard links once): ${mb(onDisk)}  (du -sb, with directories: ${mb(duApparent)}; allocated blocks: ${mb(du)})`,
        `  old scheme (full uncompressed copy each night):            ${mb(oldScheme)}  (${(oldScheme / onDisk).toFixed(1)}x ours)`,
        `  compression alone (every copy full, compressed):           ${mb(compressedOnly)}  (${(compressedOnly / onDisk).toFixed(1)}x ours)`,
        `  restic/borg-style ideal (first copy + compressed changes): ${mb(ideal)}  (ours ${(onDisk / ideal).toFixed(1)}x that)`,
        `  snapshot time: median ${median(nights.map((n) => n.seconds)).toFixed(1)} s a night`,
        `${ok ? 'PASS' : 'FAIL'}  the latest events file reads back with age -d | zstd -d (${String(back)} B, manifest ${String(latest.tables.events.plaintextBytes)})`,
        '',
      ].join('\n'),
    );
    const resultsDir = join(ROOT, 'bench', 'results');
    await mkdir(resultsDir, { recursive: true });
    const out = join(
      resultsDir,
      `${new Date()
        .toISOString()
        .replaceAll(':', '-')
        .replace(/\.\d+Z$/, 'Z')}-userdata.json`,
    );
    await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(
      `results: ${out} (${((Date.now() - started) / 1000).toFixed(0)} s in all)\n`,
    );
    return ok ? 0 : 1;
  } finally {
    await dropDatabasesLike(`${DATABASE}%`).catch((error) =>
      log(`could not drop ${DATABASE}: ${error.message}`),
    );
    if (KEEP) log(`kept ${scratch}`);
    else await rm(scratch, { recursive: true, force: true });
  }
}
