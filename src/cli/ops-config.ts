/** Where the operations of a run (state, dumps, retention) live, read from the config in one place. */
import type { Config } from '../config/schema.js';
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
