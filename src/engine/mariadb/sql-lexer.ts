/**
 * A lexer of MariaDB/MySQL statements that reads them as the server does, for checking what
 * a file asks the server to run (see statement-guard.ts). It follows the session's sql_mode
 * where that changes lexing (NO_BACKSLASH_ESCAPES, ANSI_QUOTES), runs the text of executable
 * comments (`/*!…*\/`, `/*M!…*\/`) as code, as the server does, and skips other comments.
 * Anything it does not know is an error: when in doubt, a statement is refused, never run.
 *
 * A cursor, not a token list: `next()` moves to the next token and sets `type`, `start`, `end`,
 * so the rows of a large INSERT are checked without allocating per value.
 */
import { digitsEnd, exponentEnd, isDigit } from '../common/lexer-chars.js';

export interface LexModes {
  /** Backslash is an ordinary character in strings. */
  readonly noBackslashEscapes: boolean;
  /** `"…"` quotes an identifier, not a string. */
  readonly ansiQuotes: boolean;
  /**
   * The client character set is not UTF-8, so the server reads the bytes of a non-ASCII
   * character as other characters: only quoted text may hold one.
   */
  readonly asciiCode?: boolean | undefined;
}

export type TokenType =
  | 'word'
  | 'identifier'
  | 'string'
  | 'number'
  | 'hex'
  | 'bit'
  | 'user-variable'
  | 'system-variable'
  | 'punctuation'
  | 'end';

export class SqlLexError extends Error {}

const C_SINGLE = 0x27;
const C_DOUBLE = 0x22;
const C_BACKTICK = 0x60;
const C_AT = 0x40;
const C_DOT = 0x2e;
const C_STAR = 0x2a;
const C_SLASH = 0x2f;
const C_NEWLINE = 0x0a;

function isIdentifierChar(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x30 && code <= 0x39) ||
    code === 0x5f ||
    code === 0x24 ||
    code >= 0x80
  );
}

function isHexDigit(code: number): boolean {
  return isDigit(code) || (code >= 0x61 && code <= 0x66) || (code >= 0x41 && code <= 0x46);
}

export class SqlLexer {
  type: TokenType = 'end';
  start = 0;
  end = 0;
  private position = 0;
  private inExecutableComment = false;
  /** Whether a comment (not an executable one) was skipped so far. */
  sawComment = false;
  /** The next backslash at or after a string's position (`sql.length`: none left). */
  private backslashAt = -1;

  readonly sql: string;
  readonly modes: LexModes;

  /** `from`: where to start, a token boundary of `sql` (after a prefix already checked). */
  constructor(sql: string, modes: LexModes, from = 0) {
    this.sql = sql;
    this.modes = modes;
    this.position = from;
  }

  /** Whether the lexer stands inside an executable comment (`/*!…`). */
  get inExecutable(): boolean {
    return this.inExecutableComment;
  }

  /** Moves to the next token and returns its type; `end` at the end of the statement. */
  next(): TokenType {
    this.skipSpaceAndComments();
    const sql = this.sql;
    const at = this.position;
    this.start = at;
    if (at >= sql.length) {
      if (this.inExecutableComment) throw new SqlLexError('an executable comment is not closed');
      this.type = 'end';
      this.end = at;
      return this.type;
    }
    const code = sql.charCodeAt(at);
    const following = sql.charCodeAt(at + 1);
    if (code === C_SINGLE)
      return this.quoted(at, C_SINGLE, 'string', !this.modes.noBackslashEscapes);
    if (code === C_DOUBLE)
      return this.modes.ansiQuotes
        ? this.quoted(at, C_DOUBLE, 'identifier', false)
        : this.quoted(at, C_DOUBLE, 'string', !this.modes.noBackslashEscapes);
    if (code === C_BACKTICK) return this.quoted(at, C_BACKTICK, 'identifier', false);
    if (code === C_AT) {
      if (following === C_AT) {
        let stop = at + 2;
        while (
          stop < sql.length &&
          (isIdentifierChar(sql.charCodeAt(stop)) || sql.charCodeAt(stop) === C_DOT)
        )
          stop += 1;
        if (stop === at + 2) throw new SqlLexError('a system variable without a name');
        return this.token('system-variable', stop);
      }
      if (following === C_SINGLE || following === C_DOUBLE || following === C_BACKTICK) {
        this.quoted(
          at + 1,
          following,
          'user-variable',
          following !== C_BACKTICK && !this.modes.noBackslashEscapes,
        );
        this.start = at;
        return this.type;
      }
      let stop = at + 1;
      while (
        stop < sql.length &&
        (isIdentifierChar(sql.charCodeAt(stop)) || sql.charCodeAt(stop) === C_DOT)
      )
        stop += 1;
      if (stop === at + 1) throw new SqlLexError('a user variable without a name');
      return this.token('user-variable', stop);
    }
    // X'…', B'…', N'…'
    if (following === C_SINGLE && (code | 0x20) === 0x78) return this.prefixed(at, 'hex');
    if (following === C_SINGLE && (code | 0x20) === 0x62) return this.prefixed(at, 'bit');
    if (following === C_SINGLE && (code | 0x20) === 0x6e) {
      this.quoted(at + 1, C_SINGLE, 'string', !this.modes.noBackslashEscapes);
      this.start = at;
      return this.type;
    }
    if (isDigit(code) || (code === C_DOT && isDigit(following))) return this.number(at);
    if (code >= 0x80 && this.modes.asciiCode === true)
      throw new SqlLexError(
        'a non-ASCII character outside quotes under a non-UTF-8 client character set',
      );
    if (isIdentifierChar(code)) {
      let stop = at + 1;
      while (stop < sql.length && isIdentifierChar(sql.charCodeAt(stop))) stop += 1;
      if (this.modes.asciiCode === true && /[^ -~]/.test(sql.slice(at, stop)))
        throw new SqlLexError(
          'a non-ASCII character outside quotes under a non-UTF-8 client character set',
        );
      return this.token('word', stop);
    }
    if (code === 0x3a && following === 0x3d) return this.token('punctuation', at + 2);
    return this.token('punctuation', at + 1);
  }

  /** Whether the token is the punctuation `char` (one character), without making a string. */
  is(char: string): boolean {
    return (
      this.type === 'punctuation' &&
      this.end === this.start + 1 &&
      this.sql.charCodeAt(this.start) === char.charCodeAt(0)
    );
  }

  /** Whether the token after this one is the punctuation `char`; does not move. */
  peekIs(char: string): boolean {
    return this.peek(() => this.is(char));
  }

  /** The type of the token after this one; does not move. */
  peekType(): TokenType {
    return this.peek(() => this.type);
  }

  /** `look` at the token after this one, then back where the lexer was. */
  private peek<T>(look: () => T): T {
    const saved = {
      type: this.type,
      start: this.start,
      end: this.end,
      position: this.position,
      inExecutableComment: this.inExecutableComment,
      sawComment: this.sawComment,
    };
    this.next();
    const result = look();
    this.type = saved.type;
    this.start = saved.start;
    this.end = saved.end;
    this.position = saved.position;
    this.inExecutableComment = saved.inExecutableComment;
    this.sawComment = saved.sawComment;
    return result;
  }

  /** The token's text as written. */
  text(): string {
    return this.sql.slice(this.start, this.end);
  }

  /** A word lower-cased, for keywords. */
  keyword(): string {
    return this.type === 'word' ? this.text().toLowerCase() : '';
  }

  /** The name an identifier or a word stands for: quotes removed, doubled quotes undone. */
  name(): string {
    if (this.type === 'word') return this.text();
    const quote = this.sql[this.start] ?? '';
    return this.sql
      .slice(this.start + 1, this.end - 1)
      .split(quote + quote)
      .join(quote);
  }

  /** The value of a string token, escapes undone as the server does. */
  stringValue(): string {
    let from = this.start;
    if ((this.sql.charCodeAt(from) | 0x20) === 0x6e) from += 1;
    const quote = this.sql[from] ?? "'";
    const body = this.sql.slice(from + 1, this.end - 1);
    const undoubled = body.split(quote + quote).join(quote);
    if (this.modes.noBackslashEscapes) return undoubled;
    return undoubled.replace(/\\(.)/gs, (_, char: string) => ESCAPES[char] ?? char);
  }

  private token(type: TokenType, stop: number): TokenType {
    this.type = type;
    this.end = stop;
    this.position = stop;
    return type;
  }

  private quoted(at: number, quote: number, type: TokenType, backslash: boolean): TokenType {
    const sql = this.sql;
    const quoteChar = String.fromCharCode(quote);
    let index = at + 1;
    for (;;) {
      const close = sql.indexOf(quoteChar, index);
      if (close === -1) throw new SqlLexError('a quoted string or name is not closed');
      if (backslash) {
        if (this.backslashAt < index && this.backslashAt !== sql.length) {
          this.backslashAt = sql.indexOf('\\', index);
          if (this.backslashAt === -1) this.backslashAt = sql.length;
        }
        if (this.backslashAt < close) {
          index = this.backslashAt + 2;
          continue;
        }
      }
      if (sql.charCodeAt(close + 1) === quote) {
        index = close + 2;
        continue;
      }
      return this.token(type, close + 1);
    }
  }

  private prefixed(at: number, type: 'hex' | 'bit'): TokenType {
    const close = this.sql.indexOf("'", at + 2);
    if (close === -1) throw new SqlLexError('a quoted string or name is not closed');
    const digits = this.sql.slice(at + 2, close);
    if (!(type === 'hex' ? /^(?:[0-9a-f]{2})*$/i : /^[01]*$/).test(digits))
      throw new SqlLexError(`not a ${type} literal: ${this.sql.slice(at, close + 1)}`);
    return this.token(type, close + 1);
  }

  private number(at: number): TokenType {
    const sql = this.sql;
    let stop = at;
    const second = sql.charCodeAt(at + 1) | 0x20;
    if (sql.charCodeAt(at) === 0x30 && (second === 0x78 || second === 0x62)) {
      stop = at + 2;
      const digit = second === 0x78 ? isHexDigit : (code: number) => code === 0x30 || code === 0x31;
      while (stop < sql.length && digit(sql.charCodeAt(stop))) stop += 1;
      if (stop > at + 2 && !(stop < sql.length && isIdentifierChar(sql.charCodeAt(stop))))
        return this.token(second === 0x78 ? 'hex' : 'bit', stop);
      stop = at;
    }
    stop = digitsEnd(sql, stop);
    if (sql.charCodeAt(stop) === C_DOT) stop = digitsEnd(sql, stop + 1);
    stop = exponentEnd(sql, stop);
    // `1abc` is a name, not a number followed by a word.
    if (stop < sql.length && isIdentifierChar(sql.charCodeAt(stop))) {
      while (stop < sql.length && isIdentifierChar(sql.charCodeAt(stop))) stop += 1;
      return this.token('word', stop);
    }
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
      if (
        code === 0x23 ||
        (code === 0x2d &&
          sql.charCodeAt(this.position + 1) === 0x2d &&
          isSpaceOrControl(sql.charCodeAt(this.position + 2)))
      ) {
        const stop = sql.indexOf('\n', this.position);
        this.position = stop === -1 ? sql.length : stop + 1;
        this.sawComment = true;
        continue;
      }
      if (
        code === C_STAR &&
        sql.charCodeAt(this.position + 1) === C_SLASH &&
        this.inExecutableComment
      ) {
        this.inExecutableComment = false;
        this.position += 2;
        continue;
      }
      if (code === C_SLASH && sql.charCodeAt(this.position + 1) === C_STAR) {
        // `/*!` with no version or five digits, `/*M!` with six: other digit counts are read
        // differently by MySQL and MariaDB versions, so they are refused.
        const executable = /^\/\*(?:!(?:\d{5})?|M!\d{6})(?!\d)/.exec(
          sql.slice(this.position, this.position + 12),
        );
        if (executable === null && /^\/\*M?!/.test(sql.slice(this.position, this.position + 4)))
          throw new SqlLexError('an executable comment with an unusual version');
        if (this.inExecutableComment)
          throw new SqlLexError('a comment inside an executable comment');
        if (executable !== null) {
          this.inExecutableComment = true;
          this.position += executable[0].length;
          continue;
        }
        const stop = sql.indexOf('*/', this.position + 2);
        if (stop === -1) throw new SqlLexError('a comment is not closed');
        this.position = stop + 2;
        this.sawComment = true;
        continue;
      }
      return;
    }
  }
}

function isSpaceOrControl(code: number): boolean {
  return Number.isNaN(code) || code <= 0x20 || code === C_NEWLINE;
}

const ESCAPES: Readonly<Record<string, string>> = {
  '0': '\0',
  b: '\b',
  n: '\n',
  r: '\r',
  t: '\t',
  Z: '\x1a',
};
