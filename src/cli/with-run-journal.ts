/**
 * Wraps a command that runs unattended (the nightly `snapshot`; `dump` and `upgrade` in one
 * line each) so that no run can fail unnoticed: it is journaled to the structured log,
 * recorded in the run state (consecutive failures), reported in the metrics file, announced
 * to the notifiers on failure (and on success when asked), and followed by `prune` when
 * `retention.after_run` is set. None of these extras hides the run's own error or changes
 * its exit code; each that fails is logged as an error.
 *
 * Wrapping another command is one line around its body, e.g. for `dump`:
 *
 *     return withRunJournal(context, 'dump', async (journal) => {
 *       const result = await journal.phase('dump', () => writeDump(options));
 *       journal.summarize({ dump: result.path, bytes: result.bytes, tables: result.tables });
 *       return 0;
 *     });
 */
import { constants as osConstants } from 'node:os';
import { ExitCode, SchemaBackupError } from '../errors.js';
import { writeMetrics } from '../ops/metrics.js';
import { sendNotifications } from '../ops/notify.js';
import { RunJournal, type RunRecord } from '../ops/run-journal.js';
import { recordRun, type RunState } from '../ops/run-state.js';
import { nullStructuredLog, openStructuredLog } from '../ops/structured-log.js';
import { ensureWorkDirectory } from '../ops/work-dir.js';
import { runPrune } from './commands/prune.js';
import { hostNameFor, type CommandContext } from './context.js';
import { stateFileOf } from './ops-config.js';

/** What a notifier receives on stdin or in the POST body (and `status --json` shows as `lastRun`). */
export interface RunNotification extends RunRecord {
  readonly consecutiveFailures: number;
  /** When this command last succeeded, if ever. */
  readonly lastSuccessAt?: string | undefined;
}

/**
 * Where a run hears of SIGINT/SIGTERM: `onInterrupt` registers a clean-up (run newest first,
 * after which the process exits 128 + the signal's number) and returns its unregistration.
 * The shape of `Interrupts` in services/ (#6): pass the same registry to the journal and to
 * the work that stops services, so that the services are back before the run is recorded.
 */
export interface InterruptRegistry {
  onInterrupt(cleanup: (signal: NodeJS.Signals) => Promise<void>): () => void;
}

export interface RunJournalHooks {
  /** Default: a registry of its own on SIGINT and SIGTERM. */
  readonly interrupts?: InterruptRegistry | undefined;
  /** False: run `body` with a journal that records nothing (a dry run is no run). Default true. */
  readonly enabled?: boolean | undefined;
  /** Run `prune` after a successful run when `retention.after_run` is set (default true). */
  readonly pruneAfter?: boolean | undefined;
}

/**
 * Runs `body` as a journaled run of `command` and returns its exit code, or rethrows its
 * error (for `cli/main.ts` to report) after the state, metrics and notifications are done.
 */
export async function withRunJournal(
  context: CommandContext,
  command: string,
  body: (journal: RunJournal) => Promise<number>,
  hooks: RunJournalHooks = {},
): Promise<number> {
  const { config, logger } = context;
  const host = await hostNameFor(config);
  if (hooks.enabled === false)
    return body(new RunJournal({ command, host, logger, log: nullStructuredLog }));
  const log =
    config.logging.file === undefined
      ? nullStructuredLog
      : openStructuredLog(config.logging.file, config.logging.level, (error) => {
          logger.error(`cannot write the log file ${config.logging.file ?? ''}: ${error.message}`);
        });
  const journal = new RunJournal({
    command,
    host,
    logger,
    log,
    startFields: { config: config.file, nodeVersion: process.version },
  });
  for (const warning of context.configWarnings)
    journal.event('warn', 'config-warning', { warning });

  // Stopped by systemd (a timeout, `systemctl stop`) or Ctrl-C: still recorded and
  // announced before the process ends as the signal would have ended it (128 + its number).
  // Registered first, so that it runs after every clean-up registered later by the run.
  const run = { completed: false };
  const interrupts = hooks.interrupts ?? exitingInterrupts();
  const unregister = interrupts.onInterrupt(async (signal) => {
    if (run.completed) return;
    run.completed = true;
    const error = new SchemaBackupError(`stopped by ${signal}`, {
      hint: 'A timer run that hits TimeoutStartSec= is stopped this way; the next run starts afresh.',
    });
    await completeRun(context, journal, host, journal.finish(signalExitCode(signal), error));
    logger.error(error.message);
  });

  let exitCode: number = ExitCode.Ok;
  let failure: unknown;
  try {
    exitCode = await body(journal);
    if (exitCode === 0 && config.retention.afterRun && hooks.pruneAfter !== false) {
      const pruned = await journal.phase('prune', () =>
        runPrune(context, { dryRun: false, waitLock: 60, logger: journal.logger }),
      );
      journal.summarize({ pruned: pruned.deleted, prunedBytes: pruned.bytesFreed });
    }
  } catch (error) {
    failure = error;
    exitCode = exitCodeOf(error);
  } finally {
    unregister();
  }
  // Interrupted: the interrupt handler records the run and ends the process.
  if (run.completed) return new Promise<never>(() => undefined);
  run.completed = true;
  await completeRun(context, journal, host, journal.finish(exitCode, failure));
  // The run's own error, unchanged, for main.ts to report with its exit code.
  // eslint-disable-next-line @typescript-eslint/only-throw-error
  if (failure !== undefined) throw failure;
  return exitCode;
}

/**
 * Everything after a run, each step on its own: records the run state, writes the metrics,
 * notifies, logs the end. A step that fails is logged as an error; none throws.
 */
async function completeRun(
  context: CommandContext,
  journal: RunJournal,
  host: string,
  record: RunRecord,
): Promise<void> {
  const { config } = context;
  let state: RunState | undefined;
  try {
    // The default state file is in the work directory, which must ignore itself in git.
    if (config.stateFile === undefined) await ensureWorkDirectory(config.backupDir);
    const recorded = await recordRun(stateFileOf(config, host), record);
    state = recorded.state;
    if (recorded.replaced !== undefined)
      journal.logger.warn(`replaced a damaged run state: ${recorded.replaced}`);
  } catch (error) {
    journal.logger.error(`cannot record the run state: ${(error as Error).message}`);
  }
  if (config.metrics.textfile !== undefined && state !== undefined) {
    try {
      await writeMetrics(config.metrics.textfile, state);
    } catch (error) {
      journal.logger.error(
        `cannot write the metrics file ${config.metrics.textfile}: ${(error as Error).message}`,
      );
    }
  }
  const commandState = state?.commands[record.command];
  const notification: RunNotification = {
    ...record,
    consecutiveFailures:
      commandState?.consecutiveFailures ?? (record.outcome === 'success' ? 0 : 1),
    lastSuccessAt: commandState?.lastSuccess?.finishedAt,
  };
  const notify = config.notify;
  if (
    (notify.command.length > 0 || notify.url !== undefined) &&
    (record.outcome === 'failure' || notify.onSuccess)
  ) {
    const outcomes = await sendNotifications(notification, notify, journal.logger);
    journal.event('info', 'notified', { outcomes });
  }
  journal.event(record.outcome === 'success' ? 'info' : 'error', 'end', {
    outcome: record.outcome,
    exitCode: record.exitCode,
    durationSeconds: record.durationSeconds,
    consecutiveFailures: notification.consecutiveFailures,
  });
}

/** A registry that runs one clean-up on SIGINT or SIGTERM, then exits 128 + the signal's number. */
function exitingInterrupts(): InterruptRegistry {
  return {
    onInterrupt(cleanup) {
      const onSignal = (signal: NodeJS.Signals): void => {
        void cleanup(signal).finally(() => process.exit(signalExitCode(signal)));
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      return () => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      };
    },
  };
}

/** 128 + the signal's number, as a shell reports a process the signal ended. */
function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + ((osConstants.signals[signal] as number | undefined) ?? 15);
}

/** The exit code `cli/main.ts` will give `error` (as `reportError` decides it). */
function exitCodeOf(error: unknown): number {
  return error instanceof SchemaBackupError ? error.exitCode : ExitCode.Failure;
}
