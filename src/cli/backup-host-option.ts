/**
 * `--backup-host NAME`: which host directory of the backup to read (diff, log, restore,
 * verify). It was `--host`, which a MariaDB user reads as the database server (`mariadb
 * --host`); `--host` still works, with a warning, so that scripts keep running meanwhile.
 */
import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';
import type { GlobalArgs } from './context.js';
import { loggerFor } from './logger-for.js';

export interface BackupHostArgs {
  readonly backupHost?: string | undefined;
}

export const BACKUP_HOST_OPTION = '--backup-host';

/** Adds `--backup-host` (and the deprecated `--host`) to a command that reads a host directory. */
export function withBackupHostOption<T>(
  yargs: Argv<T>,
  describe = 'host directory of the backup to read (default: this host)',
): Argv<T & BackupHostArgs> {
  return yargs
    .option('backup-host', { type: 'string', requiresArg: true, describe })
    .option('host', { type: 'string', requiresArg: true, hidden: true })
    .middleware((argv) => {
      const old = (argv as { host?: unknown }).host;
      if (old === undefined) return;
      if (argv.backupHost !== undefined)
        throw new UsageError('--host is the old name of --backup-host; give one of them');
      loggerFor(argv as GlobalArgs).warn(
        "--host is deprecated: it names a backup host directory, now --backup-host (the database server's host is -h/--server-host)",
      );
      // Both spellings, as yargs sets them for an option it parsed.
      Object.assign(argv, { backupHost: old, 'backup-host': old });
    });
}
