/**
 * Runs a chunk of a PostgreSQL dump (what `Session.readInsertChunks` gives) on a session, as
 * `load` does: its statements one by one, a COPY's data streamed to the server, checked.
 */
import { Readable } from 'node:stream';
import { checkedCopyData, parseCopyStatement } from '../../src/engine/postgresql/copy-data.js';
import type { PostgresqlSession } from '../../src/engine/postgresql/postgresql-session.js';
import { postgresqlScriptFormat } from '../../src/engine/postgresql/script-format.js';

/** The rows the chunk's statements added. */
export async function runDumpChunk(session: PostgresqlSession, sql: Buffer): Promise<number> {
  let rows = 0;
  for await (const statement of postgresqlScriptFormat.readStatements(Readable.from([sql]))) {
    if (statement.data === undefined) {
      rows += await session.executeCounting(statement.sql);
      continue;
    }
    const target = parseCopyStatement(statement.sql);
    if (target === undefined) throw new Error(`not a dump's COPY: ${statement.sql}`);
    const copy = session.openDataStatement(statement.sql);
    try {
      for await (const data of checkedCopyData(statement.data, target.columns.length, target.table))
        await copy.write([data]);
    } catch (error) {
      await copy.abort('the data was refused');
      throw error;
    }
    rows += await copy.end();
  }
  return rows;
}
