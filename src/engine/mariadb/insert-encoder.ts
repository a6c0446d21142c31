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
import type { Connection as CallbackConnection } from 'mysql2';
import type { InsertChunk } from '../engine.js';
import type { LiteralKind } from './sql-literal.js';
import { streamQuery } from './stream-batches.js';

/** Statements are cut once they reach this many bytes (the server's default max_allowed_packet is 16 MiB). */
export const DEFAULT_STATEMENT_BYTES = 1024 * 1024;

/** Escape letter per byte (0 = copied as is), as mariadb-dump writes them. */
const ESCAPE = new Uint8Array(256);
ESCAPE[0] = 0x30; // \0
ESCAPE[0x0a] = 0x6e; // \n
ESCAPE[0x0d] = 0x72; // \r
ESCAPE[0x1a] = 0x5a; // \Z: Ctrl-Z ends input on Windows
ESCAPE[0x27] = 0x27; // \'
ESCAPE[0x5c] = 0x5c; // \\
/** Bytes a number's text may hold; anything else is quoted instead (defensive). */
const NUMBER_BYTE = new Uint8Array(256);
for (const char of '0123456789.-+eE') NUMBER_BYTE[char.charCodeAt(0)] = 1;
const HEX_DIGITS = Buffer.from('0123456789ABCDEF', 'latin1');
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

/** What mysql2 hands a row parser: the packet with its buffer and read position. */
interface RawPacket {
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
  private readonly statementBytes: number;
  private out: Buffer;
  private pos = 0;
  private rowsInChunk = 0;
  private inStatement = false;

  constructor(prefix: string, kinds: readonly LiteralKind[], statementBytes: number) {
    this.prefix = Buffer.from(prefix, 'utf8');
    this.kinds = kinds.map((kind) => KIND_OF[kind]);
    this.statementBytes = statementBytes;
    this.out = Buffer.allocUnsafe(statementBytes + 65536);
  }

  /** Encodes one text-protocol row packet; returns a full chunk when one is ready. */
  encodePacket(packet: RawPacket): InsertChunk | undefined {
    const src = packet.buffer;
    let offset = packet.offset;
    this.ensure(packet.end - offset + this.prefix.length + 16);
    // The output buffer and position live in locals here: property access per byte costs.
    let out = this.out;
    let pos = this.pos;
    if (this.inStatement) out[pos++] = 0x2c;
    else {
      pos += this.prefix.copy(out, pos);
      this.inStatement = true;
    }
    out[pos++] = 0x28;
    const kinds = this.kinds;
    for (let index = 0; index < kinds.length; index += 1) {
      if (index > 0) out[pos++] = 0x2c;
      const tag = src[offset++] ?? 0xfb;
      let length: number;
      if (tag < 0xfb) length = tag;
      else if (tag === 0xfb) {
        pos += out.write('NULL', pos, 'latin1');
        continue;
      } else if (tag === 0xfc) {
        length = src.readUInt16LE(offset);
        offset += 2;
      } else if (tag === 0xfd) {
        length = src.readUIntLE(offset, 3);
        offset += 3;
      } else {
        length = Number(src.readBigUInt64LE(offset));
        offset += 8;
      }
      const start = offset;
      offset += length;
      const kind = kinds[index];
      if (kind === Kind.String) pos = writeString(out, pos, src, start, offset);
      else if (kind === Kind.Number) pos = writeNumber(out, pos, src, start, offset);
      else if (kind === Kind.Hex) pos = writeHex(out, pos, src, start, offset);
      else {
        // b'...' takes eight output bytes per input byte: more room than ensure() gave.
        this.pos = pos;
        this.ensure(length * 8 + 8);
        out = this.out;
        pos = writeBits(out, pos, src, start, offset);
      }
    }
    out[pos++] = 0x29;
    this.pos = pos;
    this.rowsInChunk += 1;
    return pos >= this.statementBytes ? this.flush() : undefined;
  }

  /** The rows encoded since the last chunk, as complete statements; undefined when there are none. */
  flush(): InsertChunk | undefined {
    if (this.rowsInChunk === 0) return undefined;
    this.out[this.pos++] = 0x3b;
    this.out[this.pos++] = 0x0a;
    const chunk = { sql: this.out.subarray(0, this.pos), rows: this.rowsInChunk };
    this.out = Buffer.allocUnsafe(this.out.length);
    this.pos = 0;
    this.rowsInChunk = 0;
    this.inStatement = false;
    return chunk;
  }

  /** Room for `bytes` more bytes of input, escaped (at most twice as long, plus quotes). */
  private ensure(bytes: number): void {
    const need = this.pos + bytes * 2 + 16;
    if (need <= this.out.length) return;
    const grown = Buffer.allocUnsafe(Math.max(need, this.out.length * 2));
    this.out.copy(grown, 0, 0, this.pos);
    this.out = grown;
  }
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
function writeBits(out: Buffer, pos: number, src: Buffer, start: number, end: number): number {
  out[pos++] = 0x62;
  out[pos++] = 0x27;
  let started = false;
  for (let index = start; index < end; index += 1) {
    const byte = src[index] ?? 0;
    for (let bit = 7; bit >= 0; bit -= 1) {
      const one = (byte >> bit) & 1;
      if (one === 1) started = true;
      if (started) out[pos++] = 0x30 + one;
    }
  }
  if (!started) out[pos++] = 0x30;
  out[pos++] = 0x27;
  return pos;
}

function writeHex(out: Buffer, pos: number, src: Buffer, start: number, end: number): number {
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
function takeRowPackets(
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

/**
 * Runs `sql` (text protocol) and yields its rows as `INSERT` statements built by `encoder`,
 * in chunks of whole statements, with the bounded memory and failure handling of
 * {@link streamQuery}.
 */
export function streamInsertChunks(
  connection: CallbackConnection,
  sql: string,
  encoder: InsertEncoder,
  mapError: (error: unknown) => Error,
): AsyncIterable<InsertChunk> {
  return streamQuery<InsertChunk>(connection, {
    sql,
    mapError,
    attach: (query, sink) => {
      const encode = (packet: RawPacket): void => {
        if (!sink.wanted) return;
        try {
          const chunk = encoder.encodePacket(packet);
          if (chunk !== undefined) sink.push(chunk);
        } catch (error) {
          sink.fail(error);
        }
      };
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
