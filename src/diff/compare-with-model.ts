/**
 * The model comparison (the idea of the original's db_upgrade): every host directory of a
 * shared repository compared with the model host's, to find the hosts whose schema differs
 * from it. Each comparison reads from the model to the host: `column c added` means the host
 * has a column the model lacks.
 */
import type { Engine } from '../engine/engine.js';
import {
  diffSnapshots,
  type DiffOptions,
  type DiffResult,
  type SnapshotTree,
} from './diff-snapshots.js';

export interface HostComparison extends Omit<DiffResult, 'patches'> {
  readonly host: string;
  /** Any table or object differs. */
  readonly different: boolean;
}

export interface ModelComparisonResult {
  readonly model: string;
  /** Every other host, sorted by name. */
  readonly hosts: readonly HostComparison[];
  /** Names of the hosts that differ from the model. */
  readonly differing: readonly string[];
}

/** True when a comparison found a table or object that differs. */
export function isDifferent(result: DiffResult): boolean {
  return result.tables.length + result.objects.length > 0;
}

/**
 * Compares the tree of every host in `trees` but `model` with the model's (no unified
 * diffs: `diffSnapshots` of two hosts gives those). Throws when `model` is not in `trees`.
 */
export async function compareWithModel(
  engine: Engine,
  trees: ReadonlyMap<string, SnapshotTree>,
  model: string,
  options: Omit<DiffOptions, 'patches'>,
): Promise<ModelComparisonResult> {
  const modelTree = trees.get(model);
  if (modelTree === undefined) throw new Error(`no host directory ${model} to compare with`);
  const hosts: HostComparison[] = [];
  for (const host of [...trees.keys()].sort()) {
    const tree = trees.get(host);
    if (host === model || tree === undefined) continue;
    const result = await diffSnapshots(engine, modelTree, tree, { ...options, patches: false });
    hosts.push({
      host,
      different: isDifferent(result),
      from: result.from,
      to: result.to,
      tables: result.tables,
      objects: result.objects,
      rowsNotCompared: result.rowsNotCompared,
    });
  }
  return {
    model,
    hosts,
    differing: hosts.filter((host) => host.different).map((host) => host.host),
  };
}
