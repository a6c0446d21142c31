/**
 * Buffers for statements the reader builds as bytes (a restore's joined INSERTs), with room
 * before the statement for the header of the MySQL packet that carries it: the session then
 * sends the statement where it lies, with no copy of its megabyte (and no page faults of a
 * second fresh buffer). Only buffers made here have that room: any other bytes are copied.
 */

/** Bytes a COM_QUERY packet has before the statement: frame header 4, command 1, query attributes' counts 2. */
export const QUERY_HEADROOM = 7;

/** Memory of the buffers made by {@link statementBuffer}: nothing else is in it. */
const withHeadroom = new WeakSet<ArrayBufferLike>();

/** A buffer of `size` bytes for a statement, with {@link QUERY_HEADROOM} bytes of its own memory before it. */
export function statementBuffer(size: number): Buffer {
  const whole = Buffer.allocUnsafeSlow(QUERY_HEADROOM + size);
  withHeadroom.add(whole.buffer);
  return whole.subarray(QUERY_HEADROOM);
}

/**
 * `sql` with the `header` bytes before it, when `sql` starts a buffer of
 * {@link statementBuffer} and may be framed in place; undefined otherwise.
 */
export function framedInPlace(sql: Uint8Array, header: number): Buffer | undefined {
  if (header > QUERY_HEADROOM || sql.byteOffset !== QUERY_HEADROOM) return undefined;
  if (!withHeadroom.has(sql.buffer)) return undefined;
  return Buffer.from(sql.buffer, QUERY_HEADROOM - header, header + sql.length);
}
