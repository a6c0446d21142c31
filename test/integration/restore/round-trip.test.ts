/**
 * Restore fidelity: database -> snapshot (with an encrypted user-data copy) -> restore into a
 * new database gives the same CHECKSUM TABLE on every table, the same bytes in every column,
 * every object, no trigger fired while loading, no marker left, and a snapshot of the
 * restored database identical to the first, byte for byte.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { INCOMPLETE_MARKER, restoreSnapshot } from '../../../src/restore/restore-snapshot.js';
import type { Progress } from '../../../src/support/progress.js';
import { directorySource } from '../../../src/restore/snapshot-source.js';
import { takeSnapshot } from '../../../src/snapshot/take-snapshot.js';
import { ROW_COUNT } from '../../fixtures/column-types.js';
import { sequenceStates } from '../../fixtures/schema-objects.js';
import {
  fillRestoreSource,
  ODD_COLUMNS,
  RESTORE_CATEGORIES,
  rowsAsHex,
  SECRETS_COLUMNS,
  TYPES_COLUMNS,
} from '../../fixtures/restore-source.js';
import { ageKeygen } from '../../helpers/age.js';
import { createTestDatabase } from '../../helpers/database.js';
import {
  baseTables,
  MARKER_TABLE,
  otherObjects,
  restoreOptionsForTest,
  userDataInput,
} from '../../helpers/restore.js';
import { objectMetadata } from '../../helpers/object-metadata.js';
import { snapshotOptionsForTest } from '../../helpers/snapshot-options.js';
import { createTempDir } from '../../helpers/temp-dir.js';

const HOST = 'test.example.org';

/** The files of a directory with their bytes, as latin1 text (lossless, and fast to compare). */
async function filesOf(dir: string): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  for (const file of (await readdir(dir)).sort())
    result.set(file, (await readFile(join(dir, file))).toString('latin1'));
  return result;
}

describe('restore round trip', () => {
  it('restores every table, row, column type and object, and the user data, exactly', async () => {
    const source = await createTestDatabase('rsrc');
    const marker = await fillRestoreSource(source);
    const backupDir = await createTempDir('rs-backup');
    const userDataDir = await createTempDir('rs-userdata');
    const keysDir = await createTempDir('rs-keys');
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
    expect(snapshot.git).toBe('committed');
    expect(snapshot.userData.outcome).toBe('created');
    expect(snapshot.tables.find((table) => table.name === 'types')?.rows).toBe(ROW_COUNT + 1);
    // The source's audit rows come from the trigger on secrets.
    const sourceAudit = await source.query('SELECT id, what FROM audit ORDER BY id');
    expect(sourceAudit).toHaveLength(5);

    const target = await createTestDatabase('rdst');
    const progress: Progress[] = [];
    const result = await restoreSnapshot(
      mariadbEngine,
      restoreOptionsForTest({
        target: target.name,
        source: directorySource(snapshot.hostDir),
        userData: await userDataInput(userDataDir, HOST, key.identityFile),
        onProgress: (entry) => progress.push(entry),
      }),
    );

    expect(result.target).toBe(target.name);
    expect([...result.tables].sort()).toEqual(
      [
        ...RESTORE_CATEGORIES.global,
        ...RESTORE_CATEGORIES.local,
        ...RESTORE_CATEGORIES.ephemeral,
      ].sort(),
    );
    expect(result.userDataTables).toEqual(['secrets']);
    expect([...result.objects].sort()).toEqual([
      'event hourly',
      'event nightly',
      'function client_charset',
      'function greet',
      'procedure count_parents',
      'procedure utf8mb3_note',
      'sequence cyc',
      'sequence seq',
      'trigger parent_ai',
      'trigger parent_bu',
      'trigger secrets_ai',
      'view a_first_names',
      'view latin1_literal',
      'view parent_names',
    ]);
    expect(result.statements).toBeGreaterThan(0);
    // Every table counted once (secrets after its user data too), every row the manifests
    // recorded loaded.
    const last = progress.at(-1);
    expect(last?.done).toBe(true);
    expect(last?.tablesDone).toBe(result.tables.length);
    expect(last?.tablesTotal).toBe(result.tables.length);
    expect(last?.rows).toBe(last?.rowsEstimate);
    expect(last?.rows).toBeGreaterThan(ROW_COUNT + 5);
    expect(progress[0]?.current).toBeDefined();

    // Same tables, no marker, same objects.
    expect(await baseTables(target.name)).toEqual(await baseTables(source.name));
    expect(await baseTables(target.name)).not.toContain(INCOMPLETE_MARKER);
    expect(INCOMPLETE_MARKER).toBe(MARKER_TABLE);
    expect(await otherObjects(target.name)).toEqual(await otherObjects(source.name));
    // Their metadata too: client character set, collations, sql_mode, time zone, the
    // database's defaults (issue 15).
    const metadata = await objectMetadata(source.name);
    expect(metadata.schemata).toEqual([
      { DEFAULT_CHARACTER_SET_NAME: 'latin1', DEFAULT_COLLATION_NAME: 'latin1_german1_ci' },
    ]);
    expect(await objectMetadata(target.name)).toEqual(metadata);
    const [charsets] = await target.query<{ f: string; v: string }>(
      'SELECT client_charset() AS f, (SELECT CONCAT(cs, " ", co) FROM latin1_literal) AS v',
    );
    expect(charsets).toEqual({ f: 'latin1 latin1_swedish_ci', v: 'latin1 latin1_swedish_ci' });

    // CHECKSUM TABLE equal on every table but the ephemeral one, which is restored empty.
    const sourceChecksums = await source.checksums();
    const targetChecksums = await target.checksums();
    expect([...targetChecksums.keys()]).toEqual([...sourceChecksums.keys()]);
    for (const [table, checksum] of sourceChecksums) {
      if (table === 'sessions') continue;
      expect(targetChecksums.get(table), table).toBe(checksum);
    }
    expect(await target.query('SELECT * FROM sessions')).toEqual([]);

    // Row by row, byte by byte.
    expect(await rowsAsHex(target, 'types', TYPES_COLUMNS)).toEqual(
      await rowsAsHex(source, 'types', TYPES_COLUMNS),
    );
    expect(await rowsAsHex(target, 'odd.name', ODD_COLUMNS)).toEqual(
      await rowsAsHex(source, 'odd.name', ODD_COLUMNS),
    );
    const secrets = await rowsAsHex(target, 'secrets', SECRETS_COLUMNS);
    expect(secrets).toEqual(await rowsAsHex(source, 'secrets', SECRETS_COLUMNS));
    expect(secrets).toHaveLength(5);
    const [markerRow] = await target.query<{ txt: string }>('SELECT txt FROM secrets WHERE id = 1');
    expect(markerRow?.txt).toBe(marker);
    const [zero] = await target.query<{ vc: string }>('SELECT vc FROM types WHERE id = 0');
    expect(zero?.vc).toBe('id zero');

    // No trigger fired while loading: audit is exactly the source's.
    expect(await target.query('SELECT id, what FROM audit ORDER BY id')).toEqual(sourceAudit);
    // The triggers are there and work afterwards.
    await target.exec("INSERT INTO parent VALUES (9, 'nine')");
    const [fired] = await target.query<{ what: string }>(
      'SELECT what FROM audit ORDER BY id DESC LIMIT 1',
    );
    expect(fired?.what).toBe('parent nine');
    await target.exec('DELETE FROM parent WHERE id = 9');
    await target.exec('DELETE FROM audit WHERE id > ?', [sourceAudit.length]);

    // Routines, views and the sequence work.
    const [greeting] = await target.query<{ g: string }>("SELECT greet('you') AS g");
    expect(greeting?.g).toBe('hello; you');
    expect(await target.query('SELECT name FROM a_first_names')).toEqual([
      { name: 'one' },
      { name: 'two' },
    ]);
    // The sequences, read as the tables they are: same state (without taking a value). The
    // source handed out 100 and 105 from a cache that ends before 5100; a cycled one is in
    // round 1.
    expect(await sequenceStates(target)).toEqual(await sequenceStates(source));
    expect(await target.query('SELECT * FROM seq')).toMatchObject([
      { next_not_cached_value: 5100, increment: 5 },
    ]);
    expect(await target.query('SELECT * FROM cyc')).toMatchObject([
      { next_not_cached_value: 2, cycle_count: 1 },
    ]);

    // The restored database snapshots to the very same files.
    const secondDir = await createTempDir('rs-again');
    const again = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({
        database: target.name,
        backupDir: secondDir,
        host: HOST,
        categories: RESTORE_CATEGORIES,
      }),
    );
    expect(await filesOf(again.hostDir)).toEqual(await filesOf(snapshot.hostDir));

    // The restored sequences hand out what the source would have, never a value it did.
    expect(await target.query('SELECT NEXTVAL(seq) AS n, NEXTVAL(cyc) AS c')).toEqual([
      { n: 5100, c: 2 },
    ]);
  });

  it('restores a table whose name is too long for a file name (the file is named by a hash)', async () => {
    const source = await createTestDatabase('rlong');
    // 30 euro signs: 270 bytes once %-encoded, over the 200 a file name may take.
    const long = '€'.repeat(30);
    await source.exec(`CREATE TABLE \`${long}\` (id INT PRIMARY KEY, v VARCHAR(10))`);
    await source.exec(`INSERT INTO \`${long}\` VALUES (1, 'kept')`);
    await source.exec('CREATE TABLE plain (id INT PRIMARY KEY)');
    const backupDir = await createTempDir('rs-long');
    const snapshot = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({
        database: source.name,
        backupDir,
        categories: { global: [long, 'plain'] },
      }),
    );
    const longFile = snapshot.tables.find((table) => table.name === long)?.file ?? '';
    expect(longFile).toMatch(/%%[0-9a-f]{16}\.sql$/);
    const target = await createTestDatabase('rlongdst');
    const result = await restoreSnapshot(
      mariadbEngine,
      restoreOptionsForTest({ target: target.name, source: directorySource(snapshot.hostDir) }),
    );
    // BUG: objectForFileName cannot decode a hashed name, so planFiles skips the file
    // silently: the restore reports success without the table.
    expect([...result.tables].sort()).toEqual([long, 'plain'].sort());
    expect(await baseTables(target.name)).toEqual(await baseTables(source.name));
  });

  it('restores structure only for local tables without user data, and one table at a time with parallel 1', async () => {
    const source = await createTestDatabase('rsrc');
    await fillRestoreSource(source);
    const backupDir = await createTempDir('rs-nouser');
    const snapshot = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({ database: source.name, backupDir, categories: RESTORE_CATEGORIES }),
    );
    const target = await createTestDatabase('rdst');
    const result = await restoreSnapshot(
      mariadbEngine,
      restoreOptionsForTest({
        target: target.name,
        source: directorySource(snapshot.hostDir),
        parallel: 1,
      }),
    );
    expect(result.userDataTables).toEqual([]);
    expect(await target.query('SELECT * FROM secrets')).toEqual([]);
    expect(await baseTables(target.name)).toEqual(await baseTables(source.name));
    const sourceChecksums = await source.checksums();
    const targetChecksums = await target.checksums();
    for (const table of RESTORE_CATEGORIES.global)
      expect(targetChecksums.get(table), table).toBe(sourceChecksums.get(table));
  });
});
