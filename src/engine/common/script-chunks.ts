/**
 * The byte-level scaffolding both engines' script splitters share: line-aligned chunks of a
 * script, counting lines in a chunk, and the statement put together from the pieces of it
 * that spanned chunks. What a statement's boundaries are (quotes, comments, delimiters) stays
 * in each engine's own splitter.
 */
import type { ScriptStatement } from '../engine.js';

export const NEWLINE = 0x0a;

/**
 * Line-aligned chunks of the bytes `chunks` yields: each ends with a newline (the last may
 * not), so that every look-ahead of a splitter stays inside one chunk.
 */
export async function* lineAligned(
  chunks: AsyncIterable<Buffer | Uint8Array | string>,
): AsyncIterable<Buffer> {
  let carry: Buffer | undefined;
  for await (const input of chunks) {
    let chunk =
      typeof input === 'string'
        ? Buffer.from(input)
        : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    if (carry !== undefined) {
      // The line begun in the chunk before is finished as a chunk of its own: copying only
      // it, not the whole chunk after it (100 MB of copies for 100 MB of script otherwise).
      const first = chunk.indexOf(NEWLINE);
      if (first === -1) {
        carry = Buffer.concat([carry, chunk]);
        continue;
      }
      yield Buffer.concat([carry, chunk.subarray(0, first + 1)]);
      carry = undefined;
      chunk = chunk.subarray(first + 1);
      if (chunk.length === 0) continue;
    }
    const last = chunk.lastIndexOf(NEWLINE);
    if (last === -1) {
      carry = chunk;
      continue;
    }
    if (last < chunk.length - 1) carry = chunk.subarray(last + 1);
    yield chunk.subarray(0, last + 1);
  }
  if (carry !== undefined && carry.length > 0) yield carry;
}

/** The newlines in `chunk` from `from` up to (not including) `to`. */
export function countNewlines(chunk: Buffer, from: number, to: number): number {
  // A short range is quicker to walk than to search.
  if (to - from < 64) {
    let count = 0;
    for (let at = from; at < to; at += 1) if (chunk[at] === NEWLINE) count += 1;
    return count;
  }
  let count = 0;
  for (
    let at = chunk.indexOf(NEWLINE, from);
    at !== -1 && at < to;
    at = chunk.indexOf(NEWLINE, at + 1)
  )
    count += 1;
  return count;
}

/** The statement whose bytes are `pieces`, starting at `line` and ending at byte `end`. */
export function statementOf(pieces: readonly Buffer[], line: number, end: number): ScriptStatement {
  const bytes = pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces);
  // A statement ended by a delimiter at the end of its line keeps no trailing white space.
  return { sql: bytes.toString('utf8').trimEnd(), line, end };
}

/** The statement a script ends with when no delimiter ends it; undefined when it is only white space. */
export function lastStatement(
  pieces: readonly Buffer[],
  line: number,
  end: number,
): ScriptStatement | undefined {
  const rest = statementOf(pieces, line, end);
  return rest.sql === '' ? undefined : rest;
}
