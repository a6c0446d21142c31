/**
 * Progress of a long run (dump, load, snapshot, restore): tables done, rows, bytes, rate and
 * an estimate of the time left, computed here and handed to a callback; the CLI decides how
 * to show it. Workflows only say what happened: a table started, rows went by, a table is done.
 */

export interface Progress {
  readonly tablesDone: number;
  readonly tablesTotal: number;
  readonly rows: number;
  /** The estimate of the rows to read or load (0 when unknown). */
  readonly rowsEstimate: number;
  /** SQL bytes so far. */
  readonly bytes: number;
  readonly seconds: number;
  /** SQL bytes per second. */
  readonly bytesPerSecond: number;
  /** Seconds left at the current rate; undefined when it cannot be estimated. */
  readonly etaSeconds: number | undefined;
  readonly done: boolean;
  /** What was started last (a table's name), for the display; undefined when none was named. */
  readonly current?: string | undefined;
}

export type ProgressCallback = (progress: Progress) => void;

/** Reports come at most this often (ms): a display redraws no faster than that. */
const REPORT_EVERY_MS = 200;

/** Counts rows and bytes per table as chunks arrive, and reports at most every 200 ms. */
export class ProgressTracker {
  private readonly now: () => number;
  private readonly started: number;
  private readonly tablesTotal: number;
  private readonly rowsEstimate: number;
  private readonly onProgress: ProgressCallback | undefined;
  private readonly perTable = new Map<string, { rows: number; items: number }>();
  private readonly itemsPerTable = new Map<string, number>();
  private tablesDone = 0;
  private rows = 0;
  private bytes = 0;
  private current: string | undefined;
  private lastReport: number | undefined;

  /** `now`: the clock in milliseconds (tests pass their own). */
  constructor(
    tablesTotal: number,
    rowsEstimate: number,
    onProgress: ProgressCallback | undefined,
    itemsPerTable?: ReadonlyMap<string, number>,
    now: () => number = Date.now,
  ) {
    this.now = now;
    this.started = now();
    this.tablesTotal = tablesTotal;
    this.rowsEstimate = rowsEstimate;
    this.onProgress = onProgress;
    for (const [key, count] of itemsPerTable ?? []) this.itemsPerTable.set(key, count);
  }

  /** Declares that the table `database.table` is read in `count` pieces. */
  expect(database: string, table: string, count: number): void {
    this.itemsPerTable.set(`${database}.${table}`, count);
  }

  /** Work on `name` (a table, or a piece of one) starts: the next report names it. */
  start(name: string): void {
    this.current = name;
  }

  addRows(rows: number, bytes: number): void {
    this.rows += rows;
    this.bytes += bytes;
    this.report(false);
  }

  /** Passes `chunks` through, counting their rows and the length of their text. */
  async *counting<T extends { readonly rows: number; readonly text: string }>(
    chunks: AsyncIterable<T>,
  ): AsyncIterable<T> {
    for await (const chunk of chunks) {
      this.addRows(chunk.rows, chunk.text.length);
      yield chunk;
    }
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

  snapshot(done = false): Progress {
    const seconds = (this.now() - this.started) / 1000;
    const bytesPerSecond = seconds > 0 ? this.bytes / seconds : 0;
    const rowsPerSecond = seconds > 0 ? this.rows / seconds : 0;
    const etaSeconds = done
      ? 0
      : this.rowsEstimate > this.rows && rowsPerSecond > 0
        ? (this.rowsEstimate - this.rows) / rowsPerSecond
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
      current: done ? undefined : this.current,
    };
  }

  private report(force: boolean): void {
    if (this.onProgress === undefined) return;
    const now = this.now();
    if (!force && this.lastReport !== undefined && now - this.lastReport < REPORT_EVERY_MS) return;
    this.lastReport = now;
    this.onProgress(this.snapshot(force));
  }
}
