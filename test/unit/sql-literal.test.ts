import { describe, expect, it } from 'vitest';
import {
  bitLiteral,
  literalKindOf,
  quoteIdentifier,
  quoteString,
  sqlLiteral,
  type LiteralKind,
} from '../../src/engine/mariadb/sql-literal.js';

const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');

/**
 * Reference reader of a MariaDB single-quoted literal with backslash escapes (the subset
 * quoteString writes, plus `''`): returns the string, or throws when it is not one literal.
 */
function unquote(literal: string): string {
  if (!literal.startsWith("'") || !literal.endsWith("'") || literal.length < 2)
    throw new Error(`not quoted: ${literal}`);
  const body = literal.slice(1, -1);
  const escapes: Record<string, string> = {
    '0': '\0',
    n: '\n',
    r: '\r',
    Z: '\x1a',
    "'": "'",
    '\\': '\\',
    '"': '"',
    t: '\t',
    b: '\b',
  };
  let result = '';
  for (let i = 0; i < body.length; i += 1) {
    const char = body[i] as string;
    if (char === '\\') {
      const next = body[i + 1];
      if (next === undefined) throw new Error('dangling backslash');
      result += escapes[next] ?? next;
      i += 1;
    } else if (char === "'") {
      if (body[i + 1] !== "'") throw new Error(`unescaped quote at ${String(i)} in ${literal}`);
      result += "'";
      i += 1;
    } else {
      result += char;
    }
  }
  return result;
}

describe('literalKindOf', () => {
  it.each([
    ['tinyint', 'number'],
    ['smallint', 'number'],
    ['mediumint', 'number'],
    ['int', 'number'],
    ['integer', 'number'],
    ['bigint', 'number'],
    ['decimal', 'number'],
    ['numeric', 'number'],
    ['float', 'number'],
    ['double', 'number'],
    ['real', 'number'],
    ['year', 'number'],
    ['INT', 'number'],
    ['binary', 'hex'],
    ['varbinary', 'hex'],
    ['tinyblob', 'hex'],
    ['blob', 'hex'],
    ['mediumblob', 'hex'],
    ['longblob', 'hex'],
    ['geometry', 'hex'],
    ['point', 'hex'],
    ['linestring', 'hex'],
    ['polygon', 'hex'],
    ['multipoint', 'hex'],
    ['multilinestring', 'hex'],
    ['multipolygon', 'hex'],
    ['geometrycollection', 'hex'],
    ['BLOB', 'hex'],
    ['bit', 'bit'],
    ['varchar', 'string'],
    ['char', 'string'],
    ['text', 'string'],
    ['longtext', 'string'],
    ['enum', 'string'],
    ['set', 'string'],
    ['date', 'string'],
    ['datetime', 'string'],
    ['timestamp', 'string'],
    ['time', 'string'],
    ['json', 'string'],
    ['inet6', 'string'],
    ['uuid', 'string'],
    ['something_new', 'string'],
  ] as const)('%s is %s', (type, kind) => {
    expect(literalKindOf(type)).toBe(kind);
  });
});

describe('sqlLiteral', () => {
  it('writes NULL for null, whatever the kind', () => {
    for (const kind of ['number', 'string', 'hex', 'bit'] as LiteralKind[])
      expect(sqlLiteral(null, kind)).toBe('NULL');
  });

  it('writes numbers verbatim', () => {
    for (const text of [
      '0',
      '-1',
      '42',
      '18446744073709551615',
      '-9223372036854775808',
      '3.14',
      '-0.000100',
      '1e+30',
      '-1.5E-7',
      '.5',
      '2.',
      '2024',
      '1.7976931348623157e308',
    ]) {
      expect(sqlLiteral(utf8(text), 'number')).toBe(text);
    }
  });

  it('quotes anything in a number column that is not a number', () => {
    expect(sqlLiteral(utf8('1; DROP TABLE t'), 'number')).toBe("'1; DROP TABLE t'");
    expect(sqlLiteral(utf8('abc'), 'number')).toBe("'abc'");
    expect(sqlLiteral(utf8(''), 'number')).toBe("''");
    expect(sqlLiteral(utf8('1 '), 'number')).toBe("'1 '");
    expect(sqlLiteral(utf8('0x10'), 'number')).toBe("'0x10'");
    expect(sqlLiteral(utf8("1'"), 'number')).toBe("'1\\''");
    expect(sqlLiteral(utf8('1\n2'), 'number')).toBe("'1\\n2'");
    expect(sqlLiteral(utf8('NaN'), 'number')).toBe("'NaN'");
    expect(sqlLiteral(utf8('-'), 'number')).toBe("'-'");
    expect(sqlLiteral(utf8('1e'), 'number')).toBe("'1e'");
  });

  it('writes binary data as upper-case hex, and empty binary as an empty string', () => {
    expect(sqlLiteral(Buffer.from([0x00, 0x01, 0xab, 0xff]), 'hex')).toBe('0x0001ABFF');
    expect(sqlLiteral(Buffer.from("\n\r'\\", 'latin1'), 'hex')).toBe('0x0A0D275C');
    expect(sqlLiteral(Buffer.alloc(0), 'hex')).toBe("''");
    expect(sqlLiteral(Buffer.alloc(0), 'hex')).not.toBe('NULL');
  });

  it('writes BIT values as bit strings without leading zeros', () => {
    expect(sqlLiteral(Buffer.from([0x00]), 'bit')).toBe("b'0'");
    expect(sqlLiteral(Buffer.from([0x01]), 'bit')).toBe("b'1'");
    expect(sqlLiteral(Buffer.from([0x05]), 'bit')).toBe("b'101'");
    expect(sqlLiteral(Buffer.from([0xff]), 'bit')).toBe("b'11111111'");
    expect(sqlLiteral(Buffer.from([0x00, 0x00]), 'bit')).toBe("b'0'");
    expect(sqlLiteral(Buffer.from([0x01, 0x00]), 'bit')).toBe("b'100000000'");
    expect(sqlLiteral(Buffer.from([0x00, 0x80]), 'bit')).toBe("b'10000000'");
    expect(sqlLiteral(Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 1]), 'bit')).toBe(
      `b'1${'0'.repeat(62)}1'`,
    );
    expect(bitLiteral(Buffer.alloc(0))).toBe("b'0'");
  });

  it('escapes \\0 \\n \\r \\x1a quote and backslash in strings', () => {
    expect(sqlLiteral(utf8('a\0b'), 'string')).toBe("'a\\0b'");
    expect(sqlLiteral(utf8('a\nb'), 'string')).toBe("'a\\nb'");
    expect(sqlLiteral(utf8('a\rb'), 'string')).toBe("'a\\rb'");
    expect(sqlLiteral(utf8('a\x1ab'), 'string')).toBe("'a\\Zb'");
    expect(sqlLiteral(utf8("it's"), 'string')).toBe("'it\\'s'");
    expect(sqlLiteral(utf8('C:\\dir'), 'string')).toBe("'C:\\\\dir'");
    expect(sqlLiteral(utf8("\\'"), 'string')).toBe("'\\\\\\''");
    expect(sqlLiteral(utf8('\r\n\r\n'), 'string')).toBe("'\\r\\n\\r\\n'");
  });

  it('leaves other characters alone: tab, double quote, %, _, emoji, other scripts', () => {
    expect(sqlLiteral(utf8('a\tb'), 'string')).toBe("'a\tb'");
    expect(sqlLiteral(utf8('say "hi"'), 'string')).toBe('\'say "hi"\'');
    expect(sqlLiteral(utf8('100%_x'), 'string')).toBe("'100%_x'");
    expect(sqlLiteral(utf8('😀 👩‍👩‍👧 ✓'), 'string')).toBe("'😀 👩‍👩‍👧 ✓'");
    expect(sqlLiteral(utf8('Ελληνικά 日本語 عربى'), 'string')).toBe("'Ελληνικά 日本語 عربى'");
    expect(sqlLiteral(utf8('\u2028\u2029\u0085'), 'string')).toBe("'\u2028\u2029\u0085'");
  });

  it('writes the empty string as two quotes', () => {
    expect(sqlLiteral(Buffer.alloc(0), 'string')).toBe("''");
  });

  it('quoteString and quoteIdentifier', () => {
    expect(quoteString("O'Brien\n")).toBe("'O\\'Brien\\n'");
    expect(quoteIdentifier('plain')).toBe('`plain`');
    expect(quoteIdentifier('we`ird')).toBe('`we``ird`');
    expect(quoteIdentifier('``')).toBe('``````');
  });
});

describe('quoted strings: property test', () => {
  /** Deterministic PRNG (mulberry32), so a failure is reproducible. */
  function random(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  const SPECIALS = [
    '\0',
    '\n',
    '\r',
    '\x1a',
    "'",
    '\\',
    '"',
    '\t',
    '\b',
    '`',
    '%',
    '_',
    '\\n',
    "''",
    "\\'",
  ];
  const CLASSES: ((next: () => number) => string)[] = [
    // control characters (C0, DEL, C1)
    (next) => String.fromCodePoint(Math.floor(next() * 0x20)),
    () => '\x7f',
    (next) => String.fromCodePoint(0x80 + Math.floor(next() * 0x20)),
    // the characters that need escaping, and look-alikes
    (next) => SPECIALS[Math.floor(next() * SPECIALS.length)] ?? '',
    // printable ASCII
    (next) => String.fromCodePoint(0x20 + Math.floor(next() * 0x5f)),
    // Latin-1 and the rest of the BMP below the surrogates
    (next) => String.fromCodePoint(0xa0 + Math.floor(next() * (0xd800 - 0xa0))),
    // BMP above the surrogates (incl. U+FEFF, U+FFFD, private use)
    (next) => String.fromCodePoint(0xe000 + Math.floor(next() * (0x10000 - 0xe000))),
    // line and paragraph separators
    (next) => (next() < 0.5 ? '\u2028' : '\u2029'),
    // astral: emoji, ZWJ sequences, any plane
    (next) => String.fromCodePoint(0x1f300 + Math.floor(next() * 0x700)),
    () => '👩‍👩‍👧',
    (next) => String.fromCodePoint(0x10000 + Math.floor(next() * (0x110000 - 0x10000))),
  ];

  function randomString(next: () => number): string {
    const length = Math.floor(next() * 40);
    let text = '';
    for (let i = 0; i < length; i += 1) {
      const pick = CLASSES[Math.floor(next() * CLASSES.length)];
      text += pick === undefined ? '' : pick(next);
    }
    return text;
  }

  it('reference unquote reads back hand-written cases', () => {
    expect(unquote("'a\\'b\\\\c\\n\\0\\Z'")).toBe("a'b\\c\n\0\x1a");
    expect(() => unquote("'a'b'")).toThrow();
  });

  it('500 random strings: one line, and unescaping gives the string back', () => {
    const next = random(20260101);
    const seen = new Set<number>();
    for (let round = 0; round < 500; round += 1) {
      const value = round === 0 ? SPECIALS.join('') : randomString(next);
      for (const char of value) seen.add(char.codePointAt(0) ?? 0);
      const literal = sqlLiteral(utf8(value), 'string');
      expect(literal).toBe(quoteString(value));
      expect(literal.includes('\n'), JSON.stringify(value)).toBe(false);
      expect(literal.includes('\r'), JSON.stringify(value)).toBe(false);
      expect(literal.includes('\0'), JSON.stringify(value)).toBe(false);
      expect(literal.includes('\x1a'), JSON.stringify(value)).toBe(false);
      expect(unquote(literal), JSON.stringify(value)).toBe(value);
      // The literal's bytes are valid UTF-8 that decode to the same text.
      expect(Buffer.from(literal, 'utf8').toString('utf8')).toBe(literal);
    }
    // The generator did cover the classes it claims to.
    const has = (predicate: (code: number) => boolean): boolean => [...seen].some(predicate);
    expect(has((code) => code < 0x20)).toBe(true);
    expect(has((code) => code >= 0x1f300 && code < 0x1fa00)).toBe(true);
    expect(has((code) => code > 0x1fa00)).toBe(true);
    expect(has((code) => code === 0x27)).toBe(true);
    expect(has((code) => code === 0x5c)).toBe(true);
  });
});
