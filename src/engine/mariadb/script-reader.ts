/**
 * Splits an SQL script into statements the way the stock `mariadb` client does: a statement
 * ends at the delimiter outside quotes and comments (`'…'`, `"…"` and `'…'` with backslash
 * escapes, `` `…` ``, `-- `, `#`, `/* … *\/`), `DELIMITER x` at the start of a statement
 * changes it and is never sent, and comments before a statement are dropped. An identifier
 * or a routine body may span lines; a delimiter inside one never ends the statement.
 *
 * Works on bytes, a line at a time, and pulls from its source only as fast as statements are
 * taken, so memory stays bounded by the longest statement whatever the script's size.
 */

import {
  countNewlines,
  lastStatement,
  lineAligned,
  NEWLINE,
  statementOf,
} from '../common/script-chunks.js';
import type { ScriptStatement } from '../engine.js';

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
): AsyncIterable<ScriptStatement> {
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
  const rest = started ? lastStatement(pieces, startLine, consumed) : undefined;
  if (rest !== undefined) yield rest;
}

function matchesAt(chunk: Buffer, index: number, delimiter: Buffer): boolean {
  for (let offset = 1; offset < delimiter.length; offset += 1) {
    if (chunk[index + offset] !== delimiter[offset]) return false;
  }
  return true;
}
