/**
 * Splits a psql script into statements the way psql does: a statement ends at `;` outside
 * quotes, comments and parentheses (and outside the `BEGIN ATOMIC … END` body of a CREATE
 * FUNCTION or PROCEDURE, which psql tracks by its words). Quotes: `'…'` with `''` doubled
 * (standard_conforming_strings on: a backslash is plain), `E'…'` with backslash escapes,
 * `$$…$$` and `$tag$…$tag$`, `"…"` identifiers. Comments: `--` to the end of the line, and
 * `/* … *\/`, which nest. Comments before a statement are dropped.
 *
 * A backslash outside quotes starts a psql meta-command (`\i`, `\!`, …), which runs to the end
 * of its line: it stays in the statement's text, where the checker refuses it. psql variables
 * (`:name`) are left in the text as well.
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
import { UnexpectedStatementError } from '../../errors.js';

const SINGLE_QUOTE = 0x27;
const DOUBLE_QUOTE = 0x22;
const BACKSLASH = 0x5c;
const DASH = 0x2d;
const SLASH = 0x2f;
const STAR = 0x2a;
const DOLLAR = 0x24;
const SEMICOLON = 0x3b;
const OPEN = 0x28;
const CLOSE = 0x29;

const State = {
  Code: 0,
  Quoted: 1,
  EscapeQuoted: 2,
  DoubleQuoted: 3,
  DollarQuoted: 4,
  LineComment: 5,
  BlockComment: 6,
  MetaCommand: 7,
} as const;
type State = (typeof State)[keyof typeof State];

/** `[A-Za-z_]` and every byte of a multi-byte character: what a word starts with. */
function isWordStart(byte: number): boolean {
  return (
    (byte >= 0x61 && byte <= 0x7a) ||
    (byte >= 0x41 && byte <= 0x5a) ||
    byte === 0x5f ||
    byte >= 0x80
  );
}

/** What a word goes on with: also digits and `$`. */
function isWordPart(byte: number): boolean {
  return isWordStart(byte) || (byte >= 0x30 && byte <= 0x39) || byte === DOLLAR;
}

/** Bytes that can change the splitter's state in code; the rest are skipped fast. */
const SPECIAL = new Uint8Array(256);
for (const byte of [
  SINGLE_QUOTE,
  DOUBLE_QUOTE,
  BACKSLASH,
  DASH,
  SLASH,
  DOLLAR,
  SEMICOLON,
  OPEN,
  CLOSE,
  NEWLINE,
])
  SPECIAL[byte] = 1;
/** The same, with the bytes that start a word, while words are being followed. */
const SPECIAL_WITH_WORDS = new Uint8Array(SPECIAL);
for (let byte = 0; byte < 256; byte += 1) if (isWordStart(byte)) SPECIAL_WITH_WORDS[byte] = 1;

/**
 * psql's way of telling a CREATE FUNCTION/PROCEDURE's `BEGIN ATOMIC … END` body (in whose
 * `;`s no statement ends): the first four words say whether the statement creates one; then,
 * outside parentheses, BEGIN opens a block, CASE inside one opens another, END closes one.
 */
class WordTracker {
  private count = 0;
  private readonly initials: number[] = [0, 0, 0, 0];
  depth = 0;

  /**
   * Whether words still matter: not after a first word other than CREATE, nor past the
   * fourth outside a routine.
   */
  get following(): boolean {
    if (this.count === 0) return true;
    if (this.initials[0] !== 0x63) return false;
    return this.count < 4 || this.isRoutine();
  }

  reset(): void {
    this.count = 0;
    this.initials.fill(0);
    this.depth = 0;
  }

  word(text: string, parenDepth: number): void {
    const lower = text.toLowerCase();
    if (
      this.count < 4 &&
      (lower === 'create' ||
        lower === 'function' ||
        lower === 'procedure' ||
        lower === 'or' ||
        lower === 'replace')
    )
      this.initials[this.count] = lower.charCodeAt(0);
    this.count += 1;
    if (!this.isRoutine() || parenDepth !== 0) return;
    if (lower === 'begin') this.depth += 1;
    else if (lower === 'case') {
      if (this.depth >= 1) this.depth += 1;
    } else if (lower === 'end' && this.depth > 0) this.depth -= 1;
  }

  private isRoutine(): boolean {
    const [first, second, third, fourth] = this.initials;
    const c = 0x63;
    const f = 0x66;
    const p = 0x70;
    return (
      first === c &&
      (second === f ||
        second === p ||
        (second === 0x6f && third === 0x72 && (fourth === f || fourth === p)))
    );
  }
}

/**
 * True for a statement after which psql sends the script's next lines to the server as
 * data: a COPY that reads FROM STDIN (the server asks for the data; psql takes the lines
 * after the statement's line, up to a line `\.`). Told from the text, and wider than the
 * server: any COPY that holds the word `stdin` anywhere, so that no data line is ever taken
 * for a statement (a COPY of another form is refused by the checkers anyway).
 */
export function readsDataFromScript(sql: string): boolean {
  return /^copy(?![a-z0-9_$])/i.test(sql) && /(?:^|[^a-z0-9_$])stdin(?![a-z0-9_$])/i.test(sql);
}

const CARRIAGE_RETURN = 0x0d;

/**
 * Where the line `\.` that ends COPY data starts in `chunk` (line-aligned) from `from`, and
 * where the line after it starts; undefined when no line of it is one.
 */
function findDataEnd(chunk: Buffer, from: number): { at: number; next: number } | undefined {
  for (
    let at = chunk.indexOf('\\.', from, 'latin1');
    at !== -1;
    at = chunk.indexOf('\\.', at + 1, 'latin1')
  ) {
    if (at !== 0 && chunk[at - 1] !== NEWLINE) continue;
    const after = at + 2;
    if (after === chunk.length) return { at, next: after };
    if (chunk[after] === NEWLINE) return { at, next: after + 1 };
    if (chunk[after] === CARRIAGE_RETURN && chunk[after + 1] === NEWLINE)
      return { at, next: after + 2 };
  }
  return undefined;
}

/** The statements of the script whose bytes `chunks` yields, in order. */
export async function* readPsqlScript(
  chunks: AsyncIterable<Buffer | Uint8Array | string>,
): AsyncIterable<ScriptStatement> {
  let state: State = State.Code;
  let pieces: Buffer[] = [];
  let started = false;
  let startLine = 0;
  let line = 1;
  let consumed = 0;
  let parenDepth = 0;
  let commentDepth = 0;
  /** The closing tag of a dollar quote, `$tag$`. */
  let dollarTag = Buffer.alloc(0);
  /** The meta-command started the statement: it ends with its line, as psql runs it then. */
  let metaAlone = false;
  const words = new WordTracker();
  const source = lineAligned(chunks)[Symbol.asyncIterator]();
  /** What is left of a chunk after a COPY's data: read before the source's next chunk. */
  let pending: Buffer | undefined;

  chunks: for (;;) {
    let chunk: Buffer;
    if (pending === undefined) {
      const next = await source.next();
      if (next.done === true) break;
      chunk = next.value;
    } else {
      chunk = pending;
      pending = undefined;
    }
    let pieceStart = 0;
    let index = 0;
    const length = chunk.length;
    while (index < length) {
      const byte = chunk[index] as number;
      switch (state) {
        case State.Code: {
          if (!started) {
            if (byte <= 0x20) {
              if (byte === NEWLINE) line += 1;
              index += 1;
              continue;
            }
            if (byte === DASH && chunk[index + 1] === DASH) {
              state = State.LineComment;
              index += 2;
              continue;
            }
            if (byte === SLASH && chunk[index + 1] === STAR) {
              state = State.BlockComment;
              commentDepth = 1;
              index += 2;
              continue;
            }
            started = true;
            startLine = line;
            pieceStart = index;
            metaAlone = byte === BACKSLASH;
          }
          const special = words.following ? SPECIAL_WITH_WORDS : SPECIAL;
          let next = byte;
          while (special[next] === 0) {
            index += 1;
            if (index >= length) break;
            next = chunk[index] as number;
          }
          if (index >= length) continue;
          if (isWordStart(next)) {
            let stop = index + 1;
            while (stop < length && isWordPart(chunk[stop] as number)) stop += 1;
            // E'…': a string with backslash escapes (the E alone, not the end of a word).
            if (
              stop === index + 1 &&
              (next | 0x20) === 0x65 &&
              chunk[stop] === SINGLE_QUOTE &&
              !isWordPart(chunk[index - 1] ?? 0)
            ) {
              state = State.EscapeQuoted;
              index = stop + 1;
              continue;
            }
            words.word(chunk.toString('latin1', index, stop), parenDepth);
            index = stop;
            continue;
          }
          switch (next) {
            case SEMICOLON:
              if (parenDepth === 0 && words.depth === 0) {
                pieces.push(chunk.subarray(pieceStart, index));
                index += 1;
                const statement = statementOf(pieces, startLine, consumed + index);
                pieces = [];
                started = false;
                words.reset();
                parenDepth = 0;
                if (!readsDataFromScript(statement.sql)) {
                  yield statement;
                  continue;
                }
                // The data starts on the next line (chunks are line-aligned: it is in this
                // chunk, or the chunk ends the script). Whatever the consumer leaves of it is
                // skipped: a data line is never read as a statement.
                const lineEnd = chunk.indexOf(NEWLINE, index);
                const dataStart = lineEnd === -1 ? length : lineEnd + 1;
                const data = new DataLines(
                  source,
                  chunk.subarray(dataStart),
                  consumed + dataStart,
                  chunk.subarray(index, dataStart).toString('utf8').trim() !== '',
                );
                line += lineEnd === -1 ? 0 : 1;
                yield { ...statement, data };
                await data.skipRest();
                line += data.lines;
                consumed = data.end;
                pending = data.rest;
                continue chunks;
              }
              break;
            case OPEN:
              parenDepth += 1;
              break;
            case CLOSE:
              if (parenDepth > 0) parenDepth -= 1;
              break;
            case SINGLE_QUOTE:
              // E'…' (the E alone, not the end of a word) takes backslash escapes.
              state =
                ((chunk[index - 1] ?? 0) | 0x20) === 0x65 && !isWordPart(chunk[index - 2] ?? 0)
                  ? State.EscapeQuoted
                  : State.Quoted;
              break;
            case DOUBLE_QUOTE:
              state = State.DoubleQuoted;
              break;
            case NEWLINE:
              line += 1;
              break;
            case BACKSLASH:
              state = State.MetaCommand;
              break;
            case DASH:
              if (chunk[index + 1] === DASH) state = State.LineComment;
              break;
            case SLASH:
              if (chunk[index + 1] === STAR) {
                state = State.BlockComment;
                commentDepth = 1;
                index += 2;
                continue;
              }
              break;
            case DOLLAR: {
              // `$tag$` opens a dollar quote unless the `$` goes on a word (`a$b$`) or a
              // parameter (`$1`).
              if (isWordPart(chunk[index - 1] ?? 0)) break;
              let stop = index + 1;
              if (isWordStart(chunk[stop] ?? 0)) {
                stop += 1;
                while (stop < length && isWordPart(chunk[stop] as number) && chunk[stop] !== DOLLAR)
                  stop += 1;
              }
              if (chunk[stop] !== DOLLAR) break;
              dollarTag = Buffer.from(chunk.subarray(index, stop + 1));
              state = State.DollarQuoted;
              index = stop + 1;
              continue;
            }
            default:
              break;
          }
          index += 1;
          continue;
        }
        case State.Quoted:
        case State.DoubleQuoted: {
          const quote = state === State.Quoted ? SINGLE_QUOTE : DOUBLE_QUOTE;
          const close = chunk.indexOf(quote, index);
          const stop = close === -1 ? length : close;
          line += countNewlines(chunk, index, stop);
          if (close === -1) {
            index = length;
          } else if (chunk[close + 1] === quote) {
            index = close + 2;
          } else {
            state = State.Code;
            index = close + 1;
          }
          continue;
        }
        case State.EscapeQuoted: {
          let at = index;
          while (at < length && chunk[at] !== SINGLE_QUOTE && chunk[at] !== BACKSLASH) at += 1;
          line += countNewlines(chunk, index, at);
          if (at >= length) {
            index = length;
          } else if (chunk[at] === BACKSLASH) {
            if (chunk[at + 1] === NEWLINE) line += 1;
            index = at + 2;
          } else if (chunk[at + 1] === SINGLE_QUOTE) {
            index = at + 2;
          } else {
            state = State.Code;
            index = at + 1;
          }
          continue;
        }
        case State.DollarQuoted: {
          const close = chunk.indexOf(dollarTag, index);
          const stop = close === -1 ? length : close + dollarTag.length;
          line += countNewlines(chunk, index, stop);
          index = stop;
          if (close !== -1) state = State.Code;
          continue;
        }
        case State.LineComment: {
          const stop = chunk.indexOf(NEWLINE, index);
          state = stop === -1 ? state : State.Code;
          index = stop === -1 ? length : stop;
          continue;
        }
        case State.BlockComment: {
          // Nested: `/*` opens one more, `*/` closes one.
          const open = chunk.indexOf('/*', index, 'latin1');
          const close = chunk.indexOf('*/', index, 'latin1');
          if (close === -1 && open === -1) {
            line += countNewlines(chunk, index, length);
            index = length;
            continue;
          }
          if (open !== -1 && (close === -1 || open < close)) {
            line += countNewlines(chunk, index, open);
            commentDepth += 1;
            index = open + 2;
            continue;
          }
          line += countNewlines(chunk, index, close);
          commentDepth -= 1;
          index = close + 2;
          if (commentDepth === 0) state = State.Code;
          continue;
        }
        case State.MetaCommand: {
          const stop = chunk.indexOf(NEWLINE, index);
          if (stop === -1) {
            index = length;
            continue;
          }
          state = State.Code;
          index = stop;
          if (metaAlone) {
            pieces.push(chunk.subarray(pieceStart, stop));
            yield statementOf(pieces, startLine, consumed + stop);
            pieces = [];
            started = false;
            words.reset();
            parenDepth = 0;
          }
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

/**
 * The data lines after a COPY ... FROM STDIN, as psql sends them: up to and with the line
 * `\\.` that ends them, or to the script's end when none does. Taken from the same source as
 * the statements, as fast as they are consumed; {@link skipRest} skips what was not.
 */
class DataLines implements AsyncIterable<Buffer> {
  /** Lines passed, the end line included. */
  lines = 0;
  /** Byte offset in the script after the data. */
  end: number;
  /** What follows the data in its chunk, for the statements after it. */
  rest: Buffer | undefined;
  private buffer: Buffer;
  private done = false;
  private readonly source: AsyncIterator<Buffer>;
  private readonly textAfterStatement: boolean;

  constructor(
    source: AsyncIterator<Buffer>,
    first: Buffer,
    offset: number,
    textAfterStatement: boolean,
  ) {
    this.source = source;
    this.buffer = first;
    this.end = offset;
    this.textAfterStatement = textAfterStatement;
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    // No `return`: a consumer that stops early leaves the rest to skipRest().
    return { next: () => this.next() };
  }

  async skipRest(): Promise<void> {
    while (!(await this.next()).done);
  }

  private async next(): Promise<IteratorResult<Buffer>> {
    if (this.done) return { done: true, value: undefined };
    if (this.textAfterStatement)
      // psql would read it as a statement after the data: no dump writes it.
      throw new UnexpectedStatementError(
        'text after a COPY ... FROM stdin statement on its line: not a dump of schema_backup',
      );
    while (this.buffer.length === 0) {
      const next = await this.source.next();
      if (next.done === true) {
        this.done = true;
        return { done: true, value: undefined };
      }
      this.buffer = next.value;
    }
    const chunk = this.buffer;
    const found = findDataEnd(chunk, 0);
    const stop = found === undefined ? chunk.length : found.next;
    const lines = chunk.subarray(0, stop);
    this.lines += countNewlines(chunk, 0, stop);
    this.end += stop;
    this.buffer = chunk.subarray(stop);
    if (found !== undefined) {
      this.done = true;
      this.rest = this.buffer.length > 0 ? this.buffer : undefined;
    }
    return { done: false, value: lines };
  }
}
