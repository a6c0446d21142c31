/**
 * Issue 15, findings 1 and 3: objects come back under the client character set and
 * collation they were made under, and the database with its own defaults, through restore
 * and the stock client; a snapshot written before this still restores.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { restoreSnapshot } from '../../../src/restore/restore-snapshot.js';
import { verifySnapshot, type VerifyOptions } from '../../../src/restore/verify-snapshot.js';
import { directorySource } from '../../../src/restore/snapshot-source.js';
import { DATABASE_DEFAULTS_FILE } from '../../../src/snapshot/layout.js';
import { takeSnapshot } from '../../../src/snapshot/take-snapshot.js';
import { silentLogger } from '../../../src/support/logger.js';
import { connectionTo, createTestDatabase, loadWithStockClient } from '../../helpers/database.js';
import { objectMetadata } from '../../helpers/object-metadata.js';
import { restoreOptionsForTest, serverQuery } from '../../helpers/restore.js';
import { snapshotOptionsForTest } from '../../helpers/snapshot-options.js';
import { createTempDir } from '../../helpers/temp-dir.js';

/** The function: `latin1:E9` where it was made, `utf8mb4:C3A9` after a restore under utf8mb4. */
const LATIN1_FUNCTION = Buffer.concat([
  Buffer.from(
    "SET NAMES latin1;\nCREATE FUNCTION latin1_e() RETURNS VARCHAR(40) DETERMINISTIC RETURN CONCAT(CHARSET('x'),':',HEX('",
  ),
  Buffer.from([0xe9]),
  Buffer.from("'));\n"),
]);

interface RoutineRow {
  CHARACTER_SET_CLIENT: string;
  COLLATION_CONNECTION: string;
  DATABASE_COLLATION: string;
}

async function routineOf(database: string, name: string): Promise<RoutineRow | undefined> {
  const [row] = await serverQuery<RoutineRow>(
    'SELECT CHARACTER_SET_CLIENT, COLLATION_CONNECTION, DATABASE_COLLATION FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_NAME = ?',
    [database, name],
  );
  return row;
}

async function defaultsOf(database: string): Promise<unknown> {
  const [row] = await serverQuery(
    'SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
    [database],
  );
  return row;
}

describe('regression 15: client character sets and database defaults', () => {
  it('a latin1 function with a non-ASCII body behaves as it did, through restore and the stock client', async () => {
    const source = await createTestDatabase('r15');
    await source.exec('ALTER DATABASE CHARACTER SET latin1 COLLATE latin1_german1_ci');
    await source.exec('CREATE TABLE t (id INT PRIMARY KEY)');
    const script = join(await createTempDir('r15-script'), 'latin1.sql');
    await writeFile(script, LATIN1_FUNCTION);
    await loadWithStockClient(source.name, script);
    const call = 'SELECT latin1_e() AS v';
    expect(await source.query(call)).toEqual([{ v: 'latin1:E9' }]);

    const backupDir = await createTempDir('r15');
    const snapshot = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({ database: source.name, backupDir, categories: { global: ['t'] } }),
    );
    // The file stays UTF-8 text: the body under utf8mb4, its collation_connection kept, and
    // a note of what was recorded.
    const file = await readFile(join(snapshot.hostDir, 'latin1_e.function.sql'));
    expect(file.toString('utf8')).toContain("HEX('é')");
    expect(Buffer.from(file.toString('utf8'))).toEqual(file);
    expect(file.toString('utf8')).toContain(
      '-- created under client character set latin1; written under utf8mb4 (its text is not ASCII)',
    );
    expect(file.toString('utf8')).toContain(
      "SET character_set_client = 'utf8mb4';\nSET collation_connection = 'latin1_swedish_ci';\n",
    );
    expect(await readFile(join(snapshot.hostDir, DATABASE_DEFAULTS_FILE), 'utf8')).toContain(
      '\nALTER DATABASE CHARACTER SET latin1 COLLATE latin1_german1_ci;\n',
    );

    // restore creates the target with the source's defaults.
    const target = `${source.name}_restored`;
    try {
      await restoreSnapshot(
        mariadbEngine,
        restoreOptionsForTest({ target, source: directorySource(snapshot.hostDir) }),
      );
      expect(await defaultsOf(target)).toEqual({ cs: 'latin1', co: 'latin1_german1_ci' });
      expect(await serverQuery(`SELECT \`${target}\`.latin1_e() AS v`)).toEqual([
        { v: 'latin1:E9' },
      ]);
      expect(await routineOf(target, 'latin1_e')).toEqual({
        CHARACTER_SET_CLIENT: 'utf8mb4',
        COLLATION_CONNECTION: 'latin1_swedish_ci',
        DATABASE_COLLATION: 'latin1_german1_ci',
      });
    } finally {
      await serverQuery(`DROP DATABASE IF EXISTS \`${target}\``);
    }

    // verify says the restore does not give it back exactly: its recorded client character
    // set is utf8mb4 there (live, the database is as the snapshot says).
    const verifyOptions: VerifyOptions = {
      connection: connectionTo(source.name),
      source: directorySource(snapshot.hostDir),
      mode: 'restore',
      liveDatabase: source.name,
      fallbackCategories: { global: ['t'], local: [], ephemeral: [], ignore: [] },
      host: snapshot.host,
      parallel: 1,
      logger: silentLogger,
    };
    expect((await verifySnapshot(mariadbEngine, verifyOptions)).differences).toEqual([
      { kind: 'function', name: 'latin1_e', problem: 'definition differs' },
    ]);
    expect(
      (await verifySnapshot(mariadbEngine, { ...verifyOptions, mode: 'live' })).differences,
    ).toEqual([]);

    // The stock client, in the README's order.
    const stock = await createTestDatabase('r15stock');
    for (const name of [DATABASE_DEFAULTS_FILE, 't.sql', 'latin1_e.function.sql'])
      await loadWithStockClient(stock.name, join(snapshot.hostDir, name));
    expect(await stock.query(call)).toEqual([{ v: 'latin1:E9' }]);
    expect(await defaultsOf(stock.name)).toEqual({ cs: 'latin1', co: 'latin1_german1_ci' });
    expect(await routineOf(stock.name, 'latin1_e')).toMatchObject({
      COLLATION_CONNECTION: 'latin1_swedish_ci',
      DATABASE_COLLATION: 'latin1_german1_ci',
    });
  });

  it('a snapshot written before the defaults file and the client character set lines still restores', async () => {
    const source = await createTestDatabase('r15old');
    await source.exec('CREATE TABLE t (id INT PRIMARY KEY)');
    await source.exec('CREATE VIEW v AS SELECT id FROM t');
    await source.exec('CREATE FUNCTION two() RETURNS INT DETERMINISTIC RETURN 2');
    const backupDir = await createTempDir('r15old');
    const snapshot = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({ database: source.name, backupDir, categories: { global: ['t'] } }),
    );
    // Back to what an earlier version wrote, the manifest's checksums with it.
    const manifestPath = join(snapshot.hostDir, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as {
      objects: Record<string, string>;
    };
    await rm(join(snapshot.hostDir, DATABASE_DEFAULTS_FILE));
    manifest.objects = Object.fromEntries(
      Object.entries(manifest.objects).filter(([file]) => file !== DATABASE_DEFAULTS_FILE),
    );
    for (const file of await readdir(snapshot.hostDir)) {
      if (!/\.(view|function)\.sql$/.test(file)) continue;
      // The preamble (up to the first blank line) stays; the lines around the CREATE go.
      const written = await readFile(join(snapshot.hostDir, file), 'utf8');
      const body = written.indexOf('\n\n');
      const text =
        written.slice(0, body) +
        written
          .slice(body)
          .replace(/^SET (character_set_client|collation_connection|NAMES) .*\n/gm, '');
      expect(text).not.toContain('character_set_client');
      expect(text.startsWith(written.slice(0, body))).toBe(true);
      await writeFile(join(snapshot.hostDir, file), text);
      manifest.objects[file] = createHash('sha256').update(text).digest('hex');
    }
    await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);

    const target = await createTestDatabase('r15olddst');
    await restoreSnapshot(
      mariadbEngine,
      restoreOptionsForTest({ target: target.name, source: directorySource(snapshot.hostDir) }),
    );
    expect(await objectMetadata(target.name)).toEqual(await objectMetadata(source.name));
    expect(await target.query('SELECT two() AS v')).toEqual([{ v: 2 }]);
  });
});
