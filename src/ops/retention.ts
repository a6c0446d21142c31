/**
 * The retention policy as a pure function: which timestamped items (user-data copies, dumps
 * of one series) to keep and which to delete. No file system here; `prune.ts` applies it.
 *
 * Definitions (all in UTC), for items sorted newest first:
 * - daily N: the newest item of each of the N most recent calendar days that have items;
 * - weekly N: the newest item of each of the N most recent ISO 8601 weeks that have items;
 * - monthly N: the newest item of each of the N most recent calendar months that have items;
 * - plus every manual item, the newest item, and every item the caller protects (`latest`).
 * An item kept for several reasons lists them all. A count of 0 turns that rule off.
 *
 * Imports nothing of this project.
 */

export interface RetentionPolicy {
  readonly daily: number;
  readonly weekly: number;
  readonly monthly: number;
}

/** The policy when the config says nothing: 30 daily, 12 weekly, 12 monthly. */
export const DEFAULT_RETENTION: RetentionPolicy = { daily: 30, weekly: 12, monthly: 12 };

export interface RetentionItem {
  /** Unique among the items (a file or directory name). */
  readonly id: string;
  readonly time: Date;
  /** Marked to be kept forever (a `.keep` sidecar). */
  readonly manual: boolean;
}

export type KeepReason = 'daily' | 'weekly' | 'monthly' | 'manual' | 'newest' | 'protected';

export interface RetentionDecision {
  readonly id: string;
  readonly time: Date;
  /** Empty when the item is to be deleted. */
  readonly reasons: readonly KeepReason[];
}

export interface RetentionPlan {
  /** Newest first. */
  readonly keep: readonly RetentionDecision[];
  /** Newest first. */
  readonly drop: readonly RetentionDecision[];
}

/**
 * Decides what to keep of `items` under `policy`. `protectedIds` (e.g. what `latest` points
 * at, the newest complete copy) are always kept. Never keeps nothing when there are items:
 * the newest one stays. Throws a RangeError on a negative or fractional count.
 */
export function planRetention(
  items: readonly RetentionItem[],
  policy: RetentionPolicy,
  protectedIds: ReadonlySet<string> = new Set(),
): RetentionPlan {
  for (const [name, count] of Object.entries(policy))
    if (!Number.isInteger(count) || (count as number) < 0)
      throw new RangeError(`retention ${name} must be a whole number >= 0`);
  const sorted = [...items].sort(
    (a, b) => b.time.getTime() - a.time.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
  );
  const reasons = new Map<string, KeepReason[]>(sorted.map((item) => [item.id, []]));
  const add = (id: string, reason: KeepReason): void => {
    reasons.get(id)?.push(reason);
  };
  const bucketRule = (reason: KeepReason, count: number, key: (time: Date) => string): void => {
    const seen = new Set<string>();
    for (const item of sorted) {
      if (seen.size >= count) break;
      const bucket = key(item.time);
      if (seen.has(bucket)) continue;
      seen.add(bucket);
      add(item.id, reason);
    }
  };
  bucketRule('daily', policy.daily, dayKey);
  bucketRule('weekly', policy.weekly, isoWeekKey);
  bucketRule('monthly', policy.monthly, monthKey);
  for (const item of sorted) {
    if (item.manual) add(item.id, 'manual');
    if (protectedIds.has(item.id)) add(item.id, 'protected');
  }
  const newest = sorted[0];
  if (newest !== undefined) add(newest.id, 'newest');
  const decisions = sorted.map((item) => ({
    id: item.id,
    time: item.time,
    reasons: reasons.get(item.id) ?? [],
  }));
  return {
    keep: decisions.filter((decision) => decision.reasons.length > 0),
    drop: decisions.filter((decision) => decision.reasons.length === 0),
  };
}

/** `2026-11-24` (UTC). */
export function dayKey(time: Date): string {
  return time.toISOString().slice(0, 10);
}

/** `2026-11` (UTC). */
export function monthKey(time: Date): string {
  return time.toISOString().slice(0, 7);
}

/** `2026-W48`: the ISO 8601 week-numbering year and week (weeks start on Monday; UTC). */
export function isoWeekKey(time: Date): string {
  const day = new Date(Date.UTC(time.getUTCFullYear(), time.getUTCMonth(), time.getUTCDate()));
  // The Thursday of this week decides its year (ISO 8601).
  const weekday = day.getUTCDay() === 0 ? 7 : day.getUTCDay();
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${String(day.getUTCFullYear())}-W${String(week).padStart(2, '0')}`;
}

/**
 * The time a `copyTimestamp` name stands for (`2026-11-24T05-13-53Z`, optionally followed by
 * anything, such as `-a1b2` or `.sql.gz`), or undefined when `name` does not start with one.
 */
export function parseCopyTimestamp(name: string): Date | undefined {
  const match = /^(\d{4})-(\d\d)-(\d\d)T(\d\d)-(\d\d)-(\d\d)Z/.exec(name);
  if (match === null) return undefined;
  const time = new Date(
    `${match[1] ?? ''}-${match[2] ?? ''}-${match[3] ?? ''}T${match[4] ?? ''}:${match[5] ?? ''}:${match[6] ?? ''}Z`,
  );
  return Number.isNaN(time.getTime()) ? undefined : time;
}
