/**
 * Issue 21 item 1: user-data copies are compressed, and a copy shares the files of unchanged
 * tables with the previous one. Against the real server, the stock `age` and `zstd` CLIs,
 * real keys and real hard links: a compressed copy restores (schema_backup and the stock
 * pipeline), an unchanged table is the same inode in the next copy, pruning the older copy
 * leaves the newer one whole, and a copy of the old uncompressed format still restores.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import type { Compression } from '../../../src/dump/compression.js';
import { prune } from '../../../src/ops/prune.js';
import { diskUsage } from '../../../src/ops/disk-usage.js';
import { restoreSnapshot } from '../../../src/restore/restore-snapshot.js';
import { directorySource } from '../../../src/restore/snapshot-source.js';
import { takeSnapshot, type SnapshotResult } from '../../../src/snapshot/take-snapshot.js';
import { listCopies, type UserDataManifest } from '../../../src/snapshot/user-data-copy.js';
import { silentLogger } from '../../../src/support/logger.js';
import { ageDecryptSql, ageKeygen, pipeAgeIntoMariadb, type AgeKey } from '../../helpers/age.js';
import {
  createTestDatabase,
  loadWithStockClient,
  type TestDatabase,
} from '../../helpers/database.js';
import { baseTables, restoreOptionsForTest, userDataInput } from '../../helpers/restore.js';
import { runCli } from '../../helpers/run-cli.js';
import { snapshotOptionsForTest } from '../../helpers/snapshot-options.js';
import { createTempDir } from '../../helpers/temp-dir.js';

const HOST = 'test.example.org';
const DAY = 24 * 3600 * 1000;
const T1 = new Date('2026-03-01T10:00:00.000Z');
const T2 = new Date(T1.getTime() + DAY);
const T3 = new Date(T1.getTime() + 2 * DAY);

interface Fixture {
  readonly source: TestDatabase;
  readonly backupDir: string;
  readonly userDataDir: string;
  readonly keysDir: string;
  readonly key: AgeKey;
  readonly hostDir: string;
}

/** Two local tables with repetitive text (compressible, as real rows are) and a global one. */
async function setUp(): Promise<Fixture> {
  const source = await createTestDatabase('userdata_share');
  for (const table of ['notes', 'messages']) {
    await source.exec(
      `CREATE TABLE ${table} (id INT PRIMARY KEY, body TEXT CHARACTER SET utf8mb4, at DATETIME)`,
    );
    await source.exec(
      `INSERT INTO ${table} SELECT seq, CONCAT('${table} row ', seq, ': the quick brown fox jumps over the lazy dog ', REPEAT('é', seq MOD 7)), '2026-01-01' + INTERVAL seq MINUTE FROM seq_1_to_2000`,
    );
  }
  await source.exec('CREATE TABLE settings (id INT PRIMARY KEY, v VARCHAR(20))');
  await source.exec("INSERT INTO settings VALUES (1, 'a')");
  const keysDir = await createTempDir('userdata-keys');
  const userDataDir = await createTempDir('userdata-copies');
  return {
    source,
    backupDir: await createTempDir('userdata-backup'),
    userDataDir,
    keysDir,
    key: ageKeygen(keysDir),
    hostDir: join(userDataDir, HOST),
  };
}

async function snapshot(
  fixture: Fixture,
  now: Date,
  compression?: Compression,
): Promise<SnapshotResult> {
  return takeSnapshot(
    mariadbEngine,
    snapshotOptionsForTest({
      database: fixture.source.name,
      backupDir: fixture.backupDir,
      host: HOST,
      categories: { local: ['notes', 'messages'], global: ['settings'] },
      userData: {
        dir: fixture.userDataDir,
        recipients: [fixture.key.recipient],
        fingerprintKeyFile: join(fixture.keysDir, 'fingerprint.key'),
        compression,
      },
      now,
    }),
  );
}

function created(result: SnapshotResult): { path: string; timestamp: string } {
  if (result.userData.outcome !== 'created')
    throw new Error(`no copy created: ${result.userData.outcome}`);
  return result.userData;
}

async function manifestOf(copyDir: string): Promise<UserDataManifest> {
  return JSON.parse(await readFile(join(copyDir, 'manifest.json'), 'utf8')) as UserDataManifest;
}

/** Restores the snapshot with the `latest` (or `copy`) user data into a new database. */
async function restoreInto(
  fixture: Fixture,
  hostDir: string,
  copy = 'latest',
): Promise<TestDatabase> {
  const target = await createTestDatabase('userdata_rst');
  await restoreSnapshot(
    mariadbEngine,
    restoreOptionsForTest({
      target: target.name,
      source: directorySource(hostDir),
      userData: await userDataInput(fixture.userDataDir, HOST, fixture.key.identityFile, copy),
    }),
  );
  return target;
}

describe('user data: compressed copies', () => {
  it('writes .sql.zst.age files far smaller than the SQL, restored by restore and by age -d | zstd -d | mariadb', async () => {
    const fixture = await setUp();
    const result = await snapshot(fixture, T1);
    const copy = created(result);
    const manifest = await manifestOf(copy.path);
    expect(manifest.format).toBe(2);
    const notes = manifest.tables.notes;
    expect(notes).toMatchObject({ file: 'notes.sql.zst.age', compression: 'zstd', rows: 2000 });
    // Compressed: the file is a fraction of the SQL it holds.
    expect(notes?.bytes).toBe((await stat(join(copy.path, 'notes.sql.zst.age'))).size);
    expect((notes?.bytes ?? 0) * 4).toBeLessThan(notes?.plaintextBytes ?? 0);
    // The stock tools read it: age -d, then zstd -d, gives exactly the recorded SQL.
    const sql = ageDecryptSql(fixture.key.identityFile, join(copy.path, 'notes.sql.zst.age'));
    expect(sql.length).toBe(notes?.plaintextBytes);
    expect(sql.toString('utf8')).toContain('notes row 1999: the quick brown fox');

    // schema_backup's restore (checks sizes and fingerprints, then loads).
    const sourceSums = await fixture.source.checksums();
    const restored = await restoreInto(fixture, result.hostDir);
    expect(await restored.checksums()).toEqual(sourceSums);
    const target = await createTestDatabase('userdata_pipe');
    // The README recipe: table files, then `age -d | zstd -d | mariadb` for each local table.
    for (const table of ['notes', 'messages', 'settings'])
      await loadWithStockClient(target.name, join(result.hostDir, `${table}.sql`));
    for (const table of ['notes', 'messages'])
      await pipeAgeIntoMariadb(
        fixture.key.identityFile,
        join(copy.path, `${table}.sql.zst.age`),
        target.name,
      );
    const pipedSums = await target.checksums();
    for (const table of ['notes', 'messages']) {
      expect(sourceSums.get(table)).toMatch(/^\d+$/);
      expect(pipedSums.get(table)).toBe(sourceSums.get(table));
    }
    expect(await baseTables(restored.name)).toEqual(['messages', 'notes', 'settings']);

    // `decrypt` writes the SQL, decompressed.
    const cli = await runCli([
      'decrypt',
      join(copy.path, 'notes.sql.zst.age'),
      '--identity',
      fixture.key.identityFile,
    ]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain('notes row 1: the quick brown fox');
    expect(cli.stdout).toContain('notes row 2000: the quick brown fox');
  });
});

describe('user data: unchanged tables are shared with the previous copy', () => {
  it('hard-links an unchanged table into the next copy; pruning the older copy leaves the newer whole', async () => {
    const fixture = await setUp();
    const first = created(await snapshot(fixture, T1));
    // Unchanged data: no new copy at all, as before.
    const same = await snapshot(fixture, T2);
    expect(same.userData).toEqual({ outcome: 'unchanged', latest: first.timestamp });

    await fixture.source.exec("UPDATE messages SET body = 'changed' WHERE id = 7");
    const result = await snapshot(fixture, T3);
    expect(result.userData).toMatchObject({ outcome: 'created', tables: 2, reused: 1 });
    const second = created(result);
    const before = {
      notes: await stat(join(first.path, 'notes.sql.zst.age')),
      messages: await stat(join(first.path, 'messages.sql.zst.age')),
    };
    const after = {
      notes: await stat(join(second.path, 'notes.sql.zst.age')),
      messages: await stat(join(second.path, 'messages.sql.zst.age')),
    };
    // notes: the same file (inode), stored once; messages: a new file.
    expect(after.notes.ino).toBe(before.notes.ino);
    expect(after.notes.nlink).toBe(2);
    expect(after.messages.ino).not.toBe(before.messages.ino);
    expect(after.messages.nlink).toBe(1);
    expect((after.notes.mode & 0o777).toString(8)).toBe('600');
    if (result.userData.outcome === 'created')
      expect(result.userData.newBytes).toBe(after.messages.size);
    const firstManifest = await manifestOf(first.path);
    const secondManifest = await manifestOf(second.path);
    expect(secondManifest.tables.notes).toEqual(firstManifest.tables.notes);
    expect(secondManifest.tables.messages?.fingerprint).not.toBe(
      firstManifest.tables.messages?.fingerprint,
    );
    // Disk usage counts the shared file once.
    const files = [before.notes, before.messages, after.messages].map((info) => info.size);
    const manifests = (await stat(join(first.path, 'manifest.json'))).size;
    const manifests2 = (await stat(join(second.path, 'manifest.json'))).size;
    expect(await diskUsage(fixture.hostDir)).toBe(
      files.reduce((sum, size) => sum + size, 0) + manifests + manifests2 + second.timestamp.length,
    );

    // Pruning the older copy frees only what it alone holds, and leaves the newer restorable.
    const dry = await prune({
      host: HOST,
      userDataDir: fixture.userDataDir,
      policy: { daily: 1, weekly: 0, monthly: 0 },
      dryRun: true,
      logger: silentLogger,
    });
    expect(dry.sets[0]?.drop.map((item) => item.name)).toEqual([first.timestamp]);
    expect(dry.bytesToFree).toBe(before.messages.size + manifests);
    const pruned = await prune({
      host: HOST,
      userDataDir: fixture.userDataDir,
      policy: { daily: 1, weekly: 0, monthly: 0 },
      dryRun: false,
      logger: silentLogger,
    });
    expect(pruned.deleted).toBe(1);
    expect(await listCopies(fixture.hostDir)).toEqual([second.timestamp]);
    expect((await stat(join(second.path, 'notes.sql.zst.age'))).nlink).toBe(1);
    const restored = await restoreInto(fixture, result.hostDir);
    expect(await restored.checksums()).toEqual(await fixture.source.checksums());
  });

  it('does not share a file across a change of compression', async () => {
    const fixture = await setUp();
    const first = created(await snapshot(fixture, T1, 'none'));
    expect((await manifestOf(first.path)).tables.notes?.file).toBe('notes.sql.age');
    // The same rows under another compression: no new copy (the data did not change).
    expect((await snapshot(fixture, T2, 'zstd')).userData.outcome).toBe('unchanged');
    await fixture.source.exec("UPDATE messages SET body = 'changed' WHERE id = 7");
    const second = created(await snapshot(fixture, T3, 'zstd'));
    // notes is unchanged but was stored uncompressed: written anew, compressed.
    expect((await manifestOf(second.path)).tables.notes).toMatchObject({
      file: 'notes.sql.zst.age',
      compression: 'zstd',
    });
    expect((await stat(join(second.path, 'notes.sql.zst.age'))).nlink).toBe(1);
  });
});

describe('user data: copies of the old format', () => {
  it('restores and decrypts a format-1 copy (.sql.age, no compression in the manifest)', async () => {
    const fixture = await setUp();
    const result = await snapshot(fixture, T1, 'none');
    const copy = created(result);
    // What a version before compression wrote: format 1, entries without `compression`.
    const manifest = await manifestOf(copy.path);
    const old = {
      ...manifest,
      format: 1,
      tables: Object.fromEntries(
        Object.entries(manifest.tables).map(([table, entry]) => {
          const { compression, ...rest } = entry;
          expect(compression).toBe('none');
          return [table, rest];
        }),
      ),
    };
    await writeFile(join(copy.path, 'manifest.json'), `${JSON.stringify(old, null, 2)}\n`);
    expect(
      Object.values(old.tables)
        .map((entry) => entry.file)
        .sort(),
    ).toEqual(['messages.sql.age', 'notes.sql.age']);

    const restored = await restoreInto(fixture, result.hostDir);
    expect(await restored.checksums()).toEqual(await fixture.source.checksums());
    const cli = await runCli([
      'decrypt',
      join(copy.path, 'notes.sql.age'),
      '--identity',
      fixture.key.identityFile,
    ]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain('notes row 2000: the quick brown fox');

    // The next run, with a change, writes the new format beside it; the old copy still restores.
    await fixture.source.exec("UPDATE notes SET body = 'changed' WHERE id = 1");
    const next = created(await snapshot(fixture, T2));
    expect((await manifestOf(next.path)).format).toBe(2);
    const again = await restoreInto(fixture, result.hostDir, copy.timestamp);
    expect((await again.query('SELECT body FROM notes WHERE id = 1'))[0]).not.toEqual({
      body: 'changed',
    });
  });
});
