/**
 * `database.engine: postgresql` end to end, from the command line: snapshot (committed, and
 * a second run changes nothing), restore into a database it creates (rows table by table
 * and `pg_dump --schema-only` equal to the source's), verify, diff --live, log, and every
 * file loaded with psql in the order the README gives.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { git } from '../helpers/git-repo.js';
import {
  createPgTestDatabase,
  pgDumpSchema,
  postgresServer,
  type PgTestDatabase,
} from '../helpers/postgres.js';
import {
  loadWithPsql,
  pgCliEnv,
  pgDatabaseToDrop,
  pgTableRows,
  PG_GLOBAL_TABLES,
  PG_SNAPSHOT_ROWS,
  writePgConfig,
} from '../helpers/pg-snapshot.js';
import { PG_SCHEMA_OBJECTS } from '../fixtures/pg-schema-objects.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { createTempDir } from '../helpers/temp-dir.js';

const HOST = 'pg.example.org';

/** The tables of the fixture as the engine names them (what a listing shows). */
const TABLES = PG_GLOBAL_TABLES.map((name) => (name.includes('.') ? name : `public.${name}`));

async function sourceDatabase(): Promise<PgTestDatabase> {
  const database = await createPgTestDatabase('sbpgsnap_e2e');
  await database.exec(PG_SCHEMA_OBJECTS);
  const available = await database.query(
    "SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'pgcrypto'",
  );
  if (available.length > 0) {
    await database.exec('CREATE EXTENSION pgcrypto WITH SCHEMA public');
    await database.exec(
      "CREATE TABLE app.tokens (id uuid PRIMARY KEY DEFAULT public.gen_random_uuid(), hash bytea DEFAULT public.digest('x', 'sha256'))",
    );
    await database.exec(
      "INSERT INTO app.tokens (id) VALUES ('00000000-0000-4000-8000-000000000001')",
    );
  }
  await database.exec(PG_SNAPSHOT_ROWS);
  return database;
}

async function cli(config: string, ...argv: string[]): Promise<CliResult> {
  return runCli(['--config', config, ...argv], await pgCliEnv());
}

/**
 * A login role that is no superuser (its name starts `sbrls_`, with a random suffix), and
 * `count` new empty databases it owns, as a hosting provider gives them; all dropped after
 * the test.
 */
async function ownedDatabases(
  admin: PgTestDatabase,
  count: number,
): Promise<{ user: string; password: string; databases: string[] }> {
  const suffix = randomBytes(4).toString('hex');
  const user = `sbrls_owner_${suffix}`;
  const password = randomBytes(12).toString('hex');
  const databases = Array.from(
    { length: count },
    (_, index) => `sbpgsnap_owned_${suffix}_${String(index)}`,
  );
  await admin.exec(
    `CREATE ROLE "${user}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD '${password}'`,
  );
  onTestFinished(async () => {
    for (const database of databases)
      await admin.exec(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.exec(`DROP ROLE IF EXISTS "${user}"`);
  });
  for (const database of databases)
    await admin.exec(
      `CREATE DATABASE "${database}" OWNER "${user}" ENCODING 'UTF8' TEMPLATE template0`,
    );
  return { user, password, databases };
}

describe('postgresql from the command line', () => {
  it('snapshots, restores, verifies and compares a database with every kind of object', async () => {
    const source = await sourceDatabase();
    const dir = await createTempDir('sbpgsnap-e2e');
    const withTokens =
      (await source.query("SELECT 1 FROM pg_catalog.pg_class WHERE relname = 'tokens'")).length > 0;
    const config = await writePgConfig(dir, HOST, source.name, withTokens ? ['app.tokens'] : []);
    const hostDir = join(dir, 'backups', HOST);
    const tables = [...TABLES, ...(withTokens ? ['app.tokens'] : [])];

    const check = await cli(config, 'check');
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain('app.events_2024');

    const first = await cli(config, 'snapshot');
    expect(first.code, first.stderr).toBe(0);
    expect(git(hostDir, 'rev-list', '--count', 'HEAD').trim()).toBe('1');
    const second = await cli(config, 'snapshot');
    expect(second.code, second.stderr).toBe(0);
    expect(git(hostDir, 'rev-list', '--count', 'HEAD').trim()).toBe('1');
    expect(git(hostDir, 'status', '--porcelain')).toBe('');

    const target = await pgDatabaseToDrop('sbpgsnap_restored');
    const restore = await cli(config, 'restore', '--target', target);
    expect(restore.code, restore.stderr).toBe(0);
    expect(await pgTableRows(target, tables)).toEqual(await pgTableRows(source.name, tables));
    expect(await pgDumpSchema(target)).toBe(await pgDumpSchema(source.name));

    const verify = await cli(config, 'verify');
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toContain('no differences');
    // verify's scratch database is gone.
    expect(
      await source.query(
        "SELECT datname FROM pg_catalog.pg_database WHERE datname LIKE 'schema\\_backup\\_verify\\_%'",
      ),
    ).toEqual([]);

    const same = await cli(config, 'diff', '--live');
    expect(same.code, same.stderr).toBe(0);
    await source.exec("UPDATE public.users SET login = 'carol' WHERE login = 'bob'");
    const drift = await cli(config, 'diff', '--live');
    expect(drift.code, drift.stderr).toBe(3);
    expect(drift.stdout).toContain('table public.users: rows +0 -0 ~1');

    // -e: the rows of ephemeral tables to a directory of their own, never into git.
    await source.exec('INSERT INTO public.scratch VALUES (42)');
    const ephemeralDir = join(dir, 'ephemeral');
    const changed = await cli(config, 'snapshot', '-e', ephemeralDir);
    expect(changed.code, changed.stderr).toBe(0);
    expect(await readFile(join(ephemeralDir, 'public.scratch.sql'), 'utf8')).toContain(
      'INSERT INTO "public"."scratch" ("n") OVERRIDING SYSTEM VALUE VALUES (42);',
    );
    expect(await readFile(join(hostDir, 'public.scratch.sql'), 'utf8')).not.toContain('42');
    const log = await cli(config, 'log');
    expect(log.code, log.stderr).toBe(0);
    expect(log.stdout).toContain('public.users');
    const diff = await cli(config, 'diff', 'HEAD~1', 'HEAD');
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout).toContain("'carol'");

    // Every file with psql, in the README's order, into a database of psql's own.
    const loaded = await createPgTestDatabase('sbpgsnap_psql');
    const order = await loadWithPsql(hostDir, loaded.name);
    expect(order.indexOf('app.events.sql')).toBeLessThan(order.indexOf('app.events_2024.sql'));
    expect(await pgDumpSchema(loaded.name)).toBe(await pgDumpSchema(source.name));
    expect(await pgTableRows(loaded.name, tables)).toEqual(await pgTableRows(source.name, tables));
  }, 180_000); // every kind of object through five commands: 20-40 s alone, over 60 s at load > 12

  it('restores as a non-superuser that owns the target: FORCE ROW LEVEL SECURITY on a table a foreign key references', async () => {
    // app.settings forces row-level security (its owner sees no row but through a policy)
    // and public.users references it: its foreign keys are checked as they are added.
    const source = await sourceDatabase();
    const dir = await createTempDir('sbpgsnap-rls');
    const withTokens =
      (await source.query("SELECT 1 FROM pg_catalog.pg_class WHERE relname = 'tokens'")).length > 0;
    const config = await writePgConfig(dir, HOST, source.name, withTokens ? ['app.tokens'] : []);
    const hostDir = join(dir, 'backups', HOST);
    const tables = [...TABLES, ...(withTokens ? ['app.tokens'] : [])];
    const snapshot = await cli(config, 'snapshot');
    expect(snapshot.code, snapshot.stderr).toBe(0);
    // Row-level security has a file of its own, loaded after every foreign key.
    expect(await readFile(join(hostDir, 'app.settings.row-security.sql'), 'utf8')).toContain(
      'ALTER TABLE "app"."settings" ENABLE ROW LEVEL SECURITY;\nALTER TABLE "app"."settings" FORCE ROW LEVEL SECURITY;\n',
    );
    expect(await readFile(join(hostDir, 'app.settings.sql'), 'utf8')).not.toContain('ROW LEVEL');
    // A dump puts it at the same place.
    const dumpFile = join(dir, 'dump.sql');
    const dump = await cli(config, 'dump', '--no-encrypt', '--compress', 'none', '-o', dumpFile);
    expect(dump.code, dump.stderr).toBe(0);

    const owner = await ownedDatabases(source, 3);
    const [restored = '', loaded = '', fromDump = ''] = owner.databases;
    const server = await postgresServer();
    await writeFile(
      config,
      (await readFile(config, 'utf8')).replace(
        `  user: ${server.user}\n`,
        `  user: ${owner.user}\n`,
      ),
    );
    const asOwner = async (...argv: string[]): Promise<CliResult> =>
      runCli(['--config', config, ...argv], {
        ...(await pgCliEnv()),
        SCHEMA_BACKUP_DB_PASSWORD: owner.password,
      });
    const restore = await asOwner('restore', '--target', restored);
    expect(restore.code, restore.stderr).toBe(0);
    expect(await pgTableRows(restored, tables)).toEqual(await pgTableRows(source.name, tables));
    expect(await pgDumpSchema(restored)).toBe(await pgDumpSchema(source.name));

    const load = await asOwner('load', '--into', fromDump, dumpFile);
    expect(load.code, load.stderr).toBe(0);
    expect(await pgTableRows(fromDump, tables)).toEqual(await pgTableRows(source.name, tables));

    // psql in the README's order, as the owner, loads them too.
    await loadWithPsql(hostDir, loaded, owner);
    expect(await pgTableRows(loaded, tables)).toEqual(await pgTableRows(source.name, tables));
    expect(await pgDumpSchema(loaded)).toBe(await pgDumpSchema(source.name));

    // Again over it (--force): row-level security is turned off before the tables are dropped.
    const again = await asOwner('restore', '--target', restored, '--force');
    expect(again.code, again.stderr).toBe(0);
    expect(await pgDumpSchema(restored)).toBe(await pgDumpSchema(source.name));
  });

  it('refuses a category entry of a schema the snapshot does not cover (exit 2, file:line)', async () => {
    const source = await createPgTestDatabase('sbpgsnap_cfg');
    await source.exec('CREATE SCHEMA app; CREATE TABLE app.t (id integer PRIMARY KEY)');
    await source.exec('CREATE SCHEMA other; CREATE TABLE other.u (id integer PRIMARY KEY)');
    const dir = await createTempDir('sbpgsnap-cfg');
    const config = await writePgConfig(dir, HOST, source.name);
    const base = (await readFile(config, 'utf8')).replace(
      '  sslmode: disable\n',
      '  sslmode: disable\n  schemas: [app, public]\n',
    );
    const withGlobal = (entries: string[]): string =>
      base.replace(
        /^global:\n(?: {2}- .*\n)*/m,
        `global:\n${entries.map((e) => `  - ${e}\n`).join('')}`,
      );

    // Not in database.schemas, then no such schema: exit 2 at the entry's line.
    await writeFile(config, withGlobal(['app.t', 'other.u']));
    const notListed = await cli(config, 'snapshot');
    expect(notListed.code).toBe(2);
    expect(notListed.stderr).toMatch(
      /schema_backup\.conf:\d+: global: other\.u: schema other is not in this snapshot/,
    );
    expect(await readdir(join(dir, 'backups')).catch(() => [])).not.toContain(HOST);
    await writeFile(config, withGlobal(['app.t', 'nosuch.t']));
    const check = await cli(config, 'check');
    expect(check.code).toBe(2);
    expect(check.stderr).toMatch(/schema_backup\.conf:\d+: global: nosuch\.t: schema nosuch/);

    // A missing table of a covered schema, and a plain name: warnings, as for MariaDB.
    await writeFile(config, withGlobal(['app.t', 'app.gone', 'gone']));
    const fine = await cli(config, 'snapshot');
    expect(fine.code, fine.stderr).toBe(0);
    expect(fine.stderr).toContain('app.gone');
    expect(await readdir(join(dir, 'backups', HOST))).not.toContain('other.u.sql');
  });
});
