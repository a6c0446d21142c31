/**
 * Runs a program without a shell, with a timeout, passing each line it prints to a callback
 * (the log). Used for service managers, hooks and upgrade commands, never with a password
 * in argv or the environment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface RunCommandOptions {
  /** Kill the program (TERM, then KILL 5 s later) after this long. Undefined: no limit. */
  readonly timeoutMs?: number | undefined;
  /** Each line the program writes to stdout or stderr. */
  readonly onLine?: ((line: string, stream: 'stdout' | 'stderr') => void) | undefined;
  /** Let the program use this process's terminal (stdin, stdout, stderr) instead. */
  readonly inheritStdio?: boolean | undefined;
  readonly env?: NodeJS.ProcessEnv | undefined;
  readonly cwd?: string | undefined;
  /** Called with the child while it runs, e.g. to forward signals to it. */
  readonly onSpawn?: ((child: ChildProcess) => void) | undefined;
}

export interface CommandOutcome {
  /** Exit status; undefined when a signal ended it. */
  readonly exitCode: number | undefined;
  readonly signal: NodeJS.Signals | undefined;
  readonly timedOut: boolean;
  /** The last lines of output (at most 20), for an error message. */
  readonly tail: readonly string[];
}

/** Runs `argv`; resolves when it ends. Rejects only when it cannot start (ENOENT, EACCES). */
export function runCommand(
  argv: readonly string[],
  options: RunCommandOptions = {},
): Promise<CommandOutcome> {
  const [program, ...args] = argv;
  if (program === undefined) return Promise.reject(new Error('empty command'));
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      shell: false,
      stdio: options.inheritStdio === true ? 'inherit' : ['ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    const tail: string[] = [];
    const collect = (stream: NodeJS.ReadableStream | null, name: 'stdout' | 'stderr'): void => {
      if (stream === null) return;
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        options.onLine?.(line, name);
      });
    };
    collect(child.stdout, 'stdout');
    collect(child.stderr, 'stderr');
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGTERM');
            killTimer = setTimeout(() => child.kill('SIGKILL'), 5_000);
            killTimer.unref();
          }, options.timeoutMs);
    child.once('spawn', () => options.onSpawn?.(child));
    child.once('error', (error) => {
      if (timer !== undefined) clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      if (killTimer !== undefined) clearTimeout(killTimer);
      resolve({
        exitCode: code ?? undefined,
        signal: signal ?? undefined,
        timedOut,
        tail,
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
