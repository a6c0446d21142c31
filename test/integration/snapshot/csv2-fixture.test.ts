/**
 * The real thing: the cloudscheduler (CSV2) database of release 2.11.0.rc1, loaded from the
 * original tool's own mysqldump files, snapshotted with the categories of the original's
 * shipped config.
 *
 * Loading: the dumps of `condor_machines` and `csv2_configuration` create triggers with
 * `DEFINER=\`csv2\`@\`localhost\``, an account the test server does not have. Loaded as root
 * they load unchanged and without an error: root may name any definer, and the dumps set
 * `SQL_NOTES=0`, which hides the "definer does not exist" note. So the fixture files are
 * loaded as they are, no DEFINER is stripped, and the triggers' definer is `csv2@localhost`.
 *
 * Config: the shipped file lists `ec2_regions` under both `global` and `ephemeral`, which the
 * tool rejects (a table may be in one category only); the test removes it from `ephemeral`
 * in memory, so it stays global. It also drops `user_data_backup_dir` (the original's
 * unencrypted user-data copies): with local tables and no age recipient the tool rejects it,
 * and the encrypted copy of local rows is not what this test is about. Only the categories
 * of the parsed config are used. The file on disk is left as it is.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../../src/config/load-config.js';
import type { Categories } from '../../../src/config/schema.js';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { ConfigError } from '../../../src/errors.js';
import { takeSnapshot } from '../../../src/snapshot/take-snapshot.js';
import {
  createTestDatabase,
  loadWithStockClient,
  type TestDatabase,
} from '../../helpers/database.js';
import { git } from '../../helpers/git-repo.js';
import { snapshotOptionsForTest } from '../../helpers/snapshot-options.js';
import { createTempDir } from '../../helpers/temp-dir.js';

const FIXTURE_DIR = '/work/shared/fixtures/csv2/schema_backup/stable-2.11.0.rc1';
const CONFIG_FILE = '/work/shared/fixtures/csv2/etc/schema_backup.conf';
const TABLE_COUNT = 61;
/** The `ignore` list of the shipped config whose tables are not in the 2.11.0.rc1 database. */
const IGNORED_BUT_ABSENT = ['csv2_timestamps'];

/**
 * The shipped config's categories, read by `parseConfig` after removing, in memory, the second
 * listing of `ec2_regions` (under `ephemeral`) and the `user_data_backup_dir` line.
 */
async function csv2Categories(): Promise<Categories> {
  const text = await readFile(CONFIG_FILE, 'utf8');
  let section = '';
  let removedRegions = 0;
  let removedUserData = 0;
  const kept = text.split('\n').filter((line) => {
    const key = /^([A-Za-z0-9_]+):/.exec(line);
    if (key) section = key[1] ?? '';
    if (section === 'ephemeral' && /^\s*-\s*ec2_regions\s*$/.test(line)) {
      removedRegions += 1;
      return false;
    }
    if (section === 'user_data_backup_dir') {
      removedUserData += 1;
      return false;
    }
    return true;
  });
  expect(removedRegions).toBe(1);
  expect(removedUserData).toBe(1);
  return parseConfig(kept.join('\n'), CONFIG_FILE).config.categories;
}

/** Number of rows in a mysqldump extended `INSERT ... VALUES (...),(...);` line: top-level tuples, quotes and escapes respected. */
function countDumpTuples(insert: string): number {
  const values = insert.indexOf(' VALUES ');
  expect(values).toBeGreaterThan(0);
  let depth = 0;
  let tuples = 0;
  let quote: string | undefined;
  for (let index = values + ' VALUES '.length; index < insert.length; index += 1) {
    const char = insert[index];
    if (quote !== undefined) {
      if (char === '\\') index += 1;
      else if (char === quote && insert[index + 1] === quote) index += 1;
      else if (char === quote) quote = undefined;
    } else if (char === "'" || char === '"') {
      quote = char;
    } else if (char === '(') {
      if (depth === 0) tuples += 1;
      depth += 1;
    } else if (char === ')') {
      depth -= 1;
    }
  }
  expect(depth).toBe(0);
  return tuples;
}

/** Rows in the fixture's dump of `table` (0 when it has no INSERT). */
async function fixtureRowCount(table: string): Promise<number> {
  const inserts = (await readFile(join(FIXTURE_DIR, table), 'utf8'))
    .split('\n')
    .filter((line) => line.startsWith('INSERT INTO '));
  expect(inserts.length).toBeLessThanOrEqual(1);
  return inserts[0] === undefined ? 0 : countDumpTuples(inserts[0]);
}

async function loadFixture(): Promise<TestDatabase> {
  const database = await createTestDatabase('csv2');
  for (const file of (await readdir(FIXTURE_DIR)).sort())
    await loadWithStockClient(database.name, join(FIXTURE_DIR, file));
  return database;
}

async function filesWithStats(
  dir: string,
): Promise<Map<string, { bytes: Buffer; mtimeMs: number }>> {
  const result = new Map<string, { bytes: Buffer; mtimeMs: number }>();
  for (const file of (await readdir(dir)).sort()) {
    const path = join(dir, file);
    result.set(file, { bytes: await readFile(path), mtimeMs: (await stat(path)).mtimeMs });
  }
  return result;
}

function insertLines(text: string): string[] {
  return text.split('\n').filter((line) => line.startsWith('INSERT'));
}

describe('the cloudscheduler 2.11.0.rc1 database', () => {
  it('cannot be read with the shipped config as it is: ec2_regions is in two categories', async () => {
    await expect(loadConfig(CONFIG_FILE)).rejects.toThrow(ConfigError);
    await expect(loadConfig(CONFIG_FILE)).rejects.toThrow(
      /ec2_regions is listed in both global .* and ephemeral/,
    );
  });

  it('snapshots by the real config: global rows one per line, no rows elsewhere, definers as comments, and a second run changes nothing', async () => {
    const categories = await csv2Categories();
    expect(categories.ignore).toHaveLength(11);
    expect(categories.global).toContain('ec2_regions');
    expect(categories.ephemeral).not.toContain('ec2_regions');

    const database = await loadFixture();
    const tables = (
      await database.query<{ name: string }>(
        "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
        [database.name],
      )
    )
      .map((row) => row.name)
      .sort();
    expect(tables).toHaveLength(TABLE_COUNT);
    expect(tables).toEqual((await readdir(FIXTURE_DIR)).sort());
    const triggers = await database.query<{ name: string; definer: string }>(
      'SELECT TRIGGER_NAME AS name, DEFINER AS definer FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY TRIGGER_NAME',
      [database.name],
    );
    expect(triggers).toEqual([
      { name: 'trigger_add_htcondor_partition', definer: 'csv2@localhost' },
      { name: 'trigger_csv2_configuration_update', definer: 'csv2@localhost' },
      { name: 'trigger_del_htcondor_partition', definer: 'csv2@localhost' },
    ]);

    const ignoredPresent = categories.ignore.filter((name) => tables.includes(name)).sort();
    expect(ignoredPresent).toHaveLength(10);
    expect(categories.ignore.filter((name) => !tables.includes(name))).toEqual(IGNORED_BUT_ABSENT);

    const backupDir = await createTempDir('csv2');
    const options = snapshotOptionsForTest({ database: database.name, backupDir, categories });
    const first = await takeSnapshot(mariadbEngine, options);
    expect(first.git).toBe('committed');

    // The plan: every table of the database is in the config; the one ignored table that
    // does not exist is reported missing, and nothing else is.
    expect(first.plan.uncategorized).toEqual([]);
    expect(first.plan.ignored).toEqual(ignoredPresent);
    expect(first.plan.missing).toEqual([{ name: 'csv2_timestamps', category: 'ignore' }]);
    expect(first.objects.map((object) => `${object.kind}:${object.name}`)).toEqual([
      'trigger:trigger_add_htcondor_partition',
      'trigger:trigger_del_htcondor_partition',
      'trigger:trigger_csv2_configuration_update',
    ]);

    // One file per table that is not ignored, and nothing else.
    const expectedTables = tables.filter((name) => !ignoredPresent.includes(name));
    expect(expectedTables).toHaveLength(TABLE_COUNT - 10);
    const files = (await readdir(first.hostDir)).sort();
    const triggerFiles = first.objects.map((object) => object.file);
    expect(files).toEqual(
      [
        ...expectedTables.map((name) => `${name}.sql`),
        ...triggerFiles,
        'database.defaults.sql',
        'manifest.json',
      ].sort(),
    );
    expect(first.tables.map((table) => table.name)).toEqual(expectedTables);
    for (const name of ignoredPresent) expect(files).not.toContain(`${name}.sql`);

    const texts = new Map<string, string>();
    for (const file of files) texts.set(file, await readFile(join(first.hostDir, file), 'utf8'));
    const textOf = (table: string): string => texts.get(`${table}.sql`) ?? '';

    // Global tables: every row, one INSERT per line, as many as the database and the original dump have.
    for (const table of categories.global) {
      const [count] = await database.query<{ n: number }>(`SELECT COUNT(*) AS n FROM \`${table}\``);
      const lines = insertLines(textOf(table));
      expect(lines.length, table).toBe(Number(count?.n));
      expect(lines.length, table).toBe(await fixtureRowCount(table));
      expect(first.tables.find((outcome) => outcome.name === table)?.rows, table).toBe(
        lines.length,
      );
      for (const line of lines)
        expect(line, table).toMatch(
          new RegExp(`^INSERT INTO \`${table}\` \\(\`[^\\n]*\\) VALUES \\([^\\n]*\\);$`),
        );
    }
    // The manifest: every table written, with its category; row counts of global tables.
    const manifest = JSON.parse(texts.get('manifest.json') ?? '') as {
      tables: Record<string, { category: string; rows?: number; sha256?: string }>;
    };
    expect(Object.keys(manifest.tables).sort()).toEqual(expectedTables);
    for (const [category, names] of Object.entries(categories)) {
      if (category === 'ignore') continue;
      for (const name of names) {
        if (!expectedTables.includes(name)) continue;
        expect(manifest.tables[name]?.category, name).toBe(category);
      }
    }
    for (const table of categories.global) {
      expect(manifest.tables[table]?.rows, table).toBe(insertLines(textOf(table)).length);
      expect(manifest.tables[table]?.sha256, table).toMatch(/^[0-9a-f]{64}$/);
    }
    const configurationRows = insertLines(textOf('csv2_configuration'));
    expect(configurationRows.length).toBe(await fixtureRowCount('csv2_configuration'));
    expect(configurationRows.length).toBeGreaterThan(100);
    expect(configurationRows).toContain(
      "INSERT INTO `csv2_configuration` (`category`,`config_key`,`config_type`,`config_value`) VALUES ('condor_poller.py','batch_commit_size','int','40');",
    );

    // Local and ephemeral tables: structure only, even where the original dump had rows (auth_user).
    expect(await fixtureRowCount('auth_user')).toBeGreaterThan(0);
    for (const table of [...categories.local, ...categories.ephemeral]) {
      const text = textOf(table);
      expect(text, table).toContain(`CREATE TABLE \`${table}\``);
      expect(insertLines(text), table).toEqual([]);
    }

    // Triggers: files of their own (loaded after every table's rows), without DEFINER= in the
    // statement, the definer kept as a comment.
    for (const trigger of [
      'trigger_csv2_configuration_update',
      'trigger_add_htcondor_partition',
      'trigger_del_htcondor_partition',
    ]) {
      expect(texts.get(`${trigger}.trigger.sql`)).toContain(
        `-- trigger \`${trigger}\`, definer \`csv2\`@\`localhost\`\n`,
      );
    }
    expect(textOf('csv2_configuration')).not.toContain('TRIGGER');
    for (const [file, text] of texts) {
      expect(text, file).not.toMatch(/DEFINER\s*=/i);
      expect(text, file).not.toContain('AUTO_INCREMENT=');
    }

    // A second run on the unchanged database: nothing rewritten, nothing committed.
    expect(git(backupDir, 'rev-list', '--count', 'HEAD').trim()).toBe('1');
    const before = await filesWithStats(first.hostDir);
    const second = await takeSnapshot(mariadbEngine, options);
    expect(second.git).toBe('no-changes');
    expect(second.commit).toBeUndefined();
    expect(second.tables.every((table) => table.change === 'unchanged')).toBe(true);
    expect(second.removed).toEqual([]);
    expect(git(backupDir, 'rev-list', '--count', 'HEAD').trim()).toBe('1');
    expect(await filesWithStats(second.hostDir)).toEqual(before);
    expect(git(backupDir, 'status', '--porcelain')).toBe('');
  });
});
