/**
 * Ranges of a table's pages, the {@link RowRange}s a PostgreSQL 14+ session cuts a big table
 * into: each is read by a TID range scan (`WHERE ctid >= '(from,0)' AND ctid < '(to,0)'`),
 * which reads only those pages, whatever the table's keys (a table without one too). In one
 * snapshot a row version keeps its place (its ctid) as long as no rewrite (VACUUM FULL,
 * CLUSTER, a rewriting ALTER TABLE) moves it, which the session's lock forbids: the ranges
 * together give each row of the snapshot exactly once.
 *
 * A table bigger than a quarter of shared_buffers is the exception: its parts are read by
 * sequential scans ({@link readsThroughRing}).
 */
import { InternalError } from '../../errors.js';
import type { RowRange } from '../engine.js';
import type { KeyRange } from '../common/key-ranges.js';

/** Rows on pages `[from, to)`; an absent bound is open (below: page 0; above: pages added since). */
export interface PageRange extends RowRange {
  readonly kind: 'pages';
  readonly from?: number | undefined;
  readonly to?: number | undefined;
}

/** A part of a table as this engine cuts it: pages (14+) or key values (older servers). */
export type PostgresqlRowRange = (PageRange | KeyRange) & {
  /** Read by a sequential scan that keeps only the part's rows ({@link readsThroughRing}). */
  readonly sequentialScan?: true | undefined;
};

/**
 * At most `pieces` ranges of about equal numbers of the `pages` pages, the first open below
 * and the last open above; undefined when fewer than two (a table of one page is read whole).
 */
export function pageRanges(pages: number, pieces: number): PageRange[] | undefined {
  const count = Math.min(Math.floor(pieces), Math.floor(pages));
  if (!(count >= 2)) return undefined;
  const ranges: PageRange[] = [];
  for (let index = 0; index < count; index += 1) {
    const from = index === 0 ? undefined : Math.round((pages * index) / count);
    const to = index === count - 1 ? undefined : Math.round((pages * (index + 1)) / count);
    ranges.push({ kind: 'pages', from, to, description: describePageRange(from, to) });
  }
  return ranges;
}

/**
 * True when a sequential scan of a table of `pages` pages reads it through a small ring of
 * buffers (PostgreSQL's bulk-read strategy, for a table bigger than a quarter of
 * `sharedBuffers`, in pages), so that a read of it leaves the server's working set in
 * shared_buffers, as pg_dump's read of it does. TID range scans and index scans have no such
 * ring: they would fill shared_buffers with the table. So the parts of such a table are read
 * by sequential scans that keep only their part's rows ({@link sequentialScanParts}).
 */
export function readsThroughRing(pages: number, sharedBuffers: number): boolean {
  return pages > sharedBuffers / 4;
}

/**
 * How many parts to cut a table into: `pieces`, but no more than the `readers` reading at
 * once when each part is read by a sequential scan, as each such scan reads the whole table
 * (it skips the other parts' rows, which costs far less than writing them: 0.58-0.61 s a
 * half against 0.91 s whole for the bench's 209 MB table).
 */
export function sequentialScanParts(pieces: number, readers: number, sequential: boolean): number {
  return sequential ? Math.min(pieces, readers) : pieces;
}

/** `range`, marked to be read by a sequential scan when `sequential`. */
export function withScan(range: PageRange | KeyRange, sequential: boolean): PostgresqlRowRange {
  return sequential
    ? { ...range, sequentialScan: true, description: `${range.description} (sequential scan)` }
    : range;
}

/** True for a range to read by a sequential scan ({@link readsThroughRing}). */
export function readBySequentialScan(range: RowRange): boolean {
  return (range as Partial<PostgresqlRowRange>).sequentialScan === true;
}

/**
 * Makes the planner read a part by a sequential scan for the rest of the transaction
 * (`SET LOCAL`): with TID range, index and bitmap scans off, the only plan left for a
 * condition on ctid or on the key. {@link SCANS_AS_CONFIGURED} undoes it.
 */
export const SEQUENTIAL_SCANS_ONLY =
  'SET LOCAL enable_tidscan = off; SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off';

/** Back to the session's settings (those of the server, role and database) for these scans. */
export const SCANS_AS_CONFIGURED =
  'SET LOCAL enable_tidscan TO DEFAULT; SET LOCAL enable_indexscan TO DEFAULT; SET LOCAL enable_bitmapscan TO DEFAULT';

/** True for a range that {@link pageRanges} made. */
export function isPageRange(range: RowRange): range is PageRange {
  return (range as Partial<PageRange>).kind === 'pages';
}

/**
 * The conditions (joined with AND) on `ctid` that select `range`'s rows by a TID range scan
 * (PostgreSQL 14+). Throws InternalError for a range {@link pageRanges} did not make (a bug).
 */
export function pageRangeConditions(range: RowRange): string[] {
  if (!isPageRange(range))
    throw new InternalError(`not a range of this engine's making: ${range.description}`);
  const conditions: string[] = [];
  if (range.from !== undefined)
    conditions.push(`ctid >= '(${pageNumber(range.from)},0)'::pg_catalog.tid`);
  if (range.to !== undefined)
    conditions.push(`ctid < '(${pageNumber(range.to)},0)'::pg_catalog.tid`);
  return conditions;
}

/** `page` as the text of a block number (it goes into SQL): an integer of 0 to 2^32 - 1. */
function pageNumber(page: number): string {
  if (!Number.isInteger(page) || page < 0 || page > 0xffffffff)
    throw new InternalError(`not a page number: ${String(page)}`);
  return String(page);
}

function describePageRange(from: number | undefined, to: number | undefined): string {
  if (from === undefined) return `pages before ${String(to)}`;
  if (to === undefined) return `pages from ${String(from)}`;
  return `pages ${String(from)} to ${String(to - 1)}`;
}
