/**
 * A small leveled logger. Workflows log through a {@link Logger} they are given and never
 * print; the CLI decides where lines go. Every line passes through `redact`.
 */
import { printableLines } from './printable.js';
import { redact } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVEL_ORDER: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A logger that drops everything: the default for library use and tests. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Writes `warning: ...`/`error: ...` prefixed lines at or above `level` to `write`. */
export function createStreamLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const emit = (at: LogLevel, message: string): void => {
    if (LEVEL_ORDER[at] < LEVEL_ORDER[level]) return;
    const prefix = at === 'warn' ? 'warning: ' : at === 'error' ? 'error: ' : '';
    // A name in a message may hold escape sequences: the terminal gets them escaped.
    write(`${prefix}${printableLines(redact(message))}\n`);
  };
  return {
    debug: (message) => emit('debug', message),
    info: (message) => emit('info', message),
    warn: (message) => emit('warn', message),
    error: (message) => emit('error', message),
  };
}

/** A logger that records lines in memory (tests, and collecting warnings for `--json`). */
export function createMemoryLogger(): Logger & {
  readonly lines: { level: LogLevel; message: string }[];
} {
  const lines: { level: LogLevel; message: string }[] = [];
  const push = (level: LogLevel) => (message: string) => {
    lines.push({ level, message: redact(message) });
  };
  return {
    lines,
    debug: push('debug'),
    info: push('info'),
    warn: push('warn'),
    error: push('error'),
  };
}

/** `logger` with info and warnings turned into debug lines (for work whose news is not the user's). */
export function quieterLogger(logger: Logger): Logger {
  return {
    debug: (message) => logger.debug(message),
    info: (message) => logger.debug(message),
    warn: (message) => logger.debug(message),
    error: (message) => logger.error(message),
  };
}
