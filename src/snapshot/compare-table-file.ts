/**
 * What changed in a table file: its structure (every line but the rows) and its rows
 * (`INSERT` lines, one per row). Feeds the commit message and the run's report.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

const ROW_PREFIX = 'INSERT INTO ';
/** The lines that open and commit the transaction around a table file's rows (`renderRows`). */
const TRANSACTION_LINES = new Set(['START TRANSACTION;', 'COMMIT;']);

/**
 * True for a line of a table file that is part of neither its structure nor its rows: blank,
 * or the transaction around the rows (which appears with the first row, and goes with the last).
 */
export function isFramingLine(line: string): boolean {
  return line.trim() === '' || TRANSACTION_LINES.has(line);
}

/**
 * Row sets are compared up to this many rows (8 bytes a row: 64 MB a side at most); beyond,
 * only counts, and the change says its rows were not counted.
 */
export const MAX_ROWS_COMPARED = 8_000_000;

export interface TableFileSummary {
  /**
   * Lines that are neither rows nor framing ({@link isFramingLine}), joined: equal strings
   * mean equal structure.
   */
  readonly structure: string;
  readonly rowCount: number;
  /**
   * A 53-bit hash of each row line, sorted (rows of a table without a key may repeat), when
   * there are at most {@link MAX_ROWS_COMPARED}.
   */
  readonly rows?: Float64Array | undefined;
}

export interface TableFileChange {
  readonly structureChanged: boolean;
  readonly rowsAdded: number;
  readonly rowsRemoved: number;
  /** False when the rows were too many to compare: the counts are then the difference in rows. */
  readonly rowsCounted?: boolean | undefined;
}

/** Summarises file text held in memory. */
export function summarizeText(text: string, maxRows = MAX_ROWS_COMPARED): TableFileSummary {
  const collector = new SummaryCollector(maxRows);
  for (const line of text.split('\n')) collector.add(line);
  return collector.result();
}

/** Summarises a file on disk, streaming it; undefined when it does not exist. */
export async function summarizeFile(
  path: string,
  maxRows = MAX_ROWS_COMPARED,
): Promise<TableFileSummary | undefined> {
  const collector = new SummaryCollector(maxRows);
  try {
    const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
    for await (const line of lines) collector.add(line);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
  return collector.result();
}

/** The change from `before` to `after`. Rows that changed count as one removed and one added. */
export function compareSummaries(
  before: TableFileSummary | undefined,
  after: TableFileSummary,
): TableFileChange {
  if (before === undefined)
    return { structureChanged: true, rowsAdded: after.rowCount, rowsRemoved: 0 };
  const structureChanged = before.structure !== after.structure;
  if (before.rows !== undefined && after.rows !== undefined) {
    // Both sorted: walk them together; what one side has more of was added or removed.
    const [old, now] = [before.rows, after.rows];
    let rowsAdded = 0;
    let rowsRemoved = 0;
    let i = 0;
    let j = 0;
    while (i < old.length || j < now.length) {
      const a = i < old.length ? (old[i] as number) : Infinity;
      const b = j < now.length ? (now[j] as number) : Infinity;
      if (a === b) {
        i += 1;
        j += 1;
      } else if (a < b) {
        rowsRemoved += 1;
        i += 1;
      } else {
        rowsAdded += 1;
        j += 1;
      }
    }
    return { structureChanged, rowsAdded, rowsRemoved };
  }
  const delta = after.rowCount - before.rowCount;
  return {
    structureChanged,
    rowsAdded: Math.max(0, delta),
    rowsRemoved: Math.max(0, -delta),
    rowsCounted: false,
  };
}

/** FNV-1a over the line's UTF-16 units in two lanes, as one 53-bit number. */
function hashLine(line: string): number {
  let high = 0x811c9dc5;
  let low = 0x050c5d1f;
  for (let index = 0; index < line.length; index += 1) {
    const code = line.charCodeAt(index);
    high = Math.imul(high ^ code, 0x01000193);
    low = Math.imul(low ^ code, 0x01000193) ^ (low >>> 15);
  }
  return (high >>> 0) * 0x200000 + ((low >>> 0) & 0x1fffff);
}

class SummaryCollector {
  private readonly structure: string[] = [];
  private rowCount = 0;
  private hashes: Float64Array | undefined = new Float64Array(1024);
  private readonly maxRows: number;

  constructor(maxRows: number) {
    this.maxRows = maxRows;
  }

  add(line: string): void {
    if (line.startsWith(ROW_PREFIX)) {
      if (this.hashes !== undefined) {
        if (this.rowCount >= this.maxRows) this.hashes = undefined;
        else {
          if (this.rowCount === this.hashes.length) {
            const grown = new Float64Array(Math.min(this.maxRows, this.hashes.length * 2));
            grown.set(this.hashes);
            this.hashes = grown;
          }
          this.hashes[this.rowCount] = hashLine(line);
        }
      }
      this.rowCount += 1;
    } else if (!isFramingLine(line)) {
      this.structure.push(line);
    }
  }

  result(): TableFileSummary {
    const rows = this.hashes?.slice(0, this.rowCount).sort();
    return { structure: this.structure.join('\n'), rowCount: this.rowCount, rows };
  }
}
