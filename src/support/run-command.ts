/**
 * Runs a program without a shell, with a timeout, passing each line it prints to a callback
 * (the log). Used for service managers, hooks and upgrade commands. The child never sees the
 * database password variables. By default it runs in a process group of its own, so that a
 * timeout or an interruption ends everything it started, and a Ctrl-C meant for us does not
 * kill a `systemctl stop` halfway.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** Environment variables that may hold the database password: never passed to a child. */
const SECRET_VARIABLES = ['SCHEMA_BACKUP_DB_PASSWORD', 'MYSQL_PWD', 'PGPASSWORD'];

export interface RunCommandOptions {
  /** End the program (TERM, then KILL 5 s later) after this long. Undefined: no limit. */
  readonly timeoutMs?: number | undefined;
  /** Each line the program writes to stdout or stderr. */
  readonly onLine?: ((line: string, stream: 'stdout' | 'stderr') => void) | undefined;
  /** Let the program use this process's terminal (stdin, stdout, stderr) instead. */
  readonly inheritStdio?: boolean | undefined;
  /**
   * Run in a process group of its own (default true). A program that talks to the terminal
   * must stay in ours (a background group reading the terminal is stopped by SIGTTIN).
   */
  readonly ownProcessGroup?: boolean | undefined;
  /** When it aborts, pass the signal named by its reason (else SIGTERM) on to the program. */
  readonly abortSignal?: AbortSignal | undefined;
  readonly env?: NodeJS.ProcessEnv | undefined;
  readonly cwd?: string | undefined;
}

export interface CommandOutcome {
  /** Exit status; undefined when a signal ended it. */
  readonly exitCode: number | undefined;
  readonly signal: NodeJS.Signals | undefined;
  readonly timedOut: boolean;
  /** The last lines of output (at most 20), for an error message. */
  readonly tail: readonly string[];
}

/** How long output may still arrive after the program exited (a daemon it started may hold the pipes). */
const OUTPUT_GRACE_MS = 500;

/** Runs `argv`; resolves when it ends. Rejects only when it cannot start (ENOENT, EACCES). */
export function runCommand(
  argv: readonly string[],
  options: RunCommandOptions = {},
): Promise<CommandOutcome> {
  const [program, ...args] = argv;
  if (program === undefined) return Promise.reject(new Error('empty command'));
  const ownGroup = options.ownProcessGroup ?? true;
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      shell: false,
      detached: ownGroup,
      stdio: options.inheritStdio === true ? 'inherit' : ['ignore', 'pipe', 'pipe'],
      env: withoutSecrets(options.env ?? process.env),
      cwd: options.cwd,
    });
    const tail: string[] = [];
    for (const [stream, name] of [
      [child.stdout, 'stdout'],
      [child.stderr, 'stderr'],
    ] as const) {
      if (stream === null) continue;
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        options.onLine?.(line, name);
      });
    }
    const signalProgram = (signal: NodeJS.Signals): void => {
      try {
        if (ownGroup && child.pid !== undefined) process.kill(-child.pid, signal);
        else child.kill(signal);
      } catch {
        // Already gone.
      }
    };
    let timedOut = false;
    const timers: NodeJS.Timeout[] = [];
    if (options.timeoutMs !== undefined)
      timers.push(
        setTimeout(() => {
          timedOut = true;
          signalProgram('SIGTERM');
          timers.push(setTimeout(() => signalProgram('SIGKILL'), 5_000));
        }, options.timeoutMs),
      );
    const onAbort = (): void => {
      const reason = options.abortSignal?.reason as { signal?: NodeJS.Signals } | undefined;
      signalProgram(reason?.signal ?? 'SIGTERM');
    };
    if (options.abortSignal?.aborted === true) onAbort();
    options.abortSignal?.addEventListener('abort', onAbort);
    const cleanUp = (): void => {
      for (const timer of timers) clearTimeout(timer);
      options.abortSignal?.removeEventListener('abort', onAbort);
    };
    child.once('error', (error) => {
      cleanUp();
      reject(error);
    });
    child.once('exit', (code, signal) => {
      cleanUp();
      const outcome = (): CommandOutcome => ({
        exitCode: code ?? undefined,
        signal: signal ?? undefined,
        timedOut,
        tail,
      });
      if (child.stdout === null && child.stderr === null) {
        resolve(outcome());
        return;
      }
      const grace = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        resolve(outcome());
      }, OUTPUT_GRACE_MS);
      child.once('close', () => {
        clearTimeout(grace);
        resolve(outcome());
      });
    });
  });
}

/** `exit 3`, `killed by SIGTERM`, `timed out after 120 s`: how a program ended. */
export function describeOutcome(outcome: CommandOutcome, timeoutMs?: number): string {
  if (outcome.timedOut)
    return `timed out after ${String(Math.round((timeoutMs ?? 0) / 1000))} s and was killed`;
  if (outcome.signal !== undefined) return `was killed by ${outcome.signal}`;
  return `exited with status ${String(outcome.exitCode)}`;
}

function withoutSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  for (const name of SECRET_VARIABLES) Reflect.deleteProperty(copy, name);
  return copy;
}
