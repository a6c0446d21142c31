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
import { ExitCode, SchemaBackupError } from '../errors.js';
import { RunJournal, type RunRecord } from '../ops/run-journal.js';
import { recordRun, stateKeyOf, type RunState } from '../ops/run-state.js';
import { nullStructuredLog, openStructuredLog } from '../ops/structured-log.js';
import { ensureWorkDirectory } from '../ops/work-dir.js';
import type { Interruption } from '../support/interruption.js';
import { hostNameFor, type CommandContext } from './context.js';
import { withSignalsHandled } from './interrupts.js';
import { stateFileOf } from './ops-config.js';

/** What a notifier receives on stdin or in the POST body (and `status --json` shows as `lastRun`). */
export interface RunNotification extends RunRecord {
  readonly consecutiveFailures: number;
  /** When this command last succeeded, if ever. */
  readonly lastSuccessAt?: string | undefined;
}

export interface RunJournalHooks {
  /** False: run `body` with a journal that records nothing (a dry run is no run). Default true. */
  readonly enabled?: boolean | undefined;
  /** Run `prune` after a successful run when `retention.after_run` is set (default true). */
  readonly pruneAfter?: boolean | undefined;
  /** The run's series (see RunRecord.series): its own run state and metrics. */
  readonly series?: string | undefined;
}

/**
 * Runs `body` as a journaled run of `command` and returns its exit code, or rethrows its
 * error (for `cli/main.ts` to report) after the state, metrics and notifications are done.
 * SIGINT/SIGTERM/SIGHUP raise the run's Interruption (handed to `body`) for the whole time,
 * so a signal stops the work at its next step and the run is still recorded (exit 128 + n)
 * instead of the process dying before it is.
 */
export async function withRunJournal(
  context: CommandContext,
  command: string,
  body: (journal: RunJournal, interruption: Interruption) => Promise<number>,
  hooks: RunJournalHooks = {},
): Promise<number> {
  return withSignalsHandled(context.logger, (interruption) =>
    journaled(context, command, body, hooks, interruption),
  );
}

async function journaled(
  context: CommandContext,
  command: string,
  body: (journal: RunJournal, interruption: Interruption) => Promise<number>,
  hooks: RunJournalHooks,
  interruption: Interruption,
): Promise<number> {
  const { config, logger } = context;
  const host = await hostNameFor(config);
  if (hooks.enabled === false)
    return body(
      new RunJournal({ command, series: hooks.series, host, logger, log: nullStructuredLog }),
      interruption,
    );
  const log =
    config.logging.file === undefined
      ? nullStructuredLog
      : openStructuredLog(config.logging.file, config.logging.level, (error) => {
          logger.error(`cannot write the log file ${config.logging.file ?? ''}: ${error.message}`);
        });
  const journal = new RunJournal({
    command,
    series: hooks.series,
    host,
    logger,
    log,
    startFields: { config: config.file, nodeVersion: process.version },
  });
  for (const warning of context.configWarnings)
    journal.event('warn', 'config-warning', { warning });

  let exitCode: number = ExitCode.Ok;
  let failure: unknown;
  try {
    exitCode = await body(journal, interruption);
    if (exitCode === 0 && config.retention.afterRun && hooks.pruneAfter !== false) {
      const pruned = await journal.phase('prune', () =>
        // Loaded when used, as metrics, notifications and off-site are: a run without them
        // starts faster.
        import('./commands/prune.js').then(({ runPrune }) =>
          runPrune(context, { dryRun: false, waitLock: 60, logger: journal.logger }),
        ),
      );
      journal.summarize({ pruned: pruned.deleted, prunedBytes: pruned.bytesFreed });
    }
  } catch (error) {
    failure = error;
    exitCode = exitCodeOf(error);
  }
  const metricsFailure = await completeRun(
    context,
    journal,
    host,
    journal.finish(exitCode, failure),
    failure,
  );
  // The run's own error, unchanged, for main.ts to report with its exit code.
  // eslint-disable-next-line @typescript-eslint/only-throw-error
  if (failure !== undefined) throw failure;
  // A monitor that reads a stale metrics file sees nothing wrong: a file that cannot be
  // written fails the run that should have written it (issue 21).
  if (metricsFailure !== undefined && exitCode === ExitCode.Ok) throw metricsFailure;
  return exitCode;
}

/**
 * Everything after a run, each step on its own: records the run state, writes the metrics,
 * notifies, logs the end. A step that fails is logged as an error; none throws. Returns the
 * metrics file's write error, which fails an otherwise successful run. `failure` is
 * the run's own error, which `cli/main.ts` reports after this.
 */
async function completeRun(
  context: CommandContext,
  journal: RunJournal,
  host: string,
  record: RunRecord,
  failure: unknown,
): Promise<SchemaBackupError | undefined> {
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
    // The state lives beside the host directories, so what stopped the run (a directory that
    // cannot be made, a full or read-only disk) usually stops this too: one error is enough.
    if (failure instanceof Error && (error as Error).message === failure.message)
      journal.logger.warn('the run state is not recorded either, for the same reason');
    else journal.logger.error(`cannot record the run state: ${(error as Error).message}`);
  }
  let metricsFailure: SchemaBackupError | undefined;
  if (config.metrics.textfile !== undefined && state !== undefined) {
    try {
      const { writeMetrics } = await import('../ops/metrics.js');
      await writeMetrics(config.metrics.textfile, state);
    } catch (error) {
      const message = `cannot write the metrics file ${config.metrics.textfile}: ${(error as Error).message}`;
      // The run's own failure is the error main.ts reports; this one is logged beside it.
      if (failure !== undefined) journal.logger.error(message);
      metricsFailure = new SchemaBackupError(message, {
        cause: error,
        hint: 'Check metrics.textfile in the config: its directory must exist or have a parent that does, and be writable.',
      });
    }
  }
  const commandState = state?.commands[stateKeyOf(record)];
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
    const { sendNotifications } = await import('../ops/notify.js');
    const outcomes = await sendNotifications(notification, notify, journal.logger);
    journal.event('info', 'notified', { outcomes });
  }
  journal.event(record.outcome === 'success' ? 'info' : 'error', 'end', {
    outcome: record.outcome,
    exitCode: record.exitCode,
    durationSeconds: record.durationSeconds,
    consecutiveFailures: notification.consecutiveFailures,
  });
  return metricsFailure;
}

/** The exit code `cli/main.ts` will give `error` (as `reportError` decides it). */
function exitCodeOf(error: unknown): number {
  return error instanceof SchemaBackupError ? error.exitCode : ExitCode.Failure;
}
