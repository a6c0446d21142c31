/**
 * Splits an SQL script into statements the way the stock `mariadb` client does: a statement
 * ends at the delimiter outside quotes and comments (`'…'`, `"…"` and `'…'` with backslash
 * escapes, `` `…` ``, `-- `, `#`, `/* … *\/`), `DELIMITER x` at the start of a statement
 * changes it and is never sent, and comments before a statement are dropped. An identifier
 * or a routine body may span lines; a delimiter inside one never ends the statement.
 *
 * Works on bytes, a line at a time, and pulls from its source only as fast as statements are
 * taken, so memory stays bounded by the longest statement whatever the script's size.
 *
 * With {@link ScriptReadOptions}, a table file's row lines are taken without being lexed as
 * statements: after an INSERT the checker accepted, each line that starts with the same head
 * and holds exactly one row of plain literals ({@link RowScanner}) is joined to the rows
 * before it, as bytes; the rows are yielded as one multi-row INSERT. Any other line ends the
 * run and is read and yielded as usual, for the checker to check.
 */

import {
  countNewlines,
  lastStatement,
  lineAligned,
  NEWLINE,
  statementOf,
} from '../common/script-chunks.js';
import type { ScriptReadOptions, ScriptStatement } from '../engine.js';
import { RowScanner } from './row-scan.js';
import { statementBuffer } from './statement-buffer.js';
import { StatementGuard } from './statement-guard.js';

export type { ScriptStatement } from '../engine.js';

const SINGLE_QUOTE = 0x27;
const DOUBLE_QUOTE = 0x22;
const BACKTICK = 0x60;
const BACKSLASH = 0x5c;
const DASH = 0x2d;
const HASH = 0x23;
const SLASH = 0x2f;
const STAR = 0x2a;
const BANG = 0x21;
const UPPER_M = 0x4d;
const SEMICOLON = 0x3b;

const State = {
  Code: 0,
  SingleQuoted: 1,
  DoubleQuoted: 2,
  Backticked: 3,
  LineComment: 4,
  BlockComment: 5,
} as const;
type State = (typeof State)[keyof typeof State];

/** Bytes that can change the splitter's state outside quotes (the delimiter aside). */
const SPECIAL = new Uint8Array(256);
for (const byte of [SINGLE_QUOTE, DOUBLE_QUOTE, BACKTICK, NEWLINE, DASH, HASH, SLASH])
  SPECIAL[byte] = 1;

/** Space, tab, newline, carriage return, and the other control bytes. */
function isSpaceOrControl(byte: number | undefined): boolean {
  return byte === undefined || byte <= 0x20;
}

/** `DELIMITER x` at `start` of `chunk` (case-insensitive): the new delimiter and where its line ends. */
function delimiterCommand(
  chunk: Buffer,
  start: number,
): { delimiter: string; next: number } | undefined {
  if (((chunk[start] ?? 0) | 0x20) !== 0x64 || chunk.length - start < 10) return undefined;
  if (chunk.toString('latin1', start, start + 9).toLowerCase() !== 'delimiter') return undefined;
  let lineEnd = chunk.indexOf(NEWLINE, start);
  if (lineEnd === -1) lineEnd = chunk.length;
  const match = /^delimiter[ \t]+(\S+)\s*$/i.exec(chunk.toString('utf8', start, lineEnd));
  if (!match?.[1]) return undefined;
  return { delimiter: match[1], next: lineEnd };
}

/** The statements of the script whose bytes `chunks` yields, in order. */
export async function* readScript(
  chunks: AsyncIterable<Buffer | Uint8Array | string>,
  options?: ScriptReadOptions,
): AsyncIterable<ScriptStatement> {
  const guard = options?.checker instanceof StatementGuard ? options.checker : undefined;
  const rows = guard === undefined ? undefined : new RowRun(options?.joinBytes ?? 0);
  const scanner = new RowScanner();
  let delimiter = Buffer.from(';');
  let state: State = State.Code;
  /** Pieces of the statement in progress; empty while between statements. */
  let pieces: Buffer[] = [];
  let started = false;
  let startLine = 0;
  let line = 1;
  /** Bytes of the script before the current chunk. */
  let consumed = 0;
  for await (const chunk of lineAligned(chunks)) {
    let pieceStart = 0;
    let index = 0;
    const length = chunk.length;
    /** The next backslash at or after a string's position (`length`: none left in the chunk). */
    let backslashAt = -1;
    while (index < length) {
      const byte = chunk[index] as number;
      switch (state) {
        case State.Code: {
          if (!started) {
            if (byte === NEWLINE) {
              line += 1;
              index += 1;
              continue;
            }
            if (byte <= 0x20) {
              index += 1;
              continue;
            }
            if (rows !== undefined) {
              // A row line after an accepted INSERT of the same head: joined, not lexed.
              const head =
                delimiter.length === 1 && delimiter[0] === SEMICOLON
                  ? rows.headBytes(guard?.rowHead())
                  : undefined;
              if (head !== undefined && byte === head[0] && matchesHead(chunk, index, head)) {
                let lineEnd = chunk.indexOf(NEWLINE, index);
                if (lineEnd === -1) lineEnd = length;
                const end = scanner.scan(chunk, index + head.length, lineEnd);
                if (end !== -1) {
                  const start = index + head.length + 1;
                  // A statement grows past the limit only by being one row.
                  if (!rows.empty() && !rows.fits(end - 1 - start))
                    yield rows.take(consumed + index);
                  rows.add(chunk, start, end - 1, line);
                  index = end;
                  if (rows.full()) yield rows.take(consumed + index);
                  continue;
                }
              }
              if (!rows.empty()) {
                yield rows.take(consumed + index);
                continue;
              }
            }
            if (
              (byte === DASH && chunk[index + 1] === DASH && isSpaceOrControl(chunk[index + 2])) ||
              byte === HASH
            ) {
              state = State.LineComment;
              index += 1;
              continue;
            }
            if (
              byte === SLASH &&
              chunk[index + 1] === STAR &&
              chunk[index + 2] !== BANG &&
              !(chunk[index + 2] === UPPER_M && chunk[index + 3] === BANG)
            ) {
              state = State.BlockComment;
              index += 2;
              continue;
            }
            const command = delimiterCommand(chunk, index);
            if (command !== undefined) {
              delimiter = Buffer.from(command.delimiter);
              index = command.next;
              continue;
            }
            started = true;
            startLine = line;
            pieceStart = index;
          }
          // Run to the next byte that can start a quote, a comment, a line or the delimiter.
          const first = delimiter[0] as number;
          let next = byte;
          while (SPECIAL[next] === 0 && next !== first) {
            index += 1;
            if (index >= length) break;
            next = chunk[index] as number;
          }
          if (index >= length) continue;
          if (next === first && matchesAt(chunk, index, delimiter)) {
            pieces.push(chunk.subarray(pieceStart, index));
            index += delimiter.length;
            yield statementOf(pieces, startLine, consumed + index);
            pieces = [];
            started = false;
            continue;
          }
          if (next === SINGLE_QUOTE) state = State.SingleQuoted;
          else if (next === DOUBLE_QUOTE) state = State.DoubleQuoted;
          else if (next === BACKTICK) state = State.Backticked;
          else if (next === NEWLINE) line += 1;
          else if (
            (next === DASH && chunk[index + 1] === DASH && isSpaceOrControl(chunk[index + 2])) ||
            next === HASH
          )
            state = State.LineComment;
          else if (next === SLASH && chunk[index + 1] === STAR) {
            state = State.BlockComment;
            index += 2;
            continue;
          }
          index += 1;
          continue;
        }
        case State.SingleQuoted:
        case State.DoubleQuoted: {
          const quote = state === State.SingleQuoted ? SINGLE_QUOTE : DOUBLE_QUOTE;
          // indexOf runs far faster than a loop over bytes: find the closing quote, and
          // step over the escapes before it.
          for (;;) {
            const close = chunk.indexOf(quote, index);
            if (backslashAt < index && backslashAt !== length) {
              backslashAt = chunk.indexOf(BACKSLASH, index);
              if (backslashAt === -1) backslashAt = length;
            }
            const stop = close === -1 ? length : close;
            if (backslashAt < stop) {
              line += countNewlines(chunk, index, backslashAt + 2);
              index = backslashAt + 2;
              continue;
            }
            line += countNewlines(chunk, index, stop);
            if (close === -1) {
              index = length;
            } else {
              state = State.Code;
              index = close + 1;
            }
            break;
          }
          continue;
        }
        case State.Backticked: {
          const close = chunk.indexOf(BACKTICK, index);
          const stop = close === -1 ? length : close + 1;
          line += countNewlines(chunk, index, stop);
          index = stop;
          if (close !== -1) state = State.Code;
          continue;
        }
        case State.LineComment: {
          const stop = chunk.indexOf(NEWLINE, index);
          if (stop === -1) {
            index = length;
          } else {
            state = State.Code;
            index = stop;
          }
          continue;
        }
        case State.BlockComment: {
          const close = chunk.indexOf('*/', index, 'latin1');
          const stop = close === -1 ? length : close + 2;
          line += countNewlines(chunk, index, stop);
          index = stop;
          if (close !== -1) state = State.Code;
          continue;
        }
      }
    }
    if (started) pieces.push(chunk.subarray(pieceStart, length));
    consumed += length;
  }
  if (rows !== undefined && !rows.empty()) yield rows.take(consumed);
  const rest = started ? lastStatement(pieces, startLine, consumed) : undefined;
  if (rest !== undefined) yield rest;
}

/** Whether `chunk` holds `head` at `index`. */
function matchesHead(chunk: Buffer, index: number, head: Buffer): boolean {
  return (
    index + head.length <= chunk.length &&
    chunk.compare(head, 0, head.length, index, index + head.length) === 0
  );
}

/**
 * Rows joined so far, copied as they are read (the chunks they come from may be reused):
 * `head (…),(…)`, and the line of each.
 */
class RowRun {
  private readonly joinBytes: number;
  private head: Buffer | undefined;
  private headText: string | undefined;
  private sql: Buffer;
  /** Bytes of `sql` in use; 0 while the run is empty. */
  private used = 0;
  private lines: number[] = [];
  /** Buffers of statements that have run, for the next runs: fresh memory costs page faults. */
  private readonly spare: Buffer[] = [];

  constructor(joinBytes: number) {
    this.joinBytes = joinBytes;
    // Allocated with the first row: most files of a snapshot of many tables have few rows.
    this.sql = Buffer.alloc(0);
  }

  /** `text` as bytes, when it may start row lines (on one line); undefined otherwise. */
  headBytes(text: string | undefined): Buffer | undefined {
    if (text !== this.headText) {
      // A run is of one head: the reader yields it before a statement that may change it.
      this.headText = text;
      this.head = text === undefined || text.includes('\n') ? undefined : Buffer.from(text);
    }
    return this.head;
  }

  /** Adds one row: `chunk[start, end)`, `(…)`. */
  add(chunk: Buffer, start: number, end: number, line: number): void {
    const head = this.head as Buffer;
    const needed = (this.used === 0 ? head.length + 1 : this.used + 1) + (end - start);
    if (needed > this.sql.length && this.used === 0) {
      const spare = this.spare.pop();
      if (spare !== undefined && spare.length >= needed) this.sql = spare;
    }
    if (needed > this.sql.length) {
      const grown = statementBuffer(
        Math.max(needed, this.sql.length * 2, Math.min(this.joinBytes, 1 << 24) + 4096),
      );
      this.sql.copy(grown, 0, 0, this.used);
      this.sql = grown;
    }
    if (this.used === 0) {
      head.copy(this.sql, 0);
      this.used = head.length;
      this.sql[this.used] = 0x20;
    } else this.sql[this.used] = 0x2c;
    this.used += 1;
    this.used += chunk.copy(this.sql, this.used, start, end);
    this.lines.push(line);
  }

  empty(): boolean {
    return this.used === 0;
  }

  /** Whether one more row of `bytes` keeps the statement within the limit. */
  fits(bytes: number): boolean {
    return this.used + 1 + bytes <= this.joinBytes;
  }

  full(): boolean {
    return this.used >= this.joinBytes;
  }

  /** The rows as one INSERT statement ending at byte `end` of the script; empties the run. */
  take(end: number): ScriptStatement {
    const lines = this.lines;
    // Handed over whole (the session may send it where it lies, with its packet header in
    // the room before it): it may still be sending while the next run is joined.
    const buffer = this.sql;
    const bytes = buffer.subarray(0, this.used);
    let text: string | undefined;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      if (this.spare.length < 2) this.spare.push(buffer);
    };
    const statement: ScriptStatement = {
      get sql() {
        text ??= bytes.toString('utf8');
        return text;
      },
      line: lines[0] ?? 0,
      end,
      joined: { rows: lines.length, lines, bytes, release },
    };
    this.sql = Buffer.alloc(0);
    this.used = 0;
    this.lines = [];
    return statement;
  }
}

function matchesAt(chunk: Buffer, index: number, delimiter: Buffer): boolean {
  for (let offset = 1; offset < delimiter.length; offset += 1) {
    if (chunk[index + offset] !== delimiter[offset]) return false;
  }
  return true;
}
