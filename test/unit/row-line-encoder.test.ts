/**
 * The snapshot's row lines written from the wire (issue 17) are byte for byte what the
 * literal path writes (sqlLiteral, then the dialect's rowLineWriter, then UTF-8): existing
 * snapshots must stay "unchanged". Checked on text-protocol row packets built here, with
 * values the fast path copies and values it must hand to the literal path (numbers that are
 * not a plain number's text, text that is not valid UTF-8, long values, BIT).
 */
import { describe, expect, it } from 'vitest';
import { mariadbDialect } from '../../src/engine/mariadb/mariadb-dialect.js';
import { RowLineEncoder, RowLineSlab } from '../../src/engine/mariadb/row-line-encoder.js';
import { sqlLiteral, type LiteralKind } from '../../src/engine/mariadb/sql-literal.js';

/** A text-protocol row packet: each value length-coded, NULL as 0xfb; a 4-byte header first. */
function rowPacket(values: readonly (Buffer | null)[]): {
  buffer: Buffer;
  offset: number;
  end: number;
} {
  const parts: Buffer[] = [Buffer.alloc(4)];
  for (const value of values) {
    if (value === null) {
      parts.push(Buffer.from([0xfb]));
      continue;
    }
    const length = value.length;
    if (length < 0xfb) parts.push(Buffer.from([length]));
    else if (length < 0x10000) {
      const prefix = Buffer.alloc(3);
      prefix[0] = 0xfc;
      prefix.writeUInt16LE(length, 1);
      parts.push(prefix);
    } else {
      const prefix = Buffer.alloc(4);
      prefix[0] = 0xfd;
      prefix.writeUIntLE(length, 1, 3);
      parts.push(prefix);
    }
    parts.push(value);
  }
  // Some bytes after the row, as in a buffer that holds more packets.
  parts.push(Buffer.from('tail'));
  const buffer = Buffer.concat(parts);
  return { buffer, offset: 4, end: buffer.length - 4 };
}

/** What the literal path writes for `rows`. */
function expected(
  table: string,
  columns: readonly string[],
  kinds: readonly LiteralKind[],
  rows: readonly (readonly (Buffer | null)[])[],
): Buffer {
  const line = mariadbDialect.rowLineWriter(table, columns);
  let text = '';
  for (const row of rows)
    text += line(row.map((value, index) => sqlLiteral(value, kinds[index] ?? 'string')));
  return Buffer.from(text, 'utf8');
}

function encoded(
  table: string,
  columns: readonly string[],
  kinds: readonly LiteralKind[],
  rows: readonly (readonly (Buffer | null)[])[],
  options: { slab?: RowLineSlab; chunkBytes?: number } = {},
): { bytes: Buffer; rows: number; chunks: number } {
  const prefix = `INSERT INTO \`${table.replace(/`/g, '``')}\` (${columns.map((name) => `\`${name.replace(/`/g, '``')}\``).join(',')}) VALUES `;
  const encoder = new RowLineEncoder(prefix, kinds, options.slab, options.chunkBytes);
  const chunks: Buffer[] = [];
  let count = 0;
  for (const row of rows) {
    const chunk = encoder.encodePacket(rowPacket(row));
    if (chunk !== undefined) {
      chunks.push(Buffer.from(chunk.bytes));
      count += chunk.rows;
    }
  }
  const last = encoder.flush();
  if (last !== undefined) {
    chunks.push(Buffer.from(last.bytes));
    count += last.rows;
  }
  return { bytes: Buffer.concat(chunks), rows: count, chunks: chunks.length };
}

const b = (text: string, encoding: BufferEncoding = 'utf8'): Buffer => Buffer.from(text, encoding);

/** A deterministic pseudo-random generator (mulberry32). */
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

describe('RowLineEncoder', () => {
  it('writes the bytes of the literal path for every kind of value', () => {
    const kinds: LiteralKind[] = ['number', 'string', 'hex', 'bit', 'string'];
    const columns = ['n', 's', 'h', 'bits', 'ünï`code'];
    const rows: (Buffer | null)[][] = [
      [b('1'), b("it's"), b('00ff10', 'hex'), Buffer.from([5]), b('日本語')],
      [b('-12.50'), b('a\\b\nc\rd\0e\x1af'), Buffer.alloc(0), Buffer.from([0, 0]), b('')],
      [b('.5'), b('"quoted" %'), b('ab', 'latin1'), Buffer.alloc(0), null],
      [b('1e10'), b('\t tab'), null, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]), b('😀 emoji')],
      [b('-1.5E-7'), b('NULL'), b('00', 'hex'), null, b('x'.repeat(600) + "'" + 'y'.repeat(700))],
      [b('3.'), null, Buffer.alloc(100, 0xab), Buffer.from([0x80]), b('é\\'.repeat(400))],
      // Not a plain number's text: quoted, as the literal path quotes it (latin1).
      [b('1-2'), b('ok'), b('01', 'hex'), Buffer.from([0]), b('ok')],
      [b(''), b('ok'), b('01', 'hex'), Buffer.from([0]), b('ok')],
      [b('-'), b('ok'), b('01', 'hex'), Buffer.from([0]), b('ok')],
      [b('1e'), b('ok'), b('01', 'hex'), Buffer.from([0]), b('ok')],
      [b('e5'), b('ok'), b('01', 'hex'), Buffer.from([0]), b('ok')],
      [b('.'), b('ok'), b('01', 'hex'), Buffer.from([0]), b('ok')],
      [b('1.2.3'), b('ok'), b('01', 'hex'), Buffer.from([0]), b('ok')],
      [b('+1'), b('ok'), b('01', 'hex'), Buffer.from([0]), b('ok')],
      [b('1e+5'), b('ok'), b('01', 'hex'), Buffer.from([0]), b('ok')],
      [b('inf'), b('ok'), b('01', 'hex'), Buffer.from([0]), b('ok')],
      [Buffer.from([0x31, 0xe9]), b('ok'), b('01', 'hex'), Buffer.from([0]), b('ok')],
      [b("1'"), b('ok'), b('01', 'hex'), Buffer.from([0]), b('ok')],
      // Not valid UTF-8: decoded as the literal path decodes it (U+FFFD), short and long.
      [b('0'), Buffer.from([0x61, 0xff, 0x27, 0x62]), null, null, Buffer.from([0xed, 0xa0, 0x80])],
      [b('0'), Buffer.concat([Buffer.alloc(600, 0x61), Buffer.from([0xc3])]), null, null, null],
      [b('0'), Buffer.from([0xc0, 0x80]), null, null, Buffer.from([0xef, 0xbb, 0xbf, 0x41])],
    ];
    const result = encoded('t`1', columns, kinds, rows);
    expect(result.bytes.toString('latin1')).toBe(
      expected('t`1', columns, kinds, rows).toString('latin1'),
    );
    expect(result.rows).toBe(rows.length);
  });

  it('writes the same bytes for random values, across chunks and buffers', () => {
    const next = random(17);
    const kinds: LiteralKind[] = ['string', 'hex', 'number', 'string'];
    const columns = ['a', 'b', 'c', 'd'];
    const alphabet = [
      0x00, 0x0a, 0x0d, 0x1a, 0x27, 0x5c, 0x22, 0x61, 0x7f, 0x80, 0xbf, 0xc3, 0xa9, 0xe6, 0x97,
      0xa5, 0xf0, 0x9f, 0xff,
    ];
    const bytes = (length: number, ascii: boolean): Buffer =>
      Buffer.from(
        Array.from({ length }, () =>
          ascii || next() < 0.5
            ? Math.floor(next() * 128)
            : (alphabet[Math.floor(next() * alphabet.length)] ?? 0),
        ),
      );
    const rows: (Buffer | null)[][] = [];
    for (let row = 0; row < 1500; row += 1) {
      const long = next() < 0.05;
      rows.push([
        next() < 0.1
          ? null
          : bytes(long ? 700 + Math.floor(next() * 5000) : Math.floor(next() * 40), next() < 0.5),
        next() < 0.1 ? null : bytes(Math.floor(next() * (long ? 3000 : 30)), false),
        next() < 0.1 ? null : b((next() * 1e6 - 5e5).toFixed(Math.floor(next() * 4))),
        // Valid UTF-8 with escapes and characters of every length.
        b(
          Array.from(
            { length: Math.floor(next() * 20) },
            () => ["'", '\\', '\n', 'é', '日', '😀', 'a', '\0'][Math.floor(next() * 8)],
          ).join(''),
        ),
      ]);
    }
    const want = expected('t', columns, kinds, rows);
    // Small chunks and a small first buffer: rows move to new buffers mid-chunk.
    const small = encoded('t', columns, kinds, rows, { chunkBytes: 1000 });
    expect(small.bytes.equals(want)).toBe(true);
    expect(small.rows).toBe(rows.length);
    expect(small.chunks).toBeGreaterThan(10);
    const large = encoded('t', columns, kinds, rows);
    expect(large.bytes.equals(want)).toBe(true);
  });

  it('never writes again into a chunk it handed out', () => {
    const slab = new RowLineSlab();
    const prefix = 'INSERT INTO `t` (`a`) VALUES ';
    const first = new RowLineEncoder(prefix, ['string'], slab);
    first.encodePacket(rowPacket([b('one')]));
    const one = first.flush();
    const copy = Buffer.from(one?.bytes ?? Buffer.alloc(0));
    const second = new RowLineEncoder(prefix, ['string'], slab, 100);
    // Fills the slab's first buffer and moves on to new ones.
    for (let row = 0; row < 20000; row += 1) second.encodePacket(rowPacket([b('x'.repeat(200))]));
    second.flush();
    expect(one?.bytes.equals(copy)).toBe(true);
    expect(copy.toString()).toBe("INSERT INTO `t` (`a`) VALUES ('one');\n");
  });
});
