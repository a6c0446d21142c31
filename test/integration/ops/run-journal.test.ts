/**
 * The nightly run, end to end in-process against the real server and git: the JSON-lines log,
 * the run state, the metrics file and the notifiers, after a success and after failures.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createTestDatabase } from '../../helpers/database.js';
import { runCli } from '../../helpers/run-cli.js';
import { createTempDir } from '../../helpers/temp-dir.js';
import { databaseConfigLines } from '../../helpers/config-lines.js';

const HOST = 'journal.example.org';

interface Setup {
  readonly dir: string;
  readonly config: string;
  readonly database: string;
  readonly received: string;
}

async function setUp(notify: string[], extra: string[] = []): Promise<Setup> {
  const database = await createTestDatabase('ops');
  await database.exec('CREATE TABLE settings (k VARCHAR(10) PRIMARY KEY, v TEXT)');
  await database.exec("INSERT INTO settings VALUES ('a', 'one')");
  await database.exec('CREATE TABLE stray (id INT PRIMARY KEY)');
  const dir = await createTempDir('journal');
  const received = join(dir, 'received.jsonl');
  const recorder = join(dir, 'record.mjs');
  await writeFile(
    recorder,
    [
      "import { appendFileSync } from 'node:fs';",
      'let input = "";',
      'process.stdin.on("data", (chunk) => (input += chunk));',
      'process.stdin.on("end", () => appendFileSync(process.argv[2], JSON.stringify(JSON.parse(input)) + "\\n"));',
    ].join('\n'),
  );
  const config = join(dir, 'schema_backup.conf');
  await writeFile(
    config,
    [
      'csv2_backup_dir: backups',
      `hostname: ${HOST}`,
      ...databaseConfigLines(database.name),
      'git:',
      '  init: true',
      'global: [settings]',
      'logging:',
      '  file: log/schema_backup.jsonl',
      'metrics:',
      '  textfile: schema_backup.prom',
      'notify:',
      `  command: ${JSON.stringify(notify.map((arg) => arg.replace('RECORDER', recorder).replace('RECEIVED', received)))}`,
      ...extra,
    ].join('\n'),
  );
  return { dir, config, database: database.name, received };
}

const recorderCommand = () => [process.execPath, 'RECORDER', 'RECEIVED'];

async function readJsonLines(file: string): Promise<Record<string, unknown>[]> {
  return (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('a journaled snapshot run', () => {
  it('logs JSON lines, records state, writes metrics and notifies on success when asked', async () => {
    const setup = await setUp(recorderCommand(), ['  on_success: true']);
    const result = await runCli(['--config', setup.config]);
    expect(result.code, result.stderr).toBe(0);

    const lines = await readJsonLines(join(setup.dir, 'log/schema_backup.jsonl'));
    const events = lines.map((line) => line.event);
    expect(events[0]).toBe('start');
    expect(events.at(-1)).toBe('end');
    expect(lines.filter((line) => line.event === 'phase').map((line) => line.phase)).toEqual([
      'connect',
      'snapshot',
    ]);
    expect(lines.filter((line) => line.event === 'table').map((line) => line.table)).toEqual([
      'settings',
      'stray',
    ]);
    expect(lines.find((line) => line.event === 'message' && line.level === 'warn')).toMatchObject({
      message: expect.stringContaining('stray') as unknown,
    });
    expect(lines.every((line) => line.host === HOST && typeof line.time === 'string')).toBe(true);
    const summary = lines.findLast((line) => line.event === 'summary')?.summary as Record<
      string,
      unknown
    >;
    expect(summary).toMatchObject({ tables: 2, git: 'committed', uncategorized: ['stray'] });
    expect(summary.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(lines.at(-1)).toMatchObject({ outcome: 'success', exitCode: 0 });

    const state = JSON.parse(
      await readFile(join(setup.dir, `backups/.schema_backup/${HOST}.state.json`), 'utf8'),
    ) as { commands: { snapshot: { consecutiveFailures: number; lastSuccess: unknown } } };
    expect(state.commands.snapshot.consecutiveFailures).toBe(0);
    expect(state.commands.snapshot.lastSuccess).toBeDefined();

    const metrics = await readFile(join(setup.dir, 'schema_backup.prom'), 'utf8');
    const labels = `{host="${HOST}",command="snapshot"}`;
    expect(metrics).toContain(
      '# HELP schema_backup_last_success_timestamp_seconds When the last successful run ended (Unix time); 0 if none ever succeeded.\n# TYPE schema_backup_last_success_timestamp_seconds gauge\n',
    );
    expect(metrics).toContain(`schema_backup_last_exit_code${labels} 0\n`);
    expect(metrics).toContain(`schema_backup_consecutive_failures${labels} 0\n`);
    expect(metrics).toContain(`schema_backup_tables${labels} 2\n`);
    expect(metrics).toMatch(/schema_backup_bytes\{[^}]+\} [1-9]\d*\n/);
    expect(metrics).toContain(`schema_backup_uncategorized_tables{host="${HOST}"} 1\n`);
    const success = Number(
      /schema_backup_last_success_timestamp_seconds\{[^}]+\} (\S+)/.exec(metrics)?.[1],
    );
    expect(Math.abs(success - Date.now() / 1000)).toBeLessThan(60);

    const [notification] = await readJsonLines(setup.received);
    expect(notification).toMatchObject({
      command: 'snapshot',
      host: HOST,
      outcome: 'success',
      exitCode: 0,
      consecutiveFailures: 0,
      summary: { tables: 2 },
    });
  });

  it('counts consecutive failures, notifies each with the JSON, and resets on success', async () => {
    const setup = await setUp(recorderCommand());
    expect((await runCli(['--config', setup.config])).code).toBe(0);
    expect(existsSync(setup.received)).toBe(false); // on_success is off

    const missing = `${setup.database}_missing`;
    for (let run = 1; run <= 2; run += 1) {
      const failed = await runCli(['--config', setup.config, '--database', missing]);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/^error: /m);
    }
    const notifications = await readJsonLines(setup.received);
    expect(notifications.map((n) => [n.outcome, n.exitCode, n.consecutiveFailures])).toEqual([
      ['failure', 1, 1],
      ['failure', 1, 2],
    ]);
    expect(notifications[1]?.error).toMatchObject({ type: 'EngineError' });
    expect(notifications[1]?.lastSuccessAt).toEqual(expect.any(String));

    const metrics = await readFile(join(setup.dir, 'schema_backup.prom'), 'utf8');
    const labels = `{host="${HOST}",command="snapshot"}`;
    expect(metrics).toContain(`schema_backup_last_exit_code${labels} 1\n`);
    expect(metrics).toContain(`schema_backup_consecutive_failures${labels} 2\n`);
    expect(metrics).toMatch(/schema_backup_last_success_timestamp_seconds\{[^}]+\} [1-9]/);
    expect(metrics).toContain(`schema_backup_tables${labels} 2\n`);

    const log = await readJsonLines(join(setup.dir, 'log/schema_backup.jsonl'));
    expect(log.filter((line) => line.event === 'end').map((line) => line.outcome)).toEqual([
      'success',
      'failure',
      'failure',
    ]);
    expect(log.find((line) => line.event === 'error')).toMatchObject({
      error: { type: 'EngineError' },
    });

    expect((await runCli(['--config', setup.config])).code).toBe(0);
    const after = await readFile(join(setup.dir, 'schema_backup.prom'), 'utf8');
    expect(after).toContain(`schema_backup_consecutive_failures${labels} 0\n`);
  });

  it('a failing or missing notifier changes no exit code and hides no error', async () => {
    const failing = await setUp([
      process.execPath,
      '-e',
      'process.stderr.write("boom"); process.exit(3)',
    ]);
    const ok = await runCli(['--config', failing.config]);
    expect(ok.code).toBe(0); // on_success is off: the notifier is not run
    const failed = await runCli(['--config', failing.config, '--database', 'sbtest_no_such_db_x']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/error: notification by command failed: .*exit 3: boom/);
    expect(failed.stderr).toMatch(/^error: .*sbtest_no_such_db_x/m);

    const missing = await setUp(['/nonexistent/notifier'], ['  on_success: true']);
    const result = await runCli(['--config', missing.config]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('notification by command failed: /nonexistent/notifier');

    const slow = await setUp(
      [process.execPath, '-e', 'setTimeout(() => {}, 60000)'],
      ['  on_success: true', '  timeout: 1'],
    );
    const started = Date.now();
    const timedOut = await runCli(['--config', slow.config]);
    expect(timedOut.code).toBe(0);
    expect(timedOut.stderr).toContain('killed after 1 s');
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('POSTs the summary to notify.url; an unreachable or failing URL changes no exit code', async () => {
    const bodies: { type: string | undefined; body: Record<string, unknown> }[] = [];
    let status = 204;
    const server = createServer((request: IncomingMessage, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        bodies.push({
          type: request.headers['content-type'],
          body: JSON.parse(body) as Record<string, unknown>,
        });
        response.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;
    const setup = await setUp(
      [],
      [`  url: http://127.0.0.1:${String(port)}/hook?token=abc`, '  on_success: true'],
    );
    const result = await runCli(['--config', setup.config]);
    expect(result.code, result.stderr).toBe(0);
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toMatchObject({
      type: 'application/json',
      body: { outcome: 'success', host: HOST, consecutiveFailures: 0 },
    });

    status = 500;
    const refused = await runCli(['--config', setup.config, '--database', 'sbtest_no_such_db_y']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `notification by url failed: http://127.0.0.1:${String(port)}: HTTP 500`,
    );
    expect(refused.stderr).not.toContain('token=abc');
    expect(bodies[1]?.body).toMatchObject({ outcome: 'failure', consecutiveFailures: 1 });

    const closed = await setUp(
      [],
      ['  url: http://127.0.0.1:9/nothing-listens', '  on_success: true'],
    );
    const unreachable = await runCli(['--config', closed.config]);
    expect(unreachable.code).toBe(0);
    expect(unreachable.stderr).toContain('notification by url failed: http://127.0.0.1:9');
  });

  it('never writes the password to the log, the state or a notification', async () => {
    const setup = await setUp(recorderCommand());
    const secret = 'pw-Zq8-never-logged';
    const result = await runCli(['--config', setup.config], { SCHEMA_BACKUP_DB_PASSWORD: secret });
    expect(result.code).toBe(1);
    const texts = [
      result.stderr,
      await readFile(join(setup.dir, 'log/schema_backup.jsonl'), 'utf8'),
      await readFile(join(setup.dir, `backups/.schema_backup/${HOST}.state.json`), 'utf8'),
      await readFile(setup.received, 'utf8'),
    ];
    for (const text of texts) expect(text).not.toContain(secret);
    expect(texts[3]).toContain('"outcome":"failure"');
  });

  it('prunes after a successful run with retention.after_run, and records it in the summary', async () => {
    const setup = await setUp(
      [],
      [
        'user_data_backup_dir: user_data',
        'retention: { daily: 2, weekly: 0, monthly: 0, after_run: true }',
      ],
    );
    const hostDir = join(setup.dir, 'user_data', HOST);
    for (const day of ['2026-11-20', '2026-11-21', '2026-11-22', '2026-11-23']) {
      const copy = join(hostDir, `${day}T02-30-00Z`);
      await mkdir(copy, { recursive: true });
      await writeFile(join(copy, 'manifest.json'), '{}');
    }
    await symlink('2026-11-20T02-30-00Z', join(hostDir, 'latest'));
    const result = await runCli(['--config', setup.config]);
    expect(result.code, result.stderr).toBe(0);
    expect((await readdir(hostDir)).sort()).toEqual([
      '2026-11-20T02-30-00Z',
      '2026-11-22T02-30-00Z',
      '2026-11-23T02-30-00Z',
      'latest',
    ]);
    const log = await readJsonLines(join(setup.dir, 'log/schema_backup.jsonl'));
    expect(log.filter((line) => line.event === 'phase').map((line) => line.phase)).toEqual([
      'connect',
      'snapshot',
      'prune',
    ]);
    expect(log.findLast((line) => line.event === 'summary')?.summary).toMatchObject({ pruned: 1 });
  });

  it('a log file that cannot be written is reported once and the run goes on', async () => {
    const setup = await setUp([]);
    await writeFile(join(setup.dir, 'log'), 'a file where the log directory should be');
    const result = await runCli(['--config', setup.config]);
    expect(result.code).toBe(0);
    expect(result.stderr.match(/error: cannot write the log file/g)).toHaveLength(1);
    expect(await readFile(join(setup.dir, 'schema_backup.prom'), 'utf8')).toContain(
      'schema_backup_last_exit_code',
    );
  });

  it('a dry run is not recorded as a run', async () => {
    const setup = await setUp(recorderCommand());
    expect((await runCli(['--config', setup.config, '--dry-run'])).code).toBe(0);
    expect(existsSync(join(setup.dir, 'schema_backup.prom'))).toBe(false);
    expect(existsSync(join(setup.dir, 'log/schema_backup.jsonl'))).toBe(false);
  });
});
