/**
 * A snapshot with what surrounds it: `--model`/`--target` stop the consumers, restart the
 * providers and wait for the database first; without them, the pause hooks pause activity
 * through SQL and undo it on every exit path.
 */
import type { PauseHooksConfig } from '../config/schema.js';
import type { Engine } from '../engine/engine.js';
import {
  withConsumersStopped,
  type ConsumerControl,
  type ServicesOutcome,
} from '../services/consumer-control.js';
import type { Interruption } from '../support/interruption.js';
import { withHostLock } from '../snapshot/work-dir.js';
import { runHookStatements, waitForDatabase } from '../services/database-hooks.js';
import {
  takeSnapshot,
  type SnapshotOptions,
  type SnapshotResult,
} from '../snapshot/take-snapshot.js';

export type ServiceMode =
  | { readonly kind: 'none'; readonly pauseHooks: PauseHooksConfig; readonly pauseSeconds: number }
  | {
      /** `model`: consumers start again afterwards; `target`: they stay stopped. */
      readonly kind: 'model' | 'target';
      readonly control: ConsumerControl;
      readonly readyTimeoutSeconds: number;
    };

export interface GuardedSnapshotResult {
  readonly snapshot: SnapshotResult;
  readonly services?: ServicesOutcome | undefined;
  /** Whether pause hooks ran. */
  readonly paused: boolean;
}

export async function takeGuardedSnapshot(
  engine: Engine,
  options: SnapshotOptions,
  mode: ServiceMode,
  interruption: Interruption,
): Promise<GuardedSnapshotResult> {
  if (mode.kind === 'none') {
    const { snapshot, paused } = await withPauseHooks(
      engine,
      options,
      mode.pauseHooks,
      mode.pauseSeconds,
      interruption,
      (afterReadViewOpen) => takeSnapshot(engine, { ...options, afterReadViewOpen, interruption }),
    );
    return { snapshot, paused };
  }
  // The host's lock is held from before the first service stops until the last starts, so
  // that another run cannot snapshot (or stop services) in between.
  return withHostLock(
    options.backupDir,
    options.host,
    {
      waitSeconds: options.lockWaitSeconds,
      abortSignal: interruption.signal,
      logger: options.logger,
    },
    (heldLock) =>
      snapshotWithConsumersStopped(engine, { ...options, heldLock }, mode, interruption),
  );
}

async function snapshotWithConsumersStopped(
  engine: Engine,
  options: SnapshotOptions,
  mode: Extract<ServiceMode, { kind: 'model' | 'target' }>,
  interruption: Interruption,
): Promise<GuardedSnapshotResult> {
  const { result, services } = await withConsumersStopped(
    mode.control,
    {
      keepStopped: mode.kind === 'target' ? 'on-success' : 'never',
      interruption,
      restartProviders: () =>
        mode.control.restartProviders(
          () =>
            waitForDatabase(
              engine,
              options.connection,
              mode.readyTimeoutSeconds,
              options.logger,
              interruption,
            ),
          interruption,
        ),
    },
    () => takeSnapshot(engine, { ...options, interruption }),
  );
  return { snapshot: result, services, paused: false };
}

/**
 * Runs `work`, handing it the function to call once its read view is open: that runs the
 * "before" hook and waits; the "after" hook runs when `work` ends, however it ends
 * (interrupted too: the wait ends early and the snapshot fails before the hook is undone).
 * The read view opened before the hook, so the pause itself (a flag in a global table,
 * say) is not in the snapshot.
 */
async function withPauseHooks(
  engine: Engine,
  options: SnapshotOptions,
  hooks: PauseHooksConfig,
  pauseSeconds: number,
  interruption: Interruption,
  work: (afterReadViewOpen: (() => Promise<void>) | undefined) => Promise<SnapshotResult>,
): Promise<{ snapshot: SnapshotResult; paused: boolean }> {
  const { logger } = options;
  if (hooks.before.length === 0 || options.dryRun) {
    if (hooks.before.length > 0) logger.info('dry run: pause hooks not run');
    return { snapshot: await work(undefined), paused: false };
  }
  const connection = options.connection;
  // One object, so that what the callback changes is not taken for a constant.
  const pause = { started: false };
  const undo = (): Promise<void> =>
    runHookStatements(engine, connection, hooks.after, 'pause hook (after)', logger);
  let snapshot: SnapshotResult;
  try {
    snapshot = await work(async () => {
      interruption.throwIfInterrupted();
      pause.started = true;
      await runHookStatements(engine, connection, hooks.before, 'pause hook (before)', logger);
      if (pauseSeconds > 0) {
        logger.info(`paused: waiting ${String(pauseSeconds)} s (pause_interval)`);
        await interruption.sleep(pauseSeconds * 1000);
      }
    });
  } catch (error) {
    // The snapshot's error is the one to report; a failing "after" hook is logged.
    if (pause.started)
      await undo().catch((hookError: unknown) =>
        logger.error(
          `the pause hook (after) failed too, so the pause is still in effect: ${(hookError as Error).message}`,
        ),
      );
    throw error;
  }
  await undo();
  return { snapshot, paused: pause.started };
}
