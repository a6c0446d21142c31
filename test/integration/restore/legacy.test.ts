/**
 * `restore --legacy`: the directory the original tool wrote (one mysqldump file per table,
 * triggers inside) restores into a database that equals the one the stock client loads from
 * the same files, triggers included; and that database can be snapshotted.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { takeSnapshot } from '../../../src/snapshot/take-snapshot.js';
import { createTestDatabase, loadWithStockClient, testServer } from '../../helpers/database.js';
import { baseTables, MARKER_TABLE, otherObjects } from '../../helpers/restore.js';
import { runCli } from '../../helpers/run-cli.js';
import { snapshotOptionsForTest } from '../../helpers/snapshot-options.js';
import { createTempDir } from '../../helpers/temp-dir.js';
import { databaseConfigLines } from '../../helpers/config-lines.js';

const FIXTURE_DIR = '/work/shared/fixtures/csv2/schema_backup/stable-2.11.0.rc1';
const TABLE_COUNT = 61;
const TRIGGERS = [
  'trigger:trigger_add_htcondor_partition',
  'trigger:trigger_csv2_configuration_update',
  'trigger:trigger_del_htcondor_partition',
];

/** Top-level tuples of the fixture's one extended INSERT of `table`: quotes and escapes respected. */
async function fixtureRowCount(table: string): Promise<number> {
  const inserts = (await readFile(join(FIXTURE_DIR, table), 'utf8'))
    .split('\n')
    .filter((line) => line.startsWith('INSERT INTO '));
  expect(inserts).toHaveLength(1);
  const insert = inserts[0] ?? '';
  let depth = 0;
  let tuples = 0;
  let quote: string | undefined;
  for (let index = insert.indexOf(' VALUES ') + 8; index < insert.length; index += 1) {
    const char = insert[index];
    if (quote !== undefined) {
      if (char === '\\') index += 1;
      else if (char === quote) quote = undefined;
    } else if (char === "'" || char === '"') quote = char;
    else if (char === '(') {
      if (depth === 0) tuples += 1;
      depth += 1;
    } else if (char === ')') depth -= 1;
  }
  return tuples;
}

/** Snapshot files with the definer comment of triggers made host-neutral. */
async function normalisedFiles(dir: string): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  for (const file of (await readdir(dir)).sort())
    result.set(
      file,
      (await readFile(join(dir, file), 'utf8'))
        .replace(/, definer `[^`]*`@`[^`]*`/g, ', definer X')
        // The manifest's checksums of the trigger files cover that definer comment too.
        .replace(/("[^"]+\.trigger\.sql": )"[0-9a-f]{64}"/g, '$1"X"'),
    );
  return result;
}

describe('restore --legacy', () => {
  it('restores the original tool’s 2.11.0.rc1 dump: 61 tables, every row, 3 triggers; the result snapshots', async () => {
    const server = testServer();
    const dir = await createTempDir('legacy');
    const configured = await createTestDatabase('legacysrc');
    const config = join(dir, 'schema_backup.conf');
    await writeFile(
      config,
      [
        'csv2_backup_dir: backups',
        'hostname: legacy.example.org',
        ...databaseConfigLines(configured.name),
        '',
      ].join('\n'),
    );
    const target = await createTestDatabase('legacydst');
    const restore = await runCli(
      ['restore', '--config', config, '--legacy', FIXTURE_DIR, '--target', target.name, '--json'],
      { SCHEMA_BACKUP_DB_PASSWORD: server.password },
    );
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);
    const result = JSON.parse(restore.stdout) as {
      target: string;
      tables: string[];
      objects: string[];
      userDataTables: string[];
    };
    expect(result.target).toBe(target.name);
    expect(result.tables).toHaveLength(TABLE_COUNT);
    expect([...result.tables].sort()).toEqual((await readdir(FIXTURE_DIR)).sort());
    expect(result.userDataTables).toEqual([]);
    // The triggers the table files created are counted among the other objects (issue 15).
    expect([...result.objects].sort()).toEqual(
      TRIGGERS.map((trigger) => trigger.replace('trigger:', 'trigger ')),
    );

    const tables = await baseTables(target.name);
    expect(tables).toHaveLength(TABLE_COUNT);
    expect(tables).toEqual((await readdir(FIXTURE_DIR)).sort());
    expect(tables).not.toContain(MARKER_TABLE);
    expect(await otherObjects(target.name)).toEqual(TRIGGERS);

    const [count] = await target.query<{ n: number }>(
      'SELECT COUNT(*) AS n FROM csv2_configuration',
    );
    expect(Number(count?.n)).toBe(await fixtureRowCount('csv2_configuration'));
    expect(Number(count?.n)).toBeGreaterThan(100);
    const [row] = await target.query<{ v: string }>(
      "SELECT config_value AS v FROM csv2_configuration WHERE category = 'condor_poller.py' AND config_key = 'batch_commit_size'",
    );
    expect(row?.v).toBe('40');
    // The DEFINER of the dump is dropped: the triggers belong to the restoring account.
    const definers = await target.query<{ definer: string }>(
      'SELECT DEFINER AS definer FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?',
      [target.name],
    );
    for (const { definer } of definers) expect(definer).toMatch(new RegExp(`^${server.user}@`));

    // The same database as the stock client loads from the same files, table for table.
    const stock = await createTestDatabase('legacystock');
    for (const file of (await readdir(FIXTURE_DIR)).sort())
      await loadWithStockClient(stock.name, join(FIXTURE_DIR, file));
    expect([...(await target.checksums()).entries()]).toEqual([
      ...(await stock.checksums()).entries(),
    ]);

    // And it snapshots, to the same files as the stock load (but for the triggers' definer).
    const categories = { global: tables };
    const restored = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({
        database: target.name,
        backupDir: await createTempDir('legacy-snap'),
        categories,
      }),
    );
    expect(restored.git).toBe('committed');
    expect(restored.tables).toHaveLength(TABLE_COUNT);
    expect(restored.objects).toHaveLength(3);
    expect(restored.manifest.get('csv2_configuration')?.rows).toBe(Number(count?.n));
    const loaded = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({
        database: stock.name,
        backupDir: await createTempDir('legacy-stock'),
        categories,
      }),
    );
    expect(await normalisedFiles(restored.hostDir)).toEqual(await normalisedFiles(loaded.hostDir));
  });
});
