/**
 * Splits an SQL script, as the stock `mariadb` client reads it, into statements: line by
 * line, honouring `DELIMITER` (a client command, never sent), skipping `--` comment lines
 * between statements, and keeping `/*!… *\/` conditional comments (the server evaluates
 * them). Our snapshot files and the original's mysqldump files are line-oriented: a string
 * literal never spans lines (newlines are escaped), so a statement ends where a line ends
 * with the delimiter.
 */

export interface SqlStatement {
  /** Without the delimiter. */
  readonly sql: string;
  /** 1-based line where the statement starts, for error messages. */
  readonly line: number;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * The lines of the bytes `chunks` yields, without their `\n` (or `\r\n`). Works on bytes and
 * pulls from its source only as fast as lines are taken, so memory stays bounded by the
 * longest line whatever the script's size (readline reads ahead of a slow consumer).
 */
async function* readLines(
  chunks: AsyncIterable<Buffer | Uint8Array | string>,
): AsyncIterable<Buffer> {
  let carry: Buffer[] = [];
  const line = (piece: Buffer): Buffer =>
    piece.length > 0 && piece[piece.length - 1] === CARRIAGE_RETURN
      ? piece.subarray(0, piece.length - 1)
      : piece;
  for await (const input of chunks) {
    const chunk =
      typeof input === 'string'
        ? Buffer.from(input)
        : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end === -1) break;
      const piece = chunk.subarray(start, end);
      if (carry.length > 0) {
        carry.push(piece);
        yield line(Buffer.concat(carry));
        carry = [];
      } else yield line(piece);
      start = end + 1;
    }
    if (start < chunk.length) carry.push(chunk.subarray(start));
  }
  if (carry.length > 0) yield line(Buffer.concat(carry));
}

/** Statements of the script whose bytes `chunks` yields, in order. */
export async function* readStatements(
  chunks: AsyncIterable<Buffer | Uint8Array | string>,
): AsyncIterable<SqlStatement> {
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

/** `INSERT INTO t (cols) VALUES ` of an INSERT, and its values part; undefined for other statements. */
export function splitInsert(sql: string): { prefix: string; values: string } | undefined {
  const match = /^INSERT INTO `(?:[^`]|``)+`(?: \((?:`(?:[^`]|``)*`,?)*\))? ?VALUES ?/.exec(sql);
  if (!match) return undefined;
  return { prefix: match[0], values: sql.slice(match[0].length) };
}

/** The table of an INSERT statement (unquoted), or undefined. */
export function insertTable(sql: string): string | undefined {
  const match = /^INSERT INTO `((?:[^`]|``)+)`/.exec(sql);
  return match?.[1]?.replace(/``/g, '`');
}
