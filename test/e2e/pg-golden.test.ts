/**
 * The PostgreSQL snapshot format, byte for byte: the database of
 * test/fixtures/pg-schema-objects.ts with rows is snapshotted from the command line and
 * compared with test/golden/postgresql-tree/. A change of format shows up as a diff of those
 * files in review. Regenerate with SCHEMA_BACKUP_UPDATE_GOLDEN=1 (as test/e2e/golden.test.ts).
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PG_SCHEMA_OBJECTS } from '../fixtures/pg-schema-objects.js';
import { createPgTestDatabase } from '../helpers/postgres.js';
import { pgCliEnv, PG_SNAPSHOT_ROWS, writePgConfig } from '../helpers/pg-snapshot.js';
import { runCli } from '../helpers/run-cli.js';
import { createTempDir } from '../helpers/temp-dir.js';

const GOLDEN = join(import.meta.dirname, '../golden/postgresql-tree');
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
});
