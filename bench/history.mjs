#!/usr/bin/env node
/**
 * Benchmark: `schema_backup log` and `schema_backup diff` over a long history. Builds a git
 * repository with one host directory of BENCH_HISTORY_TABLES table files (realistic snapshot
 * files: header, CREATE TABLE, a few INSERT lines; 1-3 KB each) and a manifest.json, then
 * BENCH_HISTORY_COMMITS - 1 more commits each changing 1-3 table files (a row changed, added
 * or deleted, a column or an index added) and the manifest, as snapshots do. The repository is
 * written by one `git fast-import` (seconds, no database involved), then the commands are
 * timed as processes: wall seconds and peak RSS (`/usr/bin/time -f %M`), BENCH_RUNS times each
 * (median), and their output checked against what the generator changed.
 *
 * Run: `npm run build && node bench/history.mjs` (see bench/README.md). Needs git; no
 * database. Knobs: BENCH_HISTORY_TABLES (1000), BENCH_HISTORY_COMMITS (1000), BENCH_RUNS (3),
 * BENCH_HISTORY_TARGET (seconds a command may take, 5), BENCH_TIMEOUT (180), BENCH_KEEP=1.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from './lib/prng.mjs';
import { GIT_ENV as BENCH_GIT_ENV, intEnv } from './lib/env.mjs';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const TIME = '/usr/bin/time';
const HOST = 'bench.example.org';

const TABLES = intEnv('BENCH_HISTORY_TABLES', 1000);
const COMMITS = intEnv('BENCH_HISTORY_COMMITS', 1000);
const RUNS = intEnv('BENCH_RUNS', 3);
const TARGET_S = intEnv('BENCH_HISTORY_TARGET', 5);
const TIMEOUT_S = intEnv('BENCH_TIMEOUT', 180);
const KEEP = process.env.BENCH_KEEP === '1';
/** `diff HEAD~BACK HEAD`: half the history, at most 500 commits. */
const BACK = Math.min(500, COMMITS - 1);

const GIT_ENV = { ...BENCH_GIT_ENV, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };

const log = (line) => process.stderr.write(`[bench:history] ${line}\n`);

function git(cwd, args, options = {}) {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, ...GIT_ENV },
    ...options,
  }).trim();
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** A small deterministic PRNG (mulberry32), so every run builds the same history. */

// ---------------------------------------------------------------------------------------------
// The snapshot files, as schema_backup writes them (see src/snapshot/render-files.ts).

const PREAMBLE = [
  'SET NAMES utf8mb4;',
  "SET time_zone = '+00:00';",
  "SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO';",
  'SET foreign_key_checks = 0;',
  'SET unique_checks = 0;',
];

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india'];

function newTable(index, random) {
  const name = `t${String(index).padStart(4, '0')}`;
  const rows = new Map();
  const count = 3 + Math.floor(random() * 5);
  for (let id = 1; id <= count; id += 1) rows.set(id, rowValues(id, random));
  return {
    name,
    columns: [
      ['id', 'int(11) NOT NULL'],
      ['name', "varchar(64) NOT NULL DEFAULT ''"],
      ['value', 'text DEFAULT NULL'],
      ['created', 'datetime NOT NULL DEFAULT current_timestamp()'],
      ['amount', 'decimal(12,2) DEFAULT NULL'],
      ['flags', 'int(10) unsigned NOT NULL DEFAULT 0'],
    ],
    extra: [],
    indexes: [['idx_name', '(`name`)']],
    rows,
    nextId: count + 1,
  };
}

function rowValues(id, random) {
  const word = WORDS[Math.floor(random() * WORDS.length)];
  return [
    String(id),
    `'${word}_${String(id)}'`,
    `'${word} ${'x'.repeat(Math.floor(random() * 60))}, it''s \\'quoted\\''`,
    `'2026-01-${String(1 + Math.floor(random() * 28)).padStart(2, '0')} 12:00:00'`,
    (random() * 10000).toFixed(2),
    String(Math.floor(random() * 16)),
  ];
}

function renderTable(table) {
  const columns = [...table.columns, ...table.extra];
  const lines = [
    `-- schema_backup: table \`${table.name}\`, category global`,
    '-- rows: below, one per line, in key order',
    ...PREAMBLE,
    '',
    `CREATE TABLE \`${table.name}\` (`,
    ...columns.map(([column, definition]) => `  \`${column}\` ${definition},`),
    `  PRIMARY KEY (\`id\`),`,
    ...table.indexes.map(([index, parts]) => `  KEY \`${index}\` ${parts},`),
  ];
  lines[lines.length - 1] = lines[lines.length - 1].replace(/,$/, '');
  lines.push(') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;');
  const columnList = columns.map(([column]) => `\`${column}\``).join(',');
  const insert = `INSERT INTO \`${table.name}\` (${columnList}) VALUES `;
  const ids = [...table.rows.keys()].sort((a, b) => a - b);
  if (ids.length > 0) lines.push('');
  for (const id of ids) {
    const values = [...table.rows.get(id), ...table.extra.map(() => 'NULL')];
    lines.push(`${insert}(${values.join(',')});`);
  }
  return `${lines.join('\n')}\n`;
}

function renderManifest(tables, texts) {
  const entries = {};
  for (const table of tables) {
    const text = texts.get(table.name);
    const split = text.indexOf('\nINSERT INTO ');
    entries[table.name] = {
      category: 'global',
      structure: createHash('sha256')
        .update(split === -1 ? text : text.slice(0, split))
        .digest('hex'),
      rows: table.rows.size,
      sha256: createHash('sha256')
        .update(split === -1 ? '' : text.slice(split))
        .digest('hex'),
    };
  }
  return `${JSON.stringify({ format: 1, tables: entries, objects: {} }, null, 2)}\n`;
}

/** One change to `table`: what the diff summary will count. Returns its kind. */
function changeTable(table, random) {
  const roll = random();
  const ids = [...table.rows.keys()];
  if (roll < 0.4 && ids.length > 0) {
    const id = ids[Math.floor(random() * ids.length)];
    table.rows.set(id, rowValues(id, random));
    return 'row changed';
  }
  if (roll < 0.65) {
    table.rows.set(table.nextId, rowValues(table.nextId, random));
    table.nextId += 1;
    return 'row added';
  }
  if (roll < 0.8 && ids.length > 1) {
    table.rows.delete(ids[Math.floor(random() * ids.length)]);
    return 'row deleted';
  }
  if (roll < 0.92 && table.extra.length < 6) {
    table.extra.push([`extra_${String(table.extra.length + 1)}`, 'varchar(32) DEFAULT NULL']);
    return 'column added';
  }
  table.indexes.push([`idx_${String(table.indexes.length + 1)}`, '(`flags`,`created`)']);
  return 'index added';
}

// ---------------------------------------------------------------------------------------------
// The repository, by one `git fast-import`.

/** Builds the history in `repo`; returns what the checks need. */
async function buildRepository(repo, keepTextsAfter) {
  git(repo, ['init', '--quiet', '--initial-branch=main']);
  git(repo, ['config', 'gc.auto', '0']);
  const random = seededRandom(20260101);
  const tables = Array.from({ length: TABLES }, (_, index) => newTable(index, random));
  const texts = new Map(tables.map((table) => [table.name, renderTable(table)]));

  const child = spawn('git', ['fast-import', '--quiet', '--done'], {
    cwd: repo,
    env: { ...process.env, ...GIT_ENV },
    stdio: ['pipe', 'inherit', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += String(chunk)));
  const exited = new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`git fast-import exited ${String(code)}: ${stderr}`)),
    );
  });
  const write = async (text) => {
    if (!child.stdin.write(text))
      await new Promise((resolve) => child.stdin.once('drain', resolve));
  };
  const data = (text) => `data ${String(Buffer.byteLength(text))}\n${text}\n`;

  /** Per commit (oldest first): the tables it changed. */
  const touched = [];
  /** The table files as they were after commit n (only for the commits the checks compare with). */
  const textsAfter = new Map();
  const start = Date.UTC(2024, 0, 1) / 1000;
  let bytes = 0;
  for (let commit = 0; commit < COMMITS; commit += 1) {
    const changed = new Map();
    if (commit === 0) {
      for (const table of tables) changed.set(table.name, 'added');
    } else {
      const count = 1 + Math.floor(random() * 3);
      while (changed.size < count) {
        const table = tables[Math.floor(random() * tables.length)];
        if (changed.has(table.name)) continue;
        changed.set(table.name, changeTable(table, random));
        texts.set(table.name, renderTable(table));
      }
    }
    touched.push(changed);
    if (keepTextsAfter.includes(commit)) textsAfter.set(commit, new Map(texts));
    const time = start + commit * 3600;
    const subject =
      commit === 0
        ? `snapshot ${HOST}: ${String(TABLES)} tables added`
        : `snapshot ${HOST}: ${[...changed].map(([name, what]) => `${name} ${what}`).join(', ')}`;
    let chunk = `commit refs/heads/main\nmark :${String(commit + 1)}\n`;
    chunk += `author schema_backup <schema_backup@${HOST}> ${String(time)} +0000\n`;
    chunk += `committer schema_backup <schema_backup@${HOST}> ${String(time)} +0000\n`;
    chunk += data(subject);
    if (commit > 0) chunk += `from :${String(commit)}\n`;
    for (const name of changed.keys()) {
      const text = texts.get(name);
      bytes += Buffer.byteLength(text);
      chunk += `M 100644 inline ${HOST}/${name}.sql\n${data(text)}`;
    }
    chunk += `M 100644 inline ${HOST}/manifest.json\n${data(renderManifest(tables, texts))}`;
    await write(chunk);
  }
  await write('done\n');
  child.stdin.end();
  await exited;
  // A work tree like a real backup directory's (log and diff of revisions do not need it).
  git(repo, ['reset', '--hard', '--quiet', 'main']);
  const sizes = [...texts.values()].map((text) => Buffer.byteLength(text));
  return { touched, texts, textsAfter, sizes, bytes };
}

// ---------------------------------------------------------------------------------------------
// Timing.

/** Runs a command under /usr/bin/time; wall seconds, peak RSS (KiB) and the stdout file. */
function measure(command, args, { cwd, stdoutFile }) {
  return new Promise((resolve, reject) => {
    const rssFile = `${stdoutFile}.time`;
    const useTime = existsSync(TIME);
    const [file, argv] = useTime
      ? [TIME, ['-f', '%M', '-o', rssFile, command, ...args]]
      : [command, args];
    const out = openSync(stdoutFile, 'w');
    const started = process.hrtime.bigint();
    const child = spawn(file, argv, {
      cwd,
      env: { ...process.env, ...GIT_ENV },
      stdio: ['ignore', out, 'pipe'],
    });
    closeSync(out);
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_S * 1000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      let rssKiB;
      if (useTime) {
        const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
        rssKiB = Number(lines[lines.length - 1]);
      }
      if (code !== 0) {
        reject(
          new Error(`${command} ${args.join(' ')} exited ${String(code)}: ${stderr.slice(-2000)}`),
        );
        return;
      }
      resolve({ seconds, rssKiB, stdout: readFileSync(stdoutFile, 'utf8'), stderr });
    });
  });
}

// ---------------------------------------------------------------------------------------------

async function main() {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const scratch = await mkdtemp(join(tmpdir(), 'sbbench-history-'));
  const cleanup = async () => {
    if (KEEP) log(`kept ${scratch}`);
    else await rm(scratch, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    const repo = join(scratch, 'backups');
    await mkdir(repo);
    const built = Date.now();
    const history = await buildRepository(repo, [0, COMMITS - 1 - BACK]);
    const buildSeconds = (Date.now() - built) / 1000;
    const packBytes =
      Number(
        git(repo, ['count-objects', '-v'])
          .split('\n')
          .find((line) => line.startsWith('size-pack:'))
          ?.split(' ')[1] ?? 0,
      ) * 1024;
    const sorted = [...history.sizes].sort((a, b) => a - b);
    log(
      `built ${String(COMMITS)} commits of ${String(TABLES)} tables in ${buildSeconds.toFixed(1)} s: ` +
        `table files ${String(sorted[0])}-${String(sorted[sorted.length - 1])} bytes (median ${String(median(sorted))}), ` +
        `pack ${(packBytes / 1e6).toFixed(1)} MB`,
    );
    const config = join(scratch, 'schema_backup.conf');
    await writeFile(config, `csv2_backup_dir: ${repo}\nhostname: ${HOST}\n`);

    // What the generator did, for the checks.
    const commitsOf = (name) => history.touched.filter((changed) => changed.has(name)).length;
    const middle = `t${String(Math.floor(TABLES / 2)).padStart(4, '0')}`;
    // Tables whose file differs between then and HEAD (a row added and deleted again is no change).
    const differing = (commit) => {
      const then = history.textsAfter.get(commit);
      return new Set(
        [...history.texts].filter(([name, text]) => then.get(name) !== text).map(([name]) => name),
      );
    };
    const changedSince = differing(COMMITS - 1 - BACK);
    const changedSinceRoot = differing(0);
    const lastChanged = [...history.touched[COMMITS - 1].keys()].sort();

    const scenarios = [
      {
        name: 'log (full history)',
        args: ['log', '--config', config],
        check: (out) => {
          const commits = out.split('\n').filter((line) => /^[0-9a-f]{12} /.test(line)).length;
          return commits === COMMITS
            ? undefined
            : `${String(commits)} commits listed, not ${String(COMMITS)}`;
        },
      },
      {
        name: `log --table ${middle}`,
        args: ['log', '--table', middle, '--config', config],
        check: (out) => {
          const commits = out.split('\n').filter((line) => /^[0-9a-f]{12} /.test(line)).length;
          const want = commitsOf(middle);
          return commits === want
            ? undefined
            : `${String(commits)} commits listed, not ${String(want)}`;
        },
      },
      {
        name: `diff HEAD~${String(BACK)} HEAD --stat`,
        args: ['diff', `HEAD~${String(BACK)}`, 'HEAD', '--stat', '--config', config],
        check: (out) => {
          const tables = out.split('\n').filter((line) => line.startsWith('  table ')).length;
          return tables === changedSince.size
            ? undefined
            : `${String(tables)} tables in the summary, not ${String(changedSince.size)}`;
        },
      },
      {
        name: `diff HEAD~${String(COMMITS - 1)} HEAD --stat (all history)`,
        args: ['diff', `HEAD~${String(COMMITS - 1)}`, 'HEAD', '--stat', '--config', config],
        check: (out) => {
          const tables = out.split('\n').filter((line) => line.startsWith('  table ')).length;
          return tables === changedSinceRoot.size
            ? undefined
            : `${String(tables)} tables in the summary, not ${String(changedSinceRoot.size)}`;
        },
      },
      {
        name: 'diff HEAD~1 HEAD',
        args: ['diff', 'HEAD~1', 'HEAD', '--config', config],
        check: (out) => {
          const tables = out
            .split('\n')
            .filter((line) => line.startsWith('  table '))
            .map((line) => line.slice('  table '.length).split(':')[0]);
          const patches = out.split('\n').filter((line) => line.startsWith('+++ ')).length;
          return JSON.stringify(tables) === JSON.stringify(lastChanged) &&
            patches === lastChanged.length
            ? undefined
            : `summary ${tables.join(',')}, ${String(patches)} patches; expected ${lastChanged.join(',')}`;
        },
      },
      // References: git itself doing the same reading.
      {
        name: 'ref: git log -p --unified=0 (host dir)',
        command: 'git',
        args: ['log', '-p', '--unified=0', '--format=%H %aI %an %s', '--', HOST],
        cwd: repo,
      },
      {
        name: 'ref: the same without manifest.json',
        command: 'git',
        args: [
          'log',
          '-p',
          '--unified=0',
          '--format=%H %aI %an %s',
          '--',
          HOST,
          `:(exclude)${HOST}/manifest.json`,
        ],
        cwd: repo,
      },
      {
        name: `ref: git diff --stat HEAD~${String(BACK)} HEAD`,
        command: 'git',
        args: ['diff', '--stat', `HEAD~${String(BACK)}`, 'HEAD', '--', HOST],
        cwd: repo,
      },
    ];

    const results = [];
    let failed = false;
    for (const scenario of scenarios) {
      const samples = [];
      let problem;
      for (let run = 0; run < RUNS; run += 1) {
        const result = await measure(
          scenario.command ?? process.execPath,
          scenario.command === undefined ? [CLI, ...scenario.args] : scenario.args,
          {
            cwd: scenario.cwd ?? scratch,
            stdoutFile: join(scratch, `out-${String(results.length)}-${String(run)}.txt`),
          },
        );
        samples.push(result);
        problem ??= scenario.check?.(result.stdout);
        if (result.stderr.trim() !== '')
          problem ??= `stderr: ${result.stderr.trim().slice(0, 300)}`;
      }
      const seconds = median(samples.map((sample) => sample.seconds));
      const rss = samples.map((sample) => sample.rssKiB).filter((value) => value !== undefined);
      const row = {
        name: scenario.name,
        command: `${scenario.command ?? 'node dist/cli/main.js'} ${scenario.args.join(' ').replace(config, 'X')}`,
        medianSeconds: seconds,
        samples: samples.map((sample) => sample.seconds),
        peakRssMiB: rss.length === 0 ? undefined : Math.max(...rss) / 1024,
        outputLines: samples[0].stdout.split('\n').length - 1,
        problem,
        pass:
          scenario.command !== undefined ? undefined : problem === undefined && seconds <= TARGET_S,
      };
      if (row.pass === false) failed = true;
      results.push(row);
      log(`${row.name}: ${seconds.toFixed(2)} s${problem === undefined ? '' : ` (${problem})`}`);
    }

    const width = Math.max(...results.map((row) => row.name.length));
    process.stdout.write(
      `\nhistory: ${String(COMMITS)} commits, ${String(TABLES)} tables, runs=${String(RUNS)}, cpus=${String(cpus().length)}, node ${process.version}, ${git(repo, ['--version'])}\n\n`,
    );
    process.stdout.write(
      `${'command'.padEnd(width)}  median s  min-max s    peak RSS MB  output lines\n`,
    );
    for (const row of results) {
      const range = `${Math.min(...row.samples).toFixed(2)}-${Math.max(...row.samples).toFixed(2)}`;
      process.stdout.write(
        `${row.name.padEnd(width)}  ${row.medianSeconds.toFixed(2).padStart(8)}  ${range.padStart(11)}  ${(row.peakRssMiB === undefined ? 'n/a' : row.peakRssMiB.toFixed(0)).padStart(11)}  ${String(row.outputLines).padStart(12)}\n`,
      );
    }
    process.stdout.write('\n');
    for (const row of results.filter((result) => result.pass !== undefined)) {
      process.stdout.write(
        `${row.pass ? 'PASS' : 'FAIL'}  ${row.name}: ${row.medianSeconds.toFixed(2)} s <= ${String(TARGET_S)} s and output as generated${row.problem === undefined ? '' : ` (${row.problem})`}\n`,
      );
    }

    const resultsDir = join(ROOT, 'bench', 'results');
    await mkdir(resultsDir, { recursive: true });
    const stamp = new Date()
      .toISOString()
      .replaceAll(':', '-')
      .replace(/\.\d+Z$/, 'Z');
    const file = join(resultsDir, `history-${stamp}.json`);
    await writeFile(
      file,
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          settings: { tables: TABLES, commits: COMMITS, runs: RUNS, targetSeconds: TARGET_S },
          repository: {
            buildSeconds,
            packBytes,
            tableFileBytes: {
              min: sorted[0],
              median: median(sorted),
              max: sorted[sorted.length - 1],
            },
            workTreeBytes:
              (await stat(join(repo, HOST, 'manifest.json'))).size +
              history.sizes.reduce((a, b) => a + b, 0),
          },
          environment: {
            node: process.version,
            git: git(repo, ['--version']),
            cpus: cpus().length,
            cpuModel: cpus()[0]?.model,
            memoryMB: Math.round(totalmem() / 2 ** 20),
          },
          results,
        },
        null,
        2,
      )}\n`,
    );
    process.stdout.write(`\nresults: ${file}\n`);
    return failed ? 1 : 0;
  } finally {
    await cleanup();
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  process.stderr.write(
    `[bench:history] error: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exitCode = 1;
}
