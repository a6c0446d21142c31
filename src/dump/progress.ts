/**
 * Progress of a dump or a load: tables done, rows, bytes, rate and an estimate of the time
 * left, computed here and handed to a callback; the CLI decides how to show it.
 */

export interface DumpProgress {
  readonly tablesDone: number;
  readonly tablesTotal: number;
  readonly rows: number;
  /** The server's estimate of the rows to read (0 when unknown). */
  readonly rowsEstimate: number;
  /** SQL bytes so far. */
  readonly bytes: number;
  readonly seconds: number;
  /** SQL bytes per second. */
  readonly bytesPerSecond: number;
  /** Seconds left at the current rate; undefined when it cannot be estimated. */
  readonly etaSeconds: number | undefined;
  readonly done: boolean;
}

/** Counts rows and bytes per table as chunks arrive, and reports at most every 200 ms. */
export class ProgressTracker {
  private readonly started = Date.now();
  private readonly tablesTotal: number;
  private readonly rowsEstimate: number;
  private readonly onProgress: ((progress: DumpProgress) => void) | undefined;
  private readonly perTable = new Map<string, { rows: number; items: number }>();
  private readonly itemsPerTable = new Map<string, number>();
  private tablesDone = 0;
  private rows = 0;
  private bytes = 0;
  private lastReport = 0;

  constructor(
    tablesTotal: number,
    rowsEstimate: number,
    onProgress: ((progress: DumpProgress) => void) | undefined,
    itemsPerTable?: ReadonlyMap<string, number>,
  ) {
    this.tablesTotal = tablesTotal;
    this.rowsEstimate = rowsEstimate;
    this.onProgress = onProgress;
    for (const [key, count] of itemsPerTable ?? []) this.itemsPerTable.set(key, count);
  }

  /** Declares that the table `database.table` is read in `count` pieces. */
  expect(database: string, table: string, count: number): void {
    this.itemsPerTable.set(`${database}.${table}`, count);
  }

  addRows(rows: number, bytes: number): void {
    this.rows += rows;
    this.bytes += bytes;
    this.report(false);
  }

  /** One piece of a table is done, with `rows` rows. */
  itemDone(database: string, table: string, rows: number): void {
    const key = `${database}.${table}`;
    const entry = this.perTable.get(key) ?? { rows: 0, items: 0 };
    entry.rows += rows;
    entry.items += 1;
    this.perTable.set(key, entry);
    if (entry.items >= (this.itemsPerTable.get(key) ?? 1)) this.tablesDone += 1;
    this.report(false);
  }

  /** Rows read from `database.table` so far. */
  rowsOf(database: string, table: string): number {
    return this.perTable.get(`${database}.${table}`)?.rows ?? 0;
  }

  /** Every table is done (a single-file load knows it only at the end). */
  allTablesDone(): void {
    this.tablesDone = this.tablesTotal;
  }

  /** Reports the final state. */
  finish(): void {
    this.report(true);
  }

  snapshot(done = false): DumpProgress {
    const seconds = (Date.now() - this.started) / 1000;
    const bytesPerSecond = seconds > 0 ? this.bytes / seconds : 0;
    const rowsPerSecond = seconds > 0 ? this.rows / seconds : 0;
    const etaSeconds =
      this.rowsEstimate > this.rows && rowsPerSecond > 0
        ? (this.rowsEstimate - this.rows) / rowsPerSecond
        : done
          ? 0
          : undefined;
    return {
      tablesDone: this.tablesDone,
      tablesTotal: this.tablesTotal,
      rows: this.rows,
      rowsEstimate: this.rowsEstimate,
      bytes: this.bytes,
      seconds,
      bytesPerSecond,
      etaSeconds,
      done,
    };
  }

  private report(force: boolean): void {
    if (this.onProgress === undefined) return;
    const now = Date.now();
    if (!force && now - this.lastReport < 200) return;
    this.lastReport = now;
    this.onProgress(this.snapshot(force));
  }
}
