/** Where the operations of a run (state, dumps, retention) live, read from the config in one place. */
import type { Config } from '../config/schema.js';
import type { RetentionPolicy } from '../ops/retention.js';
import { defaultStateFile } from '../ops/work-dir.js';

/**
 * The dump directory (`dump.dir`), or undefined when dumps are not configured.
 * TODO(#7): return `config.dump.dir` once the `dump:` block exists; until then no dumps.
 */
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- wired to config.dump at the merge of #7
export function dumpDirectoryOf(config: Config): string | undefined {
  return undefined;
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
