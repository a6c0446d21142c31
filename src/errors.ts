/**
 * Errors that reach the user. Every failure the CLI reports is a {@link SchemaBackupError}
 * carrying the exit code it ends the process with; anything else is a bug and is reported
 * as one by `cli/main.ts`, the only place that catches and prints.
 *
 * Must not import anything of this project: every module may import it.
 */

/** Process exit codes, as documented in the README. */
export const ExitCode = {
  Ok: 0,
  Failure: 1,
  Usage: 2,
  Differences: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface SchemaBackupErrorOptions {
  /** What the user can do about it, printed after the message. */
  readonly hint?: string | undefined;
  readonly cause?: unknown;
}

/** Base class: a user-facing message, an optional hint, and the exit code. */
export class SchemaBackupError extends Error {
  /** An {@link ExitCode}, or 128 + a signal's number for an interrupted run. */
  readonly exitCode: number = ExitCode.Failure;
  readonly hint: string | undefined;

  constructor(message: string, options: SchemaBackupErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** Where in a config file a problem is. Line numbers start at 1. */
export interface ConfigLocation {
  readonly file: string;
  readonly line?: number | undefined;
  readonly key?: string | undefined;
}

/** The config is unreadable or wrong. Exit 2, and nothing has been touched. */
export class ConfigError extends SchemaBackupError {
  override readonly exitCode = ExitCode.Usage;
  readonly location: ConfigLocation;

  constructor(location: ConfigLocation, problem: string, options: SchemaBackupErrorOptions = {}) {
    super(`${formatLocation(location)}: ${problem}`, options);
    this.location = location;
  }
}

/** `file:line: key` as editors and grep print it. */
export function formatLocation(location: ConfigLocation): string {
  let text = location.file;
  if (location.line !== undefined) text += `:${String(location.line)}`;
  if (location.key !== undefined) text += `: ${location.key}`;
  return text;
}

/** The command line asks for something impossible. Exit 2. */
export class UsageError extends SchemaBackupError {
  override readonly exitCode = ExitCode.Usage;
}

/**
 * The database server refused or failed. Carries the server's error name and number but
 * never the SQL text, which may hold row values.
 */
export class EngineError extends SchemaBackupError {
  readonly code: string | undefined;
  readonly errno: number | undefined;
  readonly sqlState: string | undefined;

  constructor(
    message: string,
    details: { code?: string; errno?: number; sqlState?: string } & SchemaBackupErrorOptions = {},
  ) {
    super(message, details);
    this.code = details.code;
    this.errno = details.errno;
    this.sqlState = details.sqlState;
  }
}

/** A git command failed (not a repository, commit or push refused, ...). */
export class GitError extends SchemaBackupError {}

/** Another run holds the lock of the host directory. */
export class LockError extends SchemaBackupError {}

/** Reading or writing the snapshot files failed. */
export class SnapshotError extends SchemaBackupError {}

/** A state the code believes impossible: a bug to report. */
export class InternalError extends SchemaBackupError {}

/** True for errors this project raised on purpose (as opposed to bugs). */
export function isSchemaBackupError(error: unknown): error is SchemaBackupError {
  return error instanceof SchemaBackupError && !(error instanceof InternalError);
}

/**
 * Encryption or decryption failed: no recipients, a malformed key, the wrong identity, or a
 * corrupt or truncated file. age's own errors are plain, so the phase that failed decides.
 */
export class CryptoError extends SchemaBackupError {}

/** A restore or verify failed partway; the target database is left marked incomplete. */
export class RestoreError extends SchemaBackupError {}

/**
 * A file holds a statement that a snapshot (or the original's mysqldump) does not write for
 * the object the file is for: restore and verify refuse to run it. The message names the
 * rule that was broken, never a value.
 */
export class UnexpectedStatementError extends RestoreError {}

/**
 * A definition a snapshot or dump may well hold, but that reaches outside the database when
 * it is created, filled or used (a table in files or on another server, an untrusted
 * language): refused unless the user allows it (`--allow-external-access`).
 */
export class ExternalAccessError extends UnexpectedStatementError {}

/** A service could not be stopped, started or queried, or an upgrade command failed. */
export class ServiceError extends SchemaBackupError {}

/**
 * The run was stopped by SIGINT, SIGTERM or SIGHUP, after putting back what it had changed
 * (services, pause hooks). Exits 128 + the signal's number, as a shell reports it.
 */
export class InterruptedError extends SchemaBackupError {
  override readonly exitCode: number;
  readonly signal: NodeJS.Signals;

  constructor(
    signal: NodeJS.Signals,
    signalNumber: number,
    options: SchemaBackupErrorOptions = {},
  ) {
    super(`interrupted by ${signal}`, options);
    this.signal = signal;
    this.exitCode = 128 + signalNumber;
  }
}
/** A dump or a load failed: unreadable, truncated or corrupt dump, or an interrupted run. */
export class DumpError extends SchemaBackupError {}

/**
 * A push that did not happen: the commits stay in the local repository, counted in
 * `unpushedCommits`, and the next run pushes them.
 */
export class PushError extends GitError {
  /** Local commits the remote lacks. */
  readonly unpushedCommits: number;

  constructor(message: string, unpushedCommits: number, options: SchemaBackupErrorOptions = {}) {
    super(message, options);
    this.unpushedCommits = unpushedCommits;
  }
}

/**
 * An off-site step failed: an rclone command, a check that found the remote copy different,
 * or an upload refused (a plaintext dump). The local result of the run is kept; the next run
 * uploads again.
 */
export class OffsiteError extends SchemaBackupError {}
