/** Where the operations of a run (state, dumps, retention) live, read from the config in one place. */
import type { Config } from '../config/schema.js';
import { UsageError } from '../errors.js';
import type { OffsiteStore } from '../offsite/offsite-store.js';
import { RcloneRemote } from '../offsite/rclone-remote.js';
import type { Logger } from '../support/logger.js';
import type { RetentionPolicy } from '../ops/retention.js';
import { defaultStateFile } from '../ops/work-dir.js';

/** The dump directory (`dump.dir`, defaulted to `dumps/` beside the backup directory). */
export function dumpDirectoryOf(config: Config): string {
  return config.dump.dir;
}

/** The run state file: `state_file:`, else `<backup dir>/.schema_backup/<host>.state.json`. */
export function stateFileOf(config: Config, host: string): string {
  return config.stateFile ?? defaultStateFile(config.backupDir, host);
}

/** The `retention:` counts. */
export function retentionPolicyOf(config: Config): RetentionPolicy {
  const { daily, weekly, monthly } = config.retention;
  return { daily, weekly, monthly };
}

/**
 * The off-site store of `offsite:` (an rclone remote), or undefined when the config has none.
 * `logger` hears each rclone command (debug) and its output, redacted.
 */
export function offsiteStoreOf(
  config: Config,
  logger: Logger,
  signal?: AbortSignal,
): OffsiteStore | undefined {
  const offsite = config.offsite;
  if (offsite === undefined) return undefined;
  return new RcloneRemote({
    remote: offsite.remote,
    configFile: offsite.rcloneConfig,
    timeoutSeconds: offsite.timeoutSeconds,
    logger,
    signal,
  });
}

/** The store of `offsite:`; a UsageError when the config has no such block. */
export function requireOffsiteStore(config: Config, logger: Logger, option: string): OffsiteStore {
  const store = offsiteStoreOf(config, logger);
  if (store === undefined)
    throw new UsageError(`${option} needs an offsite block in the config ${config.file}`, {
      hint: 'Add offsite: { remote: "name:path" } naming an rclone remote.',
    });
  return store;
}

/** The `offsite.retention:` counts (each defaulting to the local one). */
export function offsiteRetentionOf(config: Config): RetentionPolicy | undefined {
  const retention = config.offsite?.retention;
  if (retention === undefined) return undefined;
  const { daily, weekly, monthly } = retention;
  return { daily, weekly, monthly };
}
