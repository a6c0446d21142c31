/**
 * A PostgreSQL database to snapshot from the command line: the schema objects of
 * test/fixtures/pg-schema-objects.ts with rows in every kind of table, its config, and the
 * checks of a round trip (rows table by table, files loaded with psql in the documented order).
 */
import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { onTestFinished } from 'vitest';
import { postgresServer, runPsql, type PgLogin } from './postgres.js';

/** Rows for every table of PG_SCHEMA_OBJECTS, the same on every run (no now()). */
export const PG_SNAPSHOT_ROWS = String.raw`
INSERT INTO app.settings (name, value, amount, span, place, updated_at) VALUES
  ('alpha', 'one', 3, '[1,2)', ROW('Main St', 12345, 'happy')::app.address, '2024-05-01 10:00:00+00'),
  ('Beta', 'two; it''s', 4, '[5,6)', NULL, '2024-05-02 10:00:00.123456+00');
INSERT INTO public.users (login, setting_id) VALUES ('alice', 10), ('bob', 12);
UPDATE public.users SET manager = 1 WHERE login = 'bob';
INSERT INTO "Odd Schema"."Odd ""Table""" VALUES (1, 'x''y'), (NULL, NULL);
INSERT INTO app."dotted.name" VALUES (1, 'a.b');
INSERT INTO app.events VALUES (1, '2024-02-02 00:00:00+00', 'x'), (2, '2030-01-01 00:00:00+00', 'y');
INSERT INTO app.by_list VALUES ('a', 1), ('b', 2), ('a', 3);
INSERT INTO app.parent_plain VALUES (1);
INSERT INTO app.child_plain VALUES (2, 'two');
SELECT nextval('public.plain_seq');
`;

/** The tables of PG_SCHEMA_OBJECTS as a config names them; `public.scratch` is ephemeral. */
export const PG_GLOBAL_TABLES = [
  'app.settings',
  'users',
  'Odd Schema.Odd "Table"',
  'app.dotted.name',
  'app.events',
  'app.events_2024',
  'app.events_default',
  'app.by_list',
  'app.by_list_ab',
  'app.by_list_ab_0',
  'app.by_list_ab_1',
  'app.parent_plain',
  'app.child_plain',
];

/** The kinds of PostgreSQL snapshot files in the order the README says to load them. */
export const PG_LOAD_ORDER = [
  'schema',
  'extension',
  'type',
  'domain',
  'function',
  'procedure',
  'sequence',
  'table',
  'view',
  'materialized-view',
  'foreign-keys',
  'row-security',
  'trigger',
  'policy',
] as const;

/** The config's `database:` block for `database` on the test server (TCP, no TLS). */
export async function pgDatabaseConfigLines(database: string): Promise<string[]> {
  const server = await postgresServer();
  return [
    'database:',
    '  engine: postgresql',
    `  name: ${database}`,
    `  host: ${server.host}`,
    `  port: ${String(server.port)}`,
    `  user: ${server.user}`,
    '  sslmode: disable',
  ];
}

/** A config for `database` on the test server: snapshots into `<dir>/backups` as `host`. */
export async function writePgConfig(
  dir: string,
  host: string,
  database: string,
  moreGlobal: readonly string[] = [],
): Promise<string> {
  const config = join(dir, 'schema_backup.conf');
  await writeFile(
    config,
    [
      'csv2_backup_dir: backups',
      `hostname: ${host}`,
      ...(await pgDatabaseConfigLines(database)),
      'git:',
      '  init: true',
      'global:',
      ...[...PG_GLOBAL_TABLES, ...moreGlobal].map((name) => `  - ${JSON.stringify(name)}`),
      'ephemeral: [public.scratch]',
      '',
    ].join('\n'),
  );
  return config;
}

/** The environment the CLI needs for the test server (its password, when it has one). */
export async function pgCliEnv(): Promise<Record<string, string | undefined>> {
  const server = await postgresServer();
  return {
    SCHEMA_BACKUP_DB_PASSWORD: server.password === '' ? undefined : server.password,
    PGDATABASE: undefined,
    PGSERVICE: undefined,
  };
}

/** A database name for a test to create (restore's target), dropped when the test finishes. */
export async function pgDatabaseToDrop(label: string): Promise<string> {
  const name = `${label}_${randomBytes(4).toString('hex')}`;
  const server = await postgresServer();
  onTestFinished(async () => {
    const admin = new pg.Client({ ...clientOf(server), database: 'postgres' });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  });
  return name;
}

function clientOf(server: { host: string; port: number; user: string; password: string }) {
  return { host: server.host, port: server.port, user: server.user, password: server.password };
}

/** Each row of every table of `tables` (carried names), as text, sorted, by table. */
export async function pgTableRows(
  database: string,
  tables: readonly string[],
): Promise<Record<string, string[]>> {
  const client = new pg.Client({ ...clientOf(await postgresServer()), database });
  await client.connect();
  try {
    const result: Record<string, string[]> = {};
    for (const table of tables) {
      const rows = await client.query<{ row: string }>(
        `SELECT t::text AS row FROM ONLY ${quoteCarried(table)} t`,
      );
      result[table] = rows.rows.map((row) => row.row).sort();
    }
    return result;
  } finally {
    await client.end();
  }
}

/** `"schema"."name"` of a carried name `schema.name` (split at the first dot). */
function quoteCarried(name: string): string {
  const dot = name.indexOf('.');
  const quote = (part: string) => `"${part.replace(/"/g, '""')}"`;
  return `${quote(name.slice(0, dot))}.${quote(name.slice(dot + 1))}`;
}

/** The kind a snapshot file name says (`app.recent.view.sql`); `table` for the others. */
export function kindOfPgFile(file: string): (typeof PG_LOAD_ORDER)[number] {
  for (const kind of PG_LOAD_ORDER) if (file.endsWith(`.${kind}.sql`)) return kind;
  return 'table';
}

/**
 * The steps of the README's psql order: kind by kind, but types and domains in one step (a
 * composite type may have a field of a domain, a domain be over a composite type), and
 * views and materialized views in one, as the README loads them.
 */
const PG_LOAD_STEPS: readonly (readonly (typeof PG_LOAD_ORDER)[number][])[] = PG_LOAD_ORDER.filter(
  (kind) => kind !== 'domain' && kind !== 'materialized-view',
).map((kind) =>
  kind === 'type' ? ['type', 'domain'] : kind === 'view' ? ['view', 'materialized-view'] : [kind],
);

/** Kinds whose files that do not load in their step wait for the tables. */
const DEFERRED_KINDS: ReadonlySet<string> = new Set(['type', 'domain', 'function', 'procedure']);

/**
 * Loads every `.sql` file of `hostDir` into `database` with `psql -v ON_ERROR_STOP=1 -f`, in
 * the README's order: kind by kind (types and domains together); within a step, a file that
 * needs another of its step (an enum a composite type uses, a domain a range is over, a
 * partition's parent) after it, found by trying again; a type, domain or routine that still
 * does not load (one made of a table's row type) with the tables, in the same passes (a table
 * may need it in turn), and one that still does not (made of a view's row type) with the
 * views. Returns the files in the order they loaded; throws the error of a
 * file that never loads. As `login` when given, else as the server's user.
 */
export async function loadWithPsql(
  hostDir: string,
  database: string,
  login?: PgLogin,
): Promise<string[]> {
  const files = (await readdir(hostDir)).filter((file) => file.endsWith('.sql')).sort();
  const loaded: string[] = [];
  /** Loads `step` pass after pass; returns the files of a pass that loads none. */
  const load = async (step: readonly string[]): Promise<{ file: string; error: unknown }[]> => {
    let waiting = step;
    while (waiting.length > 0) {
      const failed: { file: string; error: unknown }[] = [];
      for (const file of waiting) {
        try {
          await runPsql(database, join(hostDir, file), login);
          loaded.push(file);
        } catch (error) {
          failed.push({ file, error });
        }
      }
      if (failed.length === waiting.length) return failed;
      waiting = failed.map(({ file }) => file);
    }
    return [];
  };
  let later: string[] = [];
  for (const kinds of PG_LOAD_STEPS) {
    const step = files.filter((file) => kinds.includes(kindOfPgFile(file)));
    // The tables load together with what waited for them, and the views with what still
    // waits (a type, domain or routine made of a view's row type).
    const joined = kinds.includes('table') || kinds.includes('view');
    const failed = await load(joined ? [...step, ...later] : step);
    if (joined) later = [];
    for (const failure of failed) {
      const deferred = DEFERRED_KINDS.has(kindOfPgFile(failure.file)) && !kinds.includes('view');
      if (!deferred) throw failure.error;
      later.push(failure.file);
    }
  }
  return loaded;
}
