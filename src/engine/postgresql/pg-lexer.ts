/**
 * A lexer of PostgreSQL statements that reads them as the server does with
 * standard_conforming_strings on, for checking what a file asks the server to run (see
 * statement-guard.ts). Anything it does not know is an error: when in doubt, a statement is
 * refused, never run. So is what psql would read differently from the server: a backslash
 * outside quotes (a psql meta-command) and `:name`, `:'name'`, `:"name"` (psql variables).
 *
 * A cursor, not a token list: `next()` moves to the next token and sets `type`, `start`, `end`,
 * so the rows of a large INSERT are checked without allocating per value.
 */

import { digitsEnd, exponentEnd, isDigit } from '../common/lexer-chars.js';

export type PgTokenType =
  'word' | 'identifier' | 'string' | 'number' | 'parameter' | 'punctuation' | 'end';

export class PgLexError extends Error {}

function isWordStart(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x41 && code <= 0x5a) ||
    code === 0x5f ||
    code >= 0x80
  );
}

function isWordPart(code: number): boolean {
  return isWordStart(code) || isDigit(code) || code === 0x24;
}

export class PgLexer {
  type: PgTokenType = 'end';
  start = 0;
  end = 0;
  /** Whether a comment was skipped so far. */
  sawComment = false;
  /** The token is a plain `'…'` string (no E, U& or B/X prefix, no dollar quotes). */
  plainString = false;
  private position: number;
  readonly sql: string;

  constructor(sql: string, from = 0) {
    this.sql = sql;
    this.position = from;
  }

  /** Moves to the next token and returns its type; `end` at the end of the statement. */
  next(): PgTokenType {
    this.skipSpaceAndComments();
    const sql = this.sql;
    const at = this.position;
    this.start = at;
    this.plainString = false;
    if (at >= sql.length) return this.token('end', at);
    const code = sql.charCodeAt(at);
    const following = sql.charCodeAt(at + 1);
    if (code === 0x27) {
      this.plainString = true;
      return this.quoted(at, 0x27, 'string', false);
    }
    if (code === 0x22) return this.quoted(at, 0x22, 'identifier', false);
    if (code === 0x5c) throw new PgLexError('a psql meta-command (a backslash outside quotes)');
    if (code === 0x3a) {
      if (following === 0x3a) return this.token('punctuation', at + 2);
      if (isWordPart(following) && !isDigit(following)) throw new PgLexError('a psql variable');
      if (following === 0x27 || following === 0x22) throw new PgLexError('a psql variable');
      return this.token('punctuation', at + 1);
    }
    if (code === 0x24) {
      if (isDigit(following)) return this.token('parameter', digitsEnd(sql, at + 1));
      let stop = at + 1;
      if (isWordStart(following)) {
        stop += 1;
        while (
          stop < sql.length &&
          isWordPart(sql.charCodeAt(stop)) &&
          sql.charCodeAt(stop) !== 0x24
        )
          stop += 1;
      }
      if (sql.charCodeAt(stop) !== 0x24) throw new PgLexError('a stray `$`');
      const tag = sql.slice(at, stop + 1);
      const close = sql.indexOf(tag, stop + 1);
      if (close === -1) throw new PgLexError('a dollar-quoted string is not closed');
      return this.token('string', close + tag.length);
    }
    // E'…', U&'…', U&"…", B'…', X'…', N'…'
    const lower = code | 0x20;
    if (following === 0x27 && lower === 0x65) return this.quoted(at + 1, 0x27, 'string', true, at);
    if (following === 0x27 && (lower === 0x62 || lower === 0x78 || lower === 0x6e))
      return this.quoted(at + 1, 0x27, 'string', false, at);
    if (lower === 0x75 && following === 0x26) {
      const quote = sql.charCodeAt(at + 2);
      if (quote === 0x27 || quote === 0x22)
        throw new PgLexError('a Unicode-escaped string or name (U&)');
    }
    if (isDigit(code) || (code === 0x2e && isDigit(following))) return this.number(at);
    if (isWordStart(code)) {
      let stop = at + 1;
      while (stop < sql.length && isWordPart(sql.charCodeAt(stop))) stop += 1;
      return this.token('word', stop);
    }
    return this.token('punctuation', at + 1);
  }

  /** Whether the token is the punctuation `text` (`::` or one character). */
  is(text: string): boolean {
    return (
      this.type === 'punctuation' &&
      this.end - this.start === text.length &&
      this.sql.startsWith(text, this.start)
    );
  }

  /** The token's text as written. */
  text(): string {
    return this.sql.slice(this.start, this.end);
  }

  /** A word lower-cased, for keywords; '' for anything else. */
  keyword(): string {
    return this.type === 'word' ? this.text().toLowerCase() : '';
  }

  /** The name a word (folded to lower case) or a quoted identifier stands for. */
  name(): string {
    if (this.type === 'word') return this.text().toLowerCase();
    return this.sql.slice(this.start + 1, this.end - 1).replace(/""/g, '"');
  }

  /** The value of a plain `'…'` string; undefined for any other token. */
  stringValue(): string | undefined {
    if (this.type !== 'string' || !this.plainString) return undefined;
    return this.sql.slice(this.start + 1, this.end - 1).replace(/''/g, "'");
  }

  private token(type: PgTokenType, stop: number): PgTokenType {
    this.type = type;
    this.end = stop;
    this.position = stop;
    return type;
  }

  private quoted(
    at: number,
    quote: number,
    type: PgTokenType,
    backslash: boolean,
    tokenStart = at,
  ): PgTokenType {
    const sql = this.sql;
    let index = at + 1;
    // The next quote and the next backslash at or after `index`, each searched once: a long
    // string with many escapes is read in one pass.
    let close = -1;
    let escape = backslash ? -1 : Infinity;
    for (;;) {
      if (close < index) close = sql.indexOf(quote === 0x27 ? "'" : '"', index);
      if (close === -1) throw new PgLexError('a quoted string or name is not closed');
      if (escape < index) {
        escape = sql.indexOf('\\', index);
        if (escape === -1) escape = Infinity;
      }
      if (escape < close) {
        index = escape + 2;
        continue;
      }
      if (sql.charCodeAt(close + 1) === quote) {
        index = close + 2;
        continue;
      }
      this.token(type, close + 1);
      this.start = tokenStart;
      return type;
    }
  }

  private number(at: number): PgTokenType {
    const sql = this.sql;
    let stop = digitsEnd(sql, at);
    if (sql.charCodeAt(stop) === 0x2e && sql.charCodeAt(stop + 1) !== 0x2e)
      stop = digitsEnd(sql, stop + 1);
    stop = exponentEnd(sql, stop);
    // `1abc` is read differently by server versions: refused.
    if (stop < sql.length && isWordPart(sql.charCodeAt(stop)))
      throw new PgLexError('a number run into a word');
    return this.token('number', stop);
  }

  private skipSpaceAndComments(): void {
    const sql = this.sql;
    for (;;) {
      const code = sql.charCodeAt(this.position);
      if (code <= 0x20) {
        if (this.position >= sql.length) return;
        this.position += 1;
        continue;
      }
      if (code === 0x2d && sql.charCodeAt(this.position + 1) === 0x2d) {
        const stop = sql.indexOf('\n', this.position);
        this.position = stop === -1 ? sql.length : stop + 1;
        this.sawComment = true;
        continue;
      }
      if (code === 0x2f && sql.charCodeAt(this.position + 1) === 0x2a) {
        let depth = 1;
        let index = this.position + 2;
        while (depth > 0) {
          const open = sql.indexOf('/*', index);
          const close = sql.indexOf('*/', index);
          if (close === -1) throw new PgLexError('a comment is not closed');
          if (open !== -1 && open < close) {
            depth += 1;
            index = open + 2;
          } else {
            depth -= 1;
            index = close + 2;
          }
        }
        this.position = index;
        this.sawComment = true;
        continue;
      }
      return;
    }
  }
}
