/**
 * Issue 17: after `kill -9` of a running snapshot, the next run was refused for a while
 * ("another run holds the lock"). The lock of a run that no longer runs on this machine is
 * taken over at once, with a log line; a live owner still blocks. The CLI runs as a child
 * process, and is killed for real.
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { describe, expect, it, onTestFinished } from 'vitest';
import { bundleModule } from '../helpers/bundle-module.js';
import { writeTestConfig } from '../helpers/config-lines.js';
import { createTestDatabase, testServer } from '../helpers/database.js';
import { git } from '../helpers/git-repo.js';
import { createTestServices, type TestServices } from '../helpers/services.js';
import { createTempDir } from '../helpers/temp-dir.js';

const HOST = 'lock17.example.org';
const BUILT_CLI = join(import.meta.dirname, '../../dist/cli/main.js');
/** Rows of the big table: enough that its read is still going when the run is killed. */
const ROWS = 300_000;
const TOOK_OVER = /took over the lock \S+ of run (\d+), which no longer runs/;

interface Setup {
  readonly database: string;
  readonly services: TestServices;
  readonly config: string;
  readonly backups: string;
  readonly lockPath: string;
}

async function setUp(): Promise<Setup> {
  const database = await createTestDatabase('lock17');
  await database.exec('CREATE TABLE big_global (id INT PRIMARY KEY, pad VARCHAR(100))');
  await database.exec(
    `INSERT INTO big_global SELECT seq, REPEAT('x', 100) FROM seq_1_to_${String(ROWS)}`,
  );
  const services = await createTestServices(['web']);
  const dir = await createTempDir('lock17');
  const config = await writeTestConfig(dir, HOST, database.name, [
    'global: [big_global]',
    'consumers: [web]',
    services.configBlock,
  ]);
  const backups = join(dir, 'backups');
  return {
    database: database.name,
    services,
    config,
    backups,
    lockPath: join(backups, '.schema_backup', `${HOST}.lock`),
  };
}

/** A child process; `exited` also gives what it printed. Killed if still running at the end. */
function spawnChild(args: readonly string[]) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, stdout, stderr })),
  );
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

/** Waits until the run is reading the rows of `table` (its SELECT has run for a moment). */
async function waitForRowRead(database: string, table: string): Promise<void> {
  const server = testServer();
  const admin = await mysql.createConnection({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
  });
  try {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const [rows] = await admin.query<mysql.RowDataPacket[]>(
        'SELECT TIME_MS FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE ? AND ID <> CONNECTION_ID()',
        [database, `SELECT %\`${table}\`%`],
      );
      if (rows[0] !== undefined && Number(rows[0].TIME_MS) >= 100) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`timed out waiting for the rows of ${table} to be read`);
  } finally {
    await admin.end();
  }
}

describe('issue 17: the lock of a killed run', () => {
  it.each([
    ['snapshot', ['snapshot']],
    ['snapshot -m', ['snapshot', '-m']],
  ] as const)(
    'kill -9 of `%s` while it reads rows: a run started at once takes the lock over and succeeds',
    async (_label, command) => {
      const setup = await setUp();
      const killed = spawnChild([BUILT_CLI, '--config', setup.config, ...command]);
      await waitForRowRead(setup.database, 'big_global');
      killed.child.kill('SIGKILL');
      expect((await killed.exited).code).toBeNull();
      // Left behind, as by the reporter's kill -9.
      expect(await readdir(join(setup.backups, '.schema_backup'))).toContain(`${HOST}.lock`);

      const retry = spawnChild([BUILT_CLI, '--config', setup.config, ...command]);
      const { code, stderr } = await retry.exited;
      expect(code, stderr).toBe(0);
      expect(stderr).toMatch(TOOK_OVER);
      expect(TOOK_OVER.exec(stderr)?.[1]).toBe(String(killed.child.pid));
      expect(git(setup.backups, 'log', '--format=%s')).toMatch(/^snapshot lock17\.example\.org/);
      expect(setup.services.isRunning('web')).toBe(true);
      expect(
        (await readdir(join(setup.backups, '.schema_backup'))).filter(
          (name) => name.includes('.lock') || name.startsWith('staging-'),
        ),
      ).toEqual([]);
    },
    // 300,000 rows read three times by the built CLI: minutes on a loaded machine.
    180_000,
  );

  it('a live owner still blocks; once it is killed, a waiting run takes over at once', async () => {
    const setup = await setUp();
    // A live process of this machine holding the host's lock, as a run would.
    const lockModule = await bundleModule('src/support/lock.ts');
    const holder = spawnChild([
      '--input-type=module',
      '-e',
      `const { acquireLock } = await import(${JSON.stringify(lockModule)});
       await acquireLock(${JSON.stringify(setup.lockPath)});
       process.stdout.write('held\\n');
       setInterval(() => undefined, 1000);`,
    ]);
    const deadline = Date.now() + 20_000;
    while (!holder.stdout().includes('held')) {
      if (Date.now() > deadline) throw new Error('the holder did not take the lock');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    const refused = await spawnChild([BUILT_CLI, '--config', setup.config, 'snapshot']).exited;
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('another schema_backup run holds the lock');
    expect(refused.stderr).not.toMatch(TOOK_OVER);

    const waiting = spawnChild([
      BUILT_CLI,
      '--config',
      setup.config,
      'snapshot',
      '--wait-lock',
      '45',
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(waiting.child.exitCode).toBeNull();
    holder.child.kill('SIGKILL');
    await holder.exited;
    const killedAt = Date.now();
    // Well before the 30 s a lock takes to go stale: timed to the takeover's log line, not
    // to the end of the snapshot that follows it (which a loaded machine may make slow).
    let tookOverAfter: number | undefined;
    while (tookOverAfter === undefined && waiting.child.exitCode === null) {
      if (TOOK_OVER.test(waiting.stderr())) tookOverAfter = Date.now() - killedAt;
      else await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const { code, stderr } = await waiting.exited;
    expect(code, stderr).toBe(0);
    expect(TOOK_OVER.exec(stderr)?.[1]).toBe(String(holder.child.pid));
    expect(tookOverAfter ?? Date.now() - killedAt).toBeLessThan(15_000);
  });
});
