/**
 * What changed in a table file: its structure (every line but the rows) and its rows
 * (`INSERT` lines, one per row). Feeds the commit message and the run's report.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

const ROW_PREFIX = 'INSERT INTO ';

/** Row sets are compared line by line only up to this many rows; beyond, only counts. */
const MAX_ROWS_COMPARED = 200_000;

export interface TableFileSummary {
  /** Non-row, non-blank lines joined: equal strings mean equal structure. */
  readonly structure: string;
  readonly rowCount: number;
  /** How often each row line occurs (rows of a table without a key may repeat), when there are at most {@link MAX_ROWS_COMPARED}. */
  readonly rows?: ReadonlyMap<string, number> | undefined;
}

export interface TableFileChange {
  readonly structureChanged: boolean;
  readonly rowsAdded: number;
  readonly rowsRemoved: number;
}

/** Summarises file text held in memory. */
export function summarizeText(text: string): TableFileSummary {
  const collector = new SummaryCollector();
  for (const line of text.split('\n')) collector.add(line);
  return collector.result();
}

/** Summarises a file on disk, streaming it; undefined when it does not exist. */
export async function summarizeFile(path: string): Promise<TableFileSummary | undefined> {
  const collector = new SummaryCollector();
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
    let rowsAdded = 0;
    let rowsRemoved = 0;
    for (const [row, count] of after.rows)
      rowsAdded += Math.max(0, count - (before.rows.get(row) ?? 0));
    for (const [row, count] of before.rows)
      rowsRemoved += Math.max(0, count - (after.rows.get(row) ?? 0));
    return { structureChanged, rowsAdded, rowsRemoved };
  }
  const delta = after.rowCount - before.rowCount;
  return { structureChanged, rowsAdded: Math.max(0, delta), rowsRemoved: Math.max(0, -delta) };
}

class SummaryCollector {
  private readonly structure: string[] = [];
  private rowCount = 0;
  private rows: Map<string, number> | undefined = new Map<string, number>();

  add(line: string): void {
    if (line.startsWith(ROW_PREFIX)) {
      this.rowCount += 1;
      if (this.rows !== undefined) {
        this.rows.set(line, (this.rows.get(line) ?? 0) + 1);
        if (this.rows.size > MAX_ROWS_COMPARED) this.rows = undefined;
      }
    } else if (line.trim() !== '') {
      this.structure.push(line);
    }
  }

  result(): TableFileSummary {
    return { structure: this.structure.join('\n'), rowCount: this.rowCount, rows: this.rows };
  }
}
