/** `schema_backup log`: the snapshot history of a host directory, with what changed in each. */
import { formatRowChanges } from '../../diff/count-row-changes.js';
import { engineFor } from '../engine-for.js';
import { readSnapshotLog, type LoggedChange } from '../../diff/snapshot-log.js';
import { UsageError } from '../../errors.js';
import { Repository } from '../../git/repository.js';
import { fileNameForObject, hostDirectory } from '../../snapshot/layout.js';
import { hostNameFor, loadContext, requireKnownHost, type GlobalArgs } from '../context.js';
import { BACKUP_HOST_OPTION, type BackupHostArgs } from '../backup-host-option.js';
import { printJson, printLine } from '../output/print.js';

export interface LogArgs extends GlobalArgs, BackupHostArgs {
  readonly table?: string | undefined;
  readonly since?: string | undefined;
  readonly maxCount?: number | undefined;
  readonly json?: boolean | undefined;
}

export async function logHandler(args: LogArgs): Promise<number> {
  const { config } = await loadContext(args);
  const host = await hostNameFor(config, args.backupHost);
  const repository = await Repository.find(config.backupDir);
  if (repository === undefined)
    throw new UsageError(`${config.backupDir} is not in a git repository: there is no history`);
  if (args.backupHost !== undefined)
    await requireKnownHost(config, host, BACKUP_HOST_OPTION, repository);
  const hostDir = hostDirectory(config.backupDir, host);
  if ((await repository.head()) === undefined) {
    if (args.json === true) printJson([]);
    else printLine(`no snapshots of ${host} in ${repository.root} yet`);
    return 0;
  }
  const engine = await engineFor(config);
  const entries = await readSnapshotLog(
    engine,
    repository,
    hostDir,
    (table) => fileNameForObject('table', engine.fileNameParts('table', engine.tableNamed(table))),
    {
      table: args.table,
      since: args.since,
      maxCount: args.maxCount,
    },
  );
  if (args.json === true) {
    printJson(entries);
    return 0;
  }
  for (const entry of entries) {
    printLine(
      `${entry.id.slice(0, 12)} ${entry.date.replace('T', ' ').slice(0, 19)} ${entry.author}: ${entry.subject}`,
    );
    for (const change of entry.changes) printLine(`  ${describeChange(change)}`);
  }
  if (entries.length === 0) printLine(`no snapshots of ${host} in ${repository.root}`);
  return 0;
}

function describeChange(change: LoggedChange): string {
  const what = `${change.kind} ${change.name}`;
  if (change.change !== 'changed') return `${what}: ${change.change}`;
  const parts = [
    change.structureChanged ? 'structure changed' : '',
    change.rowsAdded + change.rowsRemoved + change.rowsChanged > 0
      ? `rows ${formatRowChanges({ added: change.rowsAdded, removed: change.rowsRemoved, changed: change.rowsChanged })}${change.rowsCounted === false ? ' (too many to count by key)' : ''}`
      : '',
  ];
  return `${what}: ${parts.filter(Boolean).join(', ') || 'changed'}`;
}
