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
  RowKeyReader,
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
  const lines = text.split('\n');
  const keys = new RowKeyReader(script);
  for (const line of lines) if (!keys.add(line)) break;
  const collector = new SummaryCollector(script, maxRows, keys.rowKey());
  for (const line of lines) collector.add(line);
  return collector.result();
}

/**
 * Summarises a file on disk, streaming it; undefined when it does not exist. A file whose
 * key is not known by its first row (PostgreSQL adds keys after the rows) is read twice:
 * its structure first, then its rows.
 */
export async function summarizeFile(
  script: ScriptFormat,
  path: string,
  maxRows = MAX_ROWS_COMPARED,
): Promise<TableFileSummary | undefined> {
  const keys = new RowKeyReader(script);
  try {
    const head = createReadStream(path);
    try {
      const lines = createInterface({ input: head, crlfDelay: Infinity });
      for await (const line of lines) if (!keys.add(line)) break;
    } finally {
      head.destroy();
    }
    const collector = new SummaryCollector(script, maxRows, keys.rowKey());
    const again = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
    for await (const line of again) collector.add(line);
    return collector.result();
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
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
  private readonly rows: RowDigestCollector;
  private readonly script: ScriptFormat;

  /** `rowKey`: the file's, from a {@link RowKeyReader} that read it first. */
  constructor(script: ScriptFormat, maxRows: number, rowKey: readonly string[]) {
    this.script = script;
    this.rows = new RowDigestCollector(script, rowKey, maxRows);
  }

  add(line: string): void {
    if (line.startsWith(this.script.rowLinePrefix)) this.rows.add(line);
    else if (!this.script.isFramingLine(line)) this.structure.push(line);
  }

  result(): TableFileSummary {
    const rows = this.rows.result();
    return { structure: this.structure.join('\n'), rowCount: rows.rowCount, rows };
  }
}
