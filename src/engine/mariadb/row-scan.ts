/**
 * The bounded scan that lets the script reader take a table file's row lines without lexing
 * them as whole statements: after an INSERT the statement checker accepted, a line that
 * starts with the same head (`INSERT INTO `t` (cols) VALUES`) is one more row when the rest
 * of the line is exactly ` (v,v,…);` with every v a literal of the narrow forms a snapshot
 * writes: NULL, a decimal number, `0x…` hex, `b'…'` bits, or a `'…'` string with backslash
 * escapes. No spaces, comments, expressions or other quotes: anything else is left to the
 * reader and the checker, which read it as the server does (and refuse what a file may not
 * hold). So every line this accepts, the checker would accept too, as the same one row, and
 * the reader would end at the same `;`.
 */

const QUOTE = 0x27;
const BACKSLASH = 0x5c;
const OPEN = 0x28;
const CLOSE = 0x29;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const ONE = 0x31;
const LOWER_X = 0x78;
const LOWER_B = 0x62;
const LOWER_E = 0x65;
const PLUS = 0x2b;
const UPPER_N = 0x4e;
const UPPER_U = 0x55;
const UPPER_L = 0x4c;

const DIGIT = new Uint8Array(256);
const HEX_DIGIT = new Uint8Array(256);
for (let code = 0x30; code <= 0x39; code += 1) {
  DIGIT[code] = 1;
  HEX_DIGIT[code] = 1;
}
for (let code = 0x41; code <= 0x46; code += 1) {
  HEX_DIGIT[code] = 1;
  HEX_DIGIT[code + 0x20] = 1;
}

/** Scans the row lines of one chunk after another; remembers where the next backslash is. */
export class RowScanner {
  private chunk: Buffer | undefined;
  /** The next backslash at or after the last position searched (`chunk.length`: none). */
  private backslashAt = -1;

  /**
   * In `chunk` from `at` (just after the head), before `limit` (the line's end): ` (` then
   * literals separated by commas, `)` and `;`. Returns the offset just after the `;`, or -1
   * when the text is anything else. The row is `chunk[at + 1, result - 1)`.
   */
  scan(chunk: Buffer, at: number, limit: number): number {
    if (chunk !== this.chunk) {
      this.chunk = chunk;
      this.backslashAt = -1;
    }
    if (chunk[at] !== 0x20 || chunk[at + 1] !== OPEN) return -1;
    let index = at + 2;
    for (;;) {
      let code = chunk[index] as number;
      if (code === QUOTE) {
        index = this.stringEnd(chunk, index + 1, limit);
        if (index === -1) return -1;
      } else if (code === UPPER_N) {
        if (
          chunk[index + 1] !== UPPER_U ||
          chunk[index + 2] !== UPPER_L ||
          chunk[index + 3] !== UPPER_L
        )
          return -1;
        index += 4;
      } else if (code === ZERO && chunk[index + 1] === LOWER_X) {
        let stop = index + 2;
        while (HEX_DIGIT[chunk[stop] as number] === 1) stop += 1;
        if (stop === index + 2) return -1;
        index = stop;
      } else if (code === LOWER_B && chunk[index + 1] === QUOTE) {
        let stop = index + 2;
        while (chunk[stop] === ZERO || chunk[stop] === ONE) stop += 1;
        if (chunk[stop] !== QUOTE) return -1;
        index = stop + 1;
      } else {
        if (code === MINUS) {
          index += 1;
          code = chunk[index] as number;
        }
        if (DIGIT[code] !== 1) return -1;
        index += 1;
        while (DIGIT[chunk[index] as number] === 1) index += 1;
        if (chunk[index] === DOT) {
          index += 1;
          while (DIGIT[chunk[index] as number] === 1) index += 1;
        }
        if (chunk[index] === LOWER_E || chunk[index] === LOWER_E - 0x20) {
          index += 1;
          if (chunk[index] === PLUS || chunk[index] === MINUS) index += 1;
          if (DIGIT[chunk[index] as number] !== 1) return -1;
          while (DIGIT[chunk[index] as number] === 1) index += 1;
        }
      }
      // Every byte up to here is before `limit`: none of the forms above matches a newline,
      // and a string ends before the line does.
      code = chunk[index] as number;
      if (code === COMMA) {
        index += 1;
        continue;
      }
      if (code === CLOSE && chunk[index + 1] === SEMICOLON && index + 1 < limit) return index + 2;
      return -1;
    }
  }

  /** Just after the quote that closes the string whose text starts at `from`; -1 past `limit`. */
  private stringEnd(chunk: Buffer, from: number, limit: number): number {
    let index = from;
    for (;;) {
      const close = chunk.indexOf(QUOTE, index);
      if (close === -1 || close >= limit) return -1;
      if (this.backslashAt < index && this.backslashAt !== chunk.length) {
        this.backslashAt = chunk.indexOf(BACKSLASH, index);
        if (this.backslashAt === -1) this.backslashAt = chunk.length;
      }
      if (this.backslashAt < close) {
        // The escaped byte must be on the line too (a backslash before the newline is not).
        if (this.backslashAt + 1 >= limit) return -1;
        index = this.backslashAt + 2;
        continue;
      }
      // `''` inside a string is a quote.
      if (chunk[close + 1] === QUOTE) {
        index = close + 2;
        continue;
      }
      return close + 1;
    }
  }
}
