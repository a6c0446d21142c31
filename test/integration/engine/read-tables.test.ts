/**
 * Session.readTables (issue 17): the definitions and rows of many tables in a few
 * multi-statement queries give exactly what showCreate and readRowBatches give table by
 * table, across query boundaries, with tables whose rows are not asked for or not read, and
 * the session stays usable afterwards. A reading session runs no given SQL.
 */
import { describe, expect, it } from 'vitest';
import {
  namesOfKind,
  type RowLiterals,
  type Session,
  type TableReadRequest,
} from '../../../src/engine/engine.js';
import { mariadbDialect } from '../../../src/engine/mariadb/mariadb-dialect.js';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { EngineError, InternalError } from '../../../src/errors.js';
import { connectionTo, createTestDatabase } from '../../helpers/database.js';

/** More tables than one query reads (64), so that the groups' boundaries are crossed. */
const TABLES = 70;

async function collect(rows: AsyncIterable<readonly RowLiterals[]>): Promise<RowLiterals[]> {
  const all: RowLiterals[] = [];
  for await (const batch of rows) all.push(...batch);
  return all;
}

async function openReader(database: string): Promise<Session> {
  const session = await mariadbEngine.openSession({ ...connectionTo(database), readsOnly: true });
  await session.startConsistentSnapshot();
  return session;
}

describe('Session.readTables', () => {
  it('gives what showCreate and readRowBatches give, table by table, across query boundaries', async () => {
    const database = await createTestDatabase('perf_readtables');
    const statements: string[] = [];
    for (let index = 0; index < TABLES; index += 1) {
      const name = `t${String(index).padStart(2, '0')}`;
      statements.push(
        `CREATE TABLE ${name} (id INT PRIMARY KEY, v VARCHAR(20), f FLOAT, g INT AS (id * 2) VIRTUAL)`,
      );
      // Every seventh table empty; the others 0..600 rows (more than one batch of 256).
      const rows = index % 7 === 0 ? 0 : (index * 37) % 601;
      if (rows > 0)
        statements.push(
          `INSERT INTO ${name} (id, v, f) SELECT seq, CONCAT('it''s ', seq), seq / 3 FROM seq_1_to_${String(rows)}`,
        );
    }
    // A name that needs quoting.
    statements.push(
      'CREATE TABLE `odd``name` (k CHAR(2) PRIMARY KEY)',
      "INSERT INTO `odd``name` VALUES ('a')",
    );
    await database.exec(statements.join(';\n'));

    const plain = await mariadbEngine.openSession(connectionTo(database.name));
    const reader = await openReader(database.name);
    try {
      const descriptions = await plain.describeTables(database.name);
      const names = [...descriptions.keys()].sort();
      // Rows asked for all but every fifth table; of those asked, every eleventh left unread.
      const requests: TableReadRequest[] = names.map((name, index) => ({
        name,
        ...(index % 5 === 4 ? {} : { rows: descriptions.get(name) }),
      }));
      let index = 0;
      for await (const read of reader.readTables?.(database.name, requests) ?? []) {
        const request = requests[index] as TableReadRequest;
        expect(read.name).toBe(request.name);
        expect(read.definition).toEqual(
          await plain.showCreate(database.name, 'table', request.name),
        );
        if (index % 11 !== 10) {
          const rows = await collect(read.rows);
          const expected =
            request.rows === undefined
              ? []
              : await collect(plain.readRowBatches(database.name, request.rows));
          expect(rows).toEqual(expected);
        }
        index += 1;
      }
      expect(index).toBe(requests.length);
      // Still usable: the multi-statement queries were read to their end.
      expect(namesOfKind(await reader.listObjects(database.name), 'table')).toHaveLength(
        TABLES + 1,
      );
    } finally {
      await reader.close();
      await plain.close();
    }
  });

  it('gives row lines, byte for byte the literals written by the dialect, when asked', async () => {
    const database = await createTestDatabase('perf_readlines');
    const statements: string[] = [
      `CREATE TABLE kinds (id INT PRIMARY KEY, d DECIMAL(12,3), f FLOAT, g DOUBLE, b BIT(10),
         bin VARBINARY(300), blb BLOB, txt TEXT, l1 VARCHAR(40) CHARACTER SET latin1,
         dt DATETIME(3), ts TIMESTAMP NULL, e ENUM('a','b'), j JSON, u BIGINT UNSIGNED, y YEAR,
         gen INT AS (id + 1) VIRTUAL)`,
      `INSERT INTO kinds (id, d, f, g, b, bin, blb, txt, l1, dt, ts, e, j, u, y) VALUES
         (1, -12.5, 3.4028234e38, -1.5e-300, b'1010', 0x00FF27, REPEAT(0xAB, 200), 'it''s a\\\\b\\nc\\r\\0\\Z',
          'café', '2024-02-29 12:34:56.789', '2020-01-01 00:00:00', 'b', '{"k": [1, "é"]}', 18446744073709551615, 2155),
         (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
         (3, 0, -0.0, 1e-7, b'0', '', '', '', '', '1000-01-01', NULL, 'a', '[]', 0, 1901),
         (4, 1, 1, 1, b'1111111111', RANDOM_BYTES(300), RANDOM_BYTES(1000), REPEAT('日本語😀''\\\\', 300), REPEAT('ü', 40), NULL, NULL, NULL, NULL, NULL, NULL)`,
      'CREATE TABLE nokey (v VARCHAR(10), w INT)',
      "INSERT INTO nokey VALUES ('b', 2), ('B', 1), ('a', NULL), (NULL, 3)",
      'CREATE TABLE empty (id INT PRIMARY KEY)',
      // Several chunks of lines.
      'CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(60))',
      "INSERT INTO big SELECT seq, REPEAT(CONCAT('b''', seq), 5) FROM seq_1_to_6000",
    ];
    for (let index = 0; index < TABLES; index += 1) {
      const name = `m${String(index).padStart(2, '0')}`;
      statements.push(`CREATE TABLE ${name} (id INT PRIMARY KEY, v VARCHAR(20))`);
      if (index % 3 !== 0)
        statements.push(
          `INSERT INTO ${name} SELECT seq, CONCAT('r''', seq) FROM seq_1_to_${String(index * 5)}`,
        );
    }
    await database.exec(statements.join(';\n'));

    const plain = await mariadbEngine.openSession(connectionTo(database.name));
    const reader = await openReader(database.name);
    try {
      const descriptions = await plain.describeTables(database.name);
      const names = [...descriptions.keys()].sort();
      // Lines for most tables, literals for every fourth, no rows for every ninth.
      const requests: TableReadRequest[] = names.map((name, index) => ({
        name,
        ...(index % 9 === 8 ? {} : { rows: descriptions.get(name), asLines: index % 4 !== 3 }),
      }));
      let index = 0;
      for await (const read of reader.readTables?.(database.name, requests) ?? []) {
        const request = requests[index] as TableReadRequest;
        expect(read.name).toBe(request.name);
        expect(read.definition).toEqual(
          await plain.showCreate(database.name, 'table', request.name),
        );
        const description = request.rows;
        const literals =
          description === undefined
            ? []
            : await collect(plain.readRowBatches(database.name, description));
        if (request.asLines === true && description !== undefined) {
          expect(read.lines).toBeDefined();
          expect(await collect(read.rows)).toEqual([]);
          const chunks: Buffer[] = [];
          let rows = 0;
          for await (const chunk of read.lines ?? []) {
            chunks.push(Buffer.from(chunk.bytes));
            rows += chunk.rows;
          }
          const columns = description.columns
            .filter((column) => !column.generated)
            .map((column) => column.name);
          const line = mariadbDialect.rowLineWriter(request.name, columns);
          const want = Buffer.from(literals.map((row) => line(row)).join(''), 'utf8');
          expect(Buffer.concat(chunks).equals(want)).toBe(true);
          expect(rows).toBe(literals.length);
        } else {
          expect(read.lines).toBeUndefined();
          expect(await collect(read.rows)).toEqual(literals);
        }
        index += 1;
      }
      expect(index).toBe(requests.length);
      expect(namesOfKind(await reader.listObjects(database.name), 'table')).toHaveLength(
        TABLES + 4,
      );
    } finally {
      await reader.close();
      await plain.close();
    }
  });

  it('names the table that failed, and refuses to run given SQL', async () => {
    const database = await createTestDatabase('perf_readtables');
    await database.exec('CREATE TABLE a (id INT PRIMARY KEY); CREATE TABLE b (id INT PRIMARY KEY)');
    const reader = await openReader(database.name);
    try {
      const descriptions = await reader.describeTables(database.name);
      const read = async (): Promise<void> => {
        for await (const table of reader.readTables?.(database.name, [
          { name: 'a', rows: descriptions.get('a') },
          { name: 'gone' },
        ]) ?? [])
          await collect(table.rows);
      };
      const error: unknown = await read().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(EngineError);
      expect((error as Error).message).toContain('`gone`');
      await expect(reader.execute('SELECT 1; SELECT 2')).rejects.toBeInstanceOf(InternalError);
    } finally {
      await reader.close();
    }
  });
});
