/**
 * A MariaDB table whose rows live outside the database (a file in a DATA DIRECTORY of the
 * server's, a MERGE table's UNION, CONNECT, FEDERATED) is snapshotted and dumped as it is,
 * but restore and load refuse to create it unless --allow-external-access: nothing is
 * created (no file in the directory, no table), and the error names the table and the
 * option, never the path. With the option, restore and load create it. Load creates events
 * disabled, as restore does, unless --keep-events-enabled.
 */
import { createHash } from 'node:crypto';
import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dumpDatabase, type DumpOptions } from '../../../src/dump/dump-database.js';
import type { DumpManifest } from '../../../src/dump/dump-format.js';
import { loadDump } from '../../../src/dump/load-dump.js';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { ExternalAccessError } from '../../../src/errors.js';
import { restoreSnapshot } from '../../../src/restore/restore-snapshot.js';
import { verifySnapshot } from '../../../src/restore/verify-snapshot.js';
import { silentLogger } from '../../../src/support/logger.js';
import { directorySource } from '../../../src/restore/snapshot-source.js';
import { takeSnapshot } from '../../../src/snapshot/take-snapshot.js';
import { connectionTo, createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { dumpOptionsForTest, loadOptionsForTest } from '../../helpers/dump.js';
import { baseTables, databaseExists, restoreOptionsForTest } from '../../helpers/restore.js';
import { snapshotOptionsForTest } from '../../helpers/snapshot-options.js';
import { createTempDir } from '../../helpers/temp-dir.js';

interface Fixture {
  readonly source: TestDatabase;
  /** The DATA DIRECTORY of table `dd`, empty again once the source's `dd` is dropped. */
  readonly dataDir: string;
  readonly hostDir: string;
  readonly dumpFile: string;
  readonly dumpDir: string;
}

/**
 * `base` (InnoDB, rows), `parts` (MyISAM, empty), `merged` (MERGE over parts), `dd`
 * (MyISAM in a DATA DIRECTORY), an enabled event; snapshotted and dumped (a file and a
 * directory), then `dd` dropped from the source (its file goes with it).
 */
async function fixture(): Promise<Fixture> {
  const source = await createTestDatabase('exttab');
  const dataDir = await createTempDir('sbhard-datadir');
  await chmod(dataDir, 0o777);
  await source.exec('CREATE TABLE base (id INT PRIMARY KEY, v VARCHAR(20))');
  await source.exec("INSERT INTO base VALUES (1, 'one'), (2, 'two')");
  await source.exec('CREATE TABLE parts (id INT) ENGINE=MyISAM');
  await source.exec(
    'CREATE TABLE merged (id INT) ENGINE=MRG_MyISAM UNION=(parts) INSERT_METHOD=LAST',
  );
  await source.exec(`CREATE TABLE dd (id INT) ENGINE=MyISAM DATA DIRECTORY='${dataDir}'`);
  await source.exec('CREATE EVENT ev ON SCHEDULE EVERY 1 DAY ENABLE DO DELETE FROM base');
  expect(await readdir(dataDir)).toEqual(['dd.MYD']);
  const backupDir = await createTempDir('sbhard-ext');
  const snapshot = await takeSnapshot(
    mariadbEngine,
    snapshotOptionsForTest({
      database: source.name,
      backupDir,
      categories: { global: ['base', 'parts', 'merged', 'dd'] },
    }),
  );
  const dump = async (overrides: Partial<DumpOptions>): Promise<string> =>
    (
      await dumpDatabase(
        mariadbEngine,
        dumpOptionsForTest({
          databases: [source.name],
          dumpDir: await createTempDir('sbhard-dump'),
          ...overrides,
        }),
      )
    ).path ?? '';
  const dumpFile = await dump({});
  const dumpDir = await dump({ form: 'directory' });
  await source.exec('DROP TABLE dd');
  expect(await readdir(dataDir)).toEqual([]);
  return { source, dataDir, hostDir: snapshot.hostDir, dumpFile, dumpDir };
}

/** A name for a target the workflow must create, dropped when the test finishes. */
async function freshTarget(): Promise<string> {
  const target = await createTestDatabase('exttgt');
  await target.exec(`DROP DATABASE \`${target.name}\``);
  return target.name;
}

function expectExternalRefusal(error: unknown, dataDir: string): void {
  expect(error).toBeInstanceOf(ExternalAccessError);
  const message = (error as Error).message;
  expect(message).toMatch(/table `(?:dd|merged)` has (?:DATA DIRECTORY|UNION)/);
  expect(message).not.toContain(dataDir);
  expect((error as ExternalAccessError).hint).toMatch(/--allow-external-access/);
}

async function tablesOf(database: string): Promise<string[]> {
  return (await databaseExists(database)) ? baseTables(database) : [];
}

/** Rewrites file `name` of dump directory `dir` with `text`, and its manifest entry to match. */
async function rewriteWithManifest(dir: string, name: string, text: string): Promise<void> {
  await writeFile(join(dir, name), text);
  const manifestPath = join(dir, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as DumpManifest;
  const bytes = Buffer.from(text);
  const files = manifest.files.map((file) =>
    file.name === name
      ? { ...file, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }
      : file,
  );
  await writeFile(manifestPath, `${JSON.stringify({ ...manifest, files }, null, 2)}\n`);
}

describe('tables outside the database (MariaDB)', () => {
  it('restore and load refuse them, creating nothing; --allow-external-access lets them through; load disables events', async () => {
    const f = await fixture();
    // The snapshot writer is unchanged: the files say what the tables are.
    const files = await readdir(f.hostDir);
    const texts = await Promise.all(
      files
        .filter((name) => name.endsWith('.sql'))
        .map((name) => readFile(join(f.hostDir, name), 'utf8')),
    );
    expect(texts.some((text) => text.includes('DATA DIRECTORY='))).toBe(true);
    expect(texts.some((text) => text.includes('UNION=(`parts`)'))).toBe(true);

    // restore: refused, neither table created, no file in the directory.
    const refusedTarget = await freshTarget();
    const restoreError = await restoreSnapshot(
      mariadbEngine,
      restoreOptionsForTest({ target: refusedTarget, source: directorySource(f.hostDir) }),
    ).catch((error: unknown) => error);
    expectExternalRefusal(restoreError, f.dataDir);
    const restored = await tablesOf(refusedTarget);
    expect(restored).not.toContain('dd');
    expect(restored).not.toContain('merged');
    expect(await readdir(f.dataDir)).toEqual([]);

    // load, a single file and a directory: refused, the new target dropped, no file.
    for (const path of [f.dumpFile, f.dumpDir]) {
      const target = await freshTarget();
      const error = await loadDump(mariadbEngine, loadOptionsForTest({ path, into: target })).catch(
        (caught: unknown) => caught,
      );
      expectExternalRefusal(error, f.dataDir);
      expect(await databaseExists(target)).toBe(false);
      expect(await readdir(f.dataDir)).toEqual([]);
    }

    // verify: refused the same way; with the option, the scratch copy compares equal.
    const verify = (allowExternalAccess: boolean) =>
      verifySnapshot(mariadbEngine, {
        connection: connectionTo(),
        source: directorySource(f.hostDir),
        mode: 'restore',
        liveDatabase: f.source.name,
        fallbackCategories: { global: [], local: [], ephemeral: [], ignore: [] },
        host: 'test.example.org',
        parallel: 2,
        allowExternalAccess,
        logger: silentLogger,
      });
    expectExternalRefusal(await verify(false).catch((error: unknown) => error), f.dataDir);
    expect(await readdir(f.dataDir)).toEqual([]);
    const verified = await verify(true);
    expect(verified.differences).toEqual([]);
    expect(verified.equal).toBe(true);
    // The scratch database is dropped, its file with it.
    expect(await readdir(f.dataDir)).toEqual([]);

    // With the option: restore creates them (the file appears in the directory).
    const allowedTarget = await freshTarget();
    await restoreSnapshot(
      mariadbEngine,
      restoreOptionsForTest({
        target: allowedTarget,
        source: directorySource(f.hostDir),
        allowExternalAccess: true,
      }),
    );
    expect(await baseTables(allowedTarget)).toEqual(
      expect.arrayContaining(['base', 'dd', 'merged', 'parts']),
    );
    expect(await readdir(f.dataDir)).toEqual(['dd.MYD']);
    await f.source.exec(`DROP DATABASE \`${allowedTarget}\``);
    expect(await readdir(f.dataDir)).toEqual([]);

    // …and load: events created disabled by default, as the dump had them with the option.
    const loaded = await freshTarget();
    const result = await loadDump(
      mariadbEngine,
      loadOptionsForTest({ path: f.dumpFile, into: loaded, allowExternalAccess: true }),
    );
    expect(await baseTables(loaded)).toEqual(
      expect.arrayContaining(['base', 'dd', 'merged', 'parts']),
    );
    expect(existsSync(join(f.dataDir, 'dd.MYD'))).toBe(true);
    expect(result.disabledEvents).toEqual([`${loaded}.ev`]);
    const status = async (database: string) =>
      f.source.query('SELECT STATUS FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?', [
        database,
      ]);
    expect(await status(loaded)).toEqual([{ STATUS: 'DISABLED' }]);
    await f.source.exec(`DROP DATABASE \`${loaded}\``);

    const kept = await freshTarget();
    const keptResult = await loadDump(
      mariadbEngine,
      loadOptionsForTest({
        path: f.dumpDir,
        into: kept,
        allowExternalAccess: true,
        keepEventsEnabled: true,
      }),
    );
    expect(keptResult.disabledEvents).toEqual([]);
    expect(await status(kept)).toEqual([{ STATUS: 'ENABLED' }]);
    await f.source.exec(`DROP DATABASE \`${kept}\``);
  });

  it('a table made FEDERATED or CONNECT in a snapshot file or a dump (manifest rewritten) is refused; nothing created', async () => {
    const f = await fixture();
    const baseFile = (await readdir(f.hostDir)).find((name) => name.startsWith('base.')) ?? '';
    const baseText = await readFile(join(f.hostDir, baseFile), 'utf8');
    for (const option of [
      "ENGINE=FEDERATED CONNECTION='mysql://root@127.0.0.1:3306/sbhard_other/t'",
      "/*!50100 ENGINE=CONNECT */ TABLE_TYPE=CSV FILE_NAME='/tmp/sbhard_connect.csv'",
    ]) {
      await writeFile(join(f.hostDir, baseFile), baseText.replace(/ENGINE=InnoDB/, option));
      const target = await freshTarget();
      const error = await restoreSnapshot(
        mariadbEngine,
        restoreOptionsForTest({
          target,
          source: directorySource(f.hostDir),
          only: ['base'],
        }),
      ).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ExternalAccessError);
      expect((error as Error).message).toMatch(/table `base` has ENGINE=(?:FEDERATED|CONNECT)/);
      expect((error as Error).message).not.toMatch(/sbhard_|mysql:/);
      expect(await tablesOf(target)).not.toContain('base');
      expect(existsSync('/tmp/sbhard_connect.csv')).toBe(false);
    }

    const schema = (await readdir(f.dumpDir)).find((name) => name.endsWith('-schema.sql')) ?? '';
    const schemaText = await readFile(join(f.dumpDir, schema), 'utf8');
    expect(schemaText).toMatch(/CREATE TABLE `base`[^;]*ENGINE=InnoDB/);
    await rewriteWithManifest(
      f.dumpDir,
      schema,
      schemaText.replace(
        /(CREATE TABLE `base`[^;]*)ENGINE=InnoDB/,
        "$1ENGINE=CONNECT TABLE_TYPE=CSV FILE_NAME='/tmp/sbhard_connect.csv'",
      ),
    );
    const target = await freshTarget();
    const error = await loadDump(
      mariadbEngine,
      loadOptionsForTest({ path: f.dumpDir, into: target }),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExternalAccessError);
    expect((error as Error).message).toMatch(/table `base` has ENGINE=CONNECT/);
    expect((error as ExternalAccessError).hint).toMatch(/Nothing was loaded/);
    expect(await databaseExists(target)).toBe(false);
    expect(existsSync('/tmp/sbhard_connect.csv')).toBe(false);
  });
});
