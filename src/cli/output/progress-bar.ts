/**
 * Progress of a dump or a load on stderr: a bar redrawn in place on a terminal, a plain log
 * line every 10 seconds otherwise (stdout may be the dump itself).
 */
import type { DumpProgress } from '../../dump/progress.js';
import type { Logger } from '../../support/logger.js';
import { formatBytes } from './format-bytes.js';

/** A progress callback for `verb` ("dumped", "loaded"), or undefined when quiet. */
export function progressReporter(
  verb: string,
  logger: Logger,
  options: { quiet: boolean; stream?: NodeJS.WriteStream },
): ((progress: DumpProgress) => void) | undefined {
  if (options.quiet) return undefined;
  const stream = options.stream ?? process.stderr;
  if (stream.isTTY) {
    return (progress) => {
      const width = Math.max(10, Math.min(30, (stream.columns || 80) - 70));
      const fraction =
        progress.rowsEstimate > 0 ? Math.min(1, progress.rows / progress.rowsEstimate) : 0;
      const filled = Math.round(fraction * width);
      const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
      stream.write(`\r\x1b[K${bar} ${describe(progress)}${progress.done ? '\n' : ''}`);
    };
  }
  let last = 0;
  return (progress) => {
    if (!progress.done && progress.seconds - last < 10) return;
    last = progress.seconds;
    logger.info(`${verb}: ${describe(progress)}`);
  };
}

function describe(progress: DumpProgress): string {
  const eta =
    progress.etaSeconds === undefined || progress.done
      ? ''
      : ` ETA ${formatDuration(progress.etaSeconds)}`;
  return `tables ${String(progress.tablesDone)}/${String(progress.tablesTotal)}, ${formatCount(progress.rows)} rows, ${formatBytes(progress.bytes)}, ${formatBytes(progress.bytesPerSecond)}/s, ${formatDuration(progress.seconds)}${eta}`;
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
