/**
 * The ranges engines cut a table's reading into (Session.planRowRanges): integer key ranges
 * (MariaDB; PostgreSQL before 14) and page ranges (PostgreSQL 14+). Together they must cover
 * every key or page once, whatever the bounds, and refuse a range another engine made.
 */
import { describe, expect, it } from 'vitest';
import {
  integerKeyColumn,
  keyRangeConditions,
  keyRanges,
  type KeyRange,
} from '../../src/engine/common/key-ranges.js';
import type { TableDescription } from '../../src/engine/engine.js';
import {
  pageRangeConditions,
  pageRanges,
  readBySequentialScan,
  readsThroughRing,
  sequentialScanParts,
  withScan,
} from '../../src/engine/postgresql/page-ranges.js';
import { EngineError, InternalError } from '../../src/errors.js';

const quote = (name: string): string => `"${name}"`;

function table(key: readonly string[], types: Record<string, string>): TableDescription {
  return {
    name: 't',
    columns: Object.entries(types).map(([name, dataType]) => ({
      name,
      dataType,
      columnType: dataType,
      nullable: false,
      generated: false,
      invisible: false,
    })),
    uniqueKey: key,
  };
}

describe('key ranges', () => {
  it('cuts [min, max] into ranges of equal width, open at both ends', () => {
    const ranges = keyRanges('id', { min: '1', max: '100' }, 4);
    expect(ranges.map((range) => [range.from, range.to])).toEqual([
      [undefined, '26'],
      ['26', '51'],
      ['51', '76'],
      ['76', undefined],
    ]);
    expect(ranges.map((range) => keyRangeConditions(range, quote))).toEqual([
      ['"id" < 26'],
      ['"id" >= 26', '"id" < 51'],
      ['"id" >= 51', '"id" < 76'],
      ['"id" >= 76'],
    ]);
    expect(ranges[1]?.description).toBe('id >= 26 and < 51');
  });

  it('takes bigint bounds beyond 2^53 and spans narrower than the pieces', () => {
    const big = keyRanges('id', { min: '9223372036854775000', max: '9223372036854775807' }, 2);
    expect(big.map((range) => [range.from, range.to])).toEqual([
      [undefined, '9223372036854775404'],
      ['9223372036854775404', undefined],
    ]);
    const narrow = keyRanges('id', { min: '-5', max: '-4' }, 4);
    expect(narrow.map((range) => [range.from, range.to])).toEqual([
      [undefined, '-4'],
      ['-4', '-3'],
      ['-3', '-2'],
      ['-2', undefined],
    ]);
  });

  it('cuts by a single-column key of an integer type only', () => {
    const integers = new Set(['int8']);
    expect(integerKeyColumn(table(['id'], { id: 'int8', v: 'text' }), integers)).toBe('id');
    expect(integerKeyColumn(table(['v'], { id: 'int8', v: 'text' }), integers)).toBeUndefined();
    expect(integerKeyColumn(table(['id', 'v'], { id: 'int8', v: 'int8' }), integers)).toBe(
      undefined,
    );
    expect(integerKeyColumn(table([], { id: 'int8' }), integers)).toBeUndefined();
  });

  it('refuses a range it did not make, and bounds that are not integers', () => {
    expect(() => keyRangeConditions({ description: 'pages' }, quote)).toThrow(InternalError);
    const forged: KeyRange = { kind: 'key', column: 'id', to: '1; DROP', description: 'forged' };
    expect(() => keyRangeConditions(forged, quote)).toThrow(EngineError);
  });
});

describe('page ranges', () => {
  it('cuts pages into about equal ranges, open at both ends', () => {
    const ranges = pageRanges(10, 4) ?? [];
    expect(ranges.map((range) => [range.from, range.to])).toEqual([
      [undefined, 3],
      [3, 5],
      [5, 8],
      [8, undefined],
    ]);
    expect(ranges.map(pageRangeConditions)).toEqual([
      ["ctid < '(3,0)'::pg_catalog.tid"],
      ["ctid >= '(3,0)'::pg_catalog.tid", "ctid < '(5,0)'::pg_catalog.tid"],
      ["ctid >= '(5,0)'::pg_catalog.tid", "ctid < '(8,0)'::pg_catalog.tid"],
      ["ctid >= '(8,0)'::pg_catalog.tid"],
    ]);
    expect(ranges[1]?.description).toBe('pages 3 to 4');
  });

  it('makes no more ranges than pages, and none for a table of one page or none', () => {
    expect(pageRanges(3, 9)?.map((range) => [range.from, range.to])).toEqual([
      [undefined, 1],
      [1, 2],
      [2, undefined],
    ]);
    expect(pageRanges(1, 4)).toBeUndefined();
    expect(pageRanges(0, 4)).toBeUndefined();
    expect(pageRanges(100, 1)).toBeUndefined();
  });

  it('refuses a range it did not make', () => {
    const [key] = keyRanges('id', { min: '1', max: '10' }, 2);
    expect(() => pageRangeConditions(key ?? { description: '' })).toThrow(InternalError);
  });

  it('reads the parts of a table bigger than a quarter of shared_buffers by sequential scans, one per reader', () => {
    // 128 MB of shared_buffers (16,384 pages): a sequential scan of more than 32 MB goes
    // through a ring of buffers; parts read by TID range or index scans would not.
    expect(readsThroughRing(4096, 16384)).toBe(false);
    expect(readsThroughRing(4097, 16384)).toBe(true);
    expect(readsThroughRing(26_000, 16384)).toBe(true);
    expect(readsThroughRing(26_000, 1_048_576)).toBe(false);
    // Each sequential part reads the whole table: no more parts than readers.
    expect(sequentialScanParts(8, 2, true)).toBe(2);
    expect(sequentialScanParts(8, 2, false)).toBe(8);
    expect(sequentialScanParts(1, 3, true)).toBe(1);
  });

  it('marks a part for a sequential scan, and only then', () => {
    const [pages] = pageRanges(100, 2) ?? [];
    const [key] = keyRanges('id', { min: '1', max: '10' }, 2);
    if (pages === undefined || key === undefined) throw new Error('no ranges');
    expect(readBySequentialScan(withScan(pages, false))).toBe(false);
    expect(readBySequentialScan(pages)).toBe(false);
    const sequentialPages = withScan(pages, true);
    expect(readBySequentialScan(sequentialPages)).toBe(true);
    expect(sequentialPages.description).toBe('pages before 50 (sequential scan)');
    // The conditions stay those of the part: the scan changes, not the rows.
    expect(pageRangeConditions(sequentialPages)).toEqual(pageRangeConditions(pages));
    const sequentialKey = withScan(key, true);
    expect(readBySequentialScan(sequentialKey)).toBe(true);
    expect(keyRangeConditions(sequentialKey, quote)).toEqual(keyRangeConditions(key, quote));
  });
});
