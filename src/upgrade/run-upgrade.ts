/**
 * `upgrade -- CMD`: stop the consumers, snapshot and commit ("before upgrade: …"), run the
 * upgrade command, snapshot and commit ("after upgrade: …"), compare the two, and start the
 * consumers again, whatever happened. A failed command gets no "after" commit: the result
 * says so, with the commit to restore from.
 */
import { diffSnapshots, revisionTree, type DiffResult } from '../diff/diff-snapshots.js';
import type { Engine } from '../engine/engine.js';
import { ServiceError, UsageError } from '../errors.js';
import { Repository } from '../git/repository.js';
import {
  withConsumersStopped,
  type ConsumerControl,
  type ServicesOutcome,
} from '../services/consumer-control.js';
import { withHostLock } from '../snapshot/work-dir.js';
import type { Interruption } from '../support/interruption.js';
import { hostDirectory } from '../snapshot/layout.js';
import {
  takeSnapshot,
  type SnapshotOptions,
  type SnapshotResult,
} from '../snapshot/take-snapshot.js';
import { describeOutcome, runCommand, type CommandOutcome } from '../support/run-command.js';

export interface UpgradeOptions {
  /** The upgrade command as argv; with `shell`, one string for `/bin/sh -c`. */
  readonly command: readonly string[];
  readonly shell: boolean;
  /** Leave the consumers stopped at the end (but not when one failed to stop). */
  readonly keepStopped: boolean;
  readonly snapshot: SnapshotOptions;
  readonly control: ConsumerControl;
  readonly interruption: Interruption;
  /** Whether the command may use the terminal (then it stays in our process group). */
  readonly interactive: boolean;
}

export interface SnapshotPoint {
  /** The commit that holds the snapshot (a new one, or HEAD when nothing had changed). */
  readonly commit: string;
  readonly created: boolean;
  readonly result: SnapshotResult;
}

export type UpgradeResult =
  | {
      readonly outcome: 'upgraded';
      readonly before: SnapshotPoint;
      readonly after: SnapshotPoint;
      readonly diff: DiffResult;
      readonly services: ServicesOutcome;
    }
  | {
      readonly outcome: 'command-failed';
      readonly before: SnapshotPoint;
      readonly failure: string;
      readonly services: ServicesOutcome;
    };

/** What `upgrade --dry-run` prints: every step, in order. */
export function upgradePlan(
  options: Pick<UpgradeOptions, 'command' | 'shell' | 'keepStopped'>,
  consumers: readonly string[],
  host: string,
): string[] {
  const label = commandLabel(options.command, options.shell);
  return [
    consumers.length === 0
      ? 'no consumers are configured: no service is stopped'
      : `stop ${consumers.join(', ')} (in this order)`,
    `snapshot ${host} and commit it as "before upgrade: …"`,
    `run ${label}${options.shell ? ' (through /bin/sh)' : ' (no shell)'}`,
    'if it succeeds: snapshot again, commit "after upgrade: …", and show the schema diff; if it fails: no "after" commit, and how to restore is printed',
    consumers.length === 0
      ? 'nothing to start'
      : options.keepStopped
        ? `leave ${consumers.join(', ')} stopped (--keep-stopped)`
        : `start ${[...consumers].reverse().join(', ')} (in this order), whatever happened`,
  ];
}

export function commandLabel(command: readonly string[], shell: boolean): string {
  return shell ? (command[0] ?? '') : command.join(' ');
}

export async function runUpgrade(engine: Engine, options: UpgradeOptions): Promise<UpgradeResult> {
  const { snapshot: base, interruption } = options;
  const { logger } = base;
  if (!base.git.commit)
    throw new UsageError('upgrade commits a snapshot before and after: git.commit is off', {
      hint: 'Set git.commit: true, or take the snapshots yourself with snapshot --target.',
    });
  const repository = await Repository.find(base.backupDir, { init: base.git.init });
  if (repository === undefined)
    throw new UsageError(`${base.backupDir} is not in a git repository: upgrade needs one`, {
      hint: 'Set git.init: true, or run git init in the backup directory.',
    });
  const hostDir = hostDirectory(base.backupDir, base.host);
  const label = commandLabel(options.command, options.shell);
  // Held from the first stop to the last start: no other run snapshots a half-upgraded
  // database or juggles the same services.
  const lockOptions = {
    waitSeconds: base.lockWaitSeconds,
    abortSignal: interruption.signal,
    logger,
  };
  return withHostLock(base.backupDir, base.host, lockOptions, async (heldLock) => {
    const snapshotOptions = { ...base, heldLock, interruption };
    const { result, services } = await withConsumersStopped(
      options.control,
      { keepStopped: options.keepStopped ? 'always' : 'never', interruption },
      async () => {
        const before = await snapshotPoint(engine, repository, {
          ...snapshotOptions,
          commitPrefix: 'before upgrade: ',
        });
        logger.info(
          `before upgrade: ${before.commit.slice(0, 12)}${before.created ? '' : ' (unchanged)'}`,
        );
        interruption.throwIfInterrupted();

        logger.info(`running ${label}`);
        const outcome = await runUpgradeCommand(options);
        if (interruption.interruptedBy !== undefined || outcome.exitCode !== 0) {
          const failure =
            interruption.interruptedBy === undefined
              ? `${label} ${describeOutcome(outcome)}`
              : `interrupted by ${interruption.interruptedBy}: ${label} ${describeOutcome(outcome)}`;
          return { outcome: 'command-failed' as const, before, failure };
        }

        let after: SnapshotPoint;
        try {
          after = await snapshotPoint(engine, repository, {
            ...snapshotOptions,
            commitPrefix: 'after upgrade: ',
          });
        } catch (error) {
          throw new ServiceError(
            `${label} succeeded, but the snapshot after it failed: ${(error as Error).message}`,
            {
              hint: `The state before the upgrade is commit ${before.commit.slice(0, 12)}; restore it with: schema_backup restore --rev ${before.commit.slice(0, 12)} --target ${base.database} --force --force-source`,
              cause: error,
            },
          );
        }
        const from = await revisionTree(
          repository,
          before.commit,
          hostDir,
          `before (${before.commit.slice(0, 12)})`,
        );
        const to = await revisionTree(
          repository,
          after.commit,
          hostDir,
          `after (${after.commit.slice(0, 12)})`,
        );
        try {
          const diff = await diffSnapshots(engine, from, to, { only: [], patches: true });
          return { outcome: 'upgraded' as const, before, after, diff };
        } finally {
          from.close?.();
          to.close?.();
        }
      },
    );
    return { ...result, services };
  });
}

async function snapshotPoint(
  engine: Engine,
  repository: Repository,
  options: SnapshotOptions,
): Promise<SnapshotPoint> {
  const result = await takeSnapshot(engine, options);
  if (result.commit !== undefined) return { commit: result.commit.id, created: true, result };
  return { commit: await repository.resolveRevision('HEAD'), created: false, result };
}

/**
 * Runs the command, its output on our terminal. An interruption is passed on to it (to its
 * whole process group when it has one of its own) and waited for.
 */
async function runUpgradeCommand(options: UpgradeOptions): Promise<CommandOutcome> {
  const argv = options.shell ? ['/bin/sh', '-c', options.command[0] ?? ''] : [...options.command];
  try {
    return await runCommand(argv, {
      inheritStdio: true,
      // On a terminal it must stay in the foreground group to read from it (a Ctrl-C
      // reaches it directly); elsewhere a group of its own lets a signal reach all of it.
      ownProcessGroup: !options.interactive,
      abortSignal: options.interruption.signal,
    });
  } catch (error) {
    throw new ServiceError(`cannot run ${argv[0] ?? ''}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
