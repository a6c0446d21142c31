/**
 * Where the config file is: `--config PATH`, else `$SCHEMA_BACKUP_CONFIG`, else
 * `./etc/schema_backup.conf`, else `/etc/schema_backup/schema_backup.conf`. The search skips
 * a config marked `example: true` (the project's own `etc/schema_backup.conf`): run inside a
 * checkout of schema_backup, it would otherwise snapshot into the tool's own git history.
 */
import { access, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import yaml from 'js-yaml';
import { ConfigError } from '../errors.js';

export const SYSTEM_CONFIG_PATH = '/etc/schema_backup/schema_backup.conf';

/** How to get from the example to a config of one's own (shared by every refusal). */
export const EXAMPLE_CONFIG_HINT =
  'Copy it (e.g. to /etc/schema_backup/schema_backup.conf), set database.name and the categories, delete its `example: true` line, and point at the copy with --config PATH or $SCHEMA_BACKUP_CONFIG (or put it at /etc/schema_backup/schema_backup.conf, where it is found).';

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
 * defaults are tried in order, skipping an example config. Throws {@link ConfigError} when
 * none is found. (An explicit path to the example is refused when it is loaded.)
 */
export async function locateConfig(options: LocateConfigOptions): Promise<string> {
  const candidates = configCandidates(options);
  const explicit = candidates.length === 1;
  const skipped: string[] = [];
  for (const candidate of candidates) {
    try {
      await access(candidate);
    } catch {
      continue;
    }
    if (!explicit && (await isExampleConfig(candidate))) {
      skipped.push(candidate);
      continue;
    }
    return candidate;
  }
  const [first] = candidates;
  if (explicit && first !== undefined) {
    throw new ConfigError({ file: first }, 'config file not found');
  }
  if (skipped.length > 0) {
    throw new ConfigError(
      { file: skipped.join(' and ') },
      'this is the example config of schema_backup (example: true), which is never used; no other config was found',
      { hint: EXAMPLE_CONFIG_HINT },
    );
  }
  throw new ConfigError({ file: candidates.join(' or ') }, 'no config file found', {
    hint: 'Pass --config PATH or set SCHEMA_BACKUP_CONFIG; etc/schema_backup.conf in this project is a documented example to start from.',
  });
}

/**
 * Whether `file` says `example: true` at its top level. A file that is not valid YAML is not
 * an example: loading it reports what is wrong with it.
 */
async function isExampleConfig(file: string): Promise<boolean> {
  try {
    const document: unknown = yaml.load(await readFile(file, 'utf8'), {
      schema: yaml.CORE_SCHEMA,
    });
    return (
      typeof document === 'object' &&
      document !== null &&
      (document as Record<string, unknown>).example === true
    );
  } catch {
    return false;
  }
}
