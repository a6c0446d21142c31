/** `status`: freshness exit code, the last runs, copies and dumps, disk use. */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readStatus, type StatusResult } from '../../../src/ops/status.js';
import { ageKeygen } from '../../helpers/age.js';
import { createTestDatabase } from '../../helpers/database.js';
import { runCli } from '../../helpers/run-cli.js';
import { createTempDir } from '../../helpers/temp-dir.js';
import { databaseConfigLines } from '../../helpers/config-lines.js';

const HOST = 'status.example.org';

async function setUp(): Promise<{ dir: string; config: string; stateFile: string }> {
  const database = await createTestDatabase('status');
  await database.exec('CREATE TABLE settings (k VARCHAR(10) PRIMARY KEY, v TEXT)');
  await database.exec('CREATE TABLE users (id INT PRIMARY KEY, name TEXT)');
  await database.exec("INSERT INTO users VALUES (1, 'ada')");
  await database.exec('CREATE TABLE stray (id INT PRIMARY KEY)');
  const dir = await createTempDir('status');
  const key = ageKeygen(dir);
  const config = join(dir, 'schema_backup.conf');
  await writeFile(
    config,
    [
      'csv2_backup_dir: backups',
      'user_data_backup_dir: user_data',
      `hostname: ${HOST}`,
      ...databaseConfigLines(database.name),
      'git:',
      '  init: true',
      'encryption:',
      `  recipients: [${key.recipient}]`,
      'global: [settings]',
      'local: [users]',
    ].join('\n'),
  );
  return { dir, config, stateFile: join(dir, `backups/.schema_backup/${HOST}.state.json`) };
}

/** Moves every recorded time of the state file back by `seconds`. */
async function ageState(stateFile: string, seconds: number): Promise<void> {
  const text = await readFile(stateFile, 'utf8');
  const shifted = text.replace(/"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"/g, (_, iso: string) =>
    JSON.stringify(new Date(Date.parse(iso) - seconds * 1000).toISOString()),
  );
  await writeFile(stateFile, shifted);
}

describe('status', () => {
  it('exits 1 before any run, 0 after a snapshot, and 1 once the last success is too old', async () => {
    const { config, stateFile } = await setUp();
    const before = await runCli(['status', '--config', config]);
    expect(before.code).toBe(1);
    expect(before.stdout).toContain('NOT FRESH (max age 1d2h): no snapshot run recorded');

    const snapshot = await runCli(['--config', config]);
    expect(snapshot.code, snapshot.stderr).toBe(0);

    const fresh = await runCli(['status', '--config', config, '--json']);
    expect(fresh.code).toBe(0);
    const status = JSON.parse(fresh.stdout) as StatusResult;
    expect(status).toMatchObject({
      host: HOST,
      fresh: true,
      maxAgeSeconds: 93_600,
      problems: [],
      commands: {
        snapshot: {
          consecutiveFailures: 0,
          lastRun: { outcome: 'success', exitCode: 0 },
          lastSuccess: { summary: { tables: 3, userData: 'created' } },
        },
      },
      uncategorized: { tables: ['stray'] },
    });
    expect(status.lastCommit?.id).toMatch(/^[0-9a-f]{40}$/);
    expect(status.lastCommit?.subject).toContain(`snapshot ${HOST}`);
    expect(status.lastUserDataCopy?.name).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/);
    expect(status.disk.hostDir.bytes).toBeGreaterThan(0);
    expect(status.disk.userData?.bytes).toBeGreaterThan(0);
    // dump.dir defaults to dumps/ beside the backup directory; no dump was taken.
    expect(status.lastDump).toBeUndefined();
    expect(status.disk.dumps?.bytes ?? 0).toBe(0);

    const text = await runCli(['status', '--config', config]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('fresh: the last successful snapshot is younger than 1d2h');
    expect(text.stdout).toMatch(/last success: \d+s ago, at \S+, took \d+\.\ds\n/);
    expect(text.stdout).toContain('uncategorized tables: stray');

    // A failed run since: still fresh (the success is recent), one consecutive failure.
    expect((await runCli(['--config', config, '--database', 'sbtest_status_gone'])).code).toBe(1);
    const afterFailure = JSON.parse(
      (await runCli(['status', '--config', config, '--json'])).stdout,
    ) as StatusResult;
    expect(afterFailure.fresh).toBe(true);
    expect(afterFailure.commands.snapshot?.consecutiveFailures).toBe(1);
    expect(afterFailure.commands.snapshot?.lastRun.error?.type).toBe('EngineError');

    // Two days later, nothing has succeeded since.
    await ageState(stateFile, 2 * 86_400);
    const stale = await runCli(['status', '--config', config]);
    expect(stale.code).toBe(1);
    expect(stale.stdout).toMatch(
      /NOT FRESH \(max age 1d2h\): the last successful snapshot is \d+ s old/,
    );
    expect((await runCli(['status', '--config', config, '--max-age', '3d'])).code).toBe(0);
    expect((await runCli(['status', '--config', config, '--max-age', '47h'])).code).toBe(1);
    // A damaged state file: status says so (exit 1); the next run replaces it with a warning.
    await writeFile(stateFile, '{"format": 1, "comm');
    const damaged = await runCli(['status', '--config', config]);
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toContain(`error: ${stateFile} is not a schema_backup run state`);
    const rerun = await runCli(['--config', config]);
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).toContain('warning: replaced a damaged run state');
    expect((await runCli(['status', '--config', config])).code).toBe(0);

    const bad = await runCli(['status', '--config', config, '--max-age', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--max-age soon is not a duration');
  });

  it('snapshot --keep marks the new copy, or the latest one when data is unchanged, and prune keeps it', async () => {
    const { dir, config } = await setUp();
    const hostDir = join(dir, 'user_data', HOST);
    expect((await runCli(['--config', config, '--keep'])).code).toBe(0);
    const first = (await readdir(hostDir)).filter((name) => /^\d{4}-.*Z$/.test(name));
    expect(first).toHaveLength(1);
    expect(await readdir(hostDir)).toContain(`${first[0] ?? ''}.keep`);
    expect(await readFile(join(hostDir, `${first[0] ?? ''}.keep`), 'utf8')).toBe('');
    // Unchanged data: no new copy; --keep marks the one latest points at (already marked).
    const again = await runCli(['--config', config, '--keep', '--json']);
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as { userData: { outcome: string } }).userData.outcome).toBe(
      'unchanged',
    );
    await writeFile(
      config,
      `${await readFile(config, 'utf8')}\nretention: { daily: 0, weekly: 0, monthly: 0 }\n`,
    );
    const pruned = await runCli(['prune', '--config', config, '--json']);
    expect(JSON.parse(pruned.stdout)).toMatchObject({ deleted: 0 });
    expect(await readdir(hostDir)).toContain(first[0]);
  });

  it('reports the newest dump of this host and the disk its directory uses', async () => {
    const dir = await createTempDir('status-dumps');
    const dumpDir = join(dir, 'dumps');
    await mkdir(dumpDir);
    await writeFile(join(dumpDir, `${HOST}_csv2_2026-11-20T02-30-00Z.sql.gz`), 'x'.repeat(10));
    await writeFile(join(dumpDir, `${HOST}_csv2_2026-11-23T02-30-00Z.sql.gz`), 'x'.repeat(20));
    await writeFile(join(dumpDir, `other.example.org_csv2_2026-11-24T02-30-00Z.sql`), 'x');
    await writeFile(join(dumpDir, `.${HOST}_csv2_2026-11-24T02-30-00Z.sql.gz`), 'partial');
    const status = await readStatus({
      host: HOST,
      backupDir: join(dir, 'backups'),
      stateFile: join(dir, 'state.json'),
      dumpDir,
      maxAgeSeconds: 3600,
      now: new Date('2026-11-24T02:30:00Z'),
    });
    expect(status.lastDump).toEqual({
      name: `${HOST}_csv2_2026-11-23T02-30-00Z.sql.gz`,
      path: join(dumpDir, `${HOST}_csv2_2026-11-23T02-30-00Z.sql.gz`),
      time: '2026-11-23T02:30:00.000Z',
      ageSeconds: 86_400,
    });
    expect(status.disk.dumps).toEqual({ path: dumpDir, bytes: 38 });
    expect(status.fresh).toBe(false);
    expect(status.lastCommit).toBeUndefined();
  });
});
