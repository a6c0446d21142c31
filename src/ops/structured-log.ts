/**
 * The JSON-lines log of runs (`logging.file`): one object per line with `time`, `level`,
 * `event` and the event's fields. Appended synchronously so that lines keep their order and
 * survive a crash right after; every line passes through `redact`. Kept apart from the
 * terminal output, which stays human.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { redact } from '../support/redact.js';
import type { LogLevel } from '../support/logger.js';

const LEVEL_ORDER: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

export type LogFields = Readonly<Record<string, unknown>>;

export interface StructuredLog {
  /** Appends one line at `level` (dropped below the log's level). Never throws. */
  write(level: LogLevel, event: string, fields?: LogFields): void;
}

/** A structured log that drops everything (no `logging.file`). */
export const nullStructuredLog: StructuredLog = { write: () => undefined };

/**
 * A log appending to `file` (created 0600 with its directory when missing). `onError` hears
 * of the first write that fails (a full disk, a read-only path); later lines are dropped,
 * so a broken log never breaks a run.
 */
export function openStructuredLog(
  file: string,
  level: LogLevel,
  onError: (error: Error) => void,
  base: LogFields = {},
): StructuredLog {
  let broken = false;
  return {
    write(at, event, fields = {}) {
      if (broken || LEVEL_ORDER[at] < LEVEL_ORDER[level]) return;
      const line = redact(
        JSON.stringify({ time: new Date().toISOString(), level: at, event, ...base, ...fields }),
      );
      try {
        mkdirSync(dirname(file), { recursive: true, mode: 0o750 });
        appendFileSync(file, `${line}\n`, { mode: 0o600 });
      } catch (error) {
        broken = true;
        onError(error as Error);
      }
    },
  };
}
