/**
 * Restores that go wrong, and what they leave: a bad statement in a file stops the restore
 * with the file and line, and the target stays marked incomplete; a failure while loading
 * user data never quotes a row; the target and filter checks; --only/--exclude.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { RestoreError, UsageError, type SchemaBackupError } from '../../../src/errors.js';
import { restoreSnapshot, type RestoreOptions } from '../../../src/restore/restore-snapshot.js';
import { directorySource } from '../../../src/restore/snapshot-source.js';
import { takeSnapshot } from '../../../src/snapshot/take-snapshot.js';
import { createMemoryLogger } from '../../../src/support/logger.js';
import { ageKeygen } from '../../helpers/age.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import {
  baseTables,
  databaseExists,
  MARKER_TABLE,
  otherObjects,
  recordingEngine,
  restoreOptionsForTest,
  userDataInput,
} from '../../helpers/restore.js';
import { snapshotOptionsForTest } from '../../helpers/snapshot-options.js';
import { createTempDir } from '../../helpers/temp-dir.js';

const HOST = 'test.example.org';

/** Three global tables of 40 rows each, snapshotted; returns the host directory. */
async function snapshotOfThreeTables(): Promise<{ source: TestDatabase; hostDir: string }> {
  const source = await createTestDatabase('fail');
  for (const table of ['alpha', 'beta', 'gamma']) {
    await source.exec(`CREATE TABLE ${table} (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL)`);
    await source.exec(`INSERT INTO ${table} SELECT seq, CONCAT('${table}-', seq) FROM seq_1_to_40`);
  }
  const backupDir = await createTempDir('fail');
  const snapshot = await takeSnapshot(
    mariadbEngine,
    snapshotOptionsForTest({
      database: source.name,
      backupDir,
      categories: { global: ['alpha', 'beta', 'gamma'] },
    }),
  );
  return { source, hostDir: snapshot.hostDir };
}

/** Replaces line `line` (1-based) of `file` with `text`. */
async function replaceLine(file: string, line: number, text: string): Promise<string> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  const old = lines[line - 1] ?? '';
  lines[line - 1] = text;
  await writeFile(file, lines.join('\n'));
  return old;
}

async function lineOf(file: string, needle: string): Promise<number> {
  const index = (await readFile(file, 'utf8')).split('\n').indexOf(needle);
  expect(index, needle).toBeGreaterThanOrEqual(0);
  return index + 1;
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('restore failures', () => {
  it('a bad statement in the middle of a file: RestoreError naming file and line, the target marked incomplete', async () => {
    const { hostDir } = await snapshotOfThreeTables();
    const file = join(hostDir, 'beta.sql');
    const line = await lineOf(file, "INSERT INTO `beta` (`id`,`v`) VALUES (20,'beta-20');");
    await replaceLine(file, line, 'THIS IS NOT SQL;');

    const target = await createTestDatabase('faildst');
    const failure = await failureOf(
      restoreSnapshot(
        mariadbEngine,
        restoreOptionsForTest({
          target: target.name,
          source: directorySource(hostDir),
          parallel: 1,
        }),
      ),
    );
    expect(failure).toBeInstanceOf(RestoreError);
    const error = failure as RestoreError;
    expect(error.exitCode).toBe(1);
    expect(error.message).toContain('beta.sql');
    expect(error.message).toContain(`at line ${String(line)}`);
    // Refused by the statement checker before it reaches the server.
    expect(error.message).toMatch(/`THIS IS`: not a statement a snapshot writes for table `beta`/);
    expect(error.hint).toContain(MARKER_TABLE);
    // Left marked: the restore did not complete, and says so.
    expect(await baseTables(target.name)).toContain(MARKER_TABLE);
    const [note] = await target.query<{ note: string }>(`SELECT note FROM ${MARKER_TABLE}`);
    expect(note?.note).toContain(hostDir);
    // Nothing after the refused line went in (the rows joined before it were not sent either).
    const [count] = await target.query<{ n: number }>('SELECT COUNT(*) AS n FROM beta');
    expect(Number(count?.n)).toBeLessThan(20);
  });

  it('a bad row among rows joined into one INSERT: the error names the file and the line of that row', async () => {
    const { hostDir } = await snapshotOfThreeTables();
    const file = join(hostDir, 'gamma.sql');
    const line = await lineOf(file, "INSERT INTO `gamma` (`id`,`v`) VALUES (30,'gamma-30');");
    // Same table, same columns, one value too many: joined with its neighbours, then refused.
    await replaceLine(file, line, "INSERT INTO `gamma` (`id`,`v`) VALUES (30,'gamma-30','extra');");
    const target = await createTestDatabase('faildst');
    const failure = await failureOf(
      restoreSnapshot(
        mariadbEngine,
        restoreOptionsForTest({ target: target.name, source: directorySource(hostDir) }),
      ),
    );
    expect(failure).toBeInstanceOf(RestoreError);
    expect((failure as Error).message).toContain('gamma.sql');
    expect((failure as Error).message).toContain('INSERT into `gamma`');
    expect(await baseTables(target.name)).toContain(MARKER_TABLE);
    // BUG: the rows are joined into one multi-row INSERT and a failure is reported at the
    // line of the batch's first row, not at the line of the row the server refused.
    expect((failure as Error).message).toContain(`at line ${String(line)}`);
  });

  it('after a failed restore, the fixed snapshot restores into the same target with --force, as the hint says', async () => {
    const { source, hostDir } = await snapshotOfThreeTables();
    const file = join(hostDir, 'gamma.sql');
    const line = await lineOf(file, "INSERT INTO `gamma` (`id`,`v`) VALUES (5,'gamma-5');");
    const original = await replaceLine(file, line, 'THIS IS NOT SQL;');
    const target = await createTestDatabase('faildst');
    const options = restoreOptionsForTest({
      target: target.name,
      source: directorySource(hostDir),
    });
    await expect(restoreSnapshot(mariadbEngine, options)).rejects.toThrow(RestoreError);
    expect(await baseTables(target.name)).toContain(MARKER_TABLE);

    await replaceLine(file, line, original);
    // Without --force the partly restored target is refused...
    await expect(restoreSnapshot(mariadbEngine, options)).rejects.toThrow(/not empty/);
    // ...with it, the restore goes through and the marker is gone.
    // BUG: table files hold a plain CREATE TABLE (no DROP TABLE IF EXISTS), so with --force
    // into a target that already has the tables the first CREATE TABLE fails.
    await restoreSnapshot(mariadbEngine, { ...options, force: true });
    expect(await baseTables(target.name)).toEqual(['alpha', 'beta', 'gamma']);
    expect([...(await target.checksums()).entries()]).toEqual([
      ...(await source.checksums()).entries(),
    ]);
  });

  it('a failure while loading user data names the table and line but never a row value', async () => {
    const source = await createTestDatabase('failud');
    const marker = `MARKER-${Date.now().toString(36)}-secret`;
    await source.exec('CREATE TABLE secrets (id INT PRIMARY KEY, txt VARCHAR(100) NOT NULL)');
    await source.exec('INSERT INTO secrets VALUES (1, ?), (2, ?), (3, ?)', [
      `${marker}-a`,
      `${marker}-dup`,
      `${marker}-dup`,
    ]);
    const backupDir = await createTempDir('failud');
    const userDataDir = await createTempDir('failud-data');
    const keysDir = await createTempDir('failud-keys');
    const key = ageKeygen(keysDir);
    const snapshot = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({
        database: source.name,
        backupDir,
        host: HOST,
        categories: { local: ['secrets'] },
        userData: {
          dir: userDataDir,
          recipients: [key.recipient],
          fingerprintKeyFile: join(keysDir, 'fingerprint.key'),
        },
      }),
    );
    // The snapshot's structure now says txt is unique, which the saved rows are not: the
    // server's message would quote the duplicate value.
    const file = join(snapshot.hostDir, 'secrets.sql');
    const text = await readFile(file, 'utf8');
    expect(text).toContain('PRIMARY KEY (`id`)');
    await writeFile(
      file,
      text.replace('PRIMARY KEY (`id`)', 'PRIMARY KEY (`id`), UNIQUE KEY (`txt`)'),
    );

    const target = await createTestDatabase('failuddst');
    const logger = createMemoryLogger();
    const failure = await failureOf(
      restoreSnapshot(
        mariadbEngine,
        restoreOptionsForTest({
          target: target.name,
          source: directorySource(snapshot.hostDir),
          userData: await userDataInput(userDataDir, HOST, key.identityFile),
          // The structure was edited above on purpose, which the manifest would refuse.
          trust: true,
          logger,
        }),
      ),
    );
    expect(failure).toBeInstanceOf(RestoreError);
    const error = failure as RestoreError;
    expect(error.message).toMatch(/secrets \(user data\) at line \d+/);
    // The server's error name only (its message would quote the duplicate value).
    expect(error.message).toMatch(/: server error ER_[A-Z_]+$/);
    // Nothing of the rows, anywhere: message, hint, causes, stack, log.
    const everything = [
      error.message,
      error.hint ?? '',
      error.stack ?? '',
      JSON.stringify(error),
      String(error.cause),
      ...logger.lines.map((line) => line.message),
    ].join('\n');
    expect(everything).not.toContain(marker);
    expect(error.cause).toBeUndefined();
    expect(await baseTables(target.name)).toContain(MARKER_TABLE);
  });

  it('the configured database is refused as target unless forceSource', async () => {
    const { source, hostDir } = await snapshotOfThreeTables();
    const before = await source.checksums();
    const engine = recordingEngine();
    const options: RestoreOptions = restoreOptionsForTest({
      target: source.name,
      source: directorySource(hostDir),
      protectedDatabase: source.name,
    });
    const refused = await failureOf(restoreSnapshot(engine, options));
    expect(refused).toBeInstanceOf(UsageError);
    expect((refused as UsageError).exitCode).toBe(2);
    expect((refused as Error).message).toMatch(/refusing/);
    expect((refused as UsageError).hint).toContain('--force-source');
    // With forceSource it is a target like any other: not empty, so --force is needed too.
    await expect(restoreSnapshot(engine, { ...options, forceSource: true })).rejects.toThrow(
      /not empty/,
    );
    expect([...(await source.checksums()).entries()]).toEqual([...before.entries()]);
    expect(await baseTables(source.name)).not.toContain(MARKER_TABLE);
    expect(engine.createdDatabases).toEqual([]);
  });

  it('a non-empty target is refused without force and left untouched; a missing one is created', async () => {
    const { hostDir } = await snapshotOfThreeTables();
    const occupied = await createTestDatabase('occupied');
    await occupied.exec('CREATE TABLE mine (id INT PRIMARY KEY)');
    await occupied.exec('INSERT INTO mine VALUES (1), (2)');
    const before = await occupied.checksums();
    const failure = await failureOf(
      restoreSnapshot(
        mariadbEngine,
        restoreOptionsForTest({ target: occupied.name, source: directorySource(hostDir) }),
      ),
    );
    expect(failure).toBeInstanceOf(UsageError);
    expect((failure as Error).message).toContain(`${occupied.name} exists and is not empty`);
    expect(await baseTables(occupied.name)).toEqual(['mine']);
    expect([...(await occupied.checksums()).entries()]).toEqual([...before.entries()]);

    // A view alone makes a database not empty too.
    const withView = await createTestDatabase('occupied');
    await withView.exec('CREATE VIEW v AS SELECT 1 AS one');
    await expect(
      restoreSnapshot(
        mariadbEngine,
        restoreOptionsForTest({ target: withView.name, source: directorySource(hostDir) }),
      ),
    ).rejects.toThrow(UsageError);

    // With force, into the database that holds other tables: they stay.
    await restoreSnapshot(
      mariadbEngine,
      restoreOptionsForTest({
        target: occupied.name,
        source: directorySource(hostDir),
        force: true,
      }),
    );
    expect(await baseTables(occupied.name)).toEqual(['alpha', 'beta', 'gamma', 'mine']);

    const engine = recordingEngine();
    const name = `sbtest_created_${Date.now().toString(36)}`;
    const result = await restoreSnapshot(
      engine,
      restoreOptionsForTest({ target: name, source: directorySource(hostDir) }),
    );
    expect(engine.createdDatabases).toEqual([name]);
    expect(result.tables).toHaveLength(3);
    expect(await baseTables(name)).toEqual(['alpha', 'beta', 'gamma']);
  });

  it('a source without table files is a UsageError, and nothing is created', async () => {
    const empty = await createTempDir('empty');
    await writeFile(join(empty, 'README.md'), 'not a snapshot\n');
    const engine = recordingEngine();
    const name = `sbtest_never_${Date.now().toString(36)}`;
    const failure = await failureOf(
      restoreSnapshot(
        engine,
        restoreOptionsForTest({ target: name, source: directorySource(empty) }),
      ),
    );
    expect(failure).toBeInstanceOf(UsageError);
    expect((failure as Error).message).toMatch(/no table files/);
    expect(await databaseExists(name)).toBe(false);
  });
});

describe('restore --only / --exclude', () => {
  async function snapshotForFilters(): Promise<{ source: TestDatabase; hostDir: string }> {
    const source = await createTestDatabase('filter');
    for (const table of ['def_a', 'def_b', 'defx', 'other', 'odd.name'])
      await source.exec(
        `CREATE TABLE \`${table}\` (id INT PRIMARY KEY); INSERT INTO \`${table}\` VALUES (1), (2)`,
      );
    const backupDir = await createTempDir('filter');
    const snapshot = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({
        database: source.name,
        backupDir,
        categories: { global: ['def_a', 'def_b', 'defx', 'other', 'odd.name'] },
      }),
    );
    return { source, hostDir: snapshot.hostDir };
  }

  it('restores the tables the patterns select, with their rows', async () => {
    const { hostDir } = await snapshotForFilters();
    const cases: [string[], string[], string[]][] = [
      [['def_*'], [], ['def_a', 'def_b']],
      [['def?*'], ['def_b'], ['def_a', 'defx']],
      [[], ['def_*', 'odd.name'], ['defx', 'other']],
      [['odd.name', 'o*'], [], ['odd.name', 'other']],
      [['[do]*'], ['*x', 'def_[!a]'], ['def_a', 'odd.name', 'other']],
    ];
    for (const [only, exclude, expected] of cases) {
      const target = await createTestDatabase('filterdst');
      const result = await restoreSnapshot(
        mariadbEngine,
        restoreOptionsForTest({
          target: target.name,
          source: directorySource(hostDir),
          only,
          exclude,
        }),
      );
      const label = `--only ${only.join(' ')} --exclude ${exclude.join(' ')}`;
      expect([...result.tables].sort(), label).toEqual(expected);
      expect(await baseTables(target.name), label).toEqual(expected);
      for (const table of expected) {
        const [count] = await target.query<{ n: number }>(`SELECT COUNT(*) AS n FROM \`${table}\``);
        expect(Number(count?.n), `${label}: ${table}`).toBe(2);
      }
    }
  });

  it('no table selected is a UsageError', async () => {
    const { hostDir } = await snapshotForFilters();
    const target = await createTestDatabase('filterdst');
    await expect(
      restoreSnapshot(
        mariadbEngine,
        restoreOptionsForTest({
          target: target.name,
          source: directorySource(hostDir),
          only: ['nothing*'],
        }),
      ),
    ).rejects.toThrow(/no table files/);
    expect(await baseTables(target.name)).toEqual([]);
  });

  it('leaves out the triggers and views of tables it leaves out', async () => {
    const { source, hostDir } = await (async () => {
      const database = await createTestDatabase('filterobj');
      await database.exec('CREATE TABLE kept (id INT PRIMARY KEY)');
      await database.exec('CREATE TABLE dropped (id INT PRIMARY KEY)');
      await database.exec('CREATE TABLE log (what VARCHAR(20))');
      await database.exec(
        "CREATE TRIGGER dropped_ai AFTER INSERT ON dropped FOR EACH ROW INSERT INTO log VALUES ('dropped')",
      );
      await database.exec('CREATE VIEW dropped_ids AS SELECT id FROM dropped');
      await database.exec('CREATE VIEW kept_ids AS SELECT id FROM kept');
      const backupDir = await createTempDir('filterobj');
      const snapshot = await takeSnapshot(
        mariadbEngine,
        snapshotOptionsForTest({
          database: database.name,
          backupDir,
          categories: { global: ['kept', 'dropped', 'log'] },
        }),
      );
      return { source: database, hostDir: snapshot.hostDir };
    })();
    expect(await otherObjects(source.name)).toEqual([
      'trigger:dropped_ai',
      'view:dropped_ids',
      'view:kept_ids',
    ]);
    const target = await createTestDatabase('filterobjdst');
    // BUG: --exclude filters only table files; the trigger on `dropped` and the view on it
    // are still created, and fail because their table is not there.
    const failure = await failureOf(
      restoreSnapshot(
        mariadbEngine,
        restoreOptionsForTest({
          target: target.name,
          source: directorySource(hostDir),
          exclude: ['dropped'],
        }),
      ),
    );
    expect(failure === undefined ? '' : (failure as SchemaBackupError).message).toBe('');
    expect(await baseTables(target.name)).toEqual(['kept', 'log']);
    expect(await otherObjects(target.name)).toContain('view:kept_ids');
    expect(await otherObjects(target.name)).not.toContain('trigger:dropped_ai');
    expect(await baseTables(target.name)).not.toContain(MARKER_TABLE);
  });

  it('keeps the triggers of the tables --only selects', async () => {
    const source = await createTestDatabase('filtertrg');
    await source.exec('CREATE TABLE t (id INT PRIMARY KEY)');
    await source.exec('CREATE TABLE log (what VARCHAR(20))');
    await source.exec('CREATE TABLE unrelated (id INT PRIMARY KEY)');
    await source.exec(
      "CREATE TRIGGER t_ai AFTER INSERT ON t FOR EACH ROW INSERT INTO log VALUES ('t')",
    );
    const backupDir = await createTempDir('filtertrg');
    const snapshot = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({
        database: source.name,
        backupDir,
        categories: { global: ['t', 'log', 'unrelated'] },
      }),
    );
    const target = await createTestDatabase('filtertrgdst');
    const result = await restoreSnapshot(
      mariadbEngine,
      restoreOptionsForTest({
        target: target.name,
        source: directorySource(snapshot.hostDir),
        only: ['t', 'log'],
      }),
    );
    expect([...result.tables].sort()).toEqual(['log', 't']);
    // BUG: with --only, every trigger is left out, also those of the tables it restores.
    expect(await otherObjects(target.name)).toEqual(['trigger:t_ai']);
  });
});
