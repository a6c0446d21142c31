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
