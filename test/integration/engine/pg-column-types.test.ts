/**
 * Exact values of every PostgreSQL column type (#16): the table of test/fixtures/pg-column-types.ts
 * is read by the engine (describeTables, readRowBatches) into row lines, as a snapshot writes
 * them, and loaded into fresh databases two ways: by the stock `psql -v ON_ERROR_STOP=1 -f`,
 * and as restore does (the script reader, the checker of a user-data file, INSERTs of the same
 * table joined into one, `session.execute`). Both copies must hold the same values as the
 * source, column by column and row by row (floats by their bits), and the identity sequences
 * must give the same next values. Reading twice gives the same bytes.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { TableDescription } from '../../../src/engine/engine.js';
import { openPostgresqlSession } from '../../../src/engine/postgresql/open-session.js';
import { postgresqlDialect } from '../../../src/engine/postgresql/postgresql-dialect.js';
import type { PostgresqlSession } from '../../../src/engine/postgresql/postgresql-session.js';
import { postgresqlScriptFormat } from '../../../src/engine/postgresql/script-format.js';
import {
  createPgColumnTypesTable,
  insertPgColumnTypesRows,
  PG_COLUMN_TYPES_SETUP,
  preparePgColumnTypes,
  pgColumnTypesFor,
  type PgServerTypes,
  PG_ROW_COUNT,
} from '../../fixtures/pg-column-types.js';
import {
  createPgTestDatabase,
  pgConnectionTo,
  runPsql,
  type PgTestDatabase,
} from '../../helpers/postgres.js';
import { runDumpChunk } from '../../helpers/pg-dump-chunk.js';
import { createTempDir } from '../../helpers/temp-dir.js';
import { renderRows, renderUserDataRows } from '../../../src/snapshot/render-files.js';

const TABLE = 'app.types';
/** A table without a key: its rows are ordered by every value's text, bytewise. */
const KEYLESS = String.raw`CREATE TABLE app.keyless (t text, n numeric, f float8, b bytea);
INSERT INTO app.keyless VALUES ('b', 1.0, 0, NULL), ('a', 1.00, '-0', '\x00'), ('a', 1, 0, ''),
  (NULL, NULL, NULL, NULL), ('a', NULL, 'NaN', '\x'), ('B', 1, 1, '\xff'), ('é', 2, 2, NULL),
  ('a', 1, 0, ''), ('a b', 3, 3, NULL), ('a', 1, 'Infinity', NULL), ('_', 0, 0, NULL);`;
/** A table whose row key is a unique index over a NOT NULL column (no primary key). */
const UNIQUE_KEYED = `CREATE TABLE app.unique_keyed (k text NOT NULL, v int, UNIQUE (k));
INSERT INTO app.unique_keyed VALUES ('b', 1), ('a', 2), ('B', 3), ('é', 4), ('_', 5);`;

/** Tables without a column to insert (none at all; only a generated one), with rows. */
const NO_COLUMNS = `CREATE TABLE app.zero ();
CREATE TABLE app.only_generated (g int GENERATED ALWAYS AS (7) STORED);
INSERT INTO app.zero DEFAULT VALUES; INSERT INTO app.zero DEFAULT VALUES;
INSERT INTO app.only_generated DEFAULT VALUES;`;

const MAX_BATCH_BYTES = 1024 * 1024;
/** The script reader is given a file in pieces of this many bytes. */
const PIECE_BYTES = 97;

async function openSession(database: string): Promise<PostgresqlSession> {
  const { options, environment } = await pgConnectionTo(database);
  return openPostgresqlSession(options, environment);
}

/**
 * Database defaults unlike the ones the engine and the scripts set, so that the values read
 * and loaded cannot depend on the server's: sessions opened later (the engine's, psql's) start
 * with them. The test's own connections were opened before, with the server's defaults.
 */
const ODD_DEFAULTS: readonly string[] = [
  "DateStyle = 'SQL, DMY'",
  "IntervalStyle = 'sql_standard'",
  "TimeZone = 'Pacific/Chatham'",
  'extra_float_digits = -15',
  "bytea_output = 'escape'",
  'standard_conforming_strings = off',
  "xmloption = 'document'",
  "search_path = 'app, public'",
  "client_min_messages = 'debug1'",
];

async function withOddDefaults(database: PgTestDatabase): Promise<PgTestDatabase> {
  for (const setting of ODD_DEFAULTS)
    await database.exec(`ALTER DATABASE "${database.name}" SET ${setting}`);
  return database;
}

async function createSource(): Promise<PgTestDatabase & { server: PgServerTypes }> {
  const source = await createPgTestDatabase('sbpgtypes_src');
  const server = await preparePgColumnTypes(source);
  await source.exec(PG_COLUMN_TYPES_SETUP);
  await source.exec(createPgColumnTypesTable(TABLE, server));
  for (const statement of insertPgColumnTypesRows(TABLE, server)) await source.exec(statement);
  await source.exec(KEYLESS);
  await source.exec(UNIQUE_KEYED);
  await source.exec(NO_COLUMNS);
  return Object.assign(await withOddDefaults(source), { server });
}

/** A fresh database with the fixture's tables, empty. */
async function createTarget(label: string): Promise<PgTestDatabase> {
  const target = await createPgTestDatabase(label);
  const server = await preparePgColumnTypes(target);
  await target.exec(PG_COLUMN_TYPES_SETUP);
  await target.exec(createPgColumnTypesTable(TABLE, server));
  await target.exec(KEYLESS.slice(0, KEYLESS.indexOf(';') + 1));
  await target.exec(UNIQUE_KEYED.slice(0, UNIQUE_KEYED.indexOf(';') + 1));
  await target.exec(NO_COLUMNS.split('\n').slice(0, 2).join('\n'));
  return withOddDefaults(target);
}

interface TableLines {
  /** The preamble and the rows in one transaction, as a snapshot's table file holds them. */
  readonly rows: string;
  /** The rows as a user-data file holds them (its header, the preamble, no transaction). */
  readonly userData: string;
  /** The identity sequences' setval lines. */
  readonly sequences: string;
}

async function text(chunks: AsyncIterable<{ text: string }>): Promise<string> {
  let result = '';
  for await (const chunk of chunks) result += chunk.text;
  return result;
}

/** A table's rows as a snapshot writes them, and its identity sequences' positions. */
async function readTable(
  session: PostgresqlSession,
  database: string,
  description: TableDescription,
): Promise<TableLines> {
  const dialect = postgresqlDialect;
  const preamble = dialect.scriptPreamble
    .map((statement) => dialect.statementLine(statement))
    .join('');
  const rows =
    preamble +
    (await text(renderRows(dialect, description, session.readRowBatches(database, description))));
  const userData = await text(
    renderUserDataRows(dialect, description, session.readRowBatches(database, description)),
  );
  let sequences = '';
  for (const column of description.columns) {
    if (column.identitySequence === undefined) continue;
    const state = await session.readSequenceState(database, column.identitySequence);
    if (state !== undefined)
      sequences += dialect.statementLine(
        dialect.sequenceStateStatement(column.identitySequence, state),
      );
  }
  return { rows, userData, sequences };
}

async function readAll(database: string): Promise<Map<string, TableLines>> {
  const session = await openSession(database);
  try {
    await session.startConsistentSnapshot();
    const result = new Map<string, TableLines>();
    for (const description of (await session.describeTables(database)).values())
      result.set(description.name, await readTable(session, database, description));
    await session.endConsistentSnapshot();
    return result;
  } finally {
    await session.close();
  }
}

/**
 * Loads `text` as restore loads a user-data file of `table`: checked, INSERTs joined,
 * executed. Returns how many INSERTs were sent.
 */
async function loadAsRestore(session: PostgresqlSession, table: string, text: string) {
  const format = postgresqlScriptFormat;
  const checker = format.checker({ kind: 'rows', table });
  await session.execute(format.sessionReset);
  let batch: { prefix: string; values: string[]; bytes: number } | undefined;
  let statements = 0;
  const flush = async () => {
    if (batch === undefined) return;
    await session.execute(format.joinInsert(batch.prefix, batch.values));
    statements += 1;
    batch = undefined;
  };
  // In small pieces, as a file is read: literals and UTF-8 characters cut across them.
  const bytes = Buffer.from(text);
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += PIECE_BYTES)
    pieces.push(bytes.subarray(at, at + PIECE_BYTES));
  for await (const statement of format.readStatements(Readable.from(pieces))) {
    const checked = checker.check(statement.sql);
    if (checked.valuesAt !== undefined) {
      const prefix = statement.sql.slice(0, checked.valuesAt);
      const values = statement.sql.slice(checked.valuesAt);
      if (
        batch !== undefined &&
        (batch.prefix !== prefix || batch.bytes + values.length > MAX_BATCH_BYTES)
      )
        await flush();
      batch ??= { prefix, values: [], bytes: prefix.length };
      batch.values.push(values);
      batch.bytes += values.length + 1;
      continue;
    }
    await flush();
    await session.execute(statement.sql);
  }
  await flush();
  checker.finish();
  return statements;
}

interface Mismatch {
  column: string;
  id: string;
  source: string | null;
  target: string | null;
}

/** Shortened for a failure message. */
function clip(value: string | null): string | null {
  return value === null || value.length <= 120
    ? value
    : `${value.slice(0, 120)}… (${String(value.length)})`;
}

/** Every value of the column-type table that differs between `source` and `target`. */
async function mismatches(
  source: PgTestDatabase,
  target: PgTestDatabase,
  server: PgServerTypes,
): Promise<Mismatch[]> {
  const found: Mismatch[] = [];
  const cases = [
    { column: 'id', compare: undefined },
    { column: 'bd', compare: undefined },
    ...pgColumnTypesFor(server),
    { column: 'gen', compare: undefined },
    { column: 'gen_t', compare: undefined },
    // The whole row as text: every column at once, composite quoting included.
    { column: 'row', compare: 'ROW(t.*)' },
  ];
  for (const { column, compare } of cases) {
    const quoted = `t."${column}"`;
    const expression = (compare ?? 'c::text').replace(/\bc\b/g, quoted);
    const sql = `SELECT t.id::text AS id, (${expression})::text AS v FROM ${TABLE} t ORDER BY t.id`;
    const [left, right] = await Promise.all([
      source.query<{ id: string; v: string | null }>(sql),
      target.query<{ id: string; v: string | null }>(sql),
    ]);
    expect(
      right.map((row) => row.id),
      `row ids (${column})`,
    ).toEqual(left.map((row) => row.id));
    left.forEach((row, index) => {
      const other = right[index]?.v ?? null;
      if (row.v !== other)
        found.push({ column, id: row.id, source: clip(row.v), target: clip(other) });
    });
  }
  return found;
}

/** Every row of the other tables as text, in a fixed order. */
async function otherRows(database: PgTestDatabase): Promise<string[]> {
  const rows = await database.query<{ row: string }>(
    `SELECT row FROM (SELECT 'k ' || t::text AS row FROM app.keyless t
     UNION ALL SELECT 'u ' || t::text FROM app.unique_keyed t
     UNION ALL SELECT 'z ' || t::text FROM app.zero t
     UNION ALL SELECT 'g ' || t::text FROM app.only_generated t) r ORDER BY row COLLATE "C"`,
  );
  return rows.map((row) => row.row);
}

/** The next values of the identity sequences (taking them). */
async function nextIdentities(database: PgTestDatabase): Promise<string[]> {
  const rows = await database.query<{ id: string; bd: string }>(
    `INSERT INTO ${TABLE} (t) VALUES ('next') RETURNING id::text, bd::text`,
  );
  return rows.map((row) => `${row.id} ${row.bd}`);
}

describe('PostgreSQL column types: exact values (#16)', () => {
  it('loads back every value of every type, by psql and as restore does', async () => {
    const source = await createSource();
    const files = await readAll(source.name);
    const types = files.get(TABLE);
    if (types === undefined) throw new Error(`no ${TABLE}`);
    expect([...files.keys()]).toEqual([
      'app.keyless',
      'app.lookup',
      'app.only_generated',
      TABLE,
      'app.unique_keyed',
      'app.zero',
      'public.plain',
    ]);
    // A row of a table without a column to insert: DEFAULT VALUES.
    expect(files.get('app.zero')?.rows).toContain(
      'BEGIN;\nINSERT INTO "app"."zero" DEFAULT VALUES;\nINSERT INTO "app"."zero" DEFAULT VALUES;\nCOMMIT;\n',
    );
    // One row a line, no literal spans lines; generated columns are not written.
    const rowLines = types.rows.split('\n').filter((line) => line.startsWith('INSERT'));
    expect(rowLines).toHaveLength(PG_ROW_COUNT);
    expect(rowLines[0]).toMatch(/^INSERT INTO "app"."types" \("id", "bd", "i2", /);
    expect(rowLines[0]).not.toContain('"gen"');
    expect(types.sequences).toContain(`setval('"app"."types_id_seq"'`);
    expect(types.sequences).toContain(`setval('"app"."types_bd_seq"'`);

    const directory = await createTempDir('sbpgtypes');
    // psql: the row lines and the sequence positions of every table, one file each.
    const byPsql = await createTarget('sbpgtypes_psql');
    for (const [name, lines] of files) {
      const path = join(directory, `${name}.sql`);
      await writeFile(path, lines.rows + lines.sequences);
      await runPsql(byPsql.name, path);
    }
    // As restore does: a user-data file's checker, INSERTs joined, executed by the engine.
    const byRestore = await createTarget('sbpgtypes_restore');
    const loader = await openSession(byRestore.name);
    try {
      for (const [name, lines] of files) {
        const statements = await loadAsRestore(loader, name, lines.userData);
        // Rows go in joined INSERTs (several per table: the big values pass 1 MiB).
        if (name === TABLE) expect(statements).toBeLessThan(PG_ROW_COUNT);
        if (lines.sequences !== '') await loader.execute(lines.sequences);
      }
    } finally {
      await loader.close();
    }

    // COPY blocks as a dump writes them, cut small, run as load runs them.
    const byChunks = await createTarget('sbpgtypes_chunks');
    const reader = await openSession(source.name);
    const writer = await openSession(byChunks.name);
    try {
      await writer.execute(postgresqlScriptFormat.sessionReset);
      for (const description of (await reader.describeTables(source.name)).values())
        for await (const chunk of reader.readInsertChunks(source.name, description, {
          statementBytes: 64 * 1024,
        }))
          expect(await runDumpChunk(writer, chunk.sql)).toBe(chunk.rows);
    } finally {
      await reader.close();
      await writer.close();
    }

    for (const target of [byPsql, byRestore, byChunks]) {
      expect(await mismatches(source, target, source.server)).toEqual([]);
      expect(await otherRows(target)).toEqual(await otherRows(source));
    }
    const next = await nextIdentities(source);
    expect(await nextIdentities(byPsql)).toEqual(next);
    expect(await nextIdentities(byRestore)).toEqual(next);
    expect(next).toEqual([`${String(10 + 3 * PG_ROW_COUNT)} ${String(PG_ROW_COUNT + 1)}`]);

    // Read again, from the source and from a copy: the same bytes, whatever the defaults.
    await source.exec(`DELETE FROM ${TABLE} WHERE t = 'next'`);
    await byPsql.exec(`DELETE FROM ${TABLE} WHERE t = 'next'`);
    for (const database of [source, byPsql]) {
      await database.exec(
        `SELECT setval('app.types_id_seq', ${String(7 + 3 * PG_ROW_COUNT)}), setval('app.types_bd_seq', ${String(PG_ROW_COUNT)})`,
      );
    }
    const again = await readAll(source.name);
    // The copy with the server's defaults: the same bytes as from the source with odd ones.
    await byPsql.exec(`ALTER DATABASE "${byPsql.name}" RESET ALL`);
    const copy = await readAll(byPsql.name);
    for (const [name, lines] of files) {
      expect(again.get(name), name).toEqual(lines);
      expect(copy.get(name), name).toEqual(lines);
    }
  });

  it('describes each column by its base type, through domains over domains', async () => {
    const source = await createSource();
    const session = await openSession(source.name);
    try {
      const table = (await session.describeTables(source.name)).get(TABLE);
      const types = new Map(table?.columns.map((column) => [column.name, column.dataType]));
      expect(
        Object.fromEntries(
          ['i4', 'f8_dom', 'mdom', 'idom', 'ndom', 'edom', 'adom', 'comp'].map((name) => [
            name,
            types.get(name),
          ]),
        ),
      ).toEqual({
        i4: 'int4',
        f8_dom: 'float8',
        mdom: 'money',
        idom: 'int4',
        ndom: 'numeric',
        edom: 'text',
        adom: '_posint',
        comp: 'pair',
      });
      expect(table?.columns.find((column) => column.name === 'mdom')?.columnType).toBe('app.cash2');
      // Read as a float8 (bare where that is exact) and as money (a number), not as text.
      const names =
        table?.columns.filter((column) => !column.generated).map((column) => column.name) ?? [];
      const first: string[] = [];
      if (table !== undefined)
        for await (const batch of session.readRowBatches(source.name, table)) {
          first.push(...(batch[0] ?? []));
          break;
        }
      expect(first[names.indexOf('f8_dom')]).toBe("'-0'");
      expect(first[names.indexOf('mdom')]).toBe('1234.56');
      expect(first[names.indexOf('idom')]).toBe('5');
    } finally {
      await session.close();
    }
  });

  it('reads every row line back into its values, as diff does', async () => {
    const source = await createSource();
    const session = await openSession(source.name);
    const literals: string[][] = [];
    let rows = '';
    try {
      const table = (await session.describeTables(source.name)).get(TABLE);
      if (table === undefined) throw new Error(`no ${TABLE}`);
      for await (const batch of session.readRowBatches(source.name, table))
        literals.push(...batch.map((row) => [...row]));
      rows = await text(
        renderRows(postgresqlDialect, table, session.readRowBatches(source.name, table)),
      );
    } finally {
      await session.close();
    }
    const format = postgresqlScriptFormat;
    const lines = rows.split('\n').filter((line) => line.startsWith(format.rowLinePrefix));
    expect(lines).toHaveLength(literals.length);
    lines.forEach((line, index) => {
      const head = format.parseRowHead(line);
      if (head === undefined) throw new Error(`no row head: ${line.slice(0, 80)}`);
      const bounds = new Int32Array(2 * (head.columns.length + 1));
      const count = format.findRowValues(line, head.text.length, bounds, head.columns.length + 1);
      expect(count).toBe(head.columns.length);
      const values = Array.from({ length: count }, (_, value) =>
        line.slice(bounds[2 * value], bounds[2 * value + 1]).trim(),
      );
      expect(values).toEqual(literals[index]);
    });
  });

  it('orders rows by the key, else a unique NOT NULL key, else by every value, bytewise', async () => {
    const source = await createSource();
    const files = await readAll(source.name);
    const values = (name: string): string[] =>
      (files.get(name)?.rows ?? '')
        .split('\n')
        .filter((line) => line.startsWith('INSERT'))
        .map((line) => line.slice(line.lastIndexOf(' VALUES ') + 8));
    expect(values('app.unique_keyed')).toEqual(
      // The unique index's order (the column's collation), not the order of insertion.
      (
        await source.query<{ v: string }>(
          `SELECT format('(%L, %s);', k, v) AS v FROM app.unique_keyed ORDER BY k`,
        )
      ).map((row) => row.v),
    );
    expect(values('app.keyless')).toEqual([
      "('B', 1, 1, '\\xff');",
      "('_', 0, 0, NULL);",
      "('a', 1, 0, '\\x');",
      "('a', 1, 0, '\\x');",
      "('a', 1, 'Infinity', NULL);",
      "('a', 1.00, '-0', '\\x00');",
      "('a', NULL, 'NaN', '\\x');",
      "('a b', 3, 3, NULL);",
      "('b', 1.0, 0, NULL);",
      "('é', 2, 2, NULL);",
      '(NULL, NULL, NULL, NULL);',
    ]);
  });
});
