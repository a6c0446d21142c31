/**
 * PostgreSQL: an extension that reaches outside the database (dblink) is snapshotted and
 * dumped as it is, but restore and load refuse to create it unless --allow-external-access,
 * and a routine in C added to a dump (its manifest rewritten) is refused: nothing is created.
 * With the option, restore and load create the extension.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dumpDatabase } from '../../../src/dump/dump-database.js';
import type { DumpManifest } from '../../../src/dump/dump-format.js';
import { loadDump } from '../../../src/dump/load-dump.js';
import type { ConnectionOptions } from '../../../src/engine/engine.js';
import { postgresqlEngine } from '../../../src/engine/postgresql/postgresql-engine.js';
import { ExternalAccessError } from '../../../src/errors.js';
import { restoreSnapshot } from '../../../src/restore/restore-snapshot.js';
import { directorySource } from '../../../src/restore/snapshot-source.js';
import { takeSnapshot } from '../../../src/snapshot/take-snapshot.js';
import { dumpOptionsForTest, loadOptionsForTest } from '../../helpers/dump.js';
import { createPgTestDatabase, pgConnectionTo } from '../../helpers/postgres.js';
import { restoreOptionsForTest } from '../../helpers/restore.js';
import { snapshotOptionsForTest } from '../../helpers/snapshot-options.js';
import { createTempDir } from '../../helpers/temp-dir.js';

async function connection(database?: string): Promise<ConnectionOptions> {
  const { options } = await pgConnectionTo(database ?? 'postgres');
  return { ...options, database };
}

/** A name for a target the workflow must create, dropped when the test finishes. */
async function freshTarget(): Promise<string> {
  const target = await createPgTestDatabase('sbtest_pgext');
  await target.exec('SELECT 1');
  const admin = await createPgTestDatabase('sbtest_pgadm');
  await admin.exec(`DROP DATABASE "${target.name}" WITH (FORCE)`);
  return target.name;
}

async function extensionsOf(database: string): Promise<string[]> {
  const admin = await createPgTestDatabase('sbtest_pgadm');
  const exists = await admin.query('SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1', [
    database,
  ]);
  if (exists.length === 0) return [];
  const { options } = await pgConnectionTo(database);
  const pg = (await import('pg')).default;
  const client = new pg.Client({ ...options, password: options.password, ssl: false });
  await client.connect();
  try {
    const result = await client.query<{ extname: string }>(
      'SELECT extname FROM pg_catalog.pg_extension ORDER BY 1',
    );
    return result.rows.map((row) => row.extname);
  } finally {
    await client.end();
  }
}

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

describe('what reaches outside the database (PostgreSQL)', () => {
  it('restore and load refuse dblink and a function in C, creating nothing; the option lets dblink through', async () => {
    const source = await createPgTestDatabase('sbtest_pgextsrc');
    await source.exec(`
      CREATE SCHEMA app;
      CREATE EXTENSION dblink;
      CREATE TABLE app.t (id integer PRIMARY KEY, v text);
      INSERT INTO app.t VALUES (1, 'one');`);
    const server = await connection();
    const backupDir = await createTempDir('sbhard-pgext');
    const snapshot = await takeSnapshot(
      postgresqlEngine,
      snapshotOptionsForTest({
        connection: await connection(source.name),
        database: source.name,
        backupDir,
        categories: { global: ['app.t'] },
      }),
    );
    expect(await readdir(snapshot.hostDir)).toContain('dblink.extension.sql');

    // restore: refused, no dblink in the target.
    const refused = await freshTarget();
    const restoreError = await restoreSnapshot(
      postgresqlEngine,
      restoreOptionsForTest({
        connection: server,
        target: refused,
        source: directorySource(snapshot.hostDir),
      }),
    ).catch((error: unknown) => error);
    expect(restoreError).toBeInstanceOf(ExternalAccessError);
    expect((restoreError as Error).message).toMatch(/extension "dblink" reaches outside/);
    expect((restoreError as ExternalAccessError).hint).toMatch(/--allow-external-access/);
    expect(await extensionsOf(refused)).not.toContain('dblink');

    const allowed = await freshTarget();
    await restoreSnapshot(
      postgresqlEngine,
      restoreOptionsForTest({
        connection: server,
        target: allowed,
        source: directorySource(snapshot.hostDir),
        allowExternalAccess: true,
      }),
    );
    expect(await extensionsOf(allowed)).toContain('dblink');

    // load: the same; a dump directory with a function in C added (manifest rewritten).
    const dumped = await dumpDatabase(
      postgresqlEngine,
      dumpOptionsForTest({
        connection: server,
        databases: [source.name],
        dumpDir: await createTempDir('sbhard-pgdump'),
        form: 'directory',
      }),
    );
    const dir = dumped.path ?? '';
    const loadRefused = await freshTarget();
    const loadError = await loadDump(
      postgresqlEngine,
      loadOptionsForTest({ connection: server, path: dir, into: loadRefused }),
    ).catch((error: unknown) => error);
    expect(loadError).toBeInstanceOf(ExternalAccessError);
    expect((loadError as Error).message).toMatch(/extension "dblink" reaches outside/);
    expect(await extensionsOf(loadRefused)).toEqual([]);

    const loaded = await freshTarget();
    await loadDump(
      postgresqlEngine,
      loadOptionsForTest({
        connection: server,
        path: dir,
        into: loaded,
        allowExternalAccess: true,
      }),
    );
    expect(await extensionsOf(loaded)).toContain('dblink');

    const schema = (await readdir(dir)).find((name) => name.endsWith('-schema.sql')) ?? '';
    // dblink left out: the function in C is what is refused.
    let strippedDblink = false;
    for (const name of await readdir(dir)) {
      if (!name.endsWith('.sql')) continue;
      const original = await readFile(join(dir, name), 'utf8');
      const stripped = original.replace(/CREATE EXTENSION IF NOT EXISTS "dblink"[^;]*;\n/, '');
      if (stripped === original) continue;
      await rewriteWithManifest(dir, name, stripped);
      strippedDblink = true;
    }
    expect(strippedDblink).toBe(true);
    const text = await readFile(join(dir, schema), 'utf8');
    const end = text.lastIndexOf('-- schema_backup dump file complete');
    await rewriteWithManifest(
      dir,
      schema,
      `${text.slice(0, end)}DROP FUNCTION IF EXISTS "app"."evil"() CASCADE;\nCREATE FUNCTION "app"."evil"() RETURNS integer LANGUAGE c AS '/tmp/sbhard_evil.so', 'evil';\n${text.slice(end)}`,
    );
    const cTarget = await freshTarget();
    const cError = await loadDump(
      postgresqlEngine,
      loadOptionsForTest({
        connection: server,
        path: dir,
        into: cTarget,
      }),
    ).catch((error: unknown) => error);
    expect(cError).toBeInstanceOf(ExternalAccessError);
    expect((cError as Error).message).toMatch(/a function in C, which loads a library/);
    expect((cError as Error).message).not.toContain('sbhard_evil');
    expect(await extensionsOf(cTarget)).toEqual([]);
  });
});
