/**
 * Issue 20, item 5: SIGTERM or SIGINT during the row reads of `snapshot -m` (a global table's
 * rows for git, a local table's rows through age), or the server killing the connection
 * there, must still start the consumers, remove the run's lock and staging files, and exit
 * 143/130 (1 for the kill) with the error, never the "this is a bug" of a run whose promise
 * never settled. The CLI runs as a child process: only the real binary shows how it exits.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ageKeygen } from '../helpers/age.js';
import { writeTestConfig } from '../helpers/config-lines.js';
import { createTestDatabase, testServer, type TestDatabase } from '../helpers/database.js';
import { git } from '../helpers/git-repo.js';
import { createTestServices, type TestServices } from '../helpers/services.js';
import { createTempDir } from '../helpers/temp-dir.js';

const HOST = 'sig.example.org';
const BUILT_CLI = join(import.meta.dirname, '../../dist/cli/main.js');
/** Rows per big table: enough that a read lasts long enough to be caught. */
const ROWS = 200_000;

interface Setup {
  readonly database: TestDatabase;
  readonly services: TestServices;
  readonly config: string;
  readonly backups: string;
  readonly userData: string;
  /** `git log` of the backup repository after the first snapshot. */
  readonly history: string;
  /** The user-data copy `latest` pointed at after the first snapshot. */
  readonly latest: string;
}

/**
 * A first snapshot (with the big tables still empty), then 200,000 rows in a global and in a
 * local table, so that the next snapshot spends its time reading them.
 */
async function setUp(): Promise<Setup> {
  const database = await createTestDatabase('sig');
  await database.exec('CREATE TABLE settings (k VARCHAR(10) PRIMARY KEY, v TEXT)');
  await database.exec("INSERT INTO settings VALUES ('a', 'one')");
  await database.exec('CREATE TABLE big_global (id INT PRIMARY KEY, pad VARCHAR(100))');
  await database.exec('CREATE TABLE big_local (id INT PRIMARY KEY, pad VARCHAR(100))');
  const services = await createTestServices(['web', 'worker']);
  const dir = await createTempDir('sig');
  const key = ageKeygen(dir);
  const config = await writeTestConfig(dir, HOST, database.name, [
    'user_data_backup_dir: userdata',
    'encryption:',
    `  recipients: [${key.recipient}]`,
    'global: [settings, big_global]',
    'local: [big_local]',
    'consumers: [web, worker]',
    services.configBlock,
  ]);
  const first = await runCli(['--config', config, 'snapshot']).exited;
  expect(first.code, first.stderr).toBe(0);
  for (const table of ['big_global', 'big_local'])
    await database.exec(
      `INSERT INTO ${table} SELECT seq, REPEAT('x', 100) FROM seq_1_to_${String(ROWS)}`,
    );
  const backups = join(dir, 'backups');
  const userData = join(dir, 'userdata', HOST);
  return {
    database,
    services,
    config,
    backups,
    userData,
    history: git(backups, 'log', '--format=%H %s'),
    latest: await readlink(join(userData, 'latest')),
  };
}

/** The built CLI as a child process; `exited` also gives what it printed. */
function runCli(args: readonly string[]) {
  const child = spawn(process.execPath, [BUILT_CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, exited };
}

/** An admin connection to the test server, closed when the test finishes. */
async function adminConnection(): Promise<mysql.Connection> {
  const server = testServer();
  const admin = await mysql.createConnection({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
  });
  onTestFinished(() => admin.end());
  return admin;
}

/**
 * Waits until the server is sending the rows of `table` to the run (its SELECT is in the
 * process list, and has been for a moment), and returns that connection's id.
 */
async function waitForRowRead(
  admin: mysql.Connection,
  database: string,
  table: string,
): Promise<number> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const [rows] = await admin.query<mysql.RowDataPacket[]>(
      'SELECT ID, TIME_MS FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE ? AND ID <> CONNECTION_ID()',
      [database, `SELECT %\`${table}\`%`],
    );
    const row = rows[0];
    if (row !== undefined && Number(row.TIME_MS) >= 100) return Number(row.ID);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for the rows of ${table} to be read`);
}

/** Everything a stopped run must put back or leave as it was. */
async function expectPutBack(setup: Setup): Promise<void> {
  expect(setup.services.isRunning('web')).toBe(true);
  expect(setup.services.isRunning('worker')).toBe(true);
  expect(await setup.services.actions()).toEqual([
    'stop web',
    'stop worker',
    'start worker',
    'start web',
  ]);
  const workDir = join(setup.backups, '.schema_backup');
  const left = (await readdir(workDir)).filter(
    (name) => name.startsWith('staging-') || name.endsWith('.lock') || name.endsWith('.owner'),
  );
  expect(left).toEqual([]);
  expect(existsSync(join(workDir, `${HOST}.stopped-services.json`))).toBe(false);
  expect(git(setup.backups, 'log', '--format=%H %s')).toBe(setup.history);
  expect(git(setup.backups, 'status', '--porcelain')).toBe('');
  expect(await readlink(join(setup.userData, 'latest'))).toBe(setup.latest);
  expect((await readdir(setup.userData)).filter((name) => name.startsWith('.'))).toEqual([]);
}

describe('issue 20: snapshot -m stopped during its row reads', () => {
  it.each([
    ['SIGTERM', 143, 'big_global'],
    ['SIGTERM', 143, 'big_local'],
    ['SIGINT', 130, 'big_local'],
  ] as const)(
    '%s (exit %i) while the rows of %s are read: consumers started, nothing left',
    async (signal, exitCode, table) => {
      const setup = await setUp();
      const admin = await adminConnection();
      const run = runCli(['--config', setup.config, 'snapshot', '-m']);
      await waitForRowRead(admin, setup.database.name, table);
      run.child.kill(signal);
      const { code, stderr } = await run.exited;
      expect(stderr).not.toContain('bug');
      expect(stderr).toContain(`interrupted by ${signal}`);
      expect(code, stderr).toBe(exitCode);
      await expectPutBack(setup);
    },
  );

  it.each(['big_global', 'big_local'])(
    'the connection killed while the rows of %s are read: an error, consumers started, exit 1',
    async (table) => {
      const setup = await setUp();
      const admin = await adminConnection();
      const run = runCli(['--config', setup.config, 'snapshot', '-m']);
      const id = await waitForRowRead(admin, setup.database.name, table);
      await admin.query(`KILL ${String(id)}`);
      const { code, stderr } = await run.exited;
      expect(stderr).not.toContain('bug');
      // The engine's error, not one of encryption wrapped around it.
      expect(stderr).toContain(`while reading rows of \`${table}\``);
      expect(stderr).not.toContain('encrypting');
      expect(code, stderr).toBe(1);
      await expectPutBack(setup);
    },
  );
});
