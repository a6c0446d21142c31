/**
 * Session.abort() and a connection lost between statements (issue 20): whatever runs on the
 * session then fails with an EngineError, and so does whatever starts later. Nothing waits
 * forever: a promise that never settles lets the event loop empty, and the CLI then exits
 * with "the run stopped before it finished; this is a bug" instead of putting things back.
 */
import { describe, expect, it } from 'vitest';
import type { Session, TableDescription } from '../../../src/engine/engine.js';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { EngineError } from '../../../src/errors.js';
import { connectionTo, createTestDatabase } from '../../helpers/database.js';
import { serverQuery } from '../../helpers/restore.js';

const ROWS = 50_000;

async function sessionWithRows(): Promise<{
  session: Session;
  database: string;
  table: TableDescription;
  /** The test helper's own connection, idle in the same database. */
  helperConnection: number;
}> {
  const database = await createTestDatabase('abort');
  await database.exec('CREATE TABLE t (id INT PRIMARY KEY, pad VARCHAR(100))');
  await database.exec(`INSERT INTO t SELECT seq, REPEAT('x', 100) FROM seq_1_to_${String(ROWS)}`);
  const session = await mariadbEngine.openSession(connectionTo(database.name));
  const table = (await session.describeTables(database.name)).get('t');
  if (table === undefined) throw new Error('table t not described');
  const [helper] = await database.query<{ id: number }>('SELECT CONNECTION_ID() AS id');
  return { session, database: database.name, table, helperConnection: Number(helper?.id) };
}

/** How `promise` settles, or 'still waiting' after `ms`. */
async function settled(promise: Promise<unknown>, ms = 10_000): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('still waiting'), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ resolved: value }),
        (error: unknown) => error,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads every row of `table`; returns how many came. */
async function countRows(session: Session, database: string, table: TableDescription) {
  let rows = 0;
  for await (const batch of session.readRowBatches(database, table)) rows += batch.length;
  return rows;
}

describe('Session.abort() and a lost connection', () => {
  it('abort() during a row read fails the read and the statements queued behind it', async () => {
    const { session, database, table } = await sessionWithRows();
    const reading = (async () => {
      let rows = 0;
      for await (const batch of session.readRowBatches(database, table)) {
        rows += batch.length;
        if (rows === batch.length) {
          // Long enough for the driver's queue to fill and the socket to be paused.
          await new Promise((resolve) => setTimeout(resolve, 200));
          session.abort();
        }
      }
      return rows;
    })();
    const queued = session.showCreate(database, 'table', 't');
    const read = await settled(reading);
    expect(read).toBeInstanceOf(EngineError);
    expect((read as EngineError).message).toContain('the connection was dropped');
    expect(await settled(queued)).toBeInstanceOf(EngineError);
  });

  it('a read or a statement started after abort() fails at once', async () => {
    const { session, database, table } = await sessionWithRows();
    session.abort();
    expect(await settled(countRows(session, database, table))).toBeInstanceOf(EngineError);
    expect(await settled(session.showCreate(database, 'table', 't'))).toBeInstanceOf(EngineError);
    await session.close();
  });

  it('a read started after the server killed the idle connection fails with an EngineError', async () => {
    const { session, database, table, helperConnection } = await sessionWithRows();
    // The session's connection: idle in the database, and not the test helper's.
    const idle = await serverQuery<{ id: number }>(
      "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND COMMAND = 'Sleep' AND ID <> ?",
      [database, helperConnection],
    );
    expect(idle).toHaveLength(1);
    await serverQuery(`KILL ${String(idle[0]?.id)}`);
    // The driver hears of the closed socket before the next statement (a moment; more on a
    // loaded machine: the server must be done with the connection).
    await expect
      .poll(
        async () =>
          (
            await serverQuery<{ id: number }>(
              'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE ID = ?',
              [idle[0]?.id],
            )
          ).length,
        { timeout: 10_000, interval: 50 },
      )
      .toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const read = await settled(countRows(session, database, table));
    expect(read).toBeInstanceOf(EngineError);
    expect((read as EngineError).message).toContain('reading rows of `t`');
    await session.close();
  });
});
