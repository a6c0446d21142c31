/**
 * Rows as COPY's text format, the form pg_dump's plain format moves them in: a dump writes
 * each table's rows as `COPY "schema"."table" ("a", "b") FROM stdin;`, then one line a row
 * (values separated by tabs, `\N` for NULL, backslash escapes for a backslash and control
 * characters), then a line `\.`. psql loads that, and so does `load`, which streams the lines
 * to the server as COPY data.
 *
 * A loaded dump is not trusted: the dump's checker (dump-guard.ts `PgDumpGuard.checkData`) lets
 * a COPY through only in the form a dump writes ({@link parseCopyStatement}), into a table the
 * dump itself created, and its data only through {@link checkedCopyData} (each line has
 * exactly one field a column, only the escapes COPY TO writes, the `\.` line ends it), so
 * that data cannot go anywhere else, nor a line be anything but a row.
 */
import { UnexpectedStatementError } from '../../errors.js';
import { qualifiedName, quoteName, quoteQualified } from './names.js';

/** The statement (without `;`) that heads a table's COPY data in a dump. */
export function copyStatement(table: string, columns: readonly string[]): string {
  return `COPY ${quoteQualified(table)} (${columns.map(quoteName).join(', ')}) FROM stdin`;
}

/** The line that ends COPY data. */
export const COPY_DATA_END = '\\.\n';

const QUOTED = '"((?:[^"]|"")*)"';
const COPY_HEAD = new RegExp(
  `^COPY ${QUOTED}\\.${QUOTED} \\(((?:${QUOTED}, )*${QUOTED})\\) FROM stdin$`,
);
const QUOTED_GLOBAL = new RegExp(QUOTED, 'g');

function unquoted(text: string): string {
  return text.replace(/""/g, '"');
}

/** The table (carried name) and columns of a COPY in the form {@link copyStatement} writes; undefined for any other text. */
export function parseCopyStatement(
  sql: string,
): { table: string; columns: readonly string[] } | undefined {
  const match = COPY_HEAD.exec(sql);
  if (!match) return undefined;
  const columns = [...(match[3] ?? '').matchAll(QUOTED_GLOBAL)].map((found) =>
    unquoted(found[1] ?? ''),
  );
  return { table: qualifiedName(unquoted(match[1] ?? ''), unquoted(match[2] ?? '')), columns };
}

const TAB = 0x09;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const BACKSLASH = 0x5c;
/** What may follow a backslash in a field: the escapes COPY TO writes (`\N` alone is NULL). */
const ESCAPES = new Uint8Array(256);
for (const char of '\\btnrfv') ESCAPES[char.charCodeAt(0)] = 1;
const NULL_MARK = 0x4e;
/** Bytes that need a look in a line; the rest are skipped fast. */
const SPECIAL = new Uint8Array(256);
for (const byte of [TAB, NEWLINE, CARRIAGE_RETURN, BACKSLASH]) SPECIAL[byte] = 1;

const NO_WORDS = new Uint32Array(0);

/**
 * The first byte at or after `index` (before `stop`) that may need a look: every special
 * byte is a control character or a backslash. Four bytes at a time where `words` (the
 * chunk's aligned 32-bit words before `stop`, the first at byte `wordsAt`) covers them: a
 * word with no byte below 0x20 and none equal to 0x5c is skipped whole (the "has a byte
 * less than" and "has a zero byte" bit tests); any other word goes to the byte loop, which
 * also lets through the control characters COPY TO writes raw. 1.7x the speed of a byte
 * loop on the bench's rows, where this check was a third of `load`'s CPU.
 */
function skipPlainBytes(
  chunk: Buffer,
  words: Uint32Array,
  wordsAt: number,
  index: number,
  stop: number,
): number {
  while (index < stop && SPECIAL[chunk[index] as number] === 0) {
    index += 1;
    if (index < wordsAt || ((index - wordsAt) & 3) !== 0) continue;
    let word = (index - wordsAt) >>> 2;
    while (word < words.length) {
      const value = words[word] as number;
      const backslashes = value ^ 0x5c5c5c5c;
      if (
        (((value - 0x20202020) & ~value) | ((backslashes - 0x01010101) & ~backslashes)) &
        0x80808080
      )
        break;
      word += 1;
    }
    index = wordsAt + word * 4;
  }
  return index;
}

/**
 * `data` (raw lines, the last one `\.`) checked as it streams, in the same chunks, without
 * the `\.` line: each line has exactly `columns` fields (a table of none has no COPY), each
 * field holds only the escapes COPY TO writes and no raw carriage return, and the `\.` line
 * ends the data. Throws UnexpectedStatementError, naming the line (1-based in the data).
 * `counted.rows`: the lines checked so far (every one of them once the data has ended).
 */
export async function* checkedCopyData(
  data: AsyncIterable<Buffer>,
  columns: number,
  table: string,
  counted: { rows: number } = { rows: 0 },
): AsyncIterable<Buffer> {
  let row = 0;
  let ended = false;
  /** A line whose end is in a later chunk: its fields so far. */
  let fields = 1;
  let fieldStart = true;
  const refuse = (what: string): never => {
    throw new UnexpectedStatementError(
      `COPY data of ${table}, row ${String(row + 1)}: ${what}: not a dump's data`,
    );
  };
  for await (const chunk of data) {
    if (ended) refuse('data after the \\. line');
    // The reader's chunks hold whole lines, and its last one ends with the `\.` line.
    let stop = chunk.length;
    const endAt = chunk.length - COPY_DATA_END.length;
    if (
      endAt >= 0 &&
      (endAt === 0 || chunk[endAt - 1] === NEWLINE) &&
      chunk.toString('latin1', endAt) === COPY_DATA_END
    ) {
      stop = endAt;
      ended = true;
    }
    const wordsAt = (4 - (chunk.byteOffset & 3)) & 3;
    const wordCount = stop > wordsAt ? (stop - wordsAt) >>> 2 : 0;
    const words =
      wordCount === 0
        ? NO_WORDS
        : new Uint32Array(chunk.buffer, chunk.byteOffset + wordsAt, wordCount);
    for (let index = 0; index < stop;) {
      if (SPECIAL[chunk[index] as number] === 0) {
        fieldStart = false;
        index = skipPlainBytes(chunk, words, wordsAt, index, stop);
        if (index >= stop) break;
      }
      const byte = chunk[index] as number;
      if (byte === TAB) {
        fields += 1;
        fieldStart = true;
        index += 1;
      } else if (byte === NEWLINE) {
        if (fields !== columns)
          refuse(`${String(fields)} fields where the COPY names ${String(columns)} columns`);
        row += 1;
        counted.rows = row;
        fields = 1;
        fieldStart = true;
        index += 1;
      } else if (byte === CARRIAGE_RETURN) {
        refuse('a raw carriage return');
      } else {
        const next = chunk[index + 1] ?? -1;
        if (next === NULL_MARK) {
          // `\N` is NULL, the whole field.
          const after = chunk[index + 2] ?? -1;
          if (!fieldStart || (after !== TAB && after !== NEWLINE)) refuse('\\N inside a value');
          index += 2;
          fieldStart = false;
          continue;
        }
        if (next === -1 || ESCAPES[next] !== 1) refuse('a backslash escape COPY does not write');
        fieldStart = false;
        index += 2;
      }
    }
    if (stop > 0) yield stop === chunk.length ? chunk : chunk.subarray(0, stop);
  }
  if (!ended)
    refuse(
      fields === 1 && fieldStart
        ? 'no \\. line ends the data (cut short)'
        : 'a line without its end (cut short)',
    );
}
