/**
 * Splits an SQL script, as the stock `mariadb` client reads it, into statements: line by
 * line, honouring `DELIMITER` (a client command, never sent), skipping `--` comment lines
 * between statements, and keeping `/*!… *\/` conditional comments (the server evaluates
 * them). Our snapshot files and the original's mysqldump files are line-oriented: a string
 * literal never spans lines (newlines are escaped), so a statement ends where a line ends
 * with the delimiter.
 */
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';

export interface SqlStatement {
  /** Without the delimiter. */
  readonly sql: string;
  /** 1-based line where the statement starts, for error messages. */
  readonly line: number;
}

/** Statements of the script whose bytes `chunks` yields, in order. */
export async function* readStatements(
  chunks: AsyncIterable<Buffer | Uint8Array | string>,
): AsyncIterable<SqlStatement> {
  const lines = createInterface({ input: Readable.from(chunks), crlfDelay: Infinity });
  let delimiter = ';';
  let pending: string[] = [];
  let startLine = 0;
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber += 1;
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
      const sql = pending.join('\n').trim();
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
