/**
 * Issue 15, finding 5: the commit message, `log` and `diff --stat` counted the same change
 * three ways (`rows +69 -67 in 2 tables`, `rows +46 -67`, `rows +29 -50 ~17`). A real database
 * is snapshotted twice by the CLI into a real repository, and all three must say what SQL
 * confirms by key. Also: a pure column reorder is a structure change, not changed rows; and a
 * changed primary key shows what it was. And `restore --legacy` counts the triggers the
 * original's table files create among the other objects.
 */
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestDatabase, testServer, type TestDatabase } from '../helpers/database.js';
import { writeTestConfig } from '../helpers/config-lines.js';
import { git } from '../helpers/git-repo.js';
import { runCli } from '../helpers/run-cli.js';
import { createTempDir } from '../helpers/temp-dir.js';

const HOST = 'r15.example.org';

interface Setup {
  readonly database: TestDatabase;
  readonly config: string;
  readonly backupDir: string;
}

async function setUp(tables: readonly string[]): Promise<Setup> {
  const database = await createTestDatabase('r15');
  const dir = await createTempDir('r15');
  const config = await writeTestConfig(dir, HOST, database.name, [
    `global: [${tables.join(', ')}]`,
  ]);
  return { database, config, backupDir: join(dir, 'backups') };
}

async function snapshot(setup: Setup): Promise<void> {
  const result = await runCli(['snapshot', '--config', setup.config, '--quiet']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
}

/** What the three outputs say of the last commit. */
async function threeViews(
  setup: Setup,
): Promise<{ message: string; log: string[]; stat: string[] }> {
  const message = git(setup.backupDir, 'log', '-1', '--format=%B').trim();
  const log = await runCli(['log', '-n', '1', '--config', setup.config]);
  expect(log.code, log.stderr).toBe(0);
  const stat = await runCli(['diff', 'HEAD~1', 'HEAD', '--stat', '--config', setup.config]);
  expect(stat.code, stat.stderr).toBe(0);
  return {
    message,
    // The first line is the commit (id, date, author, subject).
    log: log.stdout.trimEnd().split('\n').slice(1),
    // The first line names the two sides; tables are indented below it.
    stat: stat.stdout.trimEnd().split('\n').slice(1),
  };
}

describe('issue 15: the commit message, log and diff --stat count rows the same way', () => {
  it('counts by key: a row whose key stays and whose values change is changed, once', async () => {
    const setup = await setUp(['csv2_configuration', 'csv2_other']);
    const { database } = setup;
    await database.exec(
      'CREATE TABLE csv2_configuration (id INT PRIMARY KEY, name VARCHAR(40), value TEXT)',
    );
    await database.exec('CREATE TABLE csv2_other (id INT PRIMARY KEY, note VARCHAR(20))');
    for (let id = 1; id <= 40; id += 1)
      await database.exec('INSERT INTO csv2_configuration VALUES (?, ?, ?)', [
        id,
        `key${String(id)}`,
        `value ${String(id)}`,
      ]);
    await database.exec("INSERT INTO csv2_other VALUES (1, 'one')");
    await snapshot(setup);

    // 5 removed, 3 added, 4 changed (one of them twice: still one changed row).
    await database.exec('DELETE FROM csv2_configuration WHERE id IN (2, 9, 17, 25, 33)');
    await database.exec(
      "INSERT INTO csv2_configuration VALUES (41, 'key41', 'new'), (42, 'key42', 'new'), (0, 'key0', 'new')",
    );
    await database.exec("UPDATE csv2_configuration SET value = 'edited' WHERE id IN (1, 10, 20)");
    await database.exec("UPDATE csv2_configuration SET name = 'renamed' WHERE id IN (20, 40)");
    await database.exec("INSERT INTO csv2_other VALUES (2, 'two'), (3, 'three')");
    await snapshot(setup);

    const views = await threeViews(setup);
    expect(views.message).toBe(
      [
        `snapshot ${HOST}: rows +5 -5 ~4 in 2 tables`,
        '',
        `Database: ${database.name}`,
        '',
        'Rows changed: csv2_configuration (+3 -5 ~4), csv2_other (+2 -0 ~0)',
      ].join('\n'),
    );
    expect(views.log).toEqual([
      '  table csv2_configuration: rows +3 -5 ~4',
      '  table csv2_other: rows +2 -0 ~0',
    ]);
    expect(views.stat).toEqual([
      '  table csv2_configuration: rows +3 -5 ~4',
      '  table csv2_other: rows +2 -0 ~0',
    ]);
  });

  it('counts a pure column reorder as a structure change, with no changed row', async () => {
    const setup = await setUp(['settings']);
    const { database } = setup;
    await database.exec('CREATE TABLE settings (k VARCHAR(20) PRIMARY KEY, v INT, w TEXT)');
    await database.exec("INSERT INTO settings VALUES ('a', 1, 'x'), ('b', 2, 'y')");
    await snapshot(setup);
    await database.exec('ALTER TABLE settings MODIFY w TEXT FIRST');
    await snapshot(setup);

    const views = await threeViews(setup);
    expect(views.message.split('\n')[0]).toBe(`snapshot ${HOST}: 1 structure changed`);
    expect(views.log).toEqual(['  table settings: structure changed']);
    expect(views.stat).toEqual(['  table settings: structure changed', '    columns reordered']);
  });

  it('shows the old and the new primary key, and counts rows of a changed key whole', async () => {
    const setup = await setUp(['prices']);
    const { database } = setup;
    await database.exec(
      'CREATE TABLE prices (id INT PRIMARY KEY, region CHAR(2) NOT NULL, amount INT)',
    );
    await database.exec("INSERT INTO prices VALUES (1, 'de', 10), (2, 'fr', 20), (3, 'it', 30)");
    await snapshot(setup);
    await database.exec('ALTER TABLE prices DROP PRIMARY KEY, ADD PRIMARY KEY (id, region)');
    await database.exec('UPDATE prices SET amount = 21 WHERE id = 2');
    await snapshot(setup);

    // Rows matched whole across a key change: the edited row is one removed, one added.
    const views = await threeViews(setup);
    expect(views.message.split('\n')[0]).toBe(
      `snapshot ${HOST}: 1 structure changed, rows +1 -1 ~0 in 1 table`,
    );
    expect(views.log).toEqual(['  table prices: structure changed, rows +1 -1 ~0']);
    expect(views.stat).toEqual([
      '  table prices: structure changed, rows +1 -1 ~0',
      '    index PRIMARY changed: PRIMARY KEY (`id`) -> PRIMARY KEY (`id`,`region`)',
    ]);

    // Then by the new key, and the log of the whole history reads each version's own key.
    await database.exec("UPDATE prices SET amount = 31 WHERE id = 3 AND region = 'it'");
    await database.exec("INSERT INTO prices VALUES (3, 'at', 32)");
    await snapshot(setup);
    expect((await threeViews(setup)).stat).toEqual(['  table prices: rows +1 -0 ~1']);
    const log = await runCli(['log', '--config', setup.config]);
    expect(log.stdout.split('\n').filter((line) => line.startsWith('  '))).toEqual([
      '  table prices: rows +1 -0 ~1',
      '  table prices: structure changed, rows +1 -1 ~0',
      '  table prices: added',
    ]);
  });
});

describe('issue 15: restore --legacy counts the triggers it creates', () => {
  it('says 1 other object for a table file of the original tool with its trigger', async () => {
    const legacy = await createTempDir('r15-legacy');
    // One mysqldump file of the original tool (2.11.0.rc1): its table, rows and a trigger.
    await copyFile(
      '/work/shared/fixtures/csv2/schema_backup/stable-2.11.0.rc1/csv2_configuration',
      join(legacy, 'csv2_configuration'),
    );
    const setup = await setUp([]);
    const target = await createTestDatabase('r15dst');
    const restore = await runCli(
      ['restore', '--config', setup.config, '--legacy', legacy, '--target', target.name],
      { SCHEMA_BACKUP_DB_PASSWORD: testServer().password },
    );
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);
    expect(restore.stdout).toContain('  1 tables, 0 with user data, 1 other objects, ');
    const triggers = await target.query<{ name: string }>(
      'SELECT TRIGGER_NAME AS name FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?',
      [target.name],
    );
    expect(triggers.map((trigger) => trigger.name)).toEqual(['trigger_csv2_configuration_update']);
  });
});
