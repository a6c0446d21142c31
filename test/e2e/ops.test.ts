/** The nightly job as the timer runs it: the built binary, its exit codes, status as a monitor. */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { runBuiltCli } from '../helpers/run-cli.js';
import { createTempDir } from '../helpers/temp-dir.js';
import { databaseConfigLines } from '../helpers/config-lines.js';

describe('nightly operation (real process)', () => {
  it('a failed run exits 1 despite a failing notifier; status exits 0 when fresh and 1 when stale', async () => {
    const database = await createTestDatabase('ops_e2e');
    await database.exec('CREATE TABLE settings (k INT PRIMARY KEY)');
    const dir = await createTempDir('ops-e2e');
    const config = join(dir, 'schema_backup.conf');
    await writeFile(
      config,
      [
        'csv2_backup_dir: backups',
        'hostname: e2e.example.org',
        ...databaseConfigLines(database.name),
        'git: { init: true }',
        'global: [settings]',
        'logging: { file: runs.jsonl }',
        'metrics: { textfile: node.prom }',
        `notify: { command: [${JSON.stringify(process.execPath)}, -e, "process.exit(7)"] }`,
      ].join('\n'),
    );
    const never = runBuiltCli(['status', '--config', config]);
    expect(never.code).toBe(1);

    const ok = runBuiltCli(['--config', config, '--quiet']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toBe('');
    expect(runBuiltCli(['status', '--config', config]).code).toBe(0);

    const failed = runBuiltCli(['--config', config, '--database', `${database.name}_gone`]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^error: notification by command failed: .*exit 7$/m);
    expect(failed.stderr).toMatch(/^error: .*_gone/m);
    expect(await readFile(join(dir, 'node.prom'), 'utf8')).toContain(
      'schema_backup_consecutive_failures{host="e2e.example.org",command="snapshot"} 1',
    );
    // Fresh for 26h by default; with a max age of one second, stale a moment later.
    expect(runBuiltCli(['status', '--config', config]).code).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const stale = runBuiltCli(['status', '--config', config, '--max-age', '1s', '--json']);
    expect(stale.code).toBe(1);
    expect(JSON.parse(stale.stdout)).toMatchObject({ fresh: false, maxAgeSeconds: 1 });
    const log = (await readFile(join(dir, 'runs.jsonl'), 'utf8')).trim().split('\n');
    expect(log.filter((line) => line.includes('"event":"end"'))).toHaveLength(2);
  });

  it('a run stopped by SIGTERM (a timer timeout) is recorded and notified, and exits 143', async () => {
    const database = await createTestDatabase('ops_e2e');
    await database.exec('CREATE TABLE settings (k INT PRIMARY KEY)');
    const dir = await createTempDir('ops-e2e');
    const received = join(dir, 'received.json');
    const runLog = join(dir, 'run.log');
    const config = join(dir, 'schema_backup.conf');
    await writeFile(
      config,
      [
        'csv2_backup_dir: backups',
        'hostname: sigterm.example.org',
        ...databaseConfigLines(database.name),
        'global: [settings]',
        `logging: { file: ${JSON.stringify(runLog)} }`,
        `notify: { command: [${JSON.stringify(process.execPath)}, -e, ${JSON.stringify(`require("fs").writeFileSync(${JSON.stringify(received)}, require("fs").readFileSync(0))`)}] }`,
      ].join('\n'),
    );
    // Another run holds the lock, so this one waits until it is stopped.
    await mkdir(join(dir, 'backups/.schema_backup/sigterm.example.org.lock'), { recursive: true });
    const cli = join(import.meta.dirname, '../../dist/cli/main.js');
    const child = spawn(process.execPath, [cli, '--config', config, '--wait-lock', '25'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Once the run has started (it handles signals from then on, and waits for the lock), not
    // after a fixed delay that a loaded machine may not give it time to start in.
    await expect
      .poll(() => readFile(runLog, 'utf8').catch(() => ''), { timeout: 30_000, interval: 50 })
      .toContain('"event":"start"');
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(143);
    expect(stderr).toContain('error: interrupted by SIGTERM');
    expect(JSON.parse(await readFile(received, 'utf8'))).toMatchObject({
      outcome: 'failure',
      exitCode: 143,
      error: { message: 'interrupted by SIGTERM' },
      consecutiveFailures: 1,
    });
    const state = JSON.parse(
      await readFile(join(dir, 'backups/.schema_backup/sigterm.example.org.state.json'), 'utf8'),
    ) as { commands: { snapshot: { consecutiveFailures: number } } };
    expect(state.commands.snapshot.consecutiveFailures).toBe(1);
  });
});
