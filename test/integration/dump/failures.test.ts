/**
 * A damaged dump is refused by `load` with a clear error, and the target is left as it was:
 * truncated and corrupted files (plain, compressed, encrypted), a wrong key, a directory
 * with a file missing or changed, and an interrupted dump, which leaves no final file.
 */
import { execFileSync } from 'node:child_process';
import { readFile, readdir, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readIdentityFile } from '../../../src/crypto/recipients.js';
import { dumpDatabase, type DumpOptions } from '../../../src/dump/dump-database.js';
import { loadDump } from '../../../src/dump/load-dump.js';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { CryptoError, DumpError, UsageError } from '../../../src/errors.js';
import { ageKeygen } from '../../helpers/age.js';
import { createTestDatabase, testServer, type TestDatabase } from '../../helpers/database.js';
import { dumpOptionsForTest, loadOptionsForTest } from '../../helpers/dump.js';
import { databaseExists } from '../../helpers/restore.js';
import { createTempDir } from '../../helpers/temp-dir.js';

async function sourceWithRows(): Promise<TestDatabase> {
  const source = await createTestDatabase('dfail');
  await source.exec('CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(200), b BLOB)');
  await source.exec(
    "INSERT INTO t SELECT seq, CONCAT('row ', seq, REPEAT('x', 100)), RANDOM_BYTES(200) FROM seq_1_to_20000",
  );
  await source.exec('CREATE TABLE u (id INT PRIMARY KEY)');
  await source.exec('INSERT INTO u SELECT seq FROM seq_1_to_10');
  return source;
}

async function dumpOf(source: TestDatabase, overrides: Partial<DumpOptions> = {}): Promise<string> {
  const result = await dumpDatabase(
    mariadbEngine,
    dumpOptionsForTest({
      databases: [source.name],
      dumpDir: await createTempDir('dump'),
      ...overrides,
    }),
  );
  return result.path ?? '';
}

/** A name for a target the load must create, dropped when the test finishes in any case. */
async function freshTarget(): Promise<string> {
  const target = await createTestDatabase('dtgt');
  await target.exec(`DROP DATABASE \`${target.name}\``);
  return target.name;
}

describe('load refuses damaged dumps', () => {
  it('refuses a truncated plain file before loading anything', async () => {
    const source = await sourceWithRows();
    const path = await dumpOf(source);
    const { size } = await stat(path);
    await truncate(path, Math.floor(size / 2));
    const target = await freshTarget();
    const error = await loadDump(mariadbEngine, loadOptionsForTest({ path, into: target })).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(DumpError);
    expect((error as DumpError).exitCode).toBe(1);
    expect((error as Error).message).toMatch(/no end marker.*incomplete/);
    expect(await databaseExists(target)).toBe(false);
  });

  for (const compression of ['gzip', 'zstd'] as const) {
    it(`rolls back a truncated ${compression} file`, async () => {
      const source = await sourceWithRows();
      const path = await dumpOf(source, { compression });
      const bytes = await readFile(path);
      await writeFile(path, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
      const target = await freshTarget();
      const error = await loadDump(mariadbEngine, loadOptionsForTest({ path, into: target })).catch(
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(DumpError);
      expect((error as Error).message).toMatch(/corrupt or truncated|no end marker/);
      expect(await databaseExists(target)).toBe(false);
    });
  }

  it('refuses a corrupted encrypted file, and the wrong key, leaving an empty target empty', async () => {
    const source = await sourceWithRows();
    const key = ageKeygen(await createTempDir('key'));
    const other = ageKeygen(await createTempDir('key2'));
    const path = await dumpOf(source, { compression: 'zstd', recipients: [key.recipient] });
    const target = await createTestDatabase('dtgt');

    const wrongKey = await loadDump(
      mariadbEngine,
      loadOptionsForTest({
        path,
        into: target.name,
        identities: await readIdentityFile(other.identityFile),
      }),
    ).catch((caught: unknown) => caught);
    expect(wrongKey).toBeInstanceOf(CryptoError);
    expect((wrongKey as Error).message).toMatch(/none of the given identities/);

    const bytes = await readFile(path);
    const at = Math.floor(bytes.length * 0.6);
    bytes[at] = (bytes[at] ?? 0) ^ 0xff;
    await writeFile(path, bytes);
    const corrupt = await loadDump(
      mariadbEngine,
      loadOptionsForTest({
        path,
        into: target.name,
        identities: await readIdentityFile(key.identityFile),
      }),
    ).catch((caught: unknown) => caught);
    expect((corrupt as Error).message).toMatch(/corrupt or truncated/);
    expect((corrupt as { exitCode: number }).exitCode).toBe(1);
    // The target existed and was empty: it is empty again.
    expect(await target.query('SHOW TABLES')).toEqual([]);
  });

  it('refuses a directory with a missing or changed file before loading anything', async () => {
    const source = await sourceWithRows();
    const path = await dumpOf(source, { form: 'directory', compression: 'gzip' });
    const dataFile = (await readdir(path)).find((name) => /\.t\.00000\./.test(name)) ?? '';
    const original = await readFile(join(path, dataFile));
    const damaged = Buffer.from(original);
    damaged[20] = (damaged[20] ?? 0) ^ 0x01;
    await writeFile(join(path, dataFile), damaged);
    const target = await freshTarget();
    await expect(
      loadDump(mariadbEngine, loadOptionsForTest({ path, into: target })),
    ).rejects.toThrow(/does not match the manifest/);
    await writeFile(join(path, dataFile), original);
    await writeFile(join(path, 'manifest.json'), '{"format": "schema_backup dump"');
    await expect(
      loadDump(mariadbEngine, loadOptionsForTest({ path, into: target })),
    ).rejects.toThrow(/manifest.json is damaged/);
    expect(await databaseExists(target)).toBe(false);
  });

  it('will not load into a database that has tables, unless forced', async () => {
    const source = await sourceWithRows();
    const path = await dumpOf(source);
    const target = await createTestDatabase('dtgt');
    await target.exec('CREATE TABLE keep_me (id INT)');
    const error = await loadDump(
      mariadbEngine,
      loadOptionsForTest({ path, into: target.name }),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/is not empty/);
    const result = await loadDump(
      mariadbEngine,
      loadOptionsForTest({ path, into: target.name, force: true }),
    );
    expect(result.rows).toBe(20010);
  });
});

describe('an interrupted dump leaves no final file', () => {
  it('removes the stale temporaries of killed dumps, not those being written', async () => {
    const source = await sourceWithRows();
    const dumpDir = await createTempDir('dump');
    const stale = join(dumpDir, '.h_db_2026-01-01T00-00-00Z.sql.tmp-0badc0de');
    const fresh = join(dumpDir, '.h_db_2026-01-01T00-00-01Z.sql.tmp-0000beef');
    await writeFile(stale, 'partial');
    await writeFile(fresh, 'partial');
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(stale, old, old);
    const result = await dumpDatabase(
      mariadbEngine,
      dumpOptionsForTest({ databases: [source.name], dumpDir }),
    );
    const names = await readdir(dumpDir);
    expect(names).not.toContain(basename(stale));
    expect(names).toContain(basename(fresh));
    expect(names).toContain(basename(result.path ?? ''));
  });

  it('removes its temporary file when aborted', async () => {
    const source = await sourceWithRows();
    const dumpDir = await createTempDir('dump');
    const controller = new AbortController();
    const error = await dumpDatabase(
      mariadbEngine,
      dumpOptionsForTest({
        databases: [source.name],
        dumpDir,
        signal: controller.signal,
        onProgress: () => controller.abort(),
      }),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DumpError);
    expect(await readdir(dumpDir)).toEqual([]);
  });

  it('fails cleanly when the server kills its connection', async () => {
    const source = await sourceWithRows();
    await source.exec(
      "INSERT INTO t SELECT seq, REPEAT('y', 200), RANDOM_BYTES(1000) FROM seq_20001_to_120000",
    );
    const dumpDir = await createTempDir('dump');
    let killed = false;
    let killedConnections = 0;
    const error = await dumpDatabase(
      mariadbEngine,
      dumpOptionsForTest({
        databases: [source.name],
        dumpDir,
        threads: 1,
        onProgress: () => {
          if (killed) return;
          killed = true;
          // Synchronous: the dump cannot go on until its connection is gone.
          const server = testServer();
          const client = (sql: string): string =>
            execFileSync(
              'mariadb',
              ['-h', server.host, '-P', String(server.port), '-u', server.user, '-N', '-e', sql],
              { env: { ...process.env, MYSQL_PWD: server.password }, encoding: 'utf8' },
            );
          const ids = client(
            `SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND IN ('Query', 'Execute') AND INFO LIKE 'SELECT %${source.name}%' AND ID <> CONNECTION_ID()`,
          )
            .split('\n')
            .filter((id) => /^\d+$/.test(id));
          killedConnections = ids.length;
          for (const id of ids) client(`KILL ${id}`);
        },
      }),
    ).catch((caught: unknown) => caught);
    expect(killed).toBe(true);
    // Rows are read by a prepared statement (COMMAND 'Execute') or a query, on one connection.
    expect(killedConnections).toBe(1);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/connection|killed|interrupted|lost/i);
    expect(await readdir(dumpDir)).toEqual([]);
  });
});
