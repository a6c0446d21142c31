/**
 * Session.executeBytes (issue 17): a restore's joined INSERTs go to the server as the bytes
 * the reader joined, never decoded and encoded again. The server must get exactly those
 * bytes (UTF-8, quotes, backslashes), whether the statement lies in a buffer with room for
 * the packet header or in any other; a failure is the same EngineError as execute()'s, and
 * the session goes on working after it.
 */
import { describe, expect, it } from 'vitest';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { statementBuffer } from '../../../src/engine/mariadb/statement-buffer.js';
import { EngineError } from '../../../src/errors.js';
import { connectionTo, createTestDatabase } from '../../helpers/database.js';

describe('MariadbSession.executeBytes', () => {
  it('runs the statement the bytes hold, framed in place or copied', async () => {
    const database = await createTestDatabase('bytes');
    await database.exec('CREATE TABLE t (id INT PRIMARY KEY, v MEDIUMTEXT) CHARACTER SET utf8mb4');
    const session = await mariadbEngine.openSession(connectionTo(database.name));
    try {
      const values = ["ünïcødé 日本語 😀 it\\'s", "back\\\\slash\\n'';", 'x'.repeat(300_000)];
      const sql = (id: number, value: string): string =>
        `INSERT INTO t (id, v) VALUES (${String(id)}, '${value}')`;
      const utf8 = Buffer.from(sql(1, values[0] as string));
      const framed = statementBuffer(utf8.length + 10).subarray(0, utf8.length);
      utf8.copy(framed);
      await session.executeBytes?.(framed);
      // Not from statementBuffer: a subarray of a larger buffer with bytes before it.
      const plain = Buffer.from(`XXXX${sql(2, values[1] as string)}`).subarray(4);
      const before = Buffer.from(plain.buffer, plain.byteOffset - 4, 4).toString();
      await session.executeBytes?.(plain);
      expect(Buffer.from(plain.buffer, plain.byteOffset - 4, 4).toString()).toBe(before);
      await session.executeBytes?.(new Uint8Array(Buffer.from(sql(3, values[2] as string))));
      const rows = await database.query<{ id: number; v: string }>(
        'SELECT id, v FROM t ORDER BY id',
      );
      expect(rows.map((row) => row.id)).toEqual([1, 2, 3]);
      expect(rows.slice(0, 2).map((row) => row.v)).toEqual([
        "ünïcødé 日本語 😀 it's",
        "back\\slash\n';",
      ]);
      expect(rows[2]?.v === 'x'.repeat(300_000)).toBe(true);

      const failed = await session.executeBytes?.(Buffer.from(sql(1, 'again'))).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failed).toBeInstanceOf(EngineError);
      expect((failed as Error).message).toMatch(/Duplicate entry/);
      await session.execute("INSERT INTO t (id, v) VALUES (4, 'after')");
      const [count] = await database.query<{ n: number }>('SELECT COUNT(*) AS n FROM t');
      expect(Number(count?.n)).toBe(4);
    } finally {
      await session.close();
    }
  });
});
