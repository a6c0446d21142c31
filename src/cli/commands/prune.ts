/** `schema_backup prune`: apply the retention policy to user-data copies and dumps of this host. */
import { prune, type PruneResult } from '../../ops/prune.js';
import { withHostLock } from '../../snapshot/work-dir.js';
import type { Logger } from '../../support/logger.js';
import { hostNameFor, loadContext, type CommandContext, type GlobalArgs } from '../context.js';
import { pruneOffsite } from '../../offsite/prune-offsite.js';
import {
  dumpDirectoryOf,
  offsiteRetentionOf,
  offsiteStoreOf,
  retentionPolicyOf,
} from '../ops-config.js';
import { formatBytes } from '../output/format-bytes.js';
import { printJson, printLine } from '../output/print.js';

export interface PruneArgs extends GlobalArgs {
  readonly dryRun?: boolean | undefined;
  readonly json?: boolean | undefined;
  readonly waitLock?: number | undefined;
  readonly offsite?: boolean | undefined;
}

/**
 * Prunes under the host's lock (so never beside a running snapshot). Used by `prune` and,
 * with `retention.after_run`, at the end of a successful run. With `offsite`, the remote's
 * copies and dumps too (under `offsite.retention`).
 */
export async function runPrune(
  context: CommandContext,
  options: { dryRun: boolean; waitLock: number; logger: Logger; offsite?: boolean },
): Promise<PruneResult> {
  const { config } = context;
  const host = await hostNameFor(config);
  return withHostLock(
    config.backupDir,
    host,
    { waitSeconds: options.waitLock, logger: options.logger },
    async () => {
      const local = await prune({
        host,
        userDataDir: config.userDataBackupDir,
        dumpDir: dumpDirectoryOf(config),
        policy: retentionPolicyOf(config),
        dryRun: options.dryRun,
        logger: options.logger,
      });
      const store = options.offsite === true ? offsiteStoreOf(config, options.logger) : undefined;
      const policy = offsiteRetentionOf(config);
      if (store === undefined || policy === undefined) return local;
      const remote = await pruneOffsite(store, {
        host,
        policy,
        dryRun: options.dryRun,
        logger: options.logger,
      });
      const dropped = remote.flatMap((set) => set.drop);
      const bytes = dropped.reduce((sum, item) => sum + item.bytes, 0);
      return {
        ...local,
        sets: [...local.sets, ...remote],
        deleted: local.deleted + (options.dryRun ? 0 : dropped.length),
        bytesFreed: local.bytesFreed + (options.dryRun ? 0 : bytes),
        toDelete: local.toDelete + dropped.length,
        bytesToFree: local.bytesToFree + bytes,
      };
    },
  );
}

export async function pruneHandler(args: PruneArgs): Promise<number> {
  const context = await loadContext(args);
  const result = await runPrune(context, {
    dryRun: args.dryRun === true,
    waitLock: args.waitLock ?? 0,
    logger: context.logger,
    offsite: args.offsite !== false,
  });
  if (args.json === true) {
    printJson(result);
    return 0;
  }
  if (result.sets.length === 0)
    printLine('nothing to prune: neither user_data_backup_dir nor a dump directory is set');
  for (const set of result.sets) {
    const where = set.offsite === true ? ` on ${set.dir}` : '';
    const name =
      set.kind === 'user-data'
        ? `user-data copies ${set.offsite === true ? 'on' : 'in'} ${set.dir}`
        : `dumps ${set.series}${where}`;
    printLine(
      `${name}: keep ${String(set.keep.length)}, ${result.dryRun ? 'would delete' : 'deleted'} ${String(set.drop.length)}`,
    );
    for (const item of set.drop)
      printLine(
        `  ${result.dryRun ? 'would delete' : 'deleted'} ${item.name} (${formatBytes(item.bytes)})`,
      );
  }
  printLine(
    `${result.dryRun ? 'would free' : 'freed'} ${formatBytes(result.bytesToFree)} in ${String(result.toDelete)} item(s)`,
  );
  return 0;
}
