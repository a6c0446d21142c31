/**
 * Issue 21 item 3: snapshot, restore and verify show their progress as dump does. Off a
 * terminal, a log line on stderr every interval (forced to 0 s here) naming the table in
 * hand, the rows and the bytes, and one when done; `--quiet` shows none, and `--json`
 * keeps stdout pure JSON.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { writeTestConfig } from '../helpers/config-lines.js';
import { createTestDatabase, testServer } from '../helpers/database.js';
import { ageKeygen } from '../helpers/age.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { createTempDir } from '../helpers/temp-dir.js';

const HOST = 'progress.example.org';
const EVENT_ROWS = 20_000;
const SETTING_ROWS = 2_000;

/** A database with a global and a local table, and a config with a user-data copy. */
async function setUp(): Promise<{ config: string; serverQuery: (sql: string) => Promise<void> }> {
  const database = await createTestDatabase('progress');
  await database.exec('CREATE TABLE settings (k INT PRIMARY KEY, v VARCHAR(40))');
  await database.exec(
    `INSERT INTO settings SELECT seq, CONCAT('setting ', seq) FROM seq_1_to_${String(SETTING_ROWS)}`,
  );
  await database.exec('CREATE TABLE events (id INT PRIMARY KEY, what VARCHAR(80))');
  await database.exec(
    `INSERT INTO events SELECT seq, CONCAT('event number ', seq) FROM seq_1_to_${String(EVENT_ROWS)}`,
  );
  const dir = await createTempDir('progress');
  const key = ageKeygen(dir);
  const config = await writeTestConfig(dir, HOST, database.name, [
    'user_data_backup_dir: userdata',
    'encryption:',
    `  recipients: [${key.recipient}]`,
    '  identity_file: key.txt',
    'global: [settings]',
    'local: [events]',
  ]);
  return { config, serverQuery: (sql) => database.exec(sql) };
}

function cli(config: string, ...argv: string[]): Promise<CliResult> {
  return runCli([...argv, '--config', config], {
    SCHEMA_BACKUP_DB_PASSWORD: testServer().password,
    SCHEMA_BACKUP_PROGRESS_INTERVAL: '0',
  });
}

/** A database name for a restore target, dropped when the test finishes. */
function targetName(serverQuery: (sql: string) => Promise<void>): string {
  const name = `sbtest_progress_${randomBytes(4).toString('hex')}`;
  onTestFinished(async () => {
    await serverQuery(`DROP DATABASE IF EXISTS \`${name}\``);
  });
  return name;
}

/** The progress lines of `verb` in `stderr`. */
function progressLines(stderr: string, verb: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith(`${verb}: tables `));
}

describe('progress of snapshot, restore and verify off a terminal', () => {
  // stderr is a pipe here, whatever runs the tests.
  let descriptor: PropertyDescriptor | undefined;
  beforeEach(() => {
    descriptor = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
    Object.defineProperty(process.stderr, 'isTTY', { value: false, configurable: true });
  });
  afterEach(() => {
    if (descriptor === undefined) Reflect.deleteProperty(process.stderr, 'isTTY');
    else Object.defineProperty(process.stderr, 'isTTY', descriptor);
  });

  it('logs lines naming the tables and counting rows; --quiet and --json stay clean', async () => {
    const { config, serverQuery } = await setUp();
    const total = `${((EVENT_ROWS + SETTING_ROWS) / 1000).toFixed(1)}k rows`;

    const snapshot = await cli(config, 'snapshot');
    expect(snapshot.code, snapshot.stderr).toBe(0);
    const snapshotLines = progressLines(snapshot.stderr, 'snapshot');
    expect(snapshotLines.some((line) => /, (settings|events)$/.test(line))).toBe(true);
    expect(snapshotLines.at(-1)).toMatch(
      new RegExp(`^snapshot: tables 2/2, ${total}, [\\d.]+ [KM]iB, .*/s, \\d+:\\d\\d$`),
    );
    // Nothing of it on stdout, where the summary goes.
    expect(snapshot.stdout).not.toContain('tables 2/2');

    const restored = await cli(config, 'restore', '--target', targetName(serverQuery));
    expect(restored.code, restored.stderr).toBe(0);
    const restoreLines = progressLines(restored.stderr, 'restored');
    expect(
      restoreLines.some((line) => /, (settings|events|events \(user data\))$/.test(line)),
    ).toBe(true);
    // Every row the manifests recorded, the global table's and the user data's.
    expect(restoreLines.at(-1)).toMatch(new RegExp(`^restored: tables 2/2, ${total}, `));

    const verified = await cli(config, 'verify');
    expect(verified.code, verified.stderr).toBe(0);
    expect(progressLines(verified.stderr, 'verify restore').at(-1)).toContain(
      `tables 2/2, ${total}`,
    );
    // Reading the scratch database again, only the global table's rows are compared as text.
    expect(progressLines(verified.stderr, 'verify read').at(-1)).toContain(
      `tables 2/2, ${(SETTING_ROWS / 1000).toFixed(1)}k rows`,
    );

    for (const argv of [
      ['snapshot', '--quiet'],
      ['restore', '--quiet', '--target', targetName(serverQuery)],
      ['verify', '--quiet'],
    ]) {
      const quiet = await cli(config, ...argv);
      expect(quiet.code, quiet.stderr).toBe(0);
      expect(quiet.stderr, argv.join(' ')).toBe('');
    }

    for (const argv of [
      ['snapshot', '--json'],
      ['restore', '--json', '--target', targetName(serverQuery)],
      ['verify', '--json'],
    ]) {
      const json = await cli(config, ...argv);
      expect(json.code, json.stderr).toBe(0);
      expect(() => JSON.parse(json.stdout) as unknown, argv.join(' ')).not.toThrow();
      expect(json.stdout).not.toContain('tables 2/2');
    }
  });
});
