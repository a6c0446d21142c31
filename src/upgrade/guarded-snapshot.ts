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
  type Interrupts,
  type ServicesOutcome,
} from '../services/consumer-control.js';
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
  interrupts: Interrupts,
): Promise<GuardedSnapshotResult> {
  if (mode.kind === 'none') {
    const { snapshot, paused } = await withPauseHooks(
      engine,
      options,
      mode.pauseHooks,
      mode.pauseSeconds,
      interrupts,
      (afterReadViewOpen) => takeSnapshot(engine, { ...options, afterReadViewOpen }),
    );
    return { snapshot, paused };
  }
  const { result, services } = await withConsumersStopped(
    mode.control,
    {
      keepStopped: mode.kind === 'target',
      interrupts,
      restartProviders: () =>
        mode.control.restartProviders(() =>
          waitForDatabase(engine, options.connection, mode.readyTimeoutSeconds, options.logger),
        ),
    },
    () => takeSnapshot(engine, options),
  );
  return { snapshot: result, services, paused: false };
}

/**
 * Runs `work`, handing it the function to call once its read view is open: that runs the
 * "before" hook and waits; the "after" hook runs when `work` ends, however it ends. The
 * read view opened before the hook, so the pause itself (a flag in a global table, say) is
 * not in the snapshot.
 */
async function withPauseHooks(
  engine: Engine,
  options: SnapshotOptions,
  hooks: PauseHooksConfig,
  pauseSeconds: number,
  interrupts: Interrupts,
  work: (afterReadViewOpen: (() => Promise<void>) | undefined) => Promise<SnapshotResult>,
): Promise<{ snapshot: SnapshotResult; paused: boolean }> {
  const { logger } = options;
  if (hooks.before.length === 0 || options.dryRun) {
    if (hooks.before.length > 0) logger.info('dry run: pause hooks not run');
    return { snapshot: await work(undefined), paused: false };
  }
  const connection = options.connection;
  let started = false;
  let undone = false;
  const undo = async (): Promise<void> => {
    if (!started || undone) return;
    undone = true;
    await runHookStatements(engine, connection, hooks.after, 'pause hook (after)', logger);
  };
  const removeHandler = interrupts.onInterrupt(undo);
  let snapshot: SnapshotResult;
  try {
    snapshot = await work(async () => {
      started = true;
      await runHookStatements(engine, connection, hooks.before, 'pause hook (before)', logger);
      if (pauseSeconds > 0) {
        logger.info(`paused: waiting ${String(pauseSeconds)} s (pause_interval)`);
        await new Promise((resolve) => setTimeout(resolve, pauseSeconds * 1000));
      }
    });
  } catch (error) {
    // The snapshot's error is the one to report; a failing "after" hook is logged.
    await undo().catch((hookError: unknown) =>
      logger.error(`the pause hook (after) failed too: ${(hookError as Error).message}`),
    );
    removeHandler();
    throw error;
  }
  try {
    await undo();
  } finally {
    removeHandler();
  }
  return { snapshot, paused: started };
}
