/**
 * Where the config file is: `--config PATH`, else `$SCHEMA_BACKUP_CONFIG`, else
 * `./etc/schema_backup.conf`, else `/etc/schema_backup/schema_backup.conf`.
 */
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';

export const SYSTEM_CONFIG_PATH = '/etc/schema_backup/schema_backup.conf';

export interface LocateConfigOptions {
  /** `--config`, when given. */
  readonly explicitPath?: string | undefined;
  /** `$SCHEMA_BACKUP_CONFIG`, when set. */
  readonly environmentPath?: string | undefined;
  readonly cwd: string;
}

/** The candidate paths in resolution order (for messages and tests). */
export function configCandidates(options: LocateConfigOptions): string[] {
  if (options.explicitPath !== undefined) return [resolve(options.cwd, options.explicitPath)];
  if (options.environmentPath !== undefined && options.environmentPath !== '') {
    return [resolve(options.cwd, options.environmentPath)];
  }
  return [resolve(options.cwd, 'etc/schema_backup.conf'), SYSTEM_CONFIG_PATH];
}

/**
 * The absolute path of the config to use. An explicit path (flag or env) must exist; the
 * defaults are tried in order. Throws {@link ConfigError} when none is found.
 */
export async function locateConfig(options: LocateConfigOptions): Promise<string> {
  const candidates = configCandidates(options);
  for (const candidate of candidates) {
    try {
      await access(candidate);
      return candidate;
    } catch {
      // try the next one
    }
  }
  const [first] = candidates;
  if (candidates.length === 1 && first !== undefined) {
    throw new ConfigError({ file: first }, 'config file not found');
  }
  throw new ConfigError({ file: candidates.join(' or ') }, 'no config file found', {
    hint: 'Pass --config PATH or set SCHEMA_BACKUP_CONFIG; etc/schema_backup.conf in this project is a documented example to start from.',
  });
}
