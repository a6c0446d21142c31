/**
 * `schema_backup diff [A] [B]`: what changed between two revisions (default: the last commit
 * and the working tree), two hosts, or the last commit and the live database (`--live`, exit
 * 3 on drift). A summary by table and column, then the unified diff.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Argv } from 'yargs';
import {
  directoryTree,
  diffSnapshots,
  revisionTree,
  type SnapshotTree,
} from '../../diff/diff-snapshots.js';
import { engineFor } from '../engine-for.js';
import { ExitCode, UsageError } from '../../errors.js';
import { Repository } from '../../git/repository.js';
import { hostDirectory } from '../../snapshot/layout.js';
import { MANIFEST_FILE, manifestFormatOf, READABLE_FORMATS } from '../../snapshot/manifest.js';
import { quieterLogger } from '../../support/logger.js';
import { takeSnapshot } from '../../snapshot/take-snapshot.js';
import {
  connectionFor,
  hostArgument,
  hostNameFor,
  loadContext,
  requireKnownHost,
  type CommandContext,
  type GlobalArgs,
} from '../context.js';
import {
  connectionOptionsGiven,
  withConnectionOptions,
  type ConnectionArgs,
} from '../connection-options.js';
import {
  BACKUP_HOST_OPTION,
  withBackupHostOption,
  type BackupHostArgs,
} from '../backup-host-option.js';
import { patchText, summaryLines, wantsColor } from '../output/diff-summary.js';
import { printJson, printLine, printPrepared } from '../output/print.js';

export interface DiffArgs extends GlobalArgs, BackupHostArgs, ConnectionArgs {
  readonly revisions?: readonly string[] | undefined;
  readonly againstHost?: string | undefined;
  readonly live?: boolean | undefined;
  readonly stat?: boolean | undefined;
  readonly json?: boolean | undefined;
  readonly table?: readonly string[] | undefined;
}

export function diffBuilder(yargs: Argv): Argv<DiffArgs> {
  return withConnectionOptions(withBackupHostOption(yargs))
    .positional('revisions', {
      type: 'string',
      array: true,
      describe: 'A [B]: git revisions (default: HEAD and the working tree)',
    })
    .option('against-host', {
      type: 'string',
      describe: 'compare --backup-host with this host directory, at the same revision',
    })
    .option('live', {
      type: 'boolean',
      describe: 'compare the live database with the last commit; exit 3 on drift',
    })
    .option('stat', { type: 'boolean', describe: 'only the summary' })
    .option('json', { type: 'boolean', describe: 'print the result as JSON' })
    .option('table', {
      type: 'string',
      array: true,
      describe: 'only these tables (shell patterns)',
    });
}

export async function diffHandler(args: DiffArgs): Promise<number> {
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
  let liveDir: string | undefined;
  try {
    if (args.live === true) {
      from = await tree(host, revisions[0] ?? 'HEAD');
      liveDir = await mkdtemp(join(tmpdir(), 'schema_backup-live-'));
      // The live database in the revision's file format: a snapshot of an earlier format is
      // no drift by itself.
      const format = from.ids.has(MANIFEST_FILE)
        ? manifestFormatOf(await from.read(MANIFEST_FILE))
        : undefined;
      to = await liveTree(context, args, host, liveDir, format);
    } else if (args.againstHost !== undefined) {
      from = await tree(host, revisions[0]);
      to = await tree(hostArgument(args.againstHost, '--against-host'), revisions[0]);
    } else {
      from = await tree(host, revisions[0] ?? 'HEAD');
      to = await tree(host, revisions[1]);
    }
    const result = await diffSnapshots(engineFor(config), from, to, {
      only: args.table ?? [],
      patches: args.stat !== true && args.json !== true,
    });
    const different = result.tables.length + result.objects.length > 0;
    if (args.json === true) {
      printJson({ ...result, patches: undefined });
    } else {
      printLine(`${result.from} -> ${result.to}`);
      for (const line of summaryLines(result)) printLine(`  ${line}`);
      if (args.stat !== true && result.patches.length > 0) {
        printLine();
        printPrepared(patchText(result, wantsColor(process.stdout)));
      }
    }
    return args.live === true && different ? ExitCode.Differences : ExitCode.Ok;
  } finally {
    from?.close?.();
    to?.close?.();
    if (liveDir !== undefined) await rm(liveDir, { recursive: true, force: true });
  }
}

/** The live database rendered as a snapshot into `dir` (nothing else is written anywhere). */
async function liveTree(
  context: CommandContext,
  args: DiffArgs,
  host: string,
  dir: string,
  format: number | undefined,
): Promise<SnapshotTree> {
  const connection = await connectionFor(context, args);
  const { logger } = context;
  const result = await takeSnapshot(engineFor(context.config), {
    connection,
    database: connection.database,
    backupDir: dir,
    host,
    categories: context.config.categories,
    strict: false,
    git: {
      commit: false,
      init: false,
      author: { name: 'schema_backup', email: 'schema_backup@localhost' },
    },
    dryRun: false,
    format: format !== undefined && READABLE_FORMATS.includes(format) ? format : undefined,
    lockWaitSeconds: 0,
    logger: quieterLogger(logger),
  });
  return directoryTree(result.hostDir, `${host} (live database ${connection.database})`);
}
