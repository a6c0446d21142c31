/**
 * Rows read as binary (a prepared statement: the server sends numbers, dates and times as
 * stored values, the encoder writes their text) give the same table as rows read as text,
 * for every column type of the round-trip fixture: the same CHECKSUM TABLE, and the same
 * SQL text except for how a FLOAT or DOUBLE is spelled. Where the server refuses prepared
 * statements, the dump reads as text.
 */
import type mysql from 'mysql2';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { TableDescription } from '../../../src/engine/engine.js';
import { EngineError } from '../../../src/errors.js';
import {
  InsertEncoder,
  streamInsertChunks,
  type PreparedRows,
} from '../../../src/engine/mariadb/insert-encoder.js';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { literalKindOf } from '../../../src/engine/mariadb/sql-literal.js';
import {
  COLUMN_TYPES,
  createColumnTypesTable,
  insertColumnTypesRows,
} from '../../fixtures/column-types.js';
import {
  callbackConnection,
  connectionTo,
  createTestDatabase,
  type TestDatabase,
} from '../../helpers/database.js';

interface Column {
  readonly name: string;
  /** The column type as written in CREATE TABLE. */
  readonly type: string;
}

const TYPES_TABLE: readonly Column[] = [
  { name: 'id', type: 'INT' },
  ...COLUMN_TYPES.map((type) => ({ name: type.column, type: type.type })),
];

/** Values the column-type fixture leaves out that take their own path in the binary decoder. */
const EDGES: readonly (Column & { readonly values: readonly string[] })[] = [
  { name: 'mi_s', type: 'MEDIUMINT', values: ['-8388608', '8388607', '-1'] },
  { name: 'si_u', type: 'SMALLINT UNSIGNED', values: ['65535', '1'] },
  { name: 'i_u', type: 'INT UNSIGNED', values: ['4294967295', '2147483648'] },
  {
    name: 'bi_s',
    type: 'BIGINT',
    // Around 2^53, where a JavaScript number stops being exact, and around 2^32.
    values: [
      '-9007199254740993',
      '9007199254740992',
      '-9007199254740992',
      '-4294967296',
      '4294967297',
      '-1',
    ],
  },
  {
    name: 'bi_u',
    type: 'BIGINT UNSIGNED',
    values: ['9007199254740992', '4294967296', '9223372036854775808'],
  },
  {
    name: 't0',
    type: 'TIME',
    values: ["'-00:00:01'", "'100:00:00'", "'-838:59:59'", "'00:00:00'"],
  },
  { name: 't3', type: 'TIME(3)', values: ["'-00:00:00.5'", "'23:59:59.999'", "'00:00:00'"] },
  {
    name: 'dt0',
    type: 'DATETIME',
    values: ["'2024-02-29 12:34:56'", "'2024-02-29 00:00:00'", "'0000-00-00 00:00:00'"],
  },
  {
    name: 'dt2',
    type: 'DATETIME(2)',
    values: ["'1999-12-31 23:59:59.99'", "'2000-01-01 00:00:00.01'"],
  },
  {
    name: 'ts0',
    type: 'TIMESTAMP NULL',
    values: ["'2001-09-09 01:46:40'", "'0000-00-00 00:00:00'"],
  },
  { name: 'y', type: 'YEAR', values: ['1901', '0', '2000'] },
  {
    name: 'dbl',
    type: 'DOUBLE',
    values: ['1e21', '1e-7', '123456789', '-2147483648', '2147483648', '0.5'],
  },
  { name: 'flt', type: 'FLOAT', values: ['16777216', '-1e-30', '1e21', '3.4e38'] },
  { name: 'dec0', type: 'DECIMAL(20,0)', values: ['-99999999999999999999', '0'] },
];

/** FLOAT and DOUBLE: the same number, spelled differently (server `1e308`, JavaScript `1e+308`). */
const FLOATING = new Set(['f', 'd', 'dbl', 'flt']);
/**
 * FLOAT(M,D) and DOUBLE(M,D): as text the server rounds to D decimals; binary is the stored
 * value exactly (-1.000000082740371e-10 where text says -0.0000000001). Both reload to the
 * same stored value, which CHECKSUM TABLE checks.
 */
const ROUNDED_AS_TEXT = new Set(['f_md', 'd_md']);

async function prepare(connection: mysql.Connection, sql: string): Promise<PreparedRows> {
  return new Promise((resolve, reject) => {
    connection.prepare(sql, (error, statement) => {
      if (error === null) resolve(statement);
      else reject(error);
    });
  });
}

/** The rows of `table` as INSERT statements into `target`, one row per statement. */
async function encodeRows(
  connection: mysql.Connection,
  table: string,
  columns: readonly Column[],
  target: string,
  protocol: 'text' | 'binary',
): Promise<string[]> {
  const kinds = columns.map((column) =>
    literalKindOf((column.type.split(/[ (]/)[0] ?? '').toLowerCase()),
  );
  const names = columns.map((column) => `\`${column.name}\``);
  // As text, FLOAT is read as DOUBLE (exact), as the dump does.
  const select =
    protocol === 'text'
      ? columns.map((column, index) =>
          column.type.startsWith('FLOAT') ? `CAST(${names[index] ?? ''} AS DOUBLE)` : names[index],
        )
      : names;
  const sql = `SELECT ${select.join(', ')} FROM \`${table}\` ORDER BY id`;
  const encoder = new InsertEncoder(
    `INSERT INTO \`${target}\` (${names.join(',')}) VALUES `,
    kinds,
    1,
  );
  const prepared = protocol === 'binary' ? await prepare(connection, sql) : undefined;
  const statements: string[] = [];
  for await (const chunk of streamInsertChunks(
    connection,
    sql,
    encoder,
    (error) => error as Error,
    prepared,
  ))
    statements.push(chunk.sql.toString('utf8'));
  if (prepared !== undefined) connection.unprepare(sql);
  return statements;
}

/** Each row's values, split at the top-level commas (none of the fixture's strings break this). */
function valuesOf(statement: string): string[] {
  const inner = statement.slice(statement.indexOf(' VALUES (') + 9, -3);
  const values: string[] = [];
  let current = '';
  let quoted = false;
  for (let index = 0; index < inner.length; index += 1) {
    const char = inner[index] ?? '';
    if (quoted && char === '\\') {
      current += char + (inner[index + 1] ?? '');
      index += 1;
      continue;
    }
    if (char === "'") quoted = !quoted;
    if (char === ',' && !quoted) {
      values.push(current);
      current = '';
    } else current += char;
  }
  values.push(current);
  return values;
}

/**
 * Reads `table` as text and as binary rows: the SQL must be the same but for the spelling of
 * floats, and each, loaded into a copy, must give the table's CHECKSUM.
 */
async function expectSameAsText(
  database: TestDatabase,
  table: string,
  columns: readonly Column[],
): Promise<void> {
  const connection = callbackConnection(database.name);
  const text = await encodeRows(connection, table, columns, 'from_text', 'text');
  const binary = await encodeRows(connection, table, columns, 'from_binary', 'binary');
  expect(binary).toHaveLength(text.length);
  for (let row = 0; row < text.length; row += 1) {
    const fromText = valuesOf(text[row] ?? '');
    const fromBinary = valuesOf(binary[row] ?? '');
    expect(fromBinary).toHaveLength(columns.length);
    columns.forEach(({ name }, index) => {
      const a = fromText[index] ?? '';
      const b = fromBinary[index] ?? '';
      if (ROUNDED_AS_TEXT.has(name)) return;
      if (FLOATING.has(name) && a !== 'NULL') expect([name, Number(b)]).toEqual([name, Number(a)]);
      else expect([name, b]).toEqual([name, a]);
    });
  }
  for (const [copy, statements] of [
    ['from_text', text],
    ['from_binary', binary],
  ] as const) {
    await database.exec(`DROP TABLE IF EXISTS \`${copy}\``);
    await database.exec(`CREATE TABLE \`${copy}\` LIKE \`${table}\``);
    for (const statement of statements) await database.exec(statement);
  }
  const sums = await database.query<{ Checksum: string }>(
    `CHECKSUM TABLE \`${table}\`, from_text, from_binary EXTENDED`,
  );
  const [first] = sums;
  expect(first?.Checksum).toBeDefined();
  expect(sums.map((row) => row.Checksum)).toEqual([
    first?.Checksum,
    first?.Checksum,
    first?.Checksum,
  ]);
}

describe('binary rows', () => {
  it('give every column type of the fixture as text rows do', async () => {
    const database = await createTestDatabase('binrows');
    await database.exec(createColumnTypesTable('types'));
    for (const statement of insertColumnTypesRows('types')) await database.exec(statement);
    await expectSameAsText(database, 'types', TYPES_TABLE);
  });

  it('give the edge values of integers, dates, times and floats as text rows do', async () => {
    const database = await createTestDatabase('binedge');
    await database.exec("SET SESSION sql_mode = ''");
    await database.exec(
      `CREATE TABLE edges (id INT PRIMARY KEY, ${EDGES.map((column) => `\`${column.name}\` ${column.type}`).join(', ')})`,
    );
    const rows = Math.max(...EDGES.map((column) => column.values.length)) + 1;
    for (let row = 0; row < rows; row += 1)
      await database.exec(
        `INSERT INTO edges VALUES (${String(row)}, ${EDGES.map((column) => column.values[row] ?? 'NULL').join(', ')})`,
      );
    await expectSameAsText(database, 'edges', [{ name: 'id', type: 'INT' }, ...EDGES]);
  });

  it('report a connection lost before the statement is prepared as an engine error', async () => {
    const database = await createTestDatabase('binlost');
    await database.exec('CREATE TABLE t (id INT PRIMARY KEY)');
    const session = await mariadbEngine.openSession(connectionTo(database.name));
    onTestFinished(async () => session.close());
    const table = (await session.describeTables(database.name)).get('t') as TableDescription;
    // The helper's own connection is the only other one in this database.
    const [{ id } = { id: 0 }] = await database.query<{ id: number }>(
      'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
      [database.name],
    );
    await database.exec(`KILL ${String(id)}`);
    const rows = session.readInsertChunks(database.name, table)[Symbol.asyncIterator]();
    await expect(rows.next()).rejects.toBeInstanceOf(EngineError);
  });

  it('fall back to text where the server allows no prepared statement', async () => {
    const database = await createTestDatabase('binoff');
    await database.exec(
      'CREATE TABLE t (id INT PRIMARY KEY, f FLOAT, d DATETIME(3), v VARCHAR(10))',
    );
    await database.exec(
      "INSERT INTO t VALUES (1, 3.4028234e38, '2020-01-02 03:04:05.678', 'x'), (2, NULL, NULL, NULL)",
    );
    const session = await mariadbEngine.openSession(connectionTo(database.name));
    onTestFinished(async () => session.close());
    const table = (await session.describeTables(database.name)).get('t') as TableDescription;
    const read = async (): Promise<string> => {
      let sql = '';
      for await (const chunk of session.readInsertChunks(database.name, table))
        sql += chunk.sql.toString('utf8');
      return sql;
    };
    const binary = await read();
    const [{ limit } = { limit: 0 }] = await database.query<{ limit: number }>(
      'SELECT @@GLOBAL.max_prepared_stmt_count AS `limit`',
    );
    // Global: a dump running meanwhile in another test reads as text too, which must also work.
    await database.exec('SET GLOBAL max_prepared_stmt_count = 0');
    let text: string;
    try {
      text = await read();
    } finally {
      await database.exec(`SET GLOBAL max_prepared_stmt_count = ${String(limit)}`);
    }
    expect(text).toBe(binary);
    expect(text).toContain(
      "(1,3.4028234663852886e38,'2020-01-02 03:04:05.678','x'),(2,NULL,NULL,NULL)",
    );
  });
});
