/**
 * Retention on the off-site store: the policy of `ops/retention.ts` applied to a host's
 * user-data copies and to each dump series there, as `prune` applies it on disk. Manual items
 * (a `.keep` sidecar uploaded beside them) and the newest complete item of each set are
 * always kept. A copy's manifest is deleted first, so that a deletion cut short leaves an
 * incomplete copy, never one that looks whole.
 */
import type { PruneItem, PruneSet } from '../ops/prune.js';
import { planRetention, type RetentionPolicy } from '../ops/retention.js';
import type { Logger } from '../support/logger.js';
import type { OffsiteStore } from './offsite-store.js';
import { listRemoteItems, type RemoteItem } from './remote-items.js';
import { remoteDumpDir, remoteUserDataDir } from './upload.js';

export interface PruneOffsiteOptions {
  readonly host: string;
  readonly policy: RetentionPolicy;
  /** Decide and report only. */
  readonly dryRun: boolean;
  readonly logger: Logger;
}

/** Applies `options.policy` on `store`; returns one set per kind and series. Throws OffsiteError. */
export async function pruneOffsite(
  store: OffsiteStore,
  options: PruneOffsiteOptions,
): Promise<PruneSet[]> {
  const items = await listRemoteItems(store, options.host);
  const sets: PruneSet[] = [];
  if (items.userData.length > 0)
    sets.push(
      await applyToSet(
        store,
        'user-data',
        'user-data',
        remoteUserDataDir(options.host),
        items.userData,
        options,
      ),
    );
  for (const [series, found] of [...items.dumps].sort(([a], [b]) => (a < b ? -1 : 1)))
    sets.push(await applyToSet(store, 'dump', series, remoteDumpDir(options.host), found, options));
  return sets;
}

async function applyToSet(
  store: OffsiteStore,
  kind: PruneSet['kind'],
  series: string,
  dir: string,
  found: readonly RemoteItem[],
  options: PruneOffsiteOptions,
): Promise<PruneSet> {
  const newestComplete = found.find((item) => item.complete);
  const plan = planRetention(
    found,
    options.policy,
    new Set(newestComplete === undefined ? [] : [newestComplete.id]),
  );
  const byId = new Map(found.map((item) => [item.id, item]));
  const describe = (decision: (typeof plan.keep)[number]): PruneItem => ({
    name: decision.id,
    time: decision.time.toISOString(),
    bytes: byId.get(decision.id)?.bytes ?? 0,
    reasons: decision.reasons,
  });
  const drop: PruneItem[] = [];
  for (const decision of plan.drop) {
    const item = byId.get(decision.id);
    drop.push(describe(decision));
    if (item === undefined) continue;
    const where = `${store.description}/${dir}/${item.id}`;
    if (options.dryRun) {
      options.logger.debug(`would delete ${where}`);
      continue;
    }
    if (item.isDir) {
      if (item.complete) await store.deleteFile(`${dir}/${item.id}/manifest.json`);
      await store.deleteDirectory(`${dir}/${item.id}`);
    } else await store.deleteFile(`${dir}/${item.id}`);
    options.logger.info(`deleted ${where}`);
  }
  return {
    kind,
    series,
    dir: `${store.description}/${dir}`,
    offsite: true,
    keep: plan.keep.map(describe),
    drop,
  };
}
