/**
 * The hot path of a dump: rows straight from the wire into multi-row `INSERT` statements.
 *
 * mysql2 turns every field of every row into a JavaScript value (or at least a Buffer object)
 * before we could write it out again; on a 2 GB dump that costs most of the time budget. Here
 * the text-protocol row packet is read in place: each length-coded field is escaped byte by
 * byte from the packet buffer into one output Buffer, with no allocation per field. Escaping
 * at the byte level is exact because the connection's character set is utf8mb4, where every
 * byte of a multi-byte character is >= 0x80 and so never one of the escaped ASCII bytes.
 */
import type { Connection as CallbackConnection, Query } from 'mysql2';
import type { InsertChunk } from '../engine.js';
import type { LiteralKind } from './sql-literal.js';
import { streamQuery } from './stream-batches.js';

/** Released output buffers kept for reuse, per encoder. */
const SPARE_BUFFERS = 4;
/** Statements are cut once they reach this many bytes (the server's default max_allowed_packet is 16 MiB). */
export const DEFAULT_STATEMENT_BYTES = 1024 * 1024;

/** Escape letter per byte (0 = copied as is), as mariadb-dump writes them. */
export const ESCAPE = new Uint8Array(256);
ESCAPE[0] = 0x30; // \0
ESCAPE[0x0a] = 0x6e; // \n
ESCAPE[0x0d] = 0x72; // \r
ESCAPE[0x1a] = 0x5a; // \Z: Ctrl-Z ends input on Windows
ESCAPE[0x27] = 0x27; // \'
ESCAPE[0x5c] = 0x5c; // \\
/** Bytes a number's text may hold; anything else is quoted instead (defensive). */
const NUMBER_BYTE = new Uint8Array(256);
for (const char of '0123456789.-+eE') NUMBER_BYTE[char.charCodeAt(0)] = 1;
export const HEX_DIGITS = Buffer.from('0123456789ABCDEF', 'latin1');
/**
 * Values at least this long are copied in runs with Buffer#copy; shorter ones byte by byte
 * (each Buffer#copy call makes a view object: below a few hundred bytes the loop is faster).
 */
const LONG_VALUE = 512;

const Kind = { Number: 0, String: 1, Hex: 2, Bit: 3 } as const;
type Kind = (typeof Kind)[keyof typeof Kind];
const KIND_OF: Readonly<Record<LiteralKind, Kind>> = {
  number: Kind.Number,
  string: Kind.String,
  hex: Kind.Hex,
  bit: Kind.Bit,
};

/**
 * How a value lies in a binary-protocol row (the result of a prepared statement), by the
 * column's wire type: fixed-size integers and floats, length-prefixed date and time structs,
 * and everything else length-coded bytes, as in the text protocol.
 */
const Wire = {
  Bytes: 0,
  Int8: 1,
  Int16: 2,
  Int32: 3,
  Int64: 4,
  Float: 5,
  Double: 6,
  Date: 7,
  DateTime: 8,
  Time: 9,
  Year: 10,
} as const;
type Wire = (typeof Wire)[keyof typeof Wire];
/** MYSQL_TYPE_* numbers of the column definitions that are not length-coded bytes. */
const WIRE_OF_TYPE: ReadonlyMap<number, Wire> = new Map<number, Wire>([
  [1, Wire.Int8], // TINY
  [2, Wire.Int16], // SHORT
  [3, Wire.Int32], // LONG
  [4, Wire.Float],
  [5, Wire.Double],
  [7, Wire.DateTime], // TIMESTAMP
  [8, Wire.Int64], // LONGLONG
  [9, Wire.Int32], // INT24 travels in four bytes
  [10, Wire.Date],
  [11, Wire.Time],
  [12, Wire.DateTime],
  [13, Wire.Year],
  [14, Wire.Date], // NEWDATE
  [17, Wire.DateTime], // TIMESTAMP2
  [18, Wire.DateTime], // DATETIME2
  [19, Wire.Time], // TIME2
]);
const UNSIGNED_FLAG = 32;
/** Fractional digits of a temporal column (`decimals`) above this are "not fixed": none are printed. */
const MAX_FRACTION_DIGITS = 6;
const TWO_POW_32 = 4294967296;
/** 2^53 / 2^32: a 64-bit integer whose high word is below this is exact as a JavaScript number. */
const EXACT_HIGH_WORD = 2097152;

/** What the binary decoding needs of a column definition (mysql2's ColumnDefinition has these). */
export interface WireField {
  readonly columnType: number;
  readonly flags: number;
  readonly decimals: number;
}

/** What mysql2 hands a row parser: the packet with its buffer and read position. */
export interface RawPacket {
  buffer: Buffer;
  offset: number;
  end: number;
}

/**
 * Accumulates rows into `INSERT` statements of about `statementBytes` each, and hands out
 * complete statements as chunks.
 */
export class InsertEncoder {
  private readonly prefix: Buffer;
  private readonly kinds: readonly Kind[];
  /** Per column, for binary rows: its wire layout, signedness and fractional digits. */
  private wires: Wire[] = [];
  private unsigned: boolean[] = [];
  private fractions: number[] = [];
  private readonly statementBytes: number;
  /** Size of an output buffer: a statement and the row that takes it past `statementBytes`. */
  private readonly bufferBytes: number;
  /** Released output buffers, reused before new ones are allocated (fewer garbage collections). */
  private readonly spare: Buffer[] = [];
  /**
   * Output bytes a row may take beyond twice its input: per column a comma and quotes, or
   * NULL for a 1-byte (text) or absent (binary) value, or the text of a fixed-size binary
   * value (a 4-byte FLOAT takes up to 23); per BIT column b'' and 64 digits; the prefix.
   */
  private readonly rowSlack: number;
  private out: Buffer;
  private pos = 0;
  private rowsInChunk = 0;
  private inStatement = false;

  constructor(prefix: string, kinds: readonly LiteralKind[], statementBytes: number) {
    this.prefix = Buffer.from(prefix, 'utf8');
    this.kinds = kinds.map((kind) => KIND_OF[kind]);
    const bitColumns = this.kinds.filter((kind) => kind === Kind.Bit).length;
    this.rowSlack =
      24 * kinds.length + (MAX_BIT_BYTES * 8 + 8) * bitColumns + this.prefix.length + 16;
    this.statementBytes = statementBytes;
    this.bufferBytes = statementBytes + 65536;
    this.out = Buffer.allocUnsafe(this.bufferBytes);
  }

  /** Encodes one text-protocol row packet; returns a full chunk when one is ready. */
  encodePacket(packet: RawPacket): InsertChunk | undefined {
    const src = packet.buffer;
    let offset = packet.offset;
    let pos = this.openRow(packet.end - offset);
    // The output buffer and position live in locals here: property access per byte costs.
    const out = this.out;
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
      pos = writeValue(out, pos, src, start, offset, kinds[index]);
    }
    return this.closeRow(pos);
  }

  /**
   * Prepares for binary rows with these column definitions (one per column, in order).
   * Throws when they do not match the columns the encoder was made for.
   */
  useBinaryFields(fields: readonly WireField[]): void {
    if (fields.length !== this.kinds.length)
      throw new Error(
        `the server sent ${String(fields.length)} columns where ${String(this.kinds.length)} were selected`,
      );
    this.wires = fields.map((field) => WIRE_OF_TYPE.get(field.columnType) ?? Wire.Bytes);
    this.unsigned = fields.map((field) => (field.flags & UNSIGNED_FLAG) !== 0);
    this.fractions = fields.map((field) =>
      field.decimals <= MAX_FRACTION_DIGITS ? field.decimals : 0,
    );
  }

  /**
   * Encodes one binary-protocol row packet (after {@link useBinaryFields}); returns a full
   * chunk when one is ready. The server sends numbers, dates and times as binary values here,
   * and skips turning them into text: a third of its CPU on a table of doubles and dates.
   */
  encodeBinaryPacket(packet: RawPacket): InsertChunk | undefined {
    const src = packet.buffer;
    const kinds = this.kinds;
    const wires = this.wires;
    const columns = kinds.length;
    // Header byte 0x00, then the NULL bitmap, whose first two bits are reserved.
    const nulls = packet.offset + 1;
    let offset = nulls + ((columns + 9) >> 3);
    let pos = this.openRow(packet.end - offset);
    const out = this.out;
    for (let index = 0; index < columns; index += 1) {
      if (index > 0) out[pos++] = 0x2c;
      const bit = index + 2;
      if (((src[nulls + (bit >> 3)] ?? 0) & (1 << (bit & 7))) !== 0) {
        pos = writeNull(out, pos);
        continue;
      }
      const wire = wires[index];
      if (wire === Wire.Bytes) {
        const tag = src[offset] ?? 0;
        const start = offset + codedPrefixBytes(tag);
        offset = start + codedLength(src, offset, tag);
        pos = writeValue(out, pos, src, start, offset, kinds[index]);
        continue;
      }
      const unsigned = this.unsigned[index] === true;
      switch (wire) {
        case Wire.Int8:
          pos = writeInteger(out, pos, unsigned ? src.readUInt8(offset) : src.readInt8(offset));
          offset += 1;
          break;
        case Wire.Int16:
          pos = writeInteger(
            out,
            pos,
            unsigned ? src.readUInt16LE(offset) : src.readInt16LE(offset),
          );
          offset += 2;
          break;
        case Wire.Year:
          pos = writeDigits(out, pos, src.readUInt16LE(offset), 4);
          offset += 2;
          break;
        case Wire.Int32:
          pos = writeInteger(
            out,
            pos,
            unsigned ? src.readUInt32LE(offset) : src.readInt32LE(offset),
          );
          offset += 4;
          break;
        case Wire.Int64:
          pos = writeInt64(out, pos, src, offset, unsigned);
          offset += 8;
          break;
        case Wire.Float:
          pos = writeDouble(out, pos, src.readFloatLE(offset));
          offset += 4;
          break;
        case Wire.Double:
          pos = writeDouble(out, pos, src.readDoubleLE(offset));
          offset += 8;
          break;
        case Wire.Date:
          pos = writeDateTime(out, pos, src, offset, false, 0);
          offset += 1 + (src[offset] ?? 0);
          break;
        case Wire.DateTime:
          pos = writeDateTime(out, pos, src, offset, true, this.fractions[index] ?? 0);
          offset += 1 + (src[offset] ?? 0);
          break;
        default:
          pos = writeTime(out, pos, src, offset, this.fractions[index] ?? 0);
          offset += 1 + (src[offset] ?? 0);
      }
    }
    return this.closeRow(pos);
  }

  /** The rows encoded since the last chunk, as complete statements; undefined when there are none. */
  flush(): InsertChunk | undefined {
    if (this.rowsInChunk === 0) return undefined;
    this.out[this.pos++] = 0x3b;
    this.out[this.pos++] = 0x0a;
    const buffer = this.out;
    let released = false;
    const chunk: InsertChunk = {
      sql: buffer.subarray(0, this.pos),
      rows: this.rowsInChunk,
      release: () => {
        // Only buffers of the usual size are kept, and a few: a grown one (a huge row) is not.
        if (released || buffer.length !== this.bufferBytes) return;
        released = true;
        if (this.spare.length < SPARE_BUFFERS) this.spare.push(buffer);
      },
    };
    this.out = this.spare.pop() ?? Buffer.allocUnsafe(this.bufferBytes);
    this.pos = 0;
    this.rowsInChunk = 0;
    this.inStatement = false;
    return chunk;
  }

  /**
   * Makes room for a row of `inputBytes` (the packet's values), writes what comes before
   * its values (the INSERT prefix, or the comma after the previous row, and `(`), and
   * returns the output position.
   */
  private openRow(inputBytes: number): number {
    this.ensure(2 * inputBytes + this.rowSlack);
    const out = this.out;
    let pos = this.pos;
    if (this.inStatement) out[pos++] = 0x2c;
    else {
      pos += this.prefix.copy(out, pos);
      this.inStatement = true;
    }
    out[pos++] = 0x28;
    return pos;
  }

  /** Ends the row at `pos`; returns a full chunk when the statement is long enough. */
  private closeRow(pos: number): InsertChunk | undefined {
    this.out[pos++] = 0x29;
    this.pos = pos;
    this.rowsInChunk += 1;
    return pos >= this.statementBytes ? this.flush() : undefined;
  }

  /** Room for `bytes` more output bytes. */
  private ensure(bytes: number): void {
    const need = this.pos + bytes;
    if (need <= this.out.length) return;
    const grown = Buffer.allocUnsafe(Math.max(need, this.out.length * 2));
    this.out.copy(grown, 0, 0, this.pos);
    this.out = grown;
  }
}

/** The first byte of a length-coded value that is NULL (text protocol). */
export const NULL_TAG = 0xfb;
/** BIT(64) is the widest: eight bytes. */
const MAX_BIT_BYTES = 8;

/** Bytes of the length prefix that starts with `tag`. */
export function codedPrefixBytes(tag: number): number {
  return tag < 0xfb ? 1 : tag === 0xfc ? 3 : tag === 0xfd ? 4 : 9;
}

/** The length of the length-coded value at `offset`, whose first byte is `tag`. */
export function codedLength(src: Buffer, offset: number, tag: number): number {
  if (tag < 0xfb) return tag;
  if (tag === 0xfc) return src.readUInt16LE(offset + 1);
  if (tag === 0xfd) return src.readUIntLE(offset + 1, 3);
  return Number(src.readBigUInt64LE(offset + 1));
}

/** The literal of the bytes `src[start, end)` of a column of `kind`. */
function writeValue(
  out: Buffer,
  pos: number,
  src: Buffer,
  start: number,
  end: number,
  kind: Kind | undefined,
): number {
  if (kind === Kind.String) return writeString(out, pos, src, start, end);
  if (kind === Kind.Number) return writeNumber(out, pos, src, start, end);
  if (kind === Kind.Hex) return writeHex(out, pos, src, start, end);
  // The row's room counted 8 bytes of BIT at most: more would write past it.
  if (end - start > MAX_BIT_BYTES)
    throw new Error(
      `a BIT value of ${String(end - start)} bytes (at most ${String(MAX_BIT_BYTES)})`,
    );
  return writeBits(out, pos, src, start, end);
}

export function writeNull(out: Buffer, pos: number): number {
  out[pos++] = 0x4e;
  out[pos++] = 0x55;
  out[pos++] = 0x4c;
  out[pos++] = 0x4c;
  return pos;
}

/** Powers of ten up to 10^15, for counting digits. */
const POWERS_OF_TEN = Array.from({ length: 16 }, (_, power) => 10 ** power);
/** Divisor that keeps `fraction` digits of microseconds, by `fraction` (0-6). */
const MICROSECOND_DIVISORS = [1e6, 1e5, 1e4, 1e3, 100, 10, 1];
const INT32_LIMIT = 2147483648;

/** `value` (an integer of at most 53 bits) in decimal. */
function writeInteger(out: Buffer, pos: number, value: number): number {
  let rest = value;
  if (rest < 0) {
    out[pos++] = 0x2d;
    rest = -rest;
  }
  let digits = 1;
  while (digits < 16 && rest >= (POWERS_OF_TEN[digits] ?? Infinity)) digits += 1;
  return writeDigits(out, pos, rest, digits);
}

/** "00" to "99", two bytes each: integers are written two digits at a time. */
const DIGIT_PAIRS = Buffer.from(
  Array.from({ length: 100 }, (_, value) => String(value).padStart(2, '0')).join(''),
  'latin1',
);

/** `value` (>= 0) as exactly `digits` decimal digits, zero-padded on the left. */
function writeDigits(out: Buffer, pos: number, value: number, digits: number): number {
  let rest = value;
  let index = pos + digits;
  // Float division while the value is too large for 32-bit integer arithmetic.
  for (; rest >= INT32_LIMIT; index -= 1) {
    const next = Math.floor(rest / 10);
    out[index - 1] = 0x30 + rest - next * 10;
    rest = next;
  }
  for (; index - pos >= 2; index -= 2) {
    const next = (rest / 100) | 0;
    const pair = (rest - next * 100) * 2;
    out[index - 2] = DIGIT_PAIRS[pair] ?? 0x30;
    out[index - 1] = DIGIT_PAIRS[pair + 1] ?? 0x30;
    rest = next;
  }
  if (index > pos) out[pos] = 0x30 + rest;
  return pos + digits;
}

/** `value` (0-99) as two digits. */
function writeTwoDigits(out: Buffer, pos: number, value: number): number {
  const tens = (value / 10) | 0;
  out[pos] = 0x30 + tens;
  out[pos + 1] = 0x30 + value - tens * 10;
  return pos + 2;
}

/** A BIGINT: through a JavaScript number when that is exact, through BigInt otherwise (rare). */
function writeInt64(
  out: Buffer,
  pos: number,
  src: Buffer,
  offset: number,
  unsigned: boolean,
): number {
  const low = src.readUInt32LE(offset);
  const high = unsigned ? src.readUInt32LE(offset + 4) : src.readInt32LE(offset + 4);
  if (high < EXACT_HIGH_WORD && high >= -EXACT_HIGH_WORD)
    return writeInteger(out, pos, high * TWO_POW_32 + low);
  const text = (unsigned ? src.readBigUInt64LE(offset) : src.readBigInt64LE(offset)).toString();
  return writeAscii(out, pos, text);
}

/**
 * A FLOAT or DOUBLE as the shortest decimal that reads back as the same double (for a
 * FLOAT, as the same float: its value is a double exactly), as the text protocol gives a
 * FLOAT read as DOUBLE. `-0` needs an exponent, or the server reads an integer zero.
 */
function writeDouble(out: Buffer, pos: number, value: number): number {
  if (value === 0 && 1 / value < 0) return writeAscii(out, pos, '-0e0');
  if ((value | 0) === value) return writeInteger(out, pos, value);
  // JavaScript's spelling, without the `+` of a positive exponent (1e21, as the server writes it).
  const text = String(value);
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code !== 0x2b) out[pos++] = code;
  }
  return pos;
}

/** An ASCII string, byte by byte: for the few characters of a number, cheaper than Buffer#write. */
function writeAscii(out: Buffer, pos: number, text: string): number {
  for (let index = 0; index < text.length; index += 1) out[pos++] = text.charCodeAt(index);
  return pos;
}

/**
 * A binary DATE, DATETIME or TIMESTAMP as the text protocol writes it, quoted:
 * 'YYYY-MM-DD' or 'YYYY-MM-DD hh:mm:ss' with `fraction` digits of the microseconds. The
 * struct is a length byte (0: the zero date, 4: date only, 7: with time, 11: with
 * microseconds), then the year (2 bytes), month, day, hour, minute, second, microsecond (4).
 */
function writeDateTime(
  out: Buffer,
  pos: number,
  src: Buffer,
  offset: number,
  withTime: boolean,
  fraction: number,
): number {
  const length = src[offset] ?? 0;
  out[pos++] = 0x27;
  pos = writeDigits(out, pos, length >= 4 ? src.readUInt16LE(offset + 1) : 0, 4);
  out[pos++] = 0x2d;
  pos = writeTwoDigits(out, pos, length >= 4 ? (src[offset + 3] ?? 0) : 0);
  out[pos++] = 0x2d;
  pos = writeTwoDigits(out, pos, length >= 4 ? (src[offset + 4] ?? 0) : 0);
  if (withTime) {
    out[pos++] = 0x20;
    pos = writeClock(out, pos, src, offset + 5, length >= 7, length >= 11, fraction);
  }
  out[pos++] = 0x27;
  return pos;
}

/**
 * A binary TIME, quoted: [-]hh:mm:ss with `fraction` digits. The struct is a length byte
 * (0: zero, 8: without, 12: with microseconds), the sign (1 = negative), days (4 bytes),
 * hour, minute, second, microsecond (4); the hours printed are days * 24 + hour.
 */
function writeTime(
  out: Buffer,
  pos: number,
  src: Buffer,
  offset: number,
  fraction: number,
): number {
  const length = src[offset] ?? 0;
  out[pos++] = 0x27;
  if (length >= 8 && src[offset + 1] === 1) out[pos++] = 0x2d;
  const hours = length >= 8 ? src.readUInt32LE(offset + 2) * 24 + (src[offset + 6] ?? 0) : 0;
  pos = hours < 100 ? writeTwoDigits(out, pos, hours) : writeInteger(out, pos, hours);
  out[pos++] = 0x3a;
  pos = writeClock(out, pos, src, offset + 6, length >= 8, length >= 12, fraction, true);
  out[pos++] = 0x27;
  return pos;
}

/**
 * `hh:mm:ss[.ffffff]` from the bytes at `at` (hour, minute, second, then a 4-byte
 * microsecond), zeros for the parts the struct left out; `minutesFirst` starts at the
 * minute (TIME writes its own hours).
 */
function writeClock(
  out: Buffer,
  pos: number,
  src: Buffer,
  at: number,
  present: boolean,
  withMicros: boolean,
  fraction: number,
  minutesFirst = false,
): number {
  if (!minutesFirst) {
    pos = writeTwoDigits(out, pos, present ? (src[at] ?? 0) : 0);
    out[pos++] = 0x3a;
  }
  pos = writeTwoDigits(out, pos, present ? (src[at + 1] ?? 0) : 0);
  out[pos++] = 0x3a;
  pos = writeTwoDigits(out, pos, present ? (src[at + 2] ?? 0) : 0);
  if (fraction > 0) {
    out[pos++] = 0x2e;
    const micros = withMicros ? src.readUInt32LE(at + 3) : 0;
    pos = writeDigits(
      out,
      pos,
      Math.floor(micros / (MICROSECOND_DIVISORS[fraction] ?? 1)),
      fraction,
    );
  }
  return pos;
}

/** A number's text as it is; anything else (never seen from the server) quoted as a string. */
function writeNumber(out: Buffer, pos: number, src: Buffer, start: number, end: number): number {
  const begin = pos;
  for (let index = start; index < end; index += 1) {
    const byte = src[index] ?? 0;
    if (NUMBER_BYTE[byte] === 0) return writeString(out, begin, src, start, end);
    out[pos++] = byte;
  }
  return pos;
}

/** `b'101'`: the bits without leading zeros (at least one digit), as {@link bitLiteral}. */
export function writeBits(
  out: Buffer,
  pos: number,
  src: Buffer,
  start: number,
  end: number,
): number {
  out[pos++] = 0x62;
  out[pos++] = 0x27;
  let index = start;
  while (index < end && src[index] === 0) index += 1;
  if (index === end) out[pos++] = 0x30;
  else {
    // The first byte from its highest one bit, every later byte in full.
    const first = src[index] ?? 0;
    for (let bit = 31 - Math.clz32(first); bit >= 0; bit -= 1)
      out[pos++] = 0x30 + ((first >> bit) & 1);
    for (index += 1; index < end; index += 1) {
      const byte = src[index] ?? 0;
      for (let bit = 7; bit >= 0; bit -= 1) out[pos++] = 0x30 + ((byte >> bit) & 1);
    }
  }
  out[pos++] = 0x27;
  return pos;
}

export function writeHex(
  out: Buffer,
  pos: number,
  src: Buffer,
  start: number,
  end: number,
): number {
  if (start === end) {
    out[pos++] = 0x27;
    out[pos++] = 0x27;
    return pos;
  }
  out[pos++] = 0x30;
  out[pos++] = 0x78;
  if (end - start > 64) return pos + out.write(src.toString('hex', start, end), pos, 'latin1');
  for (let index = start; index < end; index += 1) {
    const byte = src[index] ?? 0;
    out[pos++] = HEX_DIGITS[byte >> 4] ?? 0;
    out[pos++] = HEX_DIGITS[byte & 15] ?? 0;
  }
  return pos;
}

function writeString(out: Buffer, pos: number, src: Buffer, start: number, end: number): number {
  out[pos++] = 0x27;
  if (end - start < LONG_VALUE) {
    // Short values: a plain loop beats Buffer#copy, whose call costs more than the bytes.
    for (let index = start; index < end; index += 1) {
      const byte = src[index] ?? 0;
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
      const escape = ESCAPE[src[index] ?? 0] ?? 0;
      if (escape === 0) continue;
      if (index > run) pos += src.copy(out, pos, run, index);
      out[pos++] = 0x5c;
      out[pos++] = escape;
      run = index + 1;
    }
    if (end > run) pos += src.copy(out, pos, run, end);
  }
  out[pos++] = 0x27;
  return pos;
}

/**
 * The parts of a mysql2 connection that {@link takeRowPackets} uses. They are not mysql2's
 * public API (3.x): each is checked before use, and without them rows take the public path.
 */
interface ConnectionInternals {
  packetParser?: { onPacket?: (packet: RawPacket & { numPackets: number }) => void };
  _bumpSequenceId?: (packets: number) => void;
  /** A queue (mysql2's own, not an Array) of the packets that arrived while paused. */
  _paused_packets?: { readonly length: number };
  _fatalError?: unknown;
  config?: { compress?: boolean };
}

/**
 * Hands the rest of the current result's row packets straight from mysql2's packet parser to
 * `onRow`, past its per-packet dispatch (sequence check, command state machine, the query's
 * row handler, an event per row): about 1 s of CPU on an 8 M-row dump, on a machine where the
 * server needs the other core. Only row packets take the short cut; the packet that ends the
 * result (EOF/OK, or an error) puts mysql2's own handler back and goes to it. Returns false,
 * changing nothing, where that cannot be done safely: packets queued by a pause (they must be
 * handled first, in order), the compressed protocol, or a mysql2 without these internals.
 */
export function takeRowPackets(
  connection: CallbackConnection,
  onRow: (packet: RawPacket) => void,
): boolean {
  const internals = connection as unknown as ConnectionInternals;
  const parser = internals.packetParser;
  const original = parser?.onPacket;
  const bump = internals._bumpSequenceId;
  if (
    parser === undefined ||
    original === undefined ||
    typeof bump !== 'function' ||
    typeof internals._paused_packets?.length !== 'number' ||
    internals._paused_packets.length > 0 ||
    internals.config?.compress === true
  )
    return false;
  parser.onPacket = (packet) => {
    const first = packet.buffer[packet.offset];
    // What mysql2 takes for the end of a result (Packet#isEOF), and an error packet.
    const ends = first === 0xff || (first === 0xfe && packet.end - packet.offset < 13);
    if (ends || internals._fatalError) {
      parser.onPacket = original;
      original(packet);
      return;
    }
    bump.call(connection, packet.numPackets);
    onRow(packet);
  };
  return true;
}

/** A statement prepared on the connection (mysql2's PreparedStatementInfo): its rows come binary. */
export interface PreparedRows {
  execute(values: unknown[]): Query;
}

/**
 * Runs `sql` and yields its rows as `INSERT` statements built by `encoder`, in chunks of whole
 * statements, with the bounded memory and failure handling of {@link streamQuery}. With
 * `prepared` (the same `sql`, prepared on `connection`), the rows come in the binary
 * protocol; otherwise as text.
 */
export function streamInsertChunks(
  connection: CallbackConnection,
  sql: string,
  encoder: InsertEncoder,
  mapError: (error: unknown) => Error,
  prepared?: PreparedRows,
): AsyncIterable<InsertChunk> {
  return streamQuery<InsertChunk>(connection, {
    sql,
    mapError,
    start: prepared === undefined ? undefined : () => prepared.execute([]),
    attach: (query, sink) => {
      const encode = (packet: RawPacket): void => {
        if (!sink.wanted) return;
        try {
          const chunk =
            prepared === undefined
              ? encoder.encodePacket(packet)
              : encoder.encodeBinaryPacket(packet);
          if (chunk !== undefined) sink.push(chunk);
        } catch (error) {
          sink.fail(error);
        }
      };
      if (prepared !== undefined)
        query.once('fields', (fields: WireField[]) => {
          try {
            encoder.useBinaryFields(fields);
          } catch (error) {
            sink.fail(error);
          }
        });
      let direct = false;
      // mysql2 assigns its generated row parser once the column definitions are in; this
      // property makes it use ours instead, which encodes the packet where it lies. From
      // the first row on, the rest of the rows skip mysql2's dispatch (when they can).
      const parser = {
        next: (packet: RawPacket): null => {
          encode(packet);
          if (!direct) direct = takeRowPackets(connection, encode);
          return null;
        },
      };
      Object.defineProperty(query, '_rowParser', {
        get: () => parser,
        set: () => undefined,
        configurable: true,
      });
    },
    flush: (sink) => {
      const last = encoder.flush();
      if (last !== undefined) sink.push(last);
    },
  });
}
