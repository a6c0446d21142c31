/**
 * A PostgreSQL dump altered after it was written is refused by `load` at the first statement
 * a dump does not write, and that statement never runs: the server is checked afterwards (no
 * new role, no grant on another database, that database still there, no file written by the
 * server; over a target loaded with --force, its own table outside the dump intact, with no
 * trigger or policy put on it). The directory form is altered with its manifest rewritten to
 * match, so that the checker, not the checksums, is what refuses it. A COPY block altered
 * (into another table, another column, a line out of COPY's form, FROM PROGRAM) is refused
 * before any of it is sent.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it, onTestFinished } from 'vitest';
import { dumpDatabase } from '../../../src/dump/dump-database.js';
import type { DumpManifest } from '../../../src/dump/dump-format.js';
import { loadDump } from '../../../src/dump/load-dump.js';
import type { ConnectionOptions } from '../../../src/engine/engine.js';
import { postgresqlEngine } from '../../../src/engine/postgresql/postgresql-engine.js';
import { UnexpectedStatementError, UsageError } from '../../../src/errors.js';
import { dumpOptionsForTest, loadOptionsForTest } from '../../helpers/dump.js';
import {
  createPgTestDatabase,
  pgConnectionTo,
  postgresServer,
  type PgTestDatabase,
} from '../../helpers/postgres.js';
import { MARKER_TABLE } from '../../helpers/restore.js';
import { createTempDir } from '../../helpers/temp-dir.js';

async function serverConnection(): Promise<ConnectionOptions> {
  const { options } = await pgConnectionTo('postgres');
  return { ...options, database: undefined };
}

/** Runs `sql` connected to database `postgres`. */
async function adminQuery<T = Record<string, unknown>>(
  sql: string,
  values?: unknown[],
): Promise<T[]> {
  const server = await postgresServer();
  const client = new pg.Client({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database: 'postgres',
  });
  await client.connect();
  try {
    return (await client.query(sql, values)).rows as T[];
  } finally {
    await client.end();
  }
}

/** A database name no test has used; dropped (if a load made it) when the test finishes. */
function unusedDatabaseName(): string {
  const name = `sbtest_pgtgt_${randomBytes(4).toString('hex')}`;
  onTestFinished(async () => {
    await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
  return name;
}

async function databaseExists(name: string): Promise<boolean> {
  return (
    (await adminQuery('SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1', [name])).length > 0
  );
}

interface World {
  readonly source: PgTestDatabase;
  readonly victim: PgTestDatabase;
  readonly role: string;
  readonly outfile: string;
}

async function world(): Promise<World> {
  const source = await createPgTestDatabase('sbtest_pgtamp');
  await source.exec(`
    CREATE SCHEMA app;
    CREATE TABLE app.t (id integer PRIMARY KEY, v text);
    INSERT INTO app.t SELECT g, 'v' || g FROM generate_series(1, 300) g;
    CREATE INDEX t_v ON app.t (v);
    CREATE VIEW app.w AS SELECT id FROM app.t;
    CREATE FUNCTION app.f(a integer) RETURNS integer LANGUAGE sql AS 'SELECT a + 1';`);
  const victim = await createPgTestDatabase('sbtest_pgvict');
  const role = `sbchk_evil_${randomBytes(4).toString('hex')}`;
  onTestFinished(async () => {
    await adminQuery(`DROP ROLE IF EXISTS "${role}"`);
  });
  return { source, victim, role, outfile: `/tmp/sbchk_pgout_${randomBytes(4).toString('hex')}` };
}

/** Statements a tamperer adds (without their `;`) to a dump of a new target. */
function dangerous(w: World): readonly string[] {
  return [
    `CREATE ROLE "${w.role}" LOGIN SUPERUSER PASSWORD 'secret-password'`,
    `DO $$BEGIN CREATE ROLE "${w.role}" SUPERUSER; END$$`,
    `GRANT ALL ON DATABASE "${w.victim.name}" TO PUBLIC`,
    `DROP DATABASE "${w.victim.name}" WITH (FORCE)`,
    `COPY (SELECT 'secret-password') TO '${w.outfile}'`,
    `SELECT pg_catalog.pg_file_write('${w.outfile}', 'x', false)`,
    'CREATE FUNCTION app.g() RETURNS integer LANGUAGE sql AS $$SELECT 1$$',
    'DROP TABLE IF EXISTS "app"."t" CASCADE',
  ];
}

async function expectUntouched(w: World): Promise<void> {
  expect(await databaseExists(w.victim.name)).toBe(true);
  expect(
    await adminQuery('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1', [w.role]),
  ).toEqual([]);
  expect(
    await adminQuery('SELECT datacl FROM pg_catalog.pg_database WHERE datname = $1', [
      w.victim.name,
    ]),
  ).toEqual([{ datacl: null }]);
  expect(existsSync(w.outfile)).toBe(false);
}

async function dumpOf(w: World, form: 'file' | 'directory'): Promise<string> {
  const result = await dumpDatabase(
    postgresqlEngine,
    dumpOptionsForTest({
      connection: await serverConnection(),
      databases: [w.source.name],
      dumpDir: await createTempDir('sbpgtamp'),
      form,
    }),
  );
  return result.path ?? '';
}

async function loadError(path: string, into: string, force = false): Promise<unknown> {
  return loadDump(
    postgresqlEngine,
    loadOptionsForTest({ connection: await serverConnection(), path, into, force }),
  ).then(
    () => undefined,
    (caught: unknown) => caught,
  );
}

function expectRefusal(error: unknown, label: string): void {
  expect(error, label).toBeInstanceOf(UnexpectedStatementError);
  expect((error as UnexpectedStatementError).exitCode).toBe(1);
  expect((error as Error).message).toMatch(
    /^refused to load .* at (?:line \d+|its end): .*not a statement a dump writes/,
  );
  expect((error as Error).message).not.toContain('secret-password');
}

/** Where the COPY block of the rows of app.t ends in a dump's text (after its `\.` line). */
function afterRowsOf(text: string): number {
  const head = text.indexOf('COPY "app"."t" ("id", "v") FROM stdin;\n');
  expect(head).toBeGreaterThan(0);
  return text.indexOf('\n\\.\n', head) + 4;
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

describe('load refuses a tampered PostgreSQL dump', () => {
  it('a single file: appended or inserted after the rows, refused, never run, the new target dropped', async () => {
    const w = await world();
    const path = await dumpOf(w, 'file');
    const original = await readFile(path, 'utf8');
    const end = original.lastIndexOf('-- schema_backup dump complete');
    const afterRows = afterRowsOf(original);
    for (const [index, statement] of dangerous(w).entries()) {
      const at = index % 2 === 0 ? end : afterRows;
      await writeFile(path, `${original.slice(0, at)}${statement};\n${original.slice(at)}`);
      const target = unusedDatabaseName();
      expectRefusal(await loadError(path, target), statement);
      expect(await databaseExists(target), statement).toBe(false);
      await expectUntouched(w);
    }
  });

  it('a directory with its manifest rewritten: the checker refuses it, a harmless change loads', async () => {
    const w = await world();
    const dir = await dumpOf(w, 'directory');
    const names = await readdir(dir);
    const objects = names.find((name) => name.endsWith('-objects.sql')) ?? '';
    const rows = names.find((name) => /\.app@2et\.00000\.sql$/.test(name)) ?? '';
    const manifest = await readFile(join(dir, 'manifest.json'), 'utf8');
    const originals = new Map<string, string>();
    for (const name of [objects, rows])
      originals.set(name, await readFile(join(dir, name), 'utf8'));

    await rewriteWithManifest(dir, rows, (originals.get(rows) ?? '').replace('\tv1\n', '\tV1\n'));
    const control = unusedDatabaseName();
    await loadDump(
      postgresqlEngine,
      loadOptionsForTest({ connection: await serverConnection(), path: dir, into: control }),
    );

    for (const [index, statement] of dangerous(w).entries()) {
      const name = index % 2 === 0 ? objects : rows;
      const text = originals.get(name) ?? '';
      const end = text.lastIndexOf('-- schema_backup dump file complete');
      await writeFile(join(dir, 'manifest.json'), manifest);
      for (const [other, otherText] of originals) await writeFile(join(dir, other), otherText);
      await rewriteWithManifest(
        dir,
        name,
        `${text.slice(0, end)}${statement};\n${text.slice(end)}`,
      );
      const target = unusedDatabaseName();
      expectRefusal(await loadError(dir, target), statement);
      expect(await databaseExists(target), statement).toBe(false);
      await expectUntouched(w);
    }

    // A COPY block in the objects file: rows go in the data files only.
    await writeFile(join(dir, 'manifest.json'), manifest);
    for (const [other, otherText] of originals) await writeFile(join(dir, other), otherText);
    const text = originals.get(objects) ?? '';
    const end = text.lastIndexOf('-- schema_backup dump file complete');
    await rewriteWithManifest(
      dir,
      objects,
      `${text.slice(0, end)}COPY "app"."t" ("id", "v") FROM stdin;\n9\tsecret-password\n\\.\n${text.slice(end)}`,
    );
    const target = unusedDatabaseName();
    const error = await loadError(dir, target);
    expectRefusal(error, 'a COPY block in the objects file');
    expect((error as Error).message).toMatch(/rows \(a statement with data\) outside a data file/);
    expect(await databaseExists(target)).toBe(false);
  });

  it('over a target loaded with --force: its other tables untouched, the marker left', async () => {
    const w = await world();
    const path = await dumpOf(w, 'file');
    const original = await readFile(path, 'utf8');
    const afterRows = afterRowsOf(original);
    const target = await createPgTestDatabase('sbtest_pgtgt');
    await target.exec(`
      CREATE SCHEMA keep;
      CREATE TABLE keep.secret (id integer PRIMARY KEY, v text);
      INSERT INTO keep.secret VALUES (1, 'keep');`);
    const attacks = [
      `INSERT INTO "keep"."secret" ("id", "v") VALUES ('2', 'stolen')`,
      'DELETE FROM "keep"."secret"',
      'TRUNCATE "keep"."secret"',
      'DROP TABLE IF EXISTS "keep"."secret" CASCADE',
      'CREATE TRIGGER tg BEFORE INSERT ON "keep"."secret" FOR EACH ROW EXECUTE FUNCTION app.f()',
      'CREATE POLICY p ON "keep"."secret" USING (false)',
      `ALTER TABLE "keep"."secret" OWNER TO "${w.role}"`,
      `COMMENT ON TABLE "keep"."secret" IS 'x'`,
    ];
    for (const statement of attacks) {
      await writeFile(
        path,
        `${original.slice(0, afterRows)}${statement};\n${original.slice(afterRows)}`,
      );
      expectRefusal(await loadError(path, target.name, true), statement);
      expect(await target.query('SELECT id, v FROM keep.secret')).toEqual([{ id: '1', v: 'keep' }]);
      expect(
        await target.query(
          "SELECT tgname FROM pg_catalog.pg_trigger WHERE tgrelid = 'keep.secret'::regclass",
        ),
      ).toEqual([]);
      expect(
        await target.query(
          "SELECT polname FROM pg_catalog.pg_policy WHERE polrelid = 'keep.secret'::regclass",
        ),
      ).toEqual([]);
      expect(
        await target.query(
          "SELECT obj_description('keep.secret'::regclass, 'pg_class') AS comment",
        ),
      ).toEqual([{ comment: null }]);
      expect(
        await target.query(`SELECT 1 FROM pg_catalog.pg_class WHERE relname = '${MARKER_TABLE}'`),
      ).toHaveLength(1);
    }
    await expectUntouched(w);
  });
  it('a tampered COPY block: refused before anything of it reaches the server', async () => {
    const w = await world();
    const path = await dumpOf(w, 'file');
    const original = await readFile(path, 'utf8');
    const headText = 'COPY "app"."t" ("id", "v") FROM stdin;\n';
    const head = original.indexOf(headText);
    expect(head).toBeGreaterThan(0);
    const data = head + headText.length;
    expect(original.slice(data, data + 5)).toBe('1\tv1\n');
    const withFirstRow = (row: string): string =>
      `${original.slice(0, data)}${row}${original.slice(data + 5)}`;
    const withHead = (text: string): string =>
      `${original.slice(0, head)}${text}${original.slice(head + headText.length)}`;
    const cases: readonly (readonly [string, string, RegExp])[] = [
      [
        'a table the dump did not create',
        withHead('COPY "keep"."secret" ("id", "v") FROM stdin;\n'),
        /COPY into "keep"."secret", a table the dump did not create/,
      ],
      [
        'a column the dump did not create',
        withHead('COPY "app"."t" ("id", "secret") FROM stdin;\n'),
        /naming column "secret" that the dump did not create/,
      ],
      [
        'an extra field',
        withFirstRow('1\tv1\tsecret-password\n'),
        /3 fields where the COPY names 2/,
      ],
      ['a bad escape', withFirstRow('1\tv1\\x41\n'), /a backslash escape COPY does not write/],
      [
        'FROM PROGRAM',
        withHead(`COPY "app"."t" ("id", "v") FROM PROGRAM 'touch ${w.outfile}';\n`),
        /a COPY that is not followed by its data/,
      ],
      [
        'TO a file',
        withHead(`COPY "app"."t" ("id", "v") TO '${w.outfile}';\n`),
        /a COPY that is not followed by its data/,
      ],
    ];
    for (const [label, text, reason] of cases) {
      await writeFile(path, text);
      const target = unusedDatabaseName();
      const error = await loadError(path, target);
      expect(error, label).toBeInstanceOf(UnexpectedStatementError);
      expect((error as UnexpectedStatementError).exitCode, label).toBe(1);
      expect((error as Error).message, label).toMatch(/^refused to load .* at line \d+: /);
      expect((error as Error).message, label).toMatch(reason);
      expect((error as Error).message, label).not.toContain('secret-password');
      expect(await databaseExists(target), label).toBe(false);
      await expectUntouched(w);
    }

    // Over a target loaded with --force: a COPY block into its own table never runs.
    const target = await createPgTestDatabase('sbtest_pgtgt');
    await target.exec(`
      CREATE SCHEMA keep;
      CREATE TABLE keep.secret (id integer PRIMARY KEY, v text);
      INSERT INTO keep.secret VALUES (1, 'keep');`);
    const afterRows = afterRowsOf(original);
    for (const block of [
      'COPY "keep"."secret" ("id", "v") FROM stdin;\n2\tstolen\n\\.\n',
      `COPY "keep"."secret" ("id", "v") FROM PROGRAM 'echo 3,stolen' WITH (FORMAT csv);\n`,
    ]) {
      await writeFile(path, `${original.slice(0, afterRows)}${block}${original.slice(afterRows)}`);
      const error = await loadError(path, target.name, true);
      expect(error, block).toBeInstanceOf(UnexpectedStatementError);
      expect((error as Error).message, block).toMatch(
        /a table the dump did not create|a COPY that is not followed by its data/,
      );
      expect(await target.query('SELECT id, v FROM keep.secret')).toEqual([{ id: '1', v: 'keep' }]);
      expect(
        await target.query(`SELECT 1 FROM pg_catalog.pg_class WHERE relname = '${MARKER_TABLE}'`),
      ).toHaveLength(1);
    }
    await expectUntouched(w);
  });

  it('never fills a template database, whatever the header names', async () => {
    const w = await world();
    const path = await dumpOf(w, 'file');
    const text = await readFile(path, 'utf8');
    await writeFile(
      path,
      text.replace(`"databases":["${w.source.name}"]`, '"databases":["template1"]'),
    );
    const error = await loadDump(
      postgresqlEngine,
      loadOptionsForTest({ connection: await serverConnection(), path }),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/load does not fill template1/);
  });
});
