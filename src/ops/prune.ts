/**
 * `prune`: applies the retention policy to this host's timestamped user-data copies
 * (`<user data dir>/<host>/<timestamp>/`) and dumps (`<dump dir>/<host>_<database>_<timestamp>…`,
 * one series per database). Git history is never touched. Hidden entries (a copy or dump
 * still being written) and `.keep` sidecars are never counted or deleted; an item with a
 * `<name>.keep` sidecar is manual and kept forever, as are the copy `latest` points at and
 * the newest complete item of each set.
 *
 * Ops modules log through the given logger and never print; they may use snapshot/ (for the
 * user-data layout) and support/, never the CLI.
 */
import { readdir, readlink, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LATEST_LINK, listCopies, USER_DATA_MANIFEST } from '../snapshot/user-data-copy.js';
import { writeFileAtomic } from '../support/atomic-write.js';
import type { Logger } from '../support/logger.js';
import { pathExists } from '../support/path-exists.js';
import { removeLeftovers } from '../support/remove-leftovers.js';
import { bytesFreedBy, diskUsage } from './disk-usage.js';
import {
  parseCopyTimestamp,
  planRetention,
  type KeepReason,
  type RetentionItem,
  type RetentionPolicy,
} from './retention.js';

/** The sidecar that marks a copy or dump as manual: `<name>.keep`, empty. */
export const KEEP_SUFFIX = '.keep';

export interface PruneOptions {
  /** Name of this host's directory; only its copies and dumps are considered. */
  readonly host: string;
  /** `user_data_backup_dir`; undefined = no user-data copies to prune. */
  readonly userDataDir?: string | undefined;
  /** The dump directory; undefined = no dumps to prune. */
  readonly dumpDir?: string | undefined;
  readonly policy: RetentionPolicy;
  /** Decide and report only; delete nothing. */
  readonly dryRun: boolean;
  readonly logger: Logger;
}

export interface PruneItem {
  /** File or directory name within the set's directory. */
  readonly name: string;
  /** ISO 8601 time of the item, from its name. */
  readonly time: string;
  /**
   * A kept item's size; a dropped item's bytes its deletion frees (files hard-linked into a
   * kept copy count for nothing). Hard-linked files count once.
   */
  readonly bytes: number;
  /** Why it is kept; empty for a deleted item. */
  readonly reasons: readonly KeepReason[];
}

export interface PruneSet {
  readonly kind: 'user-data' | 'dump';
  /** `user-data`, or the dump series `<host>_<database>`. */
  readonly series: string;
  /** A local directory, or for an off-site set `name:path/<host>/user-data` or `.../dumps`. */
  readonly dir: string;
  /** The set is on the off-site remote. */
  readonly offsite?: true | undefined;
  readonly keep: readonly PruneItem[];
  /** Deleted, or in a dry run to be deleted. Newest first. */
  readonly drop: readonly PruneItem[];
}

export interface PruneResult {
  readonly dryRun: boolean;
  readonly sets: readonly PruneSet[];
  /** Items deleted: 0 in a dry run. */
  readonly deleted: number;
  /** Bytes freed: 0 in a dry run. */
  readonly bytesFreed: number;
  /** Items the policy drops: those deleted, or in a dry run those that would be. */
  readonly toDelete: number;
  /** Bytes of {@link toDelete}'s items. */
  readonly bytesToFree: number;
}

/** A timestamped item found on disk. */
export interface FoundItem extends RetentionItem {
  /** Complete and usable: the newest such item is never deleted. */
  readonly complete: boolean;
}

/** Applies `options.policy`; throws what the file system throws (after logging progress). */
export async function prune(options: PruneOptions): Promise<PruneResult> {
  const sets: PruneSet[] = [];
  if (options.userDataDir !== undefined) {
    const dir = join(options.userDataDir, options.host);
    const found = await listUserDataCopies(dir);
    const latest = await readlink(join(dir, LATEST_LINK)).catch(() => undefined);
    sets.push(await applyToSet('user-data', 'user-data', dir, found, latest, options));
  }
  if (options.dumpDir !== undefined) {
    const series = await listDumps(options.dumpDir, options.host);
    for (const [name, found] of [...series.entries()].sort(([a], [b]) => (a < b ? -1 : 1)))
      sets.push(await applyToSet('dump', name, options.dumpDir, found, undefined, options));
  }
  const toDelete = sets.reduce((sum, set) => sum + set.drop.length, 0);
  const bytesToFree = sets.reduce(
    (sum, set) => sum + set.drop.reduce((inner, item) => inner + item.bytes, 0),
    0,
  );
  return {
    dryRun: options.dryRun,
    sets,
    deleted: options.dryRun ? 0 : toDelete,
    bytesFreed: options.dryRun ? 0 : bytesToFree,
    toDelete,
    bytesToFree,
  };
}

async function applyToSet(
  kind: PruneSet['kind'],
  series: string,
  dir: string,
  found: readonly FoundItem[],
  latest: string | undefined,
  options: PruneOptions,
): Promise<PruneSet> {
  // What a deletion cut short left (ours: only prune makes these names).
  if (!options.dryRun) await removeLeftovers(dir, new RegExp(`^${escapeRegExp(PRUNING_PREFIX)}`));
  const protectedIds = new Set<string>();
  if (latest !== undefined) protectedIds.add(latest);
  const newestComplete = [...found]
    .filter((item) => item.complete)
    .sort((a, b) => b.time.getTime() - a.time.getTime())[0];
  if (newestComplete !== undefined) protectedIds.add(newestComplete.id);
  const plan = planRetention(found, options.policy, protectedIds);
  const describe = (
    decision: { id: string; time: Date; reasons: readonly KeepReason[] },
    bytes: number,
  ): PruneItem => ({
    name: decision.id,
    time: decision.time.toISOString(),
    bytes,
    reasons: decision.reasons,
  });
  const keep: PruneItem[] = [];
  for (const decision of plan.keep)
    keep.push(describe(decision, await diskUsage(join(dir, decision.id))));
  // Files hard-linked into a kept copy (unchanged tables) free nothing when a dropped one goes.
  const freed = await bytesFreedBy(plan.drop.map((decision) => join(dir, decision.id)));
  const drop: PruneItem[] = [];
  for (const [index, decision] of plan.drop.entries()) {
    const item = describe(decision, freed[index] ?? 0);
    drop.push(item);
    if (options.dryRun) {
      // The result lists them; the prune command prints that list (issue 21: twice before).
      options.logger.debug(`would delete ${join(dir, item.name)}`);
    } else {
      await deleteEntry(dir, item.name);
      options.logger.info(`deleted ${join(dir, item.name)}`);
    }
  }
  return { kind, series, dir, keep, drop };
}

/** Hidden name an entry takes while it is being deleted. */
const PRUNING_PREFIX = '.pruning-';

/**
 * Deletes `dir/name`: renamed to a hidden name first, so that a deletion cut short never
 * leaves a half copy that looks complete (a later prune removes the rest).
 */
async function deleteEntry(dir: string, name: string): Promise<void> {
  const hidden = join(dir, `${PRUNING_PREFIX}${name}`);
  await rename(join(dir, name), hidden);
  await rm(hidden, { recursive: true, force: true });
}

/** This host's user-data copies under `hostDir` (timestamp directories; not `latest`, hidden or `.keep`). */
export async function listUserDataCopies(hostDir: string): Promise<FoundItem[]> {
  const items: FoundItem[] = [];
  for (const name of await listCopies(hostDir)) {
    const time = parseCopyTimestamp(name);
    if (time === undefined) continue;
    items.push({
      id: name,
      time,
      manual: await pathExists(join(hostDir, `${name}${KEEP_SUFFIX}`)),
      complete: await pathExists(join(hostDir, name, USER_DATA_MANIFEST)),
    });
  }
  return items;
}

const DUMP_NAME = /^(.+)_(\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ)(?:-[0-9a-f]+)?(?:\.[A-Za-z0-9]+)*$/;

/**
 * The series (`<host>_<database>`) and time of a dump named `name`, or undefined when the
 * name is not a dump's (hidden, a `.keep` sidecar, another host's, another shape).
 */
export function parseDumpName(
  name: string,
  host: string,
): { series: string; time: Date } | undefined {
  if (name.startsWith('.') || name.endsWith(KEEP_SUFFIX) || !name.startsWith(`${host}_`))
    return undefined;
  const match = DUMP_NAME.exec(name);
  const time = parseCopyTimestamp(match?.[2] ?? '');
  if (match?.[1] === undefined || time === undefined) return undefined;
  return { series: match[1], time };
}

/**
 * The dumps of `host` in `dumpDir`, by series (`<host>_<database>`): entries named
 * `<host>_<database>_<timestamp>` plus extensions (files or directories). Hidden entries
 * (being written) and `.keep` sidecars are left out. An empty map when the directory is missing.
 */
export async function listDumps(dumpDir: string, host: string): Promise<Map<string, FoundItem[]>> {
  const series = new Map<string, FoundItem[]>();
  let names: string[];
  try {
    names = await readdir(dumpDir);
  } catch {
    return series;
  }
  for (const name of names) {
    const parsed = parseDumpName(name, host);
    if (parsed === undefined) continue;
    const { time } = parsed;
    const item: FoundItem = {
      id: name,
      time,
      manual: await pathExists(join(dumpDir, `${name}${KEEP_SUFFIX}`)),
      complete: true,
    };
    const list = series.get(parsed.series);
    if (list === undefined) series.set(parsed.series, [item]);
    else list.push(item);
  }
  return series;
}

/**
 * Marks the copy or dump at `path` as manual (kept by every prune) with an empty
 * `<path>.keep` sidecar. Idempotent.
 */
export async function markManual(path: string): Promise<string> {
  const sidecar = `${path}${KEEP_SUFFIX}`;
  if (!(await pathExists(sidecar))) await writeFileAtomic(sidecar, '', { mode: 0o600 });
  return sidecar;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
