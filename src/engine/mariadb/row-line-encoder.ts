/**
 * The hot path of a snapshot: rows straight from the wire into the row lines of a table file
 * (`INSERT INTO `t` (`a`,`b`) VALUES (…);`, one row a line), as UTF-8 bytes.
 *
 * The lines are byte for byte those that {@link sqlLiteral} and the dialect's
 * `rowLineWriter` give (existing snapshots stay "unchanged"): the text-protocol row packet is
 * read in place, each length-coded value is written into one output buffer, and no string or
 * Buffer is made per value. Where a value is not what the fast path knows how to copy
 * exactly (a number that is not a plain number's text, text that is not valid UTF-8), that
 * value takes the string path of {@link sqlLiteral} instead, so the bytes never differ.
 */
import { isUtf8 } from 'node:buffer';
import type { RowLineChunk } from '../engine.js';
import {
  ESCAPE,
  HEX_DIGITS,
  NULL_TAG,
  codedLength,
  codedPrefixBytes,
  writeBits,
  writeNull,
  type RawPacket,
} from './insert-encoder.js';
import { bitLiteral, quoteString, type LiteralKind } from './sql-literal.js';

/** A chunk is handed out once it holds this many bytes (and at the end of the rows). */
export const ROW_LINE_CHUNK_BYTES = 64 * 1024;
/** Values at least this long are copied in runs with Buffer#copy, shorter ones byte by byte. */
const LONG_VALUE = 512;
/** BIT(64) is the widest: eight bytes; a longer value takes the string path. */
const MAX_BIT_BYTES = 8;

const Kind = { Number: 0, String: 1, Hex: 2, Bit: 3 } as const;
type Kind = (typeof Kind)[keyof typeof Kind];
const KIND_OF: Readonly<Record<LiteralKind, Kind>> = {
  number: Kind.Number,
  string: Kind.String,
  hex: Kind.Hex,
  bit: Kind.Bit,
};

/** Row lines are written into buffers of this size (a larger one for a larger chunk). */
const SLAB_BYTES = 1024 * 1024;

/**
 * Where {@link RowLineEncoder}s that run one after the other (the result sets of one query)
 * write: one buffer, cut into the chunks handed out, until it is full; then a new one. A
 * chunk is a view of it, never written again: no allocation and no copy per chunk (1,000
 * tables of 25 KB made as many allocations). A buffer stays in memory while a chunk of it
 * does, as the chunk would.
 */
export class RowLineSlab {
  buffer: Buffer = Buffer.allocUnsafe(SLAB_BYTES);
  /** Bytes handed out (or being written by an encoder): the next chunk starts here. */
  used = 0;
}

/**
 * Accumulates row lines and hands them out in chunks of whole lines. Encoders that share a
 * slab must not be used at the same time: each is flushed before the next one encodes.
 */
export class RowLineEncoder {
  private readonly prefix: Buffer;
  private readonly kinds: readonly Kind[];
  /** Output bytes per input byte at most: 3 (a value that is not valid UTF-8), 9 with BIT columns. */
  private readonly perByte: number;
  /** Output bytes a row may take beyond `perByte` times its input. */
  private readonly rowSlack: number;
  private readonly chunkBytes: number;
  private readonly slab: RowLineSlab;
  /** The chunk being written: `slab.buffer[start, pos)`, `rows` rows. */
  private start = 0;
  private pos = 0;
  private rows = 0;

  /** `prefix`: what starts every line, up to and without the `(` of the values. */
  constructor(
    prefix: string,
    kinds: readonly LiteralKind[],
    slab: RowLineSlab = new RowLineSlab(),
    chunkBytes: number = ROW_LINE_CHUNK_BYTES,
  ) {
    this.prefix = Buffer.from(prefix, 'utf8');
    this.kinds = kinds.map((kind) => KIND_OF[kind]);
    this.perByte = this.kinds.includes(Kind.Bit) ? 9 : 3;
    // Per column a comma, quotes and NULL; the prefix, `(` and `);\n`.
    this.rowSlack = 8 * kinds.length + this.prefix.length + 16;
    this.chunkBytes = chunkBytes;
    this.slab = slab;
  }

  /** Encodes one text-protocol row packet; returns a chunk when one is full. */
  encodePacket(packet: RawPacket): RowLineChunk | undefined {
    const src = packet.buffer;
    let offset = packet.offset;
    if (this.rows === 0) {
      this.start = this.slab.used;
      this.pos = this.start;
    }
    this.ensure(this.perByte * (packet.end - offset) + this.rowSlack);
    const out = this.slab.buffer;
    let pos = this.pos;
    // Byte by byte: a Buffer#copy call per row costs more than its few dozen bytes.
    const prefix = this.prefix;
    for (let index = 0; index < prefix.length; index += 1) out[pos++] = prefix[index] ?? 0;
    out[pos++] = 0x28;
    const kinds = this.kinds;
    for (let index = 0; index < kinds.length; index += 1) {
      if (index > 0) out[pos++] = 0x2c;
      const tag = src[offset] ?? NULL_TAG;
      if (tag === NULL_TAG) {
        pos = writeNull(out, pos);
        offset += 1;
        continue;
      }
      const start = offset + codedPrefixBytes(tag);
      offset = start + codedLength(src, offset, tag);
      const kind = kinds[index];
      if (kind === Kind.String) pos = writeText(out, pos, src, start, offset);
      else if (kind === Kind.Number) pos = writeNumber(out, pos, src, start, offset);
      else if (kind === Kind.Hex) pos = writeUpperHex(out, pos, src, start, offset);
      else if (offset - start <= MAX_BIT_BYTES) pos = writeBits(out, pos, src, start, offset);
      else pos = writeUtf8(out, pos, bitLiteral(src.subarray(start, offset)));
    }
    out[pos++] = 0x29;
    out[pos++] = 0x3b;
    out[pos++] = 0x0a;
    this.pos = pos;
    this.slab.used = pos;
    this.rows += 1;
    return pos - this.start >= this.chunkBytes ? this.flush() : undefined;
  }

  /** The lines encoded since the last chunk; undefined when there are none. */
  flush(): RowLineChunk | undefined {
    if (this.rows === 0) return undefined;
    const chunk: RowLineChunk = {
      bytes: this.slab.buffer.subarray(this.start, this.pos),
      rows: this.rows,
    };
    this.slab.used = this.pos;
    this.rows = 0;
    return chunk;
  }

  /** Room for `bytes` more output bytes: else the chunk so far moves to a new buffer. */
  private ensure(bytes: number): void {
    const slab = this.slab;
    if (this.pos + bytes <= slab.buffer.length) return;
    const held = this.pos - this.start;
    const fresh = Buffer.allocUnsafe(Math.max(SLAB_BYTES, 2 * (held + bytes)));
    slab.buffer.copy(fresh, 0, this.start, this.pos);
    slab.buffer = fresh;
    this.start = 0;
    this.pos = held;
    slab.used = held;
  }
}

/** `text` as UTF-8 bytes (the room was made by the caller). */
function writeUtf8(out: Buffer, pos: number, text: string): number {
  return pos + out.write(text, pos, 'utf8');
}

/**
 * A quoted string with backslash escapes, as {@link quoteString} writes it. Escaping byte by
 * byte is exact for valid UTF-8, where every byte of a multi-byte character is >= 0x80; a
 * value that is not valid UTF-8 is decoded as {@link sqlLiteral} decodes it (with U+FFFD for
 * what is not UTF-8), so that its bytes are the same.
 */
function writeText(out: Buffer, pos: number, src: Buffer, start: number, end: number): number {
  const begin = pos;
  out[pos++] = 0x27;
  let high = 0;
  if (end - start < LONG_VALUE) {
    for (let index = start; index < end; index += 1) {
      const byte = src[index] ?? 0;
      high |= byte;
      const escape = ESCAPE[byte] ?? 0;
      if (escape === 0) out[pos++] = byte;
      else {
        out[pos++] = 0x5c;
        out[pos++] = escape;
      }
    }
  } else {
    let run = start;
    for (let index = start; index < end; index += 1) {
      const byte = src[index] ?? 0;
      high |= byte;
      const escape = ESCAPE[byte] ?? 0;
      if (escape === 0) continue;
      if (index > run) pos += src.copy(out, pos, run, index);
      out[pos++] = 0x5c;
      out[pos++] = escape;
      run = index + 1;
    }
    if (end > run) pos += src.copy(out, pos, run, end);
  }
  if (high >= 0x80 && !isUtf8(src.subarray(start, end)))
    return writeUtf8(out, begin, quoteString(src.toString('utf8', start, end)));
  out[pos++] = 0x27;
  return pos;
}

const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * A number's text as it is when it matches what {@link sqlLiteral} takes for a number
 * (`-?(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?`); anything else (never seen from the server) quoted
 * as that function quotes it.
 */
function writeNumber(out: Buffer, pos: number, src: Buffer, start: number, end: number): number {
  if (!isNumberText(src, start, end))
    return writeUtf8(out, pos, quoteString(src.toString('latin1', start, end)));
  for (let index = start; index < end; index += 1) out[pos++] = src[index] ?? 0;
  return pos;
}

function isNumberText(src: Buffer, start: number, end: number): boolean {
  let index = start;
  if (src[index] === MINUS) index += 1;
  let from = index;
  while (index < end && isDigit(src[index])) index += 1;
  if (index > from) {
    if (index < end && src[index] === DOT) {
      index += 1;
      while (index < end && isDigit(src[index])) index += 1;
    }
  } else {
    if (index >= end || src[index] !== DOT) return false;
    index += 1;
    from = index;
    while (index < end && isDigit(src[index])) index += 1;
    if (index === from) return false;
  }
  if (index < end && ((src[index] ?? 0) | 0x20) === 0x65) {
    index += 1;
    if (index < end && (src[index] === MINUS || src[index] === PLUS)) index += 1;
    from = index;
    while (index < end && isDigit(src[index])) index += 1;
    if (index === from) return false;
  }
  return index === end;
}

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= ZERO && byte <= NINE;
}

/** `0x` and upper-case hex digits; `''` for no bytes, as {@link sqlLiteral} writes them. */
function writeUpperHex(out: Buffer, pos: number, src: Buffer, start: number, end: number): number {
  if (start === end) {
    out[pos++] = 0x27;
    out[pos++] = 0x27;
    return pos;
  }
  out[pos++] = 0x30;
  out[pos++] = 0x78;
  for (let index = start; index < end; index += 1) {
    const byte = src[index] ?? 0;
    out[pos++] = HEX_DIGITS[byte >> 4] ?? 0;
    out[pos++] = HEX_DIGITS[byte & 15] ?? 0;
  }
  return pos;
}
