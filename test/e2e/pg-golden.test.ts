/**
 * The PostgreSQL snapshot format, byte for byte: the database of
 * test/fixtures/pg-schema-objects.ts with rows is snapshotted from the command line and
 * compared with test/golden/postgresql-tree/. A change of format shows up as a diff of those
 * files in review. Regenerate with SCHEMA_BACKUP_UPDATE_GOLDEN=1 (as test/e2e/golden.test.ts).
 */
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PG_SCHEMA_OBJECTS } from '../fixtures/pg-schema-objects.js';
import { createPgTestDatabase, pgClient } from '../helpers/postgres.js';
import {
  pgCliEnv,
  pgDatabaseToDrop,
  PG_SNAPSHOT_ROWS,
  writePgConfig,
} from '../helpers/pg-snapshot.js';
import { runCli } from '../helpers/run-cli.js';
import { createTempDir } from '../helpers/temp-dir.js';

const GOLDEN = join(import.meta.dirname, '../golden/postgresql-tree');
/**
 * A snapshot of the same database taken before row-level security had a file of its own
 * (`ENABLE`/`FORCE ROW LEVEL SECURITY` in the table's file): never regenerated.
 */
const BEFORE_ROW_SECURITY = join(
  import.meta.dirname,
  '../golden/postgresql-tree-before-row-security',
);
const HOST = 'golden.example.org';

describe('postgresql snapshot format', () => {
  it('matches test/golden/postgresql-tree byte for byte', async () => {
    const database = await createPgTestDatabase('sbpgsnap_golden');
    await database.exec(PG_SCHEMA_OBJECTS);
    await database.exec(PG_SNAPSHOT_ROWS);
    const dir = await createTempDir('sbpgsnap-golden');
    const config = await writePgConfig(dir, HOST, database.name);
    const result = await runCli(['--config', config, 'snapshot'], await pgCliEnv());
    expect(result.code, result.stderr).toBe(0);
    const hostDir = join(dir, 'backups', HOST);
    const actual = new Map<string, string>();
    for (const file of (await readdir(hostDir)).sort())
      actual.set(file, await readFile(join(hostDir, file), 'utf8'));
    if (process.env.SCHEMA_BACKUP_UPDATE_GOLDEN === '1') {
      await rm(GOLDEN, { recursive: true, force: true });
      await mkdir(GOLDEN, { recursive: true });
      for (const [file, text] of actual) await writeFile(join(GOLDEN, file), text);
    }
    const expected = new Map<string, string>();
    for (const file of (await readdir(GOLDEN)).sort())
      expected.set(file, await readFile(join(GOLDEN, file), 'utf8'));
    expect([...actual.keys()]).toEqual([...expected.keys()]);
    for (const [file, text] of expected) expect(actual.get(file), file).toBe(text);
  });

  it('restores a snapshot taken before row-level security had a file of its own', async () => {
    const source = await createPgTestDatabase('sbpgsnap_oldrls');
    const dir = await createTempDir('sbpgsnap-oldrls');
    const config = await writePgConfig(dir, HOST, source.name);
    await cp(BEFORE_ROW_SECURITY, join(dir, 'backups', HOST), { recursive: true });
    const target = await pgDatabaseToDrop('sbpgsnap_oldrls_restored');
    const result = await runCli(
      ['--config', config, 'restore', '--target', target],
      await pgCliEnv(),
    );
    expect(result.code, result.stderr).toBe(0);
    const client = await pgClient(target);
    const settings = await client.query(
      `SELECT c.relrowsecurity, c.relforcerowsecurity,
          (SELECT count(*) FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid)::int AS policies
        FROM pg_catalog.pg_class c WHERE c.oid = 'app.settings'::pg_catalog.regclass`,
    );
    expect(settings.rows).toEqual([
      { relrowsecurity: true, relforcerowsecurity: true, policies: 2 },
    ]);
    const users = await client.query('SELECT count(*)::int AS n FROM public.users');
    expect(users.rows).toEqual([{ n: 2 }]);
  });
});
