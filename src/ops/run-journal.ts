/**
 * The record of one run of a command that runs unattended (`snapshot`, and later `dump` and
 * `upgrade`): when it started, each phase and its duration, a summary (tables, bytes, commit,
 * user-data copy), warnings, and how it ended. Every step also goes to the structured log;
 * the finished {@link RunRecord} is what the run state, the metrics and notifications use.
 */
import { randomBytes } from 'node:crypto';
import type { SchemaBackupError } from '../errors.js';
import type { Logger, LogLevel } from '../support/logger.js';
import { redact } from '../support/redact.js';
import type { LogFields, StructuredLog } from './structured-log.js';

/** What a run reports about its work; commands fill in what applies to them. */
export interface RunSummary {
  /** Tables read (snapshot) or dumped. */
  readonly tables?: number | undefined;
  /** Bytes written: snapshot files and the user-data copy, or the dump. */
  readonly bytes?: number | undefined;
  /** Id of the commit the run made. */
  readonly commit?: string | undefined;
  /** Timestamp of the user-data copy made (or of `latest` when data was unchanged). */
  readonly userDataCopy?: string | undefined;
  /** Path of the dump written. */
  readonly dump?: string | undefined;
  /** Tables in no category, seen by this run. */
  readonly uncategorized?: readonly string[] | undefined;
  /** Local commits the remote still lacks after the run (only with `git.push`). */
  readonly unpushedCommits?: number | undefined;
  readonly [key: string]: unknown;
}

export interface PhaseRecord {
  readonly name: string;
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly ok: boolean;
}

export interface RunError {
  /** Error class, e.g. `EngineError`. */
  readonly type: string;
  readonly message: string;
  readonly hint?: string | undefined;
}

/** A finished run, as kept in the run state and sent to notifiers. */
export interface RunRecord {
  readonly id: string;
  readonly command: string;
  /**
   * What the run worked on, where one command has several independent series (`dump`: the
   * databases as the dump's name has them): each series keeps its own state and metrics.
   */
  readonly series?: string | undefined;
  readonly host: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationSeconds: number;
  readonly outcome: 'success' | 'failure';
  readonly exitCode: number;
  readonly error?: RunError | undefined;
  readonly phases: readonly PhaseRecord[];
  readonly summary: RunSummary;
  /** Warnings logged during the run (redacted). */
  readonly warnings: readonly string[];
}

export interface RunJournalOptions {
  readonly command: string;
  /** See {@link RunRecord.series}. */
  readonly series?: string | undefined;
  readonly host: string;
  /** Where human lines go (stderr, at the level of --quiet/--verbose). */
  readonly logger: Logger;
  readonly log: StructuredLog;
  /** Extra fields of the `start` event (config file, version, ...). */
  readonly startFields?: LogFields | undefined;
  readonly now?: () => Date;
}

/** Records one run. Create it when the run starts; call {@link finish} once at the end. */
export class RunJournal {
  readonly id = randomBytes(6).toString('hex');
  readonly command: string;
  readonly series: string | undefined;
  readonly host: string;
  /** Logs to the terminal and the structured log; warnings are collected for the record. */
  readonly logger: Logger;
  private readonly log: StructuredLog;
  private readonly terminal: Logger;
  private readonly now: () => Date;
  private readonly started: Date;
  private readonly phases: PhaseRecord[] = [];
  private readonly warnings: string[] = [];
  private summary: RunSummary = {};

  constructor(options: RunJournalOptions) {
    this.command = options.command;
    this.series = options.series;
    this.host = options.host;
    this.log = options.log;
    this.now = options.now ?? (() => new Date());
    this.started = this.now();
    const terminal = options.logger;
    const emit = (level: LogLevel, message: string): void => {
      terminal[level](message);
      if (level === 'warn') this.warnings.push(redact(message));
      this.event(level, 'message', { message });
    };
    this.logger = {
      debug: (message) => emit('debug', message),
      info: (message) => emit('info', message),
      warn: (message) => emit('warn', message),
      error: (message) => emit('error', message),
    };
    this.terminal = terminal;
    this.event('info', 'start', { pid: process.pid, ...options.startFields });
  }

  /** Writes a structured event (only to the log file), tagged with the run. */
  event(level: LogLevel, event: string, fields: LogFields = {}): void {
    this.log.write(level, event, {
      run: this.id,
      command: this.command,
      host: this.host,
      ...fields,
    });
  }

  /** Runs `body` as the phase `name`: its duration and outcome are recorded and logged. */
  async phase<T>(name: string, body: () => Promise<T>): Promise<T> {
    const startedAt = this.now();
    this.event('debug', 'phase-start', { phase: name });
    let ok = false;
    try {
      const result = await body();
      ok = true;
      return result;
    } finally {
      const durationSeconds = seconds(this.now().getTime() - startedAt.getTime());
      this.phases.push({ name, startedAt: startedAt.toISOString(), durationSeconds, ok });
      this.event(ok ? 'info' : 'error', 'phase', { phase: name, durationSeconds, ok });
      this.terminal.debug(`${name}: ${ok ? 'done' : 'failed'} in ${String(durationSeconds)} s`);
    }
  }

  /** Adds to the run's summary (later values win). */
  summarize(summary: RunSummary): void {
    this.summary = { ...this.summary, ...summary };
    this.event('info', 'summary', { summary });
  }

  /** Ends the run with `exitCode` (and the error that ended it) and returns its record. */
  finish(exitCode: number, error?: unknown): RunRecord {
    const finished = this.now();
    const record: RunRecord = {
      id: this.id,
      command: this.command,
      ...(this.series === undefined ? {} : { series: this.series }),
      host: this.host,
      startedAt: this.started.toISOString(),
      finishedAt: finished.toISOString(),
      durationSeconds: seconds(finished.getTime() - this.started.getTime()),
      outcome: exitCode === 0 ? 'success' : 'failure',
      exitCode,
      error: error === undefined ? undefined : describeError(error),
      phases: [...this.phases],
      summary: this.summary,
      warnings: [...this.warnings],
    };
    if (record.error !== undefined) this.event('error', 'error', { error: record.error });
    return record;
  }
}

/** The type, message and hint of an error, redacted. */
export function describeError(error: unknown): RunError {
  if (error instanceof Error) {
    const hint = (error as Partial<SchemaBackupError>).hint;
    return {
      type: error.name,
      message: redact(error.message),
      hint: typeof hint === 'string' ? redact(hint) : undefined,
    };
  }
  return { type: typeof error, message: redact(String(error)) };
}

function seconds(milliseconds: number): number {
  return Math.round(milliseconds) / 1000;
}
