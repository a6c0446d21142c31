/**
 * verify: a snapshot restored into a scratch database and snapshotted again must give the
 * same files and the rows the manifest recorded; `live` compares the database itself. The
 * scratch database is dropped whatever happens.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RestoreError } from '../../../src/errors.js';
import { directorySource } from '../../../src/restore/snapshot-source.js';
import { verifySnapshot, type VerifyOptions } from '../../../src/restore/verify-snapshot.js';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { takeSnapshot, type SnapshotResult } from '../../../src/snapshot/take-snapshot.js';
import { findCopy, readFingerprintKey } from '../../../src/snapshot/user-data-copy.js';
import { createMemoryLogger, silentLogger } from '../../../src/support/logger.js';
import { fillRestoreSource, RESTORE_CATEGORIES } from '../../fixtures/restore-source.js';
import { ageKeygen, type AgeKey } from '../../helpers/age.js';
import { connectionTo, createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { databaseExists, recordingEngine, userDataInput } from '../../helpers/restore.js';
import { snapshotOptionsForTest } from '../../helpers/snapshot-options.js';
import { createTempDir } from '../../helpers/temp-dir.js';

const HOST = 'test.example.org';
const SCRATCH = /^schema_backup_verify_[0-9a-f]{8}$/;

interface Fixture {
  readonly source: TestDatabase;
  readonly snapshot: SnapshotResult;
  readonly userDataDir: string;
  readonly key: AgeKey;
  readonly fingerprintKeyFile: string;
}

async function setUp(): Promise<Fixture> {
  const source = await createTestDatabase('verify');
  await fillRestoreSource(source);
  const backupDir = await createTempDir('verify');
  const userDataDir = await createTempDir('verify-data');
  const keysDir = await createTempDir('verify-keys');
  const key = ageKeygen(keysDir);
  const snapshot = await takeSnapshot(
    mariadbEngine,
    snapshotOptionsForTest({
      database: source.name,
      backupDir,
      host: HOST,
      categories: RESTORE_CATEGORIES,
      userData: {
        dir: userDataDir,
        recipients: [key.recipient],
        fingerprintKeyFile: join(keysDir, 'fingerprint.key'),
      },
    }),
  );
  return {
    source,
    snapshot,
    userDataDir,
    key,
    fingerprintKeyFile: join(keysDir, 'fingerprint.key'),
  };
}

async function optionsFor(
  fixture: Fixture,
  overrides: Partial<VerifyOptions> = {},
): Promise<VerifyOptions> {
  return {
    connection: connectionTo(fixture.source.name),
    source: directorySource(fixture.snapshot.hostDir),
    mode: 'restore',
    liveDatabase: fixture.source.name,
    fallbackCategories: { ignore: [], ...RESTORE_CATEGORIES },
    userData: await userDataInput(fixture.userDataDir, HOST, fixture.key.identityFile),
    userDataRows: new Map([['secrets', { rows: 5, fingerprint: '' }]]),
    host: HOST,
    parallel: 2,
    logger: silentLogger,
    ...overrides,
  };
}

describe('verify', () => {
  it('finds no difference right after a snapshot, and drops its scratch database', async () => {
    const fixture = await setUp();
    const engine = recordingEngine();
    const result = await verifySnapshot(engine, await optionsFor(fixture));
    expect(result.differences).toEqual([]);
    expect(result.equal).toBe(true);
    expect(result.mode).toBe('restore');
    expect(result.database).toMatch(SCRATCH);
    expect(result.tablesChecked).toBe(9);
    expect(result.objectsChecked).toBe(14);
    expect(engine.createdDatabases).toEqual([result.database]);
    expect(await databaseExists(result.database)).toBe(false);
  });

  it('finds a changed digit in a global row of a file, by the checksum the manifest recorded', async () => {
    const fixture = await setUp();
    const file = join(fixture.snapshot.hostDir, 'uniq.sql');
    const text = await readFile(file, 'utf8');
    const row = "INSERT INTO `uniq` (`code`,`n`) VALUES ('b',2);";
    expect(text).toContain(row);
    await writeFile(file, text.replace(row, "INSERT INTO `uniq` (`code`,`n`) VALUES ('b',3);"));

    const engine = recordingEngine();
    const result = await verifySnapshot(engine, await optionsFor(fixture));
    expect(result.equal).toBe(false);
    expect(result.differences).toEqual([
      {
        kind: 'table',
        name: 'uniq',
        problem: 'rows differ from the checksum the snapshot recorded',
      },
    ]);
    expect(engine.createdDatabases).toHaveLength(1);
    expect(await databaseExists(engine.createdDatabases[0]!)).toBe(false);
  });

  it('finds a row missing from a file by the row count the manifest recorded', async () => {
    const fixture = await setUp();
    const file = join(fixture.snapshot.hostDir, 'parent.sql');
    const text = await readFile(file, 'utf8');
    const row = "INSERT INTO `parent` (`id`,`name`) VALUES (1,'one');\n";
    expect(text).toContain(row);
    await writeFile(file, text.replace(row, ''));
    const engine = recordingEngine();
    const result = await verifySnapshot(engine, await optionsFor(fixture));
    expect(result.equal).toBe(false);
    expect(result.differences).toContainEqual({
      kind: 'table',
      name: 'parent',
      problem: 'row count 2, the snapshot recorded 3',
    });
    expect(await databaseExists(engine.createdDatabases[0]!)).toBe(false);
  });

  it('compares the rows of local tables with the count their user-data copy recorded', async () => {
    const fixture = await setUp();
    const engine = recordingEngine();
    const result = await verifySnapshot(
      engine,
      await optionsFor(fixture, {
        userDataRows: new Map([['secrets', { rows: 6, fingerprint: '' }]]),
      }),
    );
    expect(result.equal).toBe(false);
    expect(result.differences).toEqual([
      {
        kind: 'table',
        name: 'secrets',
        problem: '5 rows restored from the user-data copy, which recorded 6',
      },
    ]);
    expect(await databaseExists(engine.createdDatabases[0]!)).toBe(false);
  });

  it('drops the scratch database when the restore fails midway', async () => {
    const fixture = await setUp();
    const file = join(fixture.snapshot.hostDir, 'types.sql');
    const lines = (await readFile(file, 'utf8')).split('\n');
    const index = lines.findIndex((line) => line.startsWith('INSERT INTO `types`'));
    lines.splice(index + 2, 0, 'NOT SQL AT ALL;');
    await writeFile(file, lines.join('\n'));
    const engine = recordingEngine();
    const failure = await verifySnapshot(engine, await optionsFor(fixture)).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(RestoreError);
    // Its hint speaks of the scratch database, not of a target left to finish with --force.
    const hint = (failure as RestoreError).hint ?? '';
    expect(hint).toContain('scratch database is dropped');
    expect(hint).not.toMatch(/marked incomplete|--force/);
    expect(engine.createdDatabases).toHaveLength(1);
    expect(engine.createdDatabases[0]).toMatch(SCRATCH);
    expect(await databaseExists(engine.createdDatabases[0]!)).toBe(false);
  });

  it('live: no difference on the unchanged database; a changed row and a new table are found', async () => {
    const fixture = await setUp();
    const engine = recordingEngine();
    const live = { mode: 'live' as const, userData: undefined, userDataRows: undefined };
    const unchanged = await verifySnapshot(engine, await optionsFor(fixture, live));
    expect(unchanged.differences).toEqual([]);
    expect(unchanged.equal).toBe(true);
    expect(unchanged.database).toBe(fixture.source.name);

    await fixture.source.exec("UPDATE parent SET name = 'uno' WHERE id = 1");
    const changed = await verifySnapshot(engine, await optionsFor(fixture, live));
    expect(changed.equal).toBe(false);
    expect(changed.differences).toEqual([
      { kind: 'table', name: 'parent', problem: 'rows differ (+0 -0 ~1)' },
    ]);

    await fixture.source.exec("UPDATE parent SET name = 'one' WHERE id = 1");
    await fixture.source.exec('CREATE TABLE newcomer (id INT PRIMARY KEY)');
    const added = await verifySnapshot(engine, await optionsFor(fixture, live));
    expect(added.differences).toContainEqual({
      kind: 'table',
      name: 'newcomer',
      problem: 'not in the snapshot',
    });
    // Live mode never creates a database.
    expect(engine.createdDatabases).toEqual([]);
  });

  it("compares each sequence's next value: restored, and live after the sequence moved", async () => {
    const fixture = await setUp();
    const restored = await verifySnapshot(mariadbEngine, await optionsFor(fixture));
    expect(restored.differences).toEqual([]);
    // A sequence file whose state was edited (to hand out 105 again) is found by its checksum.
    const file = join(fixture.snapshot.hostDir, 'seq.sequence.sql');
    const text = await readFile(file, 'utf8');
    expect(text).toContain('\nDO SETVAL(`seq`, 5100, 0);\n');
    await writeFile(file, text.replace('DO SETVAL(`seq`, 5100, 0)', 'DO SETVAL(`seq`, 105, 0)'));
    const edited = await verifySnapshot(mariadbEngine, await optionsFor(fixture));
    expect(edited.differences).toEqual([
      {
        kind: 'sequence',
        name: 'seq',
        problem: 'definition differs from the checksum the snapshot recorded',
      },
    ]);
    await writeFile(file, text);

    // The source hands out its cached values, then takes the next cache: the state moved.
    const live = { mode: 'live' as const, userData: undefined, userDataRows: undefined };
    await fixture.source.exec('DO SETVAL(seq, 20000, 0)');
    const moved = await verifySnapshot(mariadbEngine, await optionsFor(fixture, live));
    expect(moved.differences).toEqual([
      { kind: 'sequence', name: 'seq', problem: 'definition or next value differs' },
    ]);
  });

  it('live: finds a routine made again under another client character set, and changed database defaults (issue 15)', async () => {
    const fixture = await setUp();
    const engine = recordingEngine();
    const live = { mode: 'live' as const, userData: undefined, userDataRows: undefined };
    // The same text, under the files' utf8mb4 instead of latin1: CHARSET('x') now says utf8mb4.
    await fixture.source.exec('DROP FUNCTION client_charset');
    await fixture.source.exec(
      "CREATE FUNCTION client_charset() RETURNS VARCHAR(60) DETERMINISTIC RETURN CONCAT(CHARSET('x'), ' ', COLLATION('x'))",
    );
    const routine = await verifySnapshot(engine, await optionsFor(fixture, live));
    expect(routine.differences).toEqual([
      { kind: 'function', name: 'client_charset', problem: 'definition differs' },
    ]);

    await fixture.source.exec('ALTER DATABASE CHARACTER SET latin1 COLLATE latin1_swedish_ci');
    const defaults = await verifySnapshot(engine, await optionsFor(fixture, live));
    expect(defaults.differences).toContainEqual({
      kind: 'database',
      name: 'defaults',
      problem: 'default character set or collation differs',
    });
    expect(defaults.equal).toBe(false);
  });

  it('verifies a snapshot without a manifest (an older one) by its files, with a warning', async () => {
    const fixture = await setUp();
    await rm(join(fixture.snapshot.hostDir, 'manifest.json'));
    const logger = createMemoryLogger();
    const engine = recordingEngine();
    const result = await verifySnapshot(engine, await optionsFor(fixture, { logger }));
    expect(result.differences).toEqual([]);
    expect(
      logger.lines.filter((line) => line.level === 'warn').map((line) => line.message),
    ).toEqual([expect.stringMatching(/has no manifest/)]);
    expect(await databaseExists(engine.createdDatabases[0]!)).toBe(false);
  });

  it('checks the rows of local tables by the keyed fingerprint their copy recorded, where the key is at hand', async () => {
    const fixture = await setUp();
    const copy = await findCopy(fixture.userDataDir, HOST, 'latest');
    const recorded = copy.manifest.tables.secrets;
    if (recorded === undefined) throw new Error('no secrets in the copy');
    const fingerprintKey = await readFingerprintKey(fixture.fingerprintKeyFile);
    expect(fingerprintKey).toBeDefined();
    const good = await verifySnapshot(
      mariadbEngine,
      await optionsFor(fixture, { userDataRows: new Map([['secrets', recorded]]), fingerprintKey }),
    );
    expect(good.differences).toEqual([]);
    const bad = await verifySnapshot(
      mariadbEngine,
      await optionsFor(fixture, {
        userDataRows: new Map([['secrets', { rows: recorded.rows, fingerprint: '0'.repeat(64) }]]),
        fingerprintKey,
      }),
    );
    expect(bad.differences).toEqual([
      {
        kind: 'table',
        name: 'secrets',
        problem: 'rows differ from the fingerprint the user-data copy recorded',
      },
    ]);
  });
});
