/**
 * The one count of row changes between two versions of a table file, shared by the commit
 * message, `log` and `diff`, so that the three always agree. Rows (the lines that start with
 * `INSERT INTO `) are matched by their row key (the primary key, else the first unique key):
 * a row whose key stays and whose values change counts once, as changed. Values are compared
 * by column name, so rows whose columns were only reordered are unchanged (the reorder is a
 * structure change). Rows of a table without a key, or whose key changed, and rows whose
 * key holds a NULL, are matched whole: a changed row is then one removed and one added.
 *
 * Memory is bounded whatever the rows hold: 16 bytes a row a side (a 53-bit hash of each
 * row's key and one of the whole row, sorted), up to {@link MAX_ROWS_COMPARED} rows. Sorting
 * hashes rather than walking two files in key order keeps the count right when the server's
 * collation orders keys in a way JavaScript cannot reproduce. Pure: knows nothing of git,
 * files or the server.
 */

import type { ScriptFormat } from '../engine/engine.js';

/**
 * Rows are compared up to this many a side (16 bytes a row: 128 MB a side at most); beyond,
 * only their number is compared, and the count says it was not counted.
 */
export const MAX_ROWS_COMPARED = 8_000_000;

export interface RowChangeCount {
  /** Rows whose key is new (or, matched whole, rows only in the newer version). */
  readonly added: number;
  readonly removed: number;
  /** Rows whose key stayed and whose values changed; 0 when rows were matched whole. */
  readonly changed: number;
  /**
   * Present, and false, when a side had more than {@link MAX_ROWS_COMPARED} rows: added and
   * removed are then only the difference in the number of rows.
   */
  readonly counted?: false | undefined;
}

/** A version's rows reduced for {@link countRowChanges}. */
export interface RowDigest {
  readonly rowCount: number;
  /** The key's columns, joined with NUL; '' when rows are matched whole. */
  readonly keyName: string;
  /**
   * Sorted hashes of each row's key (of the whole row for a row without one); undefined past
   * the limit.
   */
  readonly keys: Float64Array | undefined;
  /** Sorted hashes of each whole row, values by column name; undefined past the limit. */
  readonly rows: Float64Array | undefined;
}

/** The row changes from `before` (undefined: the table is new) to `after`. */
export function countRowChanges(before: RowDigest | undefined, after: RowDigest): RowChangeCount {
  if (before === undefined) return { added: after.rowCount, removed: 0, changed: 0 };
  if (
    before.keys === undefined ||
    before.rows === undefined ||
    after.keys === undefined ||
    after.rows === undefined
  ) {
    const delta = after.rowCount - before.rowCount;
    return { added: Math.max(0, delta), removed: Math.max(0, -delta), changed: 0, counted: false };
  }
  const [onlyBefore, onlyAfter] = countUnmatched(before.rows, after.rows);
  if (before.keyName === '' || before.keyName !== after.keyName)
    return { added: onlyAfter, removed: onlyBefore, changed: 0 };
  const [removed, added] = countUnmatched(before.keys, after.keys);
  // A row only in `after` is either a new key or a kept key with other values.
  return { added, removed, changed: Math.max(0, onlyAfter - added) };
}

/** How many items of each sorted list the other lacks (as multisets). */
function countUnmatched(a: Float64Array, b: Float64Array): [number, number] {
  let onlyA = 0;
  let onlyB = 0;
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x === y) {
      i += 1;
      j += 1;
    } else if (x < y) {
      onlyA += 1;
      i += 1;
    } else {
      onlyB += 1;
      j += 1;
    }
  }
  return [onlyA + a.length - i, onlyB + b.length - j];
}

/**
 * The row key of a table file, from its structure lines: complete at the first row when the
 * CREATE TABLE before the rows names a key (MariaDB); else every structure line counts, as
 * an engine may add the keys after the rows (PostgreSQL's `ALTER TABLE … ADD CONSTRAINT`).
 */
export class RowKeyReader {
  private readonly script: ScriptFormat;
  private readonly structure: string[] = [];
  private key: readonly string[] | undefined;

  constructor(script: ScriptFormat) {
    this.script = script;
  }

  /** Takes the next line; false once the key is known (the rest need not be read). */
  add(line: string): boolean {
    if (this.key !== undefined) return false;
    if (line.startsWith(this.script.rowLinePrefix)) {
      const before = this.script.parseCreateTable(this.structure.join('\n'))?.rowKey ?? [];
      if (before.length > 0) {
        this.key = before;
        return false;
      }
    } else if (!this.script.isFramingLine(line)) this.structure.push(line);
    return true;
  }

  /** The key's columns in key order; empty for a table without one. */
  rowKey(): readonly string[] {
    return this.key ?? this.script.parseCreateTable(this.structure.join('\n'))?.rowKey ?? [];
  }
}

/** Collects the row lines of one version of a table, in any order, into a {@link RowDigest}. */
export class RowDigestCollector {
  private readonly script: ScriptFormat;
  private readonly rowKey: readonly string[];
  private readonly maxRows: number;
  private rowCount = 0;
  private keys: Float64Array | undefined = new Float64Array(256);
  private rows: Float64Array | undefined = new Float64Array(256);
  private head: RowHead | undefined;
  private readonly hash = new TwoLaneHash();
  /** Per value of the current line: start and end offsets, and the two lanes of its hash. */
  private bounds = new Int32Array(64);
  private valueHigh = new Int32Array(32);
  private valueLow = new Int32Array(32);

  /**
   * `script`: the engine's file format, which reads a row line's head. `rowKey`: the key's
   * column names, in key order; empty when the table has none.
   */
  constructor(script: ScriptFormat, rowKey: readonly string[], maxRows = MAX_ROWS_COMPARED) {
    this.script = script;
    this.rowKey = rowKey;
    this.maxRows = maxRows;
  }

  /** Adds one row line (a line that starts with {@link ScriptFormat.rowLinePrefix}). */
  add(line: string): void {
    const index = this.rowCount;
    this.rowCount += 1;
    if (this.keys === undefined || this.rows === undefined) return;
    if (index >= this.maxRows) {
      this.keys = undefined;
      this.rows = undefined;
      return;
    }
    if (index === this.rows.length) {
      const size = Math.min(this.maxRows, this.rows.length * 2);
      this.rows = grow(this.rows, size);
      this.keys = grow(this.keys, size);
    }
    const hashes = this.hashRow(line);
    this.rows[index] = hashes.row;
    // A row without a key (NULL in a unique key, or a line that is not one row) is matched
    // whole. Deciding row by row, not for the whole table, gives the same count whether all
    // rows are compared or only those a git diff shows.
    this.keys[index] = hashes.key ?? hashes.row;
  }

  /** The digest of the rows added so far. */
  result(): RowDigest {
    const count = Math.min(this.rowCount, this.rows?.length ?? 0);
    return {
      rowCount: this.rowCount,
      keyName: this.rowKey.join('\0'),
      rows: this.rows?.slice(0, count).sort(),
      keys: this.keys?.slice(0, count).sort(),
    };
  }

  private hashRow(line: string): { row: number; key: number | undefined } {
    const head = this.headOf(line);
    const values = head === undefined ? -1 : this.findValues(line, head);
    const hash = this.hash;
    if (head === undefined || values !== head.columns) {
      // Not a one-row INSERT with a column list: compared as the line it is.
      hash.reset();
      hash.addRange(line, 0, line.length);
      return { row: hash.value(), key: undefined };
    }
    const [bounds, high, low] = [this.bounds, this.valueHigh, this.valueLow];
    // The column names, in name order, start every row's hash: values of other columns differ.
    hash.restore(head.namesState);
    for (const position of head.byName) {
      hash.addCode(high[position] ?? 0);
      hash.addCode(low[position] ?? 0);
    }
    const row = hash.value();
    if (head.keyPositions === undefined) return { row, key: undefined };
    hash.reset();
    for (const position of head.keyPositions) {
      const start = bounds[position * 2] ?? 0;
      const end = bounds[position * 2 + 1] ?? 0;
      // A unique key may hold NULLs, and repeat them: such rows have no key.
      if (end - start === 4 && line.startsWith('NULL', start)) return { row, key: undefined };
      hash.addCode(high[position] ?? 0);
      hash.addCode(low[position] ?? 0);
    }
    return { row, key: hash.value() };
  }

  /** The line's head (table, columns, up to the first value), parsed once per distinct head. */
  private headOf(line: string): RowHead | undefined {
    if (this.head !== undefined && line.startsWith(this.head.text)) return this.head;
    const parsed = this.script.parseRowHead(line);
    if (parsed === undefined) return undefined;
    const names = parsed.columns;
    const byName = names
      .map((_, position) => position)
      .sort((a, b) => ((names[a] ?? '') < (names[b] ?? '') ? -1 : 1));
    const keyPositions = this.rowKey.map((name) => names.indexOf(name));
    const namesHash = new TwoLaneHash();
    namesHash.reset();
    for (const position of byName) {
      const name = names[position] ?? '';
      namesHash.addRange(name, 0, name.length);
      namesHash.addCode(0);
    }
    this.head = {
      namesState: namesHash.state(),
      text: parsed.text,
      names,
      columns: names.length,
      byName,
      keyPositions:
        keyPositions.length > 0 && !keyPositions.includes(-1) ? keyPositions : undefined,
    };
    if (this.valueHigh.length < names.length) {
      this.bounds = new Int32Array(names.length * 2);
      this.valueHigh = new Int32Array(names.length);
      this.valueLow = new Int32Array(names.length);
    }
    return this.head;
  }

  /**
   * Finds where each value literal starts and ends (into `bounds`, as the engine reads its
   * literals) and hashes each (into `valueHigh`, `valueLow`); returns how many, or -1 when
   * the line is not one row.
   */
  private findValues(line: string, head: RowHead): number {
    const [bounds, high, low] = [this.bounds, this.valueHigh, this.valueLow];
    const count = this.script.findRowValues(line, head.text.length, bounds, head.columns);
    for (let value = 0; value < count; value += 1) {
      let h = FNV_HIGH;
      let l = FNV_LOW;
      const end = bounds[value * 2 + 1] ?? 0;
      for (let index = bounds[value * 2] ?? 0; index < end; index += 1) {
        const code = line.charCodeAt(index);
        h = Math.imul(h ^ code, FNV_PRIME);
        l = Math.imul(l ^ code, FNV_PRIME) ^ (l >>> 15);
      }
      high[value] = h;
      low[value] = l;
    }
    return count;
  }
}

interface RowHead {
  readonly text: string;
  /** The hash state after the column names in name order. */
  readonly namesState: readonly [number, number];
  readonly names: readonly string[];
  readonly columns: number;
  /** Column positions in the order of their names. */
  readonly byName: readonly number[];
  /** Positions of the key's columns; undefined when the table has no key or lacks a column. */
  readonly keyPositions: readonly number[] | undefined;
}

function grow(array: Float64Array, size: number): Float64Array {
  const grown = new Float64Array(size);
  grown.set(array);
  return grown;
}

const FNV_HIGH = 0x811c9dc5 | 0;
const FNV_LOW = 0x050c5d1f;
const FNV_PRIME = 0x01000193;

/** FNV-1a over UTF-16 units in two lanes, as one 53-bit number (exact in a double). */
class TwoLaneHash {
  private high = 0;
  private low = 0;

  reset(): void {
    this.high = FNV_HIGH;
    this.low = FNV_LOW;
  }

  state(): [number, number] {
    return [this.high, this.low];
  }

  restore(state: readonly [number, number]): void {
    [this.high, this.low] = state;
  }

  addRange(text: string, start: number, end: number): void {
    for (let index = start; index < end; index += 1) this.addCode(text.charCodeAt(index));
  }

  addCode(code: number): void {
    this.high = Math.imul(this.high ^ code, FNV_PRIME);
    this.low = Math.imul(this.low ^ code, FNV_PRIME) ^ (this.low >>> 15);
  }

  value(): number {
    return (this.high >>> 0) * 0x200000 + ((this.low >>> 0) & 0x1fffff);
  }
}

/** `+added -removed ~changed`, as the commit message, `log` and `diff` all write it. */
export function formatRowChanges(count: {
  readonly added: number;
  readonly removed: number;
  readonly changed: number;
}): string {
  return `+${String(count.added)} -${String(count.removed)} ~${String(count.changed)}`;
}
