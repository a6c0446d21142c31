/**
 * `schema_backup diff [A] [B]`: what changed between two revisions (default: the last commit
 * and the working tree), two hosts (`--against-host`, exit 3 when they differ), or the last
 * commit and the live database (`--live`, exit 3 on drift). A summary by table and column,
 * then the unified diff. Across the hosts of a shared repository, at a revision (default HEAD): `--hosts A B` (exit 3 when their schemas
 * differ) and `--model HOST` (every host whose schema differs from the model's, exit 3).
 * Host names are always given by option, so a positional word is always a revision.
 */
import {
  compareWithModel,
  isDifferent,
  type ModelComparisonResult,
} from '../../diff/compare-with-model.js';
import {
  directoryTree,
  diffSnapshots,
  revisionTree,
  revisionTrees,
  type DiffResult,
  type SnapshotTree,
} from '../../diff/diff-snapshots.js';
import { engineFor } from '../engine-for.js';
import { tablePatterns } from '../table-patterns.js';
import { ExitCode, UsageError } from '../../errors.js';
import { Repository } from '../../git/repository.js';
import { hostDirectory, isValidHostName } from '../../snapshot/layout.js';
import {
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  manifestFormatOf,
  READABLE_FORMATS,
} from '../../snapshot/manifest.js';
import { quieterLogger } from '../../support/logger.js';
import { liveTree } from '../../diff/live-tree.js';
import {
  connectionFor,
  hostArgument,
  hostNameFor,
  loadContext,
  loadRepositoryContext,
  requireKnownHost,
  requireRepository,
  type CommandContext,
  type GlobalArgs,
} from '../context.js';
import { connectionOptionsGiven, type ConnectionArgs } from '../connection-options.js';
import { BACKUP_HOST_OPTION, type BackupHostArgs } from '../backup-host-option.js';
import { patchText, summaryLines, wantsColor } from '../output/diff-summary.js';
import { printJson, printLine, printPrepared } from '../output/print.js';

export interface DiffArgs extends GlobalArgs, BackupHostArgs, ConnectionArgs {
  readonly revisions?: readonly string[] | undefined;
  readonly againstHost?: string | undefined;
  readonly live?: boolean | undefined;
  readonly stat?: boolean | undefined;
  readonly json?: boolean | undefined;
  readonly table?: readonly string[] | undefined;
  readonly hosts?: readonly string[] | undefined;
  readonly model?: string | undefined;
  readonly rows?: boolean | undefined;
  readonly backupDir?: string | undefined;
}

export async function diffHandler(args: DiffArgs): Promise<number> {
  if (args.hosts !== undefined || args.model !== undefined) return diffFleet(args);
  if (args.backupDir !== undefined)
    throw new UsageError('--backup-dir goes with --hosts or --model');
  const context = await loadContext(args);
  const { config } = context;
  const host = await hostNameFor(config, args.backupHost);
  const revisions = args.revisions ?? [];
  if (revisions.length > 2) throw new UsageError('diff takes at most two revisions');
  if (args.againstHost !== undefined && revisions.length > 1) {
    throw new UsageError(
      '--against-host compares two hosts at one revision (or the working tree): give at most one',
    );
  }
  if (args.live === true && (revisions.length > 1 || args.againstHost !== undefined)) {
    throw new UsageError('--live compares the live database with one revision (default HEAD)');
  }
  const connecting = connectionOptionsGiven(args);
  if (args.live !== true && connecting.length > 0)
    throw new UsageError(`${connecting.join(', ')}: only diff --live connects to the database`);
  const repository = await Repository.find(config.backupDir);
  const known = revisions.length > 0 ? revisions : [];
  if (args.backupHost !== undefined)
    await requireKnownHost(config, host, BACKUP_HOST_OPTION, repository, known);
  if (args.againstHost !== undefined)
    await requireKnownHost(
      config,
      hostArgument(args.againstHost, '--against-host'),
      '--against-host',
      repository,
      known,
    );
  const tree = async (hostName: string, revision: string | undefined): Promise<SnapshotTree> => {
    const hostDir = hostDirectory(config.backupDir, hostName);
    if (revision !== undefined) {
      if (repository === undefined)
        throw new UsageError(`${config.backupDir} is not in a git repository`);
      return revisionTree(
        repository,
        await repository.resolveRevision(revision),
        hostDir,
        `${hostName}@${revision}`,
      );
    }
    return directoryTree(hostDir, `${hostName} (working tree)`);
  };

  let from: SnapshotTree | undefined;
  let to: SnapshotTree | undefined;
  try {
    if (args.live === true) {
      from = await tree(host, revisions[0] ?? 'HEAD');
      // The live database in the revision's file format: a snapshot of an earlier format is
      // no drift by itself.
      const format = from.ids.has(MANIFEST_FILE)
        ? manifestFormatOf(await from.read(MANIFEST_FILE))
        : undefined;
      to = await readLiveTree(context, args, host, format);
    } else if (args.againstHost !== undefined) {
      from = await tree(host, revisions[0]);
      to = await tree(hostArgument(args.againstHost, '--against-host'), revisions[0]);
    } else {
      from = await tree(host, revisions[0] ?? 'HEAD');
      to = await tree(host, revisions[1]);
    }
    const result = await diffSnapshots(await engineFor(config), from, to, {
      only: tablePatterns(await engineFor(config), args.table),
      patches: args.stat !== true && args.json !== true,
      rows: args.rows,
    });
    const different = isDifferent(result);
    if (args.json === true) printJson({ ...result, patches: undefined, different });
    else printDiff(result, args);
    // Drift, and two hosts that differ (as `--hosts`), are differences found (exit 3); two
    // revisions of one host are history, which differs as a matter of course.
    const comparesState = args.live === true || args.againstHost !== undefined;
    return comparesState && different ? ExitCode.Differences : ExitCode.Ok;
  } finally {
    from?.close?.();
    to?.close?.();
  }
}

/** The live database rendered as a snapshot (in memory: nothing is written anywhere). */
async function readLiveTree(
  context: CommandContext,
  args: DiffArgs,
  host: string,
  format: number | undefined,
): Promise<SnapshotTree> {
  const connection = await connectionFor(context, args);
  return liveTree(await engineFor(context.config), connection, {
    database: connection.database,
    schemas: context.config.database.schemas,
    categories: context.config.categories,
    format: format !== undefined && READABLE_FORMATS.includes(format) ? format : MANIFEST_FORMAT,
    label: `${host} (live database ${connection.database})`,
    logger: quieterLogger(context.logger),
  });
}

/** The summary, the tables whose rows were left out, then the unified diffs (unless --stat). */
function printDiff(result: DiffResult, args: DiffArgs): void {
  printLine(`${result.from} -> ${result.to}`);
  for (const line of summaryLines(result)) printLine(`  ${line}`);
  const rowsLeftOut = result.rowsNotCompared ?? [];
  if (rowsLeftOut.length > 0)
    printLine(`  rows differ, not compared (--rows compares them): ${rowsLeftOut.join(', ')}`);
  if (args.stat !== true && result.patches.length > 0) {
    printLine();
    printPrepared(patchText(result, wantsColor(process.stdout)));
  }
}

/**
 * `diff --hosts A B [REV]` and `diff --model HOST [REV]`: host directories of the shared
 * repository as committed at REV (default HEAD), from git alone (no database, no working
 * tree). The schema only, unless `--rows`. Exit 3 when a host differs, 2 for a host
 * directory that does not exist at REV (the message lists those that do).
 */
async function diffFleet(args: DiffArgs): Promise<number> {
  const form = args.model !== undefined ? '--model' : '--hosts';
  if (args.hosts !== undefined && args.model !== undefined)
    throw new UsageError('give --hosts A B or --model HOST, not both');
  for (const [given, option] of [
    [args.live, '--live'],
    [args.backupHost, '--backup-host'],
    [args.againstHost, '--against-host'],
  ] as const)
    if (given !== undefined && given !== false)
      throw new UsageError(`${option} does not go with ${form}`, {
        hint: `${form} compares committed host directories; name them there.`,
      });
  const revisions = args.revisions ?? [];
  if (revisions.length > 1)
    throw new UsageError(`${form} compares hosts at one revision (default HEAD): give at most one`);
  const names =
    args.model !== undefined
      ? [hostArgument(args.model, '--model')]
      : (args.hosts ?? []).map((host) => hostArgument(host, '--hosts'));
  if (args.model === undefined && names.length !== 2)
    throw new UsageError(`--hosts takes two host directories, not ${String(names.length)}`, {
      hint: 'e.g. schema_backup diff --hosts db1.example.org db2.example.org',
    });

  const context = await loadRepositoryContext(args, args.backupDir);
  const { config } = context;
  const repository = await requireRepository(config.backupDir, `diff ${form}`);
  if ((await repository.head()) === undefined)
    throw new UsageError(`${repository.root} has no commits: there is no host to compare`);
  const revision = revisions[0] ?? 'HEAD';
  const listed = await revisionTrees(repository, revision, config.backupDir);
  // Dot directories (the work directory) are no hosts.
  const trees = new Map([...listed].filter(([name]) => isValidHostName(name)));
  const known = [...trees.keys()].sort();
  for (const name of names)
    if (!known.includes(name))
      throw new UsageError(
        `${form} ${JSON.stringify(name)}: there is no host directory ${name} in ${config.backupDir} at ${revision}`,
        {
          hint:
            known.length === 0
              ? 'No host has committed a snapshot there yet.'
              : `Host directories: ${known.join(', ')}.`,
        },
      );
  const engine = await engineFor(config);
  const options = { only: tablePatterns(engine, args.table), rows: args.rows ?? false };
  try {
    if (args.model !== undefined) {
      const comparison = await compareWithModel(engine, trees, args.model, options);
      if (args.json === true) printJson({ revision, ...comparison });
      else printModelComparison(comparison, revision);
      return comparison.differing.length > 0 ? ExitCode.Differences : ExitCode.Ok;
    }
    const [from, to] = names.map((name) => trees.get(name));
    if (from === undefined || to === undefined) throw new UsageError('--hosts takes two hosts');
    const result = await diffSnapshots(engine, from, to, {
      ...options,
      patches: args.stat !== true && args.json !== true,
    });
    const different = isDifferent(result);
    if (args.json === true) printJson({ ...result, patches: undefined, different });
    else printDiff(result, args);
    return different ? ExitCode.Differences : ExitCode.Ok;
  } finally {
    for (const tree of listed.values()) tree.close?.();
  }
}

/** Each host that differs with its summary, then those that do not. */
function printModelComparison(comparison: ModelComparisonResult, revision: string): void {
  const { model, hosts, differing } = comparison;
  printLine(
    hosts.length === 0
      ? `model ${model}@${revision}: there is no other host directory`
      : `model ${model}@${revision}: ${String(differing.length)} of ${String(hosts.length)} other hosts differ`,
  );
  const same: string[] = [];
  const rowsLeftOut: string[] = [];
  for (const host of hosts) {
    if ((host.rowsNotCompared ?? []).length > 0)
      rowsLeftOut.push(`${host.host} (${(host.rowsNotCompared ?? []).join(', ')})`);
    if (!host.different) {
      same.push(host.host);
      continue;
    }
    printLine(`${host.host}: differs`);
    for (const line of summaryLines({ ...host, patches: [] })) printLine(`  ${line}`);
  }
  if (same.length > 0) printLine(`same as the model: ${same.join(', ')}`);
  if (rowsLeftOut.length > 0)
    printLine(`rows differ, not compared (--rows compares them): ${rowsLeftOut.join('; ')}`);
}
