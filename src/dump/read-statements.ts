/**
 * A dump's SQL, split into statements as the stock `mariadb` client reads it: the same
 * reader as snapshot files (line by line on bytes, `DELIMITER` honoured, memory bounded by
 * the longest statement whatever the dump's size).
 */
import { readStatements, type SqlStatement } from '../restore/sql-statements.js';

export type DumpStatement = SqlStatement;

/** Statements of the script whose bytes `chunks` yields, in order. */
export function readDumpStatements(chunks: AsyncIterable<Buffer>): AsyncIterable<DumpStatement> {
  return readStatements(chunks);
}
