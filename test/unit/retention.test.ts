import { describe, expect, it } from 'vitest';
import {
  dayKey,
  isoWeekKey,
  monthKey,
  parseCopyTimestamp,
  planRetention,
  type RetentionItem,
  type RetentionPolicy,
} from '../../src/ops/retention.js';

const DAY = 86_400_000;

/** One copy a day at 02:30 UTC for `days` days ending on `last` (inclusive). */
function dailyCopies(last: string, days: number): RetentionItem[] {
  const end = new Date(`${last}T02:30:00Z`).getTime();
  return Array.from({ length: days }, (_, index) => {
    const time = new Date(end - index * DAY);
    return { id: time.toISOString().slice(0, 10), time, manual: false };
  });
}

function dateRange(from: string, to: string): string[] {
  const dates: string[] = [];
  for (
    let t = new Date(`${from}T00:00:00Z`).getTime();
    t <= new Date(`${to}T00:00:00Z`).getTime();
    t += DAY
  )
    dates.push(new Date(t).toISOString().slice(0, 10));
  return dates;
}

/** An independent statement of the rules: per bucket kind, the newest item of the N newest buckets. */
function oracle(
  items: readonly RetentionItem[],
  policy: RetentionPolicy,
  protectedIds: ReadonlySet<string> = new Set(),
): string[] {
  const kept = new Set<string>();
  const rule = (count: number, key: (time: Date) => string): void => {
    const newestByBucket = new Map<string, RetentionItem>();
    for (const item of items) {
      const bucket = key(item.time);
      const current = newestByBucket.get(bucket);
      if (
        current === undefined ||
        item.time > current.time ||
        (item.time.getTime() === current.time.getTime() && item.id > current.id)
      )
        newestByBucket.set(bucket, item);
    }
    [...newestByBucket.values()]
      .sort((a, b) => b.time.getTime() - a.time.getTime())
      .slice(0, count)
      .forEach((item) => kept.add(item.id));
  };
  rule(policy.daily, dayKey);
  rule(policy.weekly, isoWeekKey);
  rule(policy.monthly, monthKey);
  for (const item of items) if (item.manual || protectedIds.has(item.id)) kept.add(item.id);
  const newest = [...items].sort(
    (a, b) => b.time.getTime() - a.time.getTime() || (a.id < b.id ? 1 : -1),
  )[0];
  if (newest !== undefined) kept.add(newest.id);
  return [...kept].sort();
}

/** A small seeded PRNG (mulberry32), so failures reproduce. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('planRetention', () => {
  it('keeps exactly 30 daily, 12 weekly (ISO) and 12 monthly of a copy a day for 400 days', () => {
    const items = dailyCopies('2026-11-24', 400);
    const plan = planRetention(items, { daily: 30, weekly: 12, monthly: 12 });
    const kept = plan.keep.map((decision) => decision.id).sort();
    const expected = [
      // the 30 newest days
      ...dateRange('2026-10-26', '2026-11-24'),
      // Sundays (the newest copy of an ISO week) of the 12 newest weeks not already kept
      '2026-09-13',
      '2026-09-20',
      '2026-09-27',
      '2026-10-04',
      '2026-10-11',
      '2026-10-18',
      '2026-10-25',
      // last day of the 12 newest months not already kept
      '2025-12-31',
      '2026-01-31',
      '2026-02-28',
      '2026-03-31',
      '2026-04-30',
      '2026-05-31',
      '2026-06-30',
      '2026-07-31',
      '2026-08-31',
      '2026-09-30',
    ].sort();
    expect(kept).toEqual(expected);
    expect(plan.keep).toHaveLength(47);
    expect(plan.drop).toHaveLength(353);
    expect(plan.keep.find((d) => d.id === '2026-11-24')?.reasons).toEqual([
      'daily',
      'weekly',
      'monthly',
      'newest',
    ]);
    expect(plan.keep.find((d) => d.id === '2026-10-25')?.reasons).toEqual(['weekly']);
    expect(plan.keep.find((d) => d.id === '2026-10-31')?.reasons).toEqual(['daily', 'monthly']);
    expect(kept).toEqual(oracle(items, { daily: 30, weekly: 12, monthly: 12 }));
  });

  it('matches the rules on irregular sets: gaps, several copies a day, manual and protected ones', () => {
    const random = prng(20261124);
    for (let round = 0; round < 200; round += 1) {
      const start = new Date('2025-10-01T00:00:00Z').getTime();
      const items: RetentionItem[] = [];
      const count = Math.floor(random() * 120);
      for (let index = 0; index < count; index += 1) {
        const time = new Date(start + Math.floor(random() * 400 * DAY));
        items.push({ id: `c${String(index)}`, time, manual: random() < 0.05 });
      }
      const policy = {
        daily: Math.floor(random() * 10),
        weekly: Math.floor(random() * 6),
        monthly: Math.floor(random() * 6),
      };
      const protectedIds = new Set(items.filter(() => random() < 0.03).map((item) => item.id));
      const plan = planRetention(items, policy, protectedIds);
      expect(plan.keep.map((d) => d.id).sort()).toEqual(oracle(items, policy, protectedIds));
      expect(plan.keep.length + plan.drop.length).toBe(items.length);
    }
  });

  it('keeps the newest copy of a day, manual copies and protected ones; the newest always', () => {
    const at = (iso: string, id: string, manual = false): RetentionItem => ({
      id,
      time: new Date(iso),
      manual,
    });
    const items = [
      at('2026-11-24T01:00:00Z', 'early'),
      at('2026-11-24T05:00:00Z', 'late'),
      at('2026-01-01T00:00:00Z', 'old-manual', true),
      at('2025-06-01T00:00:00Z', 'old-latest'),
      at('2025-05-01T00:00:00Z', 'old'),
    ];
    const plan = planRetention(items, { daily: 1, weekly: 0, monthly: 0 }, new Set(['old-latest']));
    expect(plan.keep.map((d) => [d.id, d.reasons])).toEqual([
      ['late', ['daily', 'newest']],
      ['old-manual', ['manual']],
      ['old-latest', ['protected']],
    ]);
    expect(plan.drop.map((d) => d.id)).toEqual(['early', 'old']);
    const none = planRetention(items, { daily: 0, weekly: 0, monthly: 0 });
    expect(none.keep.map((d) => d.id)).toEqual(['late', 'old-manual']);
    expect(planRetention([], { daily: 1, weekly: 1, monthly: 1 })).toEqual({ keep: [], drop: [] });
  });

  it('refuses negative or fractional counts', () => {
    expect(() => planRetention([], { daily: -1, weekly: 0, monthly: 0 })).toThrow(RangeError);
    expect(() => planRetention([], { daily: 1.5, weekly: 0, monthly: 0 })).toThrow(RangeError);
  });
});

describe('bucket keys (UTC)', () => {
  it('numbers ISO weeks across year ends', () => {
    expect(isoWeekKey(new Date('2026-01-01T12:00:00Z'))).toBe('2026-W01'); // a Thursday
    expect(isoWeekKey(new Date('2027-01-01T12:00:00Z'))).toBe('2026-W53'); // a Friday
    expect(isoWeekKey(new Date('2024-12-30T00:00:00Z'))).toBe('2025-W01'); // a Monday
    expect(isoWeekKey(new Date('2026-11-22T23:59:59Z'))).toBe('2026-W47'); // a Sunday
    expect(isoWeekKey(new Date('2026-11-23T00:00:00Z'))).toBe('2026-W48'); // the Monday after
  });

  it('uses UTC days and months, whatever the local time zone', () => {
    expect(dayKey(new Date('2026-11-24T23:59:59Z'))).toBe('2026-11-24');
    expect(monthKey(new Date('2026-12-01T00:00:00Z'))).toBe('2026-12');
  });

  it('parses copy timestamps and rejects other names', () => {
    expect(parseCopyTimestamp('2026-11-24T05-13-53Z')?.toISOString()).toBe(
      '2026-11-24T05:13:53.000Z',
    );
    expect(parseCopyTimestamp('2026-11-24T05-13-53Z-a1b2.sql.gz')?.toISOString()).toBe(
      '2026-11-24T05:13:53.000Z',
    );
    expect(parseCopyTimestamp('latest')).toBeUndefined();
    expect(parseCopyTimestamp('2026-13-40T99-99-99Z')).toBeUndefined();
  });
});
