/**
 * `schema_backup dump` and `load` from the command line: the named, timestamped file in
 * dump.dir, --keep, --dir, stdout, the stock client, and exit 1 with a clear error when a
 * dump is damaged.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ageKeygen } from '../helpers/age.js';
import { createTestDatabase, loadWithStockClient } from '../helpers/database.js';
import { INCOMPLETE_MARKER } from '../../src/restore/incomplete-marker.js';
import { databaseExists, MARKER_TABLE } from '../helpers/restore.js';
import { runBuiltCli, runCli } from '../helpers/run-cli.js';
import { createTempDir } from '../helpers/temp-dir.js';
import { databaseConfigLines } from '../helpers/config-lines.js';

async function setUp(extra = ''): Promise<{ config: string; dir: string; database: string }> {
  const database = await createTestDatabase('clidump');
  await database.exec('CREATE TABLE t (id INT PRIMARY KEY, v TEXT)');
  await database.exec("INSERT INTO t SELECT seq, CONCAT('v', seq) FROM seq_1_to_3000");
  await database.exec('CREATE VIEW w AS SELECT id FROM t WHERE id < 10');
  const dir = await createTempDir('clidump');
  const config = join(dir, 'etc', 'schema_backup.conf');
  await mkdir(join(dir, 'etc'));
  await writeFile(
    config,
    ['hostname: db1.example.org', ...databaseConfigLines(database.name), extra].join('\n'),
  );
  return { config, dir, database: database.name };
}

/** The built CLI as a child process, killed if it has not exited within `ms`. */
async function runBuiltCliWithin(
  argv: readonly string[],
  ms: number,
): Promise<{ code: number | null; stderr: string; seconds: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, ['dist/cli/main.js', ...argv], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr += text;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const code = await new Promise<number | null>((resolve) => {
    child.once('exit', (exitCode) => {
      resolve(exitCode);
    });
  });
  clearTimeout(timer);
  return { code, stderr, seconds: (Date.now() - started) / 1000 };
}

/** A database name for `load --into`, dropped when the test ends. */
async function target(): Promise<string> {
  const database = await createTestDatabase('clidst');
  await database.exec(`DROP DATABASE \`${database.name}\``);
  return database.name;
}

describe('dump and load commands', () => {
  it('a dump is journaled, seen by status, marked manual by --keep and kept by prune', async () => {
    const { config, dir } = await setUp();
    const first = await runCli(['--config', config, 'dump', '--no-encrypt', '--keep']);
    expect(first.code, first.stderr).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const second = await runCli(['--config', config, 'dump', '--no-encrypt']);
    expect(second.code, second.stderr).toBe(0);
    const middle = (await readdir(join(dir, 'dumps'))).sort().at(-1) ?? '';
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await runCli(['--config', config, 'dump', '--no-encrypt'])).code).toBe(0);
    const names = (await readdir(join(dir, 'dumps'))).sort();
    expect(names).toHaveLength(4);
    expect(names.filter((name) => name.endsWith('.keep'))).toHaveLength(1);
    const status = JSON.parse((await runCli(['--config', config, 'status', '--json'])).stdout) as {
      lastDump?: { name: string };
      commands?: Record<string, { lastRun?: { outcome: string } }>;
    };
    expect(status.lastDump?.name).toBe(names.filter((name) => !name.endsWith('.keep')).at(-1));
    // Retention 0/0/0: only the manual dump and the newest one stay; the middle one goes.
    await writeFile(
      config,
      `${await readFile(config, 'utf8')}\nretention: { daily: 0, weekly: 0, monthly: 0 }\n`,
    );
    const prune = await runCli(['--config', config, 'prune', '--json']);
    expect(prune.code, prune.stderr).toBe(0);
    expect((await readdir(join(dir, 'dumps'))).sort()).toEqual(
      names.filter((name) => name !== middle),
    );
  });

  it('leaves only a hidden temporary file when the process is killed mid-dump', async () => {
    const { config, dir } = await setUp();
    const source = await createTestDatabase('clikill');
    await source.exec('CREATE TABLE big (id INT PRIMARY KEY, b LONGBLOB)');
    await source.exec('INSERT INTO big SELECT seq, RANDOM_BYTES(1024) FROM seq_1_to_100000');
    const child = spawn(
      process.execPath,
      ['dist/cli/main.js', '--config', config, '--database', source.name, 'dump', '-q'],
      { stdio: 'ignore' },
    );
    const dumps = join(dir, 'dumps');
    const deadline = Date.now() + 30_000;
    // Kill it once its temporary file has data in it.
    for (;;) {
      const names = await readdir(dumps).catch(() => [] as string[]);
      const temporary = names.find((name) => name.startsWith('.'));
      if (temporary !== undefined && (await stat(join(dumps, temporary))).size > 100_000) break;
      if (Date.now() > deadline) throw new Error('the dump never started writing');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const names = await readdir(dumps);
    expect(names.filter((name) => !name.startsWith('.'))).toEqual([]);
    expect(names.every((name) => /^\..*\.tmp-[0-9a-f]+$/.test(name))).toBe(true);
    // load refuses what is left: it is not a dump (no end marker, and hidden).
    const leftover = join(dumps, names[0] ?? '');
    const into = await target();
    const loaded = await runCli(['--config', config, 'load', leftover, '--into', into]);
    expect(loaded.code).toBe(1);
    expect(await databaseExists(into)).toBe(false);
  });

  it('dumps to dump.dir (default dumps/ beside the backup dir) with --keep, and loads it back', async () => {
    const { config, dir, database } = await setUp();
    const dumped = await runCli(['--config', config, 'dump', '--compress', 'zstd', '--keep']);
    expect(dumped.code).toBe(0);
    expect(dumped.stderr).toMatch(/dumped .*: 1 tables, 3000 rows/);
    const names = (await readdir(join(dir, 'dumps'))).sort();
    expect(names).toHaveLength(2);
    const file = names[0] ?? '';
    expect(file).toMatch(
      new RegExp(
        `^db1\\.example\\.org_${database}_\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\dZ\\.sql\\.zst$`,
      ),
    );
    expect(names[1]).toBe(`${file}.keep`);
    const into = await target();
    const loaded = await runCli([
      '--config',
      config,
      'load',
      join(dir, 'dumps', file),
      '--into',
      into,
    ]);
    expect(loaded.code).toBe(0);
    expect(loaded.stderr).toMatch(/loaded .* 3000 rows/);
  });

  it('load refuses a MERGE table unless --allow-external-access, and creates events disabled unless --keep-events-enabled', async () => {
    const { config, dir, database } = await setUp();
    const source = await createTestDatabase('clichk');
    await source.exec(`CREATE TABLE \`${database}\`.parts (id INT) ENGINE=MyISAM`);
    await source.exec(
      `CREATE TABLE \`${database}\`.merged (id INT) ENGINE=MRG_MyISAM UNION=(\`${database}\`.parts)`,
    );
    await source.exec(
      `CREATE EVENT \`${database}\`.ev ON SCHEDULE EVERY 1 DAY ENABLE DO DELETE FROM t`,
    );
    const dumped = await runCli(['--config', config, 'dump', '--no-encrypt', '--compress', 'none']);
    expect(dumped.code, dumped.stderr).toBe(0);
    const file = join(dir, 'dumps', (await readdir(join(dir, 'dumps')))[0] ?? '');
    const refusedInto = await target();
    const refused = await runCli(['--config', config, 'load', file, '--into', refusedInto]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/table `merged` has UNION .*reaches outside the database/);
    expect(refused.stderr).toMatch(/--allow-external-access/);
    expect(await databaseExists(refusedInto)).toBe(false);
    const status = async (into: string) =>
      source.query('SELECT STATUS FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?', [into]);
    const into = await target();
    const loaded = await runCli([
      '--config',
      config,
      'load',
      file,
      '--into',
      into,
      '--allow-external-access',
    ]);
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(loaded.stderr).toContain(
      `events created disabled (--keep-events-enabled keeps their status): ${into}.ev`,
    );
    expect(await status(into)).toEqual([{ STATUS: 'DISABLED' }]);
    const kept = await target();
    const keptRun = await runCli([
      '--config',
      config,
      'load',
      file,
      '--into',
      kept,
      '--allow-external-access',
      '--keep-events-enabled',
    ]);
    expect(keptRun.code, keptRun.stderr).toBe(0);
    expect(await status(kept)).toEqual([{ STATUS: 'ENABLED' }]);
  });

  it('load exits 1 on a dump holding a statement a dump does not write, which never runs', async () => {
    const { config, dir, database } = await setUp();
    const dumped = await runCli(['--config', config, 'dump', '--no-encrypt', '--compress', 'none']);
    expect(dumped.code, dumped.stderr).toBe(0);
    const file = join(dir, 'dumps', (await readdir(join(dir, 'dumps')))[0] ?? '');
    const text = await readFile(file, 'utf8');
    const at = text.indexOf('DROP VIEW');
    // The source database is another database than the target: the tamperer drops its table.
    await writeFile(
      file,
      `${text.slice(0, at)}DROP TABLE \`${database}\`.\`t\`;\n${text.slice(at)}`,
    );
    const into = await target();
    const loaded = await runCli(['--config', config, 'load', file, '--into', into]);
    expect(loaded.code).toBe(1);
    expect(loaded.stderr).toMatch(
      /refused to load .* at line \d+: .*not a statement a dump writes/,
    );
    expect(loaded.stderr).toMatch(/runs only the statements a dump writes/);
    expect(await databaseExists(into)).toBe(false);
    const source = await createTestDatabase('clichk');
    expect(await source.query(`SELECT COUNT(*) AS n FROM \`${database}\`.t`)).toEqual([
      { n: 3000 },
    ]);
  });

  it('writes the dump to stdout with -o -, loadable by the stock client', async () => {
    const { config, dir } = await setUp();
    const result = spawnSync(
      process.execPath,
      ['dist/cli/main.js', '--config', config, 'dump', '-o', '-', '--compress', 'none', '-q'],
      { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
    );
    expect(result.status).toBe(0);
    const file = join(dir, 'stdout.sql');
    await writeFile(file, result.stdout);
    expect(result.stdout.toString('utf8')).toMatch(/-- schema_backup dump complete \{"rows":3000/);
    const into = await createTestDatabase('clistock');
    await loadWithStockClient(into.name, file);
    expect(await into.query('SELECT COUNT(*) AS n FROM w')).toEqual([{ n: 9 }]);
  });

  // Issue 20 item 6: the refusal left the decrypting and decompressing pipeline open (the
  // zstd program blocked on a full pipe), so the process never exited.
  it('exits 2 at once when a large zstd+age dump meets a non-empty database', async () => {
    const keyDir = await createTempDir('clikey');
    const key = ageKeygen(keyDir);
    const { config, dir, database } = await setUp(
      `encryption:\n  recipients: [${key.recipient}]\n  identity_file: ${key.identityFile}`,
    );
    const source = await createTestDatabase('clibig');
    await source.exec('CREATE TABLE big (id INT PRIMARY KEY, b LONGBLOB)');
    await source.exec('INSERT INTO big SELECT seq, RANDOM_BYTES(1024) FROM seq_1_to_4000');
    const path = join(dir, 'big.sql.zst.age');
    const dumped = await runCli([
      '--config',
      config,
      '--database',
      source.name,
      'dump',
      '--compress',
      'zstd',
      '-q',
      '-o',
      path,
    ]);
    expect(dumped.code, dumped.stderr).toBe(0);
    expect((await stat(path)).size).toBeGreaterThan(4_000_000);
    const loaded = await runBuiltCliWithin(
      ['--config', config, 'load', path, '--into', database],
      40_000,
    );
    expect(loaded.stderr).toMatch(/error: the database .* is not empty/);
    expect(loaded.code).toBe(2);
    // It hung for good before the fix; a loaded machine may take seconds to start the CLI.
    expect(loaded.seconds).toBeLessThan(30);
  });

  // Issue 20 item 7: a load killed part way left a partial database that looked like a good one.
  it('a killed load leaves the incomplete marker; the next load refuses it unless --force', async () => {
    const { config, dir } = await setUp();
    const source = await createTestDatabase('clikload');
    await source.exec('CREATE TABLE big (id INT PRIMARY KEY, b LONGBLOB)');
    await source.exec('INSERT INTO big SELECT seq, RANDOM_BYTES(1024) FROM seq_1_to_50000');
    await source.exec('CREATE TABLE small (id INT PRIMARY KEY)');
    await source.exec('INSERT INTO small SELECT seq FROM seq_1_to_100');
    const path = join(dir, 'big.sql');
    const dumped = await runCli([
      '--config',
      config,
      '--database',
      source.name,
      'dump',
      '--no-encrypt',
      '--compress',
      'none',
      '-q',
      '-o',
      path,
    ]);
    expect(dumped.code, dumped.stderr).toBe(0);
    const into = await target();
    const child = spawn(
      process.execPath,
      ['dist/cli/main.js', '--config', config, 'load', path, '--into', into, '--threads', '1'],
      { stdio: 'ignore' },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const server = await createTestDatabase('clikwatch');
    const deadline = Date.now() + 30_000;
    // Kill it once rows are going into the big table.
    for (;;) {
      const rows = await server
        .query<{ n: number }>(`SELECT COUNT(*) AS n FROM \`${into}\`.big`)
        .catch(() => []);
      if ((rows[0]?.n ?? 0) > 0) break;
      if (child.exitCode !== null) throw new Error('the load ended before it could be killed');
      if (Date.now() > deadline) throw new Error('the load never started loading rows');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGKILL');
    await exited;
    const tables = async (): Promise<string[]> =>
      (
        await server.query<{ name: string }>(
          'SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1',
          [into],
        )
      ).map((row) => row.name);
    expect(await tables()).toContain(INCOMPLETE_MARKER);
    expect(INCOMPLETE_MARKER).toBe(MARKER_TABLE);

    const refused = await runCli(['--config', config, 'load', path, '--into', into]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      new RegExp(`error: the database ${into} holds a restore or load that did not finish`),
    );
    expect(refused.stderr).toMatch(/hint: Pass --force to load over it/);
    expect(await tables()).toContain(INCOMPLETE_MARKER);

    const forced = await runCli(['--config', config, 'load', path, '--into', into, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(await tables()).toEqual(['big', 'small']);
    const checksums = await source.checksums();
    const loaded = await server.query<{ Checksum: string | number | null }>(
      `CHECKSUM TABLE \`${into}\`.big, \`${into}\`.small EXTENDED`,
    );
    expect(loaded.map((row) => String(row.Checksum))).toEqual([
      checksums.get('big'),
      checksums.get('small'),
    ]);
  });

  it('encrypts by default when recipients are configured; load exits 1 on a truncated dump', async () => {
    const keyDir = await createTempDir('clikey');
    const key = ageKeygen(keyDir);
    const { config, dir } = await setUp(
      `encryption:\n  recipients: [${key.recipient}]\n  identity_file: ${key.identityFile}\ndump:\n  dir: out\n  compression: gzip\n  threads: 3`,
    );
    const dumped = runBuiltCli(['--config', config, 'dump', '--dir']);
    expect(dumped.code).toBe(0);
    const [name] = await readdir(join(dir, 'etc', 'out'));
    const path = join(dir, 'etc', 'out', name ?? '');
    const files = await readdir(path);
    expect(files).toContain('manifest.json');
    expect(
      files
        .filter((file) => file !== 'manifest.json')
        .every((file) => file.endsWith('.sql.gz.age')),
    ).toBe(true);
    const manifest = JSON.parse(await readFile(join(path, 'manifest.json'), 'utf8')) as {
      encrypted: boolean;
      rows: number;
    };
    expect(manifest).toMatchObject({ encrypted: true, rows: 3000 });

    const data = files.find((file) => /\.t\.00000\./.test(file)) ?? '';
    await truncate(join(path, data), (await stat(join(path, data))).size - 10);
    const into = await target();
    const loaded = runBuiltCli(['--config', config, 'load', path, '--into', into]);
    expect(loaded.code).toBe(1);
    expect(loaded.stderr).toMatch(/error: .*does not match the manifest.*corrupt or truncated/);
    expect(await databaseExists(into)).toBe(false);
  });
});
