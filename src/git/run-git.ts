/**
 * One git command as a child process: every git command of the repository layer, with an
 * optional environment (a private index, `GIT_INDEX_FILE`) and input on stdin. (No simple-git:
 * loading it and checking each command's arguments cost more than the commands of a snapshot.)
 *
 * Must not import the engine, the config or the CLI.
 */
import { spawn } from 'node:child_process';

export interface RunGitOptions {
  /** Added to the environment (e.g. `GIT_INDEX_FILE`, `GIT_AUTHOR_DATE`). */
  readonly env?: Readonly<Record<string, string>> | undefined;
  /** Written to stdin. */
  readonly input?: string | undefined;
}

/** The failure of one git command: its exit code and stderr. */
export class GitCommandError extends Error {
  readonly exitCode: number;
  readonly stderr: string;

  constructor(args: readonly string[], exitCode: number, stderr: string) {
    super(`git ${args.join(' ')} exited ${String(exitCode)}: ${stderr.trim()}`);
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/**
 * glibc's heap trim threshold for git, unless the user chose one: 8 MiB instead of 128 KiB.
 * git deflates each new blob with a fresh zlib stream (about 260 KB of heap, freed after the
 * file), and with the default threshold glibc hands that memory back to the kernel after
 * every file and takes it again for the next (one brk down and up, the pages zeroed anew):
 * `git add` of 1,000 new files spent 0.3-0.7 s in the kernel on it, 0.03 s with the
 * threshold raised (same peak RSS, 5 MB). Other C libraries ignore the variable.
 */
const MALLOC_TRIM_THRESHOLD = String(8 * 1024 * 1024);

/** The environment of a git child process: this process's, plus `extra`. */
export function gitEnvironment(
  extra: Readonly<Record<string, string>> = {},
): Record<string, string | undefined> {
  return {
    MALLOC_TRIM_THRESHOLD_: MALLOC_TRIM_THRESHOLD,
    ...process.env,
    ...extra,
  };
}

/** Runs `git ARGS` in `cwd` and returns stdout; a non-zero exit throws {@link GitCommandError}. */
export function runGit(
  cwd: string,
  args: readonly string[],
  options: RunGitOptions = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd,
      env: gitEnvironment(options.env),
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString());
      else reject(new GitCommandError(args, code ?? 1, stderr));
    });
    if (options.input !== undefined) {
      // A git that exits without reading its input fails by its exit code, not EPIPE.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(options.input);
    }
  });
}
