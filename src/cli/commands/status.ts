/**
 * `schema_backup status`: the last runs of this host, their age, and the disk they use.
 * Exits 1 when the last successful snapshot is older than `--max-age` (default
 * `status.max_age`, 26h): a freshness check for monitoring. `--all-hosts`: the last snapshot
 * commit of every host directory of the shared repository, from git alone; exits 1 when any
 * host is stale.
 */
import { UsageError } from '../../errors.js';
import { readStatus, type RunOverview, type StatusResult } from '../../ops/status.js';
import { formatDuration, parseDuration } from '../../support/duration.js';
import { readFleetStatus, type FleetStatusResult } from '../../ops/fleet-status.js';
import {
  hostNameFor,
  loadRepositoryContext,
  requireRepository,
  type GlobalArgs,
} from '../context.js';
import { dumpDirectoryOf, stateFileOf } from '../ops-config.js';
import { formatBytes } from '../output/format-bytes.js';
import { printJson, printLine } from '../output/print.js';

export interface StatusArgs extends GlobalArgs {
  readonly json?: boolean | undefined;
  readonly maxAge?: string | undefined;
  readonly allHosts?: boolean | undefined;
  readonly backupDir?: string | undefined;
}

export async function statusHandler(args: StatusArgs): Promise<number> {
  if (args.backupDir !== undefined && args.allHosts !== true)
    throw new UsageError('--backup-dir goes with --all-hosts', {
      hint: 'The status of this host reads its run state from the config: use --config.',
    });
  const context = await loadRepositoryContext(args, args.backupDir);
  const { config } = context;
  let maxAgeSeconds = config.status.maxAgeSeconds;
  if (args.maxAge !== undefined) {
    const parsed = parseDuration(args.maxAge);
    if (parsed === undefined || parsed <= 0)
      throw new UsageError(`--max-age ${args.maxAge} is not a duration`, {
        hint: 'Write it as a number with s, m, h, d or w, e.g. --max-age 26h.',
      });
    maxAgeSeconds = parsed;
  }
  if (args.allHosts === true) {
    const fleet = await readFleetStatus({
      repository: await requireRepository(config.backupDir, 'status --all-hosts'),
      backupDir: config.backupDir,
      maxAgeSeconds,
    });
    if (args.json === true) printJson(fleet);
    else printFleetStatus(fleet);
    return fleet.stale.length === 0 && fleet.hosts.length > 0 ? 0 : 1;
  }
  const host = await hostNameFor(config);
  const status = await readStatus({
    host,
    backupDir: config.backupDir,
    stateFile: stateFileOf(config, host),
    userDataDir: config.userDataBackupDir,
    dumpDir: dumpDirectoryOf(config),
    maxAgeSeconds,
    push:
      config.git.push === undefined
        ? undefined
        : { remote: config.git.push, branch: config.git.branch },
  });
  if (args.json === true) printJson(status);
  else printStatus(status);
  return status.fresh ? 0 : 1;
}

/** What the last run did off-site, from its summary (see cli/offsite-after-run.ts). */
function offsiteLine(summary: RunOverview['summary']): string | undefined {
  const text = (value: unknown): string => (typeof value === 'string' ? value : '');
  switch (summary.offsite) {
    case 'uploaded':
      return `uploaded and checked ${text(summary.offsiteItem)}`;
    case 'failed':
      return `UPLOAD FAILED: ${text(summary.offsiteError)}`;
    case 'prune-failed':
      return `uploaded ${text(summary.offsiteItem)}, but the remote retention FAILED: ${text(summary.offsiteError)}`;
    default:
      return undefined;
  }
}

function printStatus(status: StatusResult): void {
  const ago = (seconds: number): string => `${formatDuration(Math.max(0, seconds))} ago`;
  const took = (seconds: number): string =>
    seconds < 60 ? `${seconds.toFixed(1)}s` : formatDuration(seconds);
  const when = (overview: RunOverview): string =>
    `${ago(overview.ageSeconds)}, at ${overview.finishedAt}, took ${took(overview.durationSeconds)}`;
  const run = (overview: RunOverview): string =>
    `${overview.outcome} (exit ${String(overview.exitCode)}) ${when(overview)}${overview.error === undefined ? '' : `: ${overview.error.message}`}`;
  printLine(`host ${status.host}`);
  printLine(
    status.fresh
      ? `fresh: the last successful snapshot is younger than ${formatDuration(status.maxAgeSeconds)}`
      : `NOT FRESH (max age ${formatDuration(status.maxAgeSeconds)}): ${status.problems.join('; ')}`,
  );
  const names = Object.keys(status.commands).sort();
  if (names.length === 0) printLine(`runs: none recorded (${status.stateFile})`);
  for (const name of names) {
    const command = status.commands[name];
    if (command === undefined) continue;
    printLine(`${name}:`);
    printLine(`  last run: ${run(command.lastRun)}`);
    printLine(
      `  last success: ${command.lastSuccess === undefined ? 'never' : when(command.lastSuccess)}`,
    );
    printLine(`  consecutive failures: ${String(command.consecutiveFailures)}`);
    const offsite = offsiteLine(command.lastRun.summary);
    if (offsite !== undefined) printLine(`  off-site: ${offsite}`);
    const summary = command.lastSuccess?.summary;
    if (summary?.tables !== undefined)
      printLine(
        `  tables: ${String(summary.tables)}, bytes written: ${formatBytes(summary.bytes ?? 0)}`,
      );
  }
  printLine(
    `last commit: ${status.lastCommit === undefined ? 'none' : `${status.lastCommit.id.slice(0, 12)} ${status.lastCommit.date} ${status.lastCommit.subject}`}`,
  );
  if (status.unpushed !== undefined)
    printLine(
      `unpushed commits: ${String(status.unpushed.commits)}${status.unpushed.commits === 0 ? '' : ` (the remote ${status.unpushed.remote} lacks them; the next snapshot pushes them)`}`,
    );
  if (status.disk.userData !== undefined)
    printLine(
      `last user-data copy: ${status.lastUserDataCopy === undefined ? 'none' : `${status.lastUserDataCopy.name} (${ago(status.lastUserDataCopy.ageSeconds)})`}`,
    );
  if (status.disk.dumps !== undefined)
    printLine(
      `last dump: ${status.lastDump === undefined ? 'none' : `${status.lastDump.name} (${ago(status.lastDump.ageSeconds)})`}`,
    );
  printLine('disk:');
  printLine(
    `  host directory ${formatBytes(status.disk.hostDir.bytes)}  ${status.disk.hostDir.path}`,
  );
  if (status.disk.userData !== undefined)
    printLine(
      `  user data      ${formatBytes(status.disk.userData.bytes)}  ${status.disk.userData.path}`,
    );
  if (status.disk.dumps !== undefined)
    printLine(
      `  dumps          ${formatBytes(status.disk.dumps.bytes)}  ${status.disk.dumps.path}`,
    );
  if (status.uncategorized !== undefined)
    printLine(
      `uncategorized tables: ${status.uncategorized.tables.length === 0 ? 'none' : status.uncategorized.tables.join(', ')} (seen ${status.uncategorized.seenAt})`,
    );
}

/** One line per host: state, age, when, commit, subject; then which hosts are stale. */
function printFleetStatus(fleet: FleetStatusResult): void {
  const rows = fleet.hosts.map((status) => [
    status.host,
    status.stale ? 'STALE' : 'ok',
    status.ageSeconds === undefined ? '-' : formatAge(status.ageSeconds),
    status.lastCommit === undefined ? 'no commit' : status.lastCommit.date,
    status.lastCommit?.id.slice(0, 12) ?? '',
    status.lastCommit?.subject ?? '',
  ]);
  const header = ['HOST', 'STATE', 'AGE', 'LAST SNAPSHOT', 'COMMIT', 'SUBJECT'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) =>
        column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd();
  if (fleet.hosts.length === 0) {
    printLine(`no host directory committed in ${fleet.backupDir} (repository ${fleet.repository})`);
    return;
  }
  printLine(line(header));
  for (const row of rows) printLine(line(row));
  const maxAge = formatDuration(fleet.maxAgeSeconds);
  printLine(
    fleet.stale.length === 0
      ? `all ${String(fleet.hosts.length)} hosts fresh (max age ${maxAge})`
      : `${String(fleet.stale.length)} of ${String(fleet.hosts.length)} hosts STALE (max age ${maxAge}): ${fleet.stale.join(', ')}`,
  );
}

/** An age to the minute (`2d3h`, `45m`); under a minute, `0m`. */
function formatAge(seconds: number): string {
  const minutes = Math.floor(Math.max(0, seconds) / 60);
  return minutes === 0 ? '0m' : formatDuration(minutes * 60);
}
