/**
 * Services around snapshots and upgrades (`snapshot -m/-t/-e`, pause hooks, `services`,
 * `upgrade`): order of stops and starts, and that every failure, signal and crash still
 * brings the consumers back. Services are real processes run by a test service manager.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { createTestDatabase, testServer, type TestDatabase } from '../helpers/database.js';
import { acquireHostLock } from '../../src/snapshot/work-dir.js';
import { git } from '../helpers/git-repo.js';
import { runCli } from '../helpers/run-cli.js';
import { createTestServices, type TestServices } from '../helpers/services.js';
import { createTempDir } from '../helpers/temp-dir.js';
import { databaseConfigLines } from '../helpers/config-lines.js';

const HOST = 'svc.example.org';
const BUILT_CLI = join(import.meta.dirname, '../../dist/cli/main.js');

interface Setup {
  readonly database: TestDatabase;
  readonly services: TestServices;
  readonly dir: string;
  readonly config: string;
  readonly hostDir: string;
  readonly stateFile: string;
}

async function setUp(extra: string[] = []): Promise<Setup> {
  const database = await createTestDatabase('svc');
  await database.exec('CREATE TABLE settings (k VARCHAR(10) PRIMARY KEY, v TEXT)');
  await database.exec("INSERT INTO settings VALUES ('a', 'one'), ('b', 'two')");
  await database.exec('CREATE TABLE flags (name VARCHAR(20) PRIMARY KEY, pause TINYINT)');
  await database.exec("INSERT INTO flags VALUES ('ProcessMonitor', 0)");
  await database.exec('CREATE TABLE jobs (id INT PRIMARY KEY, state VARCHAR(10))');
  await database.exec("INSERT INTO jobs VALUES (1, 'running'), (2, 'queued')");
  const services = await createTestServices(['web', 'worker']);
  const dir = await createTempDir('svc');
  const config = join(dir, 'schema_backup.conf');
  await writeFile(
    config,
    [
      'csv2_backup_dir: backups',
      `hostname: ${HOST}`,
      ...databaseConfigLines(database.name),
      'git:',
      '  init: true',
      'global: [settings, flags]',
      'ephemeral: [jobs]',
      'consumers: [web, worker]',
      'providers: [dbsvc]',
      services.configBlock,
      ...extra,
    ].join('\n'),
  );
  const backups = join(dir, 'backups');
  return {
    database,
    services,
    dir,
    config,
    hostDir: join(backups, HOST),
    stateFile: join(backups, '.schema_backup', `${HOST}.stopped-services.json`),
  };
}

function commitSubjects(setup: Setup): string[] {
  return git(join(setup.dir, 'backups'), 'log', '--format=%s').trim().split('\n');
}

function expectAllRunning(setup: Setup): void {
  expect(setup.services.isRunning('web')).toBe(true);
  expect(setup.services.isRunning('worker')).toBe(true);
}

/** The built CLI as a child process, for signals and kill -9. */
function spawnCli(args: readonly string[]) {
  const child = spawn(process.execPath, [BUILT_CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output: () => ({ stdout, stderr }) };
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs `snapshot -m` as a child process and sends it `signal` once the journal shows `action`. */
async function signalDuring(setup: Setup, action: string, signal: NodeJS.Signals) {
  const run = spawnCli(['--config', setup.config, 'snapshot', '-m']);
  await waitFor(async () => (await setup.services.actions()).includes(action), action);
  run.child.kill(signal);
  const { code } = await run.exited;
  return { code, ...run.output() };
}

describe('snapshot --model / --target', () => {
  it('--model stops consumers in order, restarts providers, snapshots, starts them in reverse', async () => {
    const setup = await setUp();
    const result = await runCli(['--config', setup.config, 'snapshot', '-m']);
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    expect(await setup.services.actions()).toEqual([
      'stop web',
      'stop worker',
      'restart dbsvc',
      'stop dbsvc',
      'start dbsvc',
      'start worker',
      'start web',
    ]);
    expectAllRunning(setup);
    expect(result.stdout).toContain('consumers stopped and started again: web, worker');
    expect(existsSync(join(setup.hostDir, 'settings.sql'))).toBe(true);
    expect(existsSync(setup.stateFile)).toBe(false);
  });

  it('--target leaves the consumers stopped, says so, and services start brings them back', async () => {
    const setup = await setUp();
    const result = await runCli(['--config', setup.config, 'snapshot', '--target']);
    expect(result.code).toBe(0);
    expect(setup.services.isRunning('web')).toBe(false);
    expect(setup.services.isRunning('worker')).toBe(false);
    expect(result.stdout).toContain('consumers left STOPPED: web, worker');
    expect(result.stdout).toContain('schema_backup services start');
    const record = JSON.parse(await readFile(setup.stateFile, 'utf8')) as { keptStopped: string[] };
    expect(record.keptStopped).toEqual(['web', 'worker']);

    const status = await runCli(['--config', setup.config, 'services', 'status']);
    expect(status.stdout).toContain('web: stopped (stopped by schema_backup)');
    const start = await runCli(['--config', setup.config, 'services', 'start']);
    expect(start.code).toBe(0);
    expectAllRunning(setup);
    expect((await setup.services.actions()).slice(-2)).toEqual(['start worker', 'start web']);
    expect(existsSync(setup.stateFile)).toBe(false);
  });

  it('a consumer that fails to stop aborts before the snapshot and restarts the ones stopped', async () => {
    const setup = await setUp();
    await setup.services.fail('worker', 'stop');
    const result = await runCli(['--config', setup.config, 'snapshot', '-m']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('worker failed to stop');
    // A failed stop may leave a service half down: it is started too.
    expect(await setup.services.actions()).toEqual([
      'stop web',
      'stop worker',
      'start worker',
      'start web',
    ]);
    expectAllRunning(setup);
    expect(existsSync(setup.hostDir)).toBe(false);
    expect(existsSync(setup.stateFile)).toBe(false);
  });

  it('a provider that fails to restart stops the run and the consumers start again', async () => {
    const setup = await setUp();
    await setup.services.fail('dbsvc', 'restart');
    const result = await runCli(['--config', setup.config, 'snapshot', '-m']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('could not restart dbsvc');
    expectAllRunning(setup);
    expect(existsSync(setup.hostDir)).toBe(false);
  });

  it('the database becoming unreachable mid-snapshot still restarts the consumers', async () => {
    const setup = await setUp();
    // A table large enough that its read can be caught and killed.
    await setup.database.exec('CREATE TABLE big (id INT PRIMARY KEY, pad VARCHAR(200))');
    await setup.database.exec("INSERT INTO big SELECT seq, REPEAT('x', 200) FROM seq_1_to_300000");
    await writeFile(
      setup.config,
      (await readFile(setup.config, 'utf8')).replace(
        'global: [settings, flags]',
        'global: [settings, flags, big]',
      ),
    );
    const server = testServer();
    const admin = await mysql.createConnection({
      host: server.host,
      port: server.port,
      user: server.user,
      password: server.password,
    });
    let killed = false;
    const killer = (async () => {
      const deadline = Date.now() + 30_000;
      while (!killed && Date.now() < deadline) {
        const [rows] = await admin.query<mysql.RowDataPacket[]>(
          "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE '%`big`%' AND ID <> CONNECTION_ID()",
          [setup.database.name],
        );
        const id = rows[0]?.ID as number | undefined;
        if (id !== undefined) {
          await admin.query(`KILL ${String(id)}`);
          killed = true;
        } else await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const result = await runCli(['--config', setup.config, 'snapshot', '-m']);
    await killer;
    await admin.end();
    expect(killed).toBe(true);
    expect(result.code).toBe(1);
    expectAllRunning(setup);
    expect((await setup.services.actions()).slice(-2)).toEqual(['start worker', 'start web']);
    expect(existsSync(join(setup.hostDir, 'settings.sql'))).toBe(false);
  });

  it('SIGTERM during the run starts the stopped consumers again before exiting', async () => {
    const setup = await setUp();
    await setup.services.slow('dbsvc', 'restart', 30);
    const { code, stderr } = await signalDuring(setup, 'restart dbsvc', 'SIGTERM');
    expect(code).toBe(143);
    expect(stderr).toContain('interrupted by SIGTERM');
    expectAllRunning(setup);
    expect(existsSync(setup.stateFile)).toBe(false);
  });

  it('after kill -9, services start --resume (or the next run) brings the consumers back', async () => {
    const setup = await setUp();
    await setup.services.slow('dbsvc', 'restart', 30);
    await signalDuring(setup, 'restart dbsvc', 'SIGKILL');
    expect(setup.services.isRunning('web')).toBe(false);
    const record = JSON.parse(await readFile(setup.stateFile, 'utf8')) as {
      stoppedByRun: string[];
    };
    expect(record.stoppedByRun).toEqual(['web', 'worker']);

    const resumed = await runCli(['--config', setup.config, 'services', 'start', '--resume']);
    expect(resumed.code).toBe(0);
    expectAllRunning(setup);
    expect(existsSync(setup.stateFile)).toBe(false);

    // Again, and this time the next --model run finds the record and starts them first. The
    // killed run's lock is taken over at once: its owner is gone.
    await writeFile(join(setup.services.dir, 'dbsvc.slow-restart'), '30');
    const again = spawnCli(['--config', setup.config, 'snapshot', '-m']);
    await waitFor(() => existsSync(setup.stateFile), 'the record');
    await waitFor(
      async () => (await setup.services.actions()).at(-1) === 'restart dbsvc',
      'the second restart',
    );
    again.child.kill('SIGKILL');
    await again.exited;
    expect(setup.services.isRunning('worker')).toBe(false);
    await writeFile(join(setup.services.dir, 'dbsvc.slow-restart'), '0');
    const next = await runCli(['--config', setup.config, 'snapshot', '-m']);
    expect(next.code).toBe(0);
    expect(next.stderr).toContain('starting them now');
    expectAllRunning(setup);
  });

  it('a status query that times out while stopping still starts the ones already stopped', async () => {
    const setup = await setUp();
    await writeFile(
      setup.config,
      (await readFile(setup.config, 'utf8')).replace('  timeout: 20', '  timeout: 3'),
    );
    await setup.services.slow('worker', 'status', 8);
    const result = await runCli(['--config', setup.config, 'snapshot', '-m']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('could not query worker');
    expectAllRunning(setup);
    expect(existsSync(setup.stateFile)).toBe(false);
  });

  it('takes the host lock before stopping anything: a run holding it means no service is touched', async () => {
    const setup = await setUp();
    const lock = await acquireHostLock(join(setup.dir, 'backups'), HOST, { waitSeconds: 0 });
    try {
      const result = await runCli(['--config', setup.config, 'snapshot', '-m']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('lock');
    } finally {
      await lock.release();
    }
    expect(await setup.services.actions()).toEqual([]);
    expectAllRunning(setup);
  });

  it('SIGTERM while the consumers are being started: every one is still started, then exit 143', async () => {
    const setup = await setUp();
    await setup.services.slow('worker', 'start', 2);
    const { code } = await signalDuring(setup, 'start worker', 'SIGTERM');
    expectAllRunning(setup);
    expect(existsSync(setup.stateFile)).toBe(false);
    // The snapshot itself had finished: the signal came during the clean-up.
    expect([0, 143]).toContain(code);
  });

  it('a damaged record of stopped services is a clear error, not a bug report', async () => {
    const setup = await setUp();
    await mkdir(join(setup.dir, 'backups', '.schema_backup'), { recursive: true });
    await writeFile(setup.stateFile, '');
    const result = await runCli(['--config', setup.config, 'snapshot', '-m']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`the record of stopped services ${setup.stateFile} is damaged`);
    expect(result.stderr).not.toContain('bug');
    expect(await setup.services.actions()).toEqual([]);
  });

  it('a record whose pid now belongs to another process is taken for a dead run', async () => {
    const setup = await setUp();
    setup.services.start('web');
    await runCli(['--config', setup.config, 'services', 'stop']);
    expect(setup.services.isRunning('web')).toBe(false);
    // As if a run with this pid (alive: it is this test's process) but another start time
    // had stopped them and died: pid reuse, as pid 1 in a container.
    const record = JSON.parse(await readFile(setup.stateFile, 'utf8')) as Record<string, unknown>;
    await writeFile(
      setup.stateFile,
      JSON.stringify({
        ...record,
        owner: { pid: process.pid, startTicks: '1' },
        stoppedByRun: record.keptStopped,
        keptStopped: [],
      }),
    );
    const result = await runCli(['--config', setup.config, 'snapshot', '-m']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('starting them now');
    expectAllRunning(setup);
  });

  it('-e writes the rows of ephemeral tables into the directory, and only there', async () => {
    const setup = await setUp();
    const ephemeral = join(setup.dir, 'ephemeral');
    const result = await runCli(['--config', setup.config, 'snapshot', '-e', ephemeral]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('ephemeral rows: 1 table(s)');
    const jobs = await readFile(join(ephemeral, 'jobs.sql'), 'utf8');
    expect(jobs).toContain('CREATE TABLE `jobs`');
    expect(jobs).toContain("INSERT INTO `jobs` (`id`,`state`) VALUES (1,'running');");
    expect(jobs).toContain('-- rows: below');
    expect(await readFile(join(setup.hostDir, 'jobs.sql'), 'utf8')).not.toContain('INSERT');
  });
});

describe('pause hooks', () => {
  const hooks = [
    'pause_interval: 1',
    'pause_hooks:',
    '  before: "UPDATE flags SET pause = 1 WHERE name = \'ProcessMonitor\'"',
    '  after: "UPDATE flags SET pause = 0 WHERE name = \'ProcessMonitor\'"',
  ];

  it('run around the snapshot, and the pause does not show up in it', async () => {
    const setup = await setUp(hooks);
    const started = Date.now();
    const result = await runCli(['--config', setup.config, 'snapshot']);
    expect(result.code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(result.stderr).toContain('pause hook (before)');
    expect(result.stderr).toContain('pause hook (after)');
    expect(await setup.database.query('SELECT pause FROM flags')).toEqual([{ pause: 0 }]);
    const flags = await readFile(join(setup.hostDir, 'flags.sql'), 'utf8');
    expect(flags).toContain("VALUES ('ProcessMonitor',0);");
  });

  it('are undone when the snapshot fails after the pause', async () => {
    const setup = await setUp([
      'pause_hooks:',
      '  before:',
      '    - "UPDATE flags SET pause = 1 WHERE name = \'ProcessMonitor\'"',
      '    - "SELECT * FROM no_such_table"',
      '  after: "UPDATE flags SET pause = 0 WHERE name = \'ProcessMonitor\'"',
    ]);
    const result = await runCli(['--config', setup.config, 'snapshot']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('pause hook (after)');
    expect(await setup.database.query('SELECT pause FROM flags')).toEqual([{ pause: 0 }]);
    expect(existsSync(join(setup.hostDir, 'flags.sql'))).toBe(false);
  });

  it('are undone on SIGINT during the pause', async () => {
    const setup = await setUp([
      'pause_interval: 60',
      'pause_hooks:',
      '  before: "UPDATE flags SET pause = 1 WHERE name = \'ProcessMonitor\'"',
      '  after: "UPDATE flags SET pause = 0 WHERE name = \'ProcessMonitor\'"',
    ]);
    const run = spawnCli(['--config', setup.config, 'snapshot']);
    await waitFor(() => run.output().stderr.includes('waiting 60 s'), 'the pause');
    expect(await setup.database.query('SELECT pause FROM flags')).toEqual([{ pause: 1 }]);
    run.child.kill('SIGINT');
    const { code } = await run.exited;
    expect(code).toBe(130);
    expect(await setup.database.query('SELECT pause FROM flags')).toEqual([{ pause: 0 }]);
    expect(existsSync(join(setup.hostDir, 'flags.sql'))).toBe(false);
    // The interrupted run left no lock behind: the next one runs.
    await writeFile(
      setup.config,
      (await readFile(setup.config, 'utf8')).replace('pause_interval: 60', 'pause_interval: 0'),
    );
    expect((await runCli(['--config', setup.config, 'snapshot'])).code).toBe(0);
  });

  it('a before hook without an after hook is a config error', async () => {
    const setup = await setUp(['pause_hooks:', '  before: "UPDATE flags SET pause = 1"']);
    const result = await runCli(['--config', setup.config, 'snapshot']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/schema_backup\.conf:\d+: pause_hooks\.after: is needed/);
  });
});

describe('upgrade', () => {
  function alterCommand(setup: Setup, sql: string): string[] {
    const server = testServer();
    return [
      'mariadb',
      `--host=${server.host}`,
      `--port=${String(server.port)}`,
      `--user=${server.user}`,
      setup.database.name,
      '-e',
      sql,
    ];
  }

  it('commits before and after, prints the schema diff naming the column, restarts consumers', async () => {
    const setup = await setUp();
    const result = await runCli([
      '--config',
      setup.config,
      'upgrade',
      '--',
      ...alterCommand(setup, 'ALTER TABLE settings ADD COLUMN note VARCHAR(40) NULL'),
    ]);
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    const subjects = commitSubjects(setup);
    expect(subjects).toHaveLength(2);
    expect(subjects[1]).toMatch(/^before upgrade: snapshot svc\.example\.org: 3 tables added/);
    expect(subjects[0]).toMatch(/^after upgrade: snapshot svc\.example\.org: 1 structure changed/);
    expect(result.stdout).toContain('schema diff:');
    expect(result.stdout).toMatch(/settings.*note/);
    expect(result.stdout).toContain('consumers started again: worker, web');
    expectAllRunning(setup);
    expect(await setup.services.actions()).toEqual([
      'stop web',
      'stop worker',
      'start worker',
      'start web',
    ]);
  });

  it('a failing command makes no "after" commit, says how to restore, restarts consumers, exits 1', async () => {
    const setup = await setUp();
    const result = await runCli(['--config', setup.config, 'upgrade', '--', 'false']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('UPGRADE FAILED: false exited with status 1');
    expect(result.stdout).toMatch(/schema_backup restore --rev [0-9a-f]{12} --target /);
    expect(commitSubjects(setup)).toHaveLength(1);
    expect(commitSubjects(setup)[0]).toMatch(/^before upgrade: /);
    expectAllRunning(setup);
  });

  it('--keep-stopped leaves the consumers stopped; --dry-run touches nothing', async () => {
    const setup = await setUp();
    const dry = await runCli(['--config', setup.config, 'upgrade', '--dry-run', '--', 'true']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('1. stop web, worker (in this order)');
    expect(dry.stdout).toContain('5. start worker, web');
    expect(await setup.services.actions()).toEqual([]);
    expect(existsSync(setup.hostDir)).toBe(false);

    const kept = await runCli([
      '--config',
      setup.config,
      'upgrade',
      '--keep-stopped',
      '--',
      'true',
    ]);
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain('consumers left STOPPED (--keep-stopped): web, worker');
    expect(setup.services.isRunning('web')).toBe(false);
    expect(commitSubjects(setup)).toHaveLength(1);
  });

  it('a command that cannot start is reported and the consumers come back', async () => {
    const setup = await setUp();
    const result = await runCli(['--config', setup.config, 'upgrade', '--', '/no/such/program']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot run /no/such/program');
    expectAllRunning(setup);
  });

  it('SIGTERM during the command is passed on to it, and the consumers start again', async () => {
    const setup = await setUp();
    const marker = join(setup.dir, 'command-ran');
    const run = spawnCli([
      '--config',
      setup.config,
      'upgrade',
      '--shell',
      '--',
      `touch '${marker}'; exec sleep 60`,
    ]);
    await waitFor(() => existsSync(marker), 'the upgrade command');
    run.child.kill('SIGTERM');
    const { code } = await run.exited;
    expect(code).toBe(143);
    expect(run.output().stderr).toContain('interrupted by SIGTERM');
    expect(run.output().stdout).toContain('UPGRADE FAILED: interrupted by SIGTERM');
    expectAllRunning(setup);
    expect(commitSubjects(setup)).toHaveLength(1);
    expect(existsSync(setup.stateFile)).toBe(false);
  });

  it('SIGTERM reaches every process of a --shell command', async () => {
    const setup = await setUp();
    const started = join(setup.dir, 'started');
    const late = join(setup.dir, 'late');
    const run = spawnCli([
      '--config',
      setup.config,
      'upgrade',
      '--shell',
      '--',
      `touch '${started}'; bash -c 'sleep 3; touch "${late}"'; true`,
    ]);
    await waitFor(() => existsSync(started), 'the upgrade command');
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(143);
    expectAllRunning(setup);
    await new Promise((resolve) => setTimeout(resolve, 4000));
    expect(existsSync(late)).toBe(false);
  });

  it('a failed upgrade whose consumer does not start again reports both', async () => {
    const setup = await setUp();
    await setup.services.fail('web', 'start');
    const result = await runCli(['--config', setup.config, 'upgrade', '--', 'false']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('UPGRADE FAILED: false exited with status 1');
    expect(result.stdout).toMatch(/schema_backup restore --rev [0-9a-f]{12}/);
    expect(result.stderr).toContain('web did not start again');
    expect(setup.services.isRunning('worker')).toBe(true);
  });

  it('the words after -- are passed as they are (10.10 stays 10.10)', async () => {
    const setup = await setUp();
    const result = await runCli([
      '--config',
      setup.config,
      'upgrade',
      '--dry-run',
      '--',
      './upgrade-to',
      '10.10',
      '0x1F',
      '--config',
      'x',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('run ./upgrade-to 10.10 0x1F --config x (no shell)');
    const other = await runCli(['--config', setup.config, 'check', '--', 'x']);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('only upgrade takes a command after --');
  });

  it('without a command after -- is a usage error', async () => {
    const setup = await setUp();
    const result = await runCli(['--config', setup.config, 'upgrade']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('upgrade needs the command to run after --');
  });
});
