/**
 * Splits a dump's SQL into statements as the stock `mariadb` client reads it (line by line,
 * `DELIMITER` honoured, `--` comment lines between statements skipped), working on bytes and
 * pulling from its source only as fast as the statements are taken: memory stays bounded by
 * the longest statement, whatever the dump's size. (readline, used for snapshot files, keeps
 * reading ahead of a slow consumer, which for a multi-gigabyte dump means gigabytes held.)
 */

export interface DumpStatement {
  /** Without the delimiter. */
  readonly sql: string;
  /** 1-based line where the statement starts, for error messages. */
  readonly line: number;
}

const NEWLINE = 0x0a;

/** The lines of the bytes `chunks` yields, without their `\n` (and a final `\r`). */
async function* readLines(chunks: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  let carry: Buffer[] = [];
  for await (const chunk of chunks) {
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end === -1) break;
      const piece = chunk.subarray(start, end);
      if (carry.length > 0) {
        carry.push(piece);
        yield Buffer.concat(carry);
        carry = [];
      } else yield piece;
      start = end + 1;
    }
    if (start < chunk.length) carry.push(chunk.subarray(start));
  }
  if (carry.length > 0) yield Buffer.concat(carry);
}

/** Statements of the script whose bytes `chunks` yields, in order. */
export async function* readDumpStatements(
  chunks: AsyncIterable<Buffer>,
): AsyncIterable<DumpStatement> {
  let delimiter = ';';
  let pending: string[] = [];
  let startLine = 0;
  let lineNumber = 0;
  for await (const bytes of readLines(chunks)) {
    lineNumber += 1;
    const line = bytes.toString('utf8');
    if (pending.length === 0) {
      const trimmed = line.trim();
      if (
        trimmed === '' ||
        trimmed.startsWith('-- ') ||
        trimmed === '--' ||
        trimmed.startsWith('#')
      )
        continue;
      const directive = /^delimiter\s+(\S+)\s*$/i.exec(trimmed);
      if (directive) {
        delimiter = directive[1] ?? ';';
        continue;
      }
      startLine = lineNumber;
    }
    const end = line.trimEnd();
    if (end.endsWith(delimiter)) {
      pending.push(end.slice(0, end.length - delimiter.length));
      const sql = pending.length === 1 ? (pending[0] ?? '').trim() : pending.join('\n').trim();
      pending = [];
      if (sql !== '') yield { sql, line: startLine };
    } else {
      pending.push(line);
    }
  }
  const rest = pending.join('\n').trim();
  if (rest !== '') yield { sql: rest, line: startLine };
}
