/**
 * What changed in a table file: its structure (every line but the rows) and its rows
 * (`INSERT` lines, one per row), counted by key as `diff` and `log` count them. Feeds the
 * commit message and the run's report.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import {
  countRowChanges,
  MAX_ROWS_COMPARED,
  RowDigestCollector,
  type RowDigest,
} from '../diff/count-row-changes.js';
import type { ScriptFormat } from '../engine/engine.js';

export { MAX_ROWS_COMPARED };

export interface TableFileSummary {
  /**
   * Lines that are neither rows nor framing ({@link ScriptFormat.isFramingLine}), joined: equal strings
   * mean equal structure.
   */
  readonly structure: string;
  readonly rowCount: number;
  /** The rows, reduced for counting (see countRowChanges). */
  readonly rows: RowDigest;
}

export interface TableFileChange {
  readonly structureChanged: boolean;
  /** Rows with a new key (or, in a table without a key, rows only in the new version). */
  readonly rowsAdded: number;
  readonly rowsRemoved: number;
  /** Rows whose key stayed and whose values changed. */
  readonly rowsChanged: number;
  /** False when the rows were too many to compare: the counts are then the difference in rows. */
  readonly rowsCounted?: boolean | undefined;
}

/** Summarises file text held in memory, read as `script` writes it. */
export function summarizeText(
  script: ScriptFormat,
  text: string,
  maxRows = MAX_ROWS_COMPARED,
): TableFileSummary {
  const collector = new SummaryCollector(script, maxRows);
  for (const line of text.split('\n')) collector.add(line);
  return collector.result();
}

/** Summarises a file on disk, streaming it; undefined when it does not exist. */
export async function summarizeFile(
  script: ScriptFormat,
  path: string,
  maxRows = MAX_ROWS_COMPARED,
): Promise<TableFileSummary | undefined> {
  const collector = new SummaryCollector(script, maxRows);
  try {
    const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
    for await (const line of lines) collector.add(line);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
  return collector.result();
}

/** The change from `before` (undefined: a new file) to `after`. */
export function compareSummaries(
  before: TableFileSummary | undefined,
  after: TableFileSummary,
): TableFileChange {
  const rows = countRowChanges(before?.rows, after.rows);
  return {
    structureChanged: before === undefined || before.structure !== after.structure,
    rowsAdded: rows.added,
    rowsRemoved: rows.removed,
    rowsChanged: rows.changed,
    ...(rows.counted === false ? { rowsCounted: false } : {}),
  };
}

class SummaryCollector {
  private readonly structure: string[] = [];
  private rows: RowDigestCollector | undefined;
  private readonly script: ScriptFormat;
  private readonly maxRows: number;

  constructor(script: ScriptFormat, maxRows: number) {
    this.script = script;
    this.maxRows = maxRows;
  }

  add(line: string): void {
    if (line.startsWith(this.script.rowLinePrefix)) {
      // The CREATE TABLE comes before the rows: by the first row, the key is known.
      this.rows ??= this.newRowCollector();
      this.rows.add(line);
    } else if (!this.script.isFramingLine(line)) {
      this.structure.push(line);
    }
  }

  result(): TableFileSummary {
    const rows = (this.rows ?? this.newRowCollector()).result();
    return { structure: this.structure.join('\n'), rowCount: rows.rowCount, rows };
  }

  private newRowCollector(): RowDigestCollector {
    const rowKey = this.script.parseCreateTable(this.structure.join('\n'))?.rowKey ?? [];
    return new RowDigestCollector(this.script, rowKey, this.maxRows);
  }
}
