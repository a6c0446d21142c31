/**
 * Ranges of a table's pages, the {@link RowRange}s a PostgreSQL 14+ session cuts a big table
 * into: each is read by a TID range scan (`WHERE ctid >= '(from,0)' AND ctid < '(to,0)'`),
 * which reads only those pages, whatever the table's keys (a table without one too). In one
 * snapshot a row version keeps its place (its ctid) as long as no rewrite (VACUUM FULL,
 * CLUSTER, a rewriting ALTER TABLE) moves it, which the session's lock forbids: the ranges
 * together give each row of the snapshot exactly once.
 */
import { InternalError } from '../../errors.js';
import type { RowRange } from '../engine.js';

/** Rows on pages `[from, to)`; an absent bound is open (below: page 0; above: pages added since). */
export interface PageRange extends RowRange {
  readonly kind: 'pages';
  readonly from?: number | undefined;
  readonly to?: number | undefined;
}

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
 * True when a table of `pages` pages may be read in parts without pushing the server's
 * working set out of shared_buffers (`sharedBuffers`, in pages): a sequential scan of a
 * table bigger than a quarter of them reads it through a small ring of buffers (PostgreSQL's
 * bulk-read strategy), but TID range scans and index scans have no such ring, and would fill
 * shared_buffers with it. A bigger table is read whole, as pg_dump reads every table.
 */
export function splitKeepsSharedBuffers(pages: number, sharedBuffers: number): boolean {
  return pages <= sharedBuffers / 4;
}

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
