/**
 * The user-data copies and dumps of one host on the off-site store, read from one recursive
 * listing: their names, times (from the names), sizes, and whether each is complete (its
 * manifest is there) and manual (a `.keep` sidecar is there).
 */
import { KEEP_SUFFIX, parseDumpName, type FoundItem } from '../ops/prune.js';
import { parseCopyTimestamp } from '../ops/retention.js';
import type { OffsiteStore } from './offsite-store.js';

export interface RemoteItem extends FoundItem {
  readonly bytes: number;
  /** A directory (a user-data copy, a dump directory) rather than one file. */
  readonly isDir: boolean;
}

export interface RemoteItems {
  /** Newest first. */
  readonly userData: readonly RemoteItem[];
  /** By dump series (`<host>_<database>`), each newest first. */
  readonly dumps: ReadonlyMap<string, readonly RemoteItem[]>;
}

interface Tally {
  time: Date;
  bytes: number;
  isDir: boolean;
  hasManifest: boolean;
  series?: string;
}

/** Lists `host`'s items on `store` (an empty set when it has none). Throws OffsiteError. */
export async function listRemoteItems(store: OffsiteStore, host: string): Promise<RemoteItems> {
  const userData = new Map<string, Tally>();
  const dumps = new Map<string, Tally>();
  const sidecars = new Set<string>();
  for (const entry of await store.list(host)) {
    const [area, name, ...rest] = entry.path.split('/');
    if (name === undefined || name.startsWith('.')) continue;
    if (name.endsWith(KEEP_SUFFIX)) {
      sidecars.add(`${area ?? ''}/${name.slice(0, -KEEP_SUFFIX.length)}`);
      continue;
    }
    let tallies: Map<string, Tally>;
    let time: Date | undefined;
    let series: string | undefined;
    if (area === 'user-data') {
      tallies = userData;
      time = parseCopyTimestamp(name);
    } else if (area === 'dumps') {
      tallies = dumps;
      const parsed = parseDumpName(name, host);
      time = parsed?.time;
      series = parsed?.series;
    } else continue;
    if (time === undefined) continue;
    const tally = tallies.get(name) ?? {
      time,
      bytes: 0,
      isDir: false,
      hasManifest: false,
      ...(series === undefined ? {} : { series }),
    };
    if (rest.length > 0 || entry.isDir) tally.isDir = true;
    if (!entry.isDir) tally.bytes += entry.size;
    if (rest.length === 1 && rest[0] === 'manifest.json') tally.hasManifest = true;
    tallies.set(name, tally);
  }
  const item = (area: string, name: string, tally: Tally): RemoteItem => ({
    id: name,
    time: tally.time,
    manual: sidecars.has(`${area}/${name}`),
    // A single-file dump is uploaded whole; a directory is complete once its manifest is there.
    complete: tally.isDir ? tally.hasManifest : true,
    bytes: tally.bytes,
    isDir: tally.isDir,
  });
  const newestFirst = (a: RemoteItem, b: RemoteItem): number =>
    b.time.getTime() - a.time.getTime() || (a.id < b.id ? 1 : -1);
  const bySeries = new Map<string, RemoteItem[]>();
  for (const [name, tally] of dumps) {
    const list = bySeries.get(tally.series ?? '') ?? [];
    list.push(item('dumps', name, tally));
    bySeries.set(tally.series ?? '', list);
  }
  for (const list of bySeries.values()) list.sort(newestFirst);
  return {
    userData: [...userData]
      .map(([name, tally]) => item('user-data', name, tally))
      .sort(newestFirst),
    dumps: bySeries,
  };
}
