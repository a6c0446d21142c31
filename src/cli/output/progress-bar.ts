/**
 * Progress of a dump, load, snapshot or restore on stderr: a bar redrawn in place on a
 * terminal; otherwise (a pipe, a log, cron) a plain log line every 10 seconds once a run is
 * long, and a last one when it ends. Never on stdout, which may be the dump or `--json`.
 */
import type { Progress, ProgressCallback } from '../../support/progress.js';
import type { Logger } from '../../support/logger.js';
import { printable } from '../../support/printable.js';
import { formatBytes } from './format-bytes.js';

/** Seconds between log lines when stderr is no terminal. */
const DEFAULT_INTERVAL_SECONDS = 10;
/** Overrides the interval (tests, or a log that wants more or fewer lines). */
export const PROGRESS_INTERVAL_VARIABLE = 'SCHEMA_BACKUP_PROGRESS_INTERVAL';

export interface ProgressDisplayOptions {
  readonly quiet: boolean;
  readonly stream?: Pick<NodeJS.WriteStream, 'isTTY' | 'columns' | 'write'> | undefined;
  /** Seconds between log lines off a terminal; default `$SCHEMA_BACKUP_PROGRESS_INTERVAL`, else 10. */
  readonly intervalSeconds?: number | undefined;
}

export interface ProgressDisplay {
  /** The workflow's progress callback; undefined when nothing is shown (`--quiet`). */
  readonly onProgress: ProgressCallback | undefined;
  /** Ends a bar a failed run left unfinished, so the error starts on a line of its own. */
  close(): void;
}

/** A progress callback for `verb` ("dumped", "loaded"), or undefined when quiet. */
export function progressReporter(
  verb: string,
  logger: Logger,
  options: ProgressDisplayOptions,
): ProgressCallback | undefined {
  return progressDisplay(verb, logger, options).onProgress;
}

/** Shows the progress of `verb` ("snapshot", "restored") as the stream allows. */
export function progressDisplay(
  verb: string,
  logger: Logger,
  options: ProgressDisplayOptions,
): ProgressDisplay {
  if (options.quiet) return { onProgress: undefined, close: () => undefined };
  const stream = options.stream ?? process.stderr;
  if (stream.isTTY) {
    let open = false;
    return {
      onProgress: (progress) => {
        const columns = stream.columns || 80;
        const text = describe(progress);
        // The bar gives way to the text; a line longer than the terminal would wrap, and
        // `\r` then redraws only its last part.
        const width = Math.max(10, Math.min(30, columns - 4 - text.length));
        const fraction =
          progress.rowsEstimate > 0 ? Math.min(1, progress.rows / progress.rowsEstimate) : 0;
        const filled = Math.round(fraction * width);
        const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
        const line = `${bar} ${text}`.slice(0, Math.max(20, columns - 1));
        stream.write(`\r\x1b[K${line}${progress.done ? '\n' : ''}`);
        open = !progress.done;
      },
      close: () => {
        if (open) stream.write('\n');
        open = false;
      },
    };
  }
  const interval = options.intervalSeconds ?? intervalFromEnvironment();
  let last = 0;
  let printed = false;
  return {
    onProgress: (progress) => {
      // A short run prints nothing; a long one says where it is, and then that it is done.
      if (progress.done ? !printed : progress.seconds - last < interval) return;
      last = progress.seconds;
      printed = true;
      logger.info(`${verb}: ${describe(progress)}`);
    },
    close: () => undefined,
  };
}

function intervalFromEnvironment(): number {
  const value = Number(process.env[PROGRESS_INTERVAL_VARIABLE] ?? '');
  return process.env[PROGRESS_INTERVAL_VARIABLE] !== undefined &&
    Number.isFinite(value) &&
    value >= 0
    ? value
    : DEFAULT_INTERVAL_SECONDS;
}

/** `tables 3/12, 1.20M rows, 310 MB, 12 MB/s, 0:25 ETA 0:40, events`. */
export function describe(progress: Progress): string {
  const eta =
    progress.etaSeconds === undefined || progress.done
      ? ''
      : ` ETA ${formatDuration(progress.etaSeconds)}`;
  const current = progress.current === undefined ? '' : `, ${printable(progress.current)}`;
  return `tables ${String(progress.tablesDone)}/${String(progress.tablesTotal)}, ${formatCount(progress.rows)} rows, ${formatBytes(progress.bytes)}, ${formatBytes(progress.bytesPerSecond)}/s, ${formatDuration(progress.seconds)}${eta}${current}`;
}

function formatCount(count: number): string {
  if (count >= 1e6) return `${(count / 1e6).toFixed(2)}M`;
  if (count >= 1e3) return `${(count / 1e3).toFixed(1)}k`;
  return String(count);
}

function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const minutes = Math.floor(total / 60);
  return `${String(minutes)}:${String(total % 60).padStart(2, '0')}`;
}
