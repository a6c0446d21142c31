/**
 * The {@link OffsiteStore} of an rclone remote (S3, GCS, Azure Blob, B2, SFTP, a local path,
 * ...), run as the `rclone` CLI through `support/run-command.ts`: no shell, a timeout, and
 * nothing secret in argv. The remote is named in rclone's own config, which holds its
 * credentials; this module passes only the config file's path and `name:path`. rclone's
 * output reaches the log (and error messages) redacted.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OffsiteError } from '../errors.js';
import type { Logger } from '../support/logger.js';
import { redact } from '../support/redact.js';
import { describeOutcome, runCommand, type CommandOutcome } from '../support/run-command.js';
import type { CheckMethod, OffsiteStore, RemoteEntry } from './offsite-store.js';

export interface RcloneRemoteOptions {
  /** `name:path`, a remote of rclone's config. */
  readonly remote: string;
  /** rclone's config file; undefined = rclone's default (`$RCLONE_CONFIG`, ~/.config/rclone). */
  readonly configFile?: string | undefined;
  /** Seconds one rclone command may take. */
  readonly timeoutSeconds: number;
  readonly logger: Logger;
  /** The rclone binary; default `rclone` from PATH. */
  readonly program?: string | undefined;
  /** Ends a running rclone (the run was interrupted). */
  readonly signal?: AbortSignal | undefined;
}

/** rclone's exit status for "directory not found" (rclone docs, "Exit Code"). */
const DIRECTORY_NOT_FOUND = 3;

/** What rclone says when the two sides share no hash type (sftp without md5sum, ...). */
const NO_COMMON_HASH = /No common hash found|hashes could not be checked/;

interface RcloneOutput {
  readonly outcome: CommandOutcome;
  readonly stdout: readonly string[];
  readonly stderr: readonly string[];
}

export class RcloneRemote implements OffsiteStore {
  readonly description: string;
  private readonly options: RcloneRemoteOptions;

  constructor(options: RcloneRemoteOptions) {
    this.options = options;
    this.description = options.remote;
  }

  async upload(localDir: string, remoteDir: string, files?: readonly string[]): Promise<void> {
    await this.withFileList(files, async (list) => {
      await this.run(
        'copy',
        [localDir, this.target(remoteDir), ...list],
        `upload to ${this.target(remoteDir)}`,
      );
    });
  }

  async download(remoteDir: string, localDir: string, files?: readonly string[]): Promise<void> {
    await this.withFileList(files, async (list) => {
      await this.run(
        'copy',
        [this.target(remoteDir), localDir, ...list],
        `download of ${this.target(remoteDir)}`,
      );
    });
  }

  async check(
    direction: 'upload' | 'download',
    localDir: string,
    remoteDir: string,
    files?: readonly string[],
  ): Promise<CheckMethod> {
    const remote = this.target(remoteDir);
    const [source, destination] = direction === 'upload' ? [localDir, remote] : [remote, localDir];
    return this.withFileList(files, async (list) => {
      const args = [source, destination, '--one-way', ...list];
      const byHash = await this.run('check', args, `check of ${remote}`, { failIfDifferent: true });
      if (!byHash.stderr.some((line) => NO_COMMON_HASH.test(line))) return 'hash';
      // Sizes alone do not prove the bytes: read both sides.
      await this.run('check', [...args, '--download'], `check of ${remote} (by download)`, {
        failIfDifferent: true,
      });
      return 'download';
    });
  }

  async list(remoteDir: string): Promise<RemoteEntry[]> {
    const output = await this.run(
      'lsjson',
      ['--recursive', '--no-mimetype', '--no-modtime', this.target(remoteDir)],
      `listing of ${this.target(remoteDir)}`,
      { okCodes: [DIRECTORY_NOT_FOUND] },
    );
    if (output.outcome.exitCode === DIRECTORY_NOT_FOUND) return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(output.stdout.join('\n') || '[]');
    } catch (error) {
      throw new OffsiteError(`rclone lsjson printed something that is not JSON`, {
        cause: error,
      });
    }
    if (!Array.isArray(parsed)) return [];
    return parsed.map((item: { Path?: unknown; Size?: unknown; IsDir?: unknown }) => ({
      path: String(item.Path),
      size: typeof item.Size === 'number' && item.Size > 0 ? item.Size : 0,
      isDir: item.IsDir === true,
    }));
  }

  async deleteFile(remotePath: string): Promise<void> {
    await this.run(
      'deletefile',
      [this.target(remotePath)],
      `deletion of ${this.target(remotePath)}`,
    );
  }

  async deleteDirectory(remoteDir: string): Promise<void> {
    await this.run('purge', [this.target(remoteDir)], `deletion of ${this.target(remoteDir)}`);
  }

  /** `name:path/sub`: the store's root with `path` below it. */
  private target(path: string): string {
    const root = this.options.remote;
    if (path === '') return root;
    return root.endsWith(':') || root.endsWith('/') ? `${root}${path}` : `${root}/${path}`;
  }

  /**
   * Runs `body` with the arguments that limit an rclone command to `files`: a list file
   * (`--files-from-raw`, so that no name is read as a filter pattern) in a private temp
   * directory, removed after.
   */
  private async withFileList<T>(
    files: readonly string[] | undefined,
    body: (args: string[]) => Promise<T>,
  ): Promise<T> {
    if (files === undefined) return body([]);
    const dir = await mkdtemp(join(tmpdir(), 'schema_backup-rclone-'));
    try {
      const list = join(dir, 'files');
      await writeFile(list, files.map((name) => `${name}\n`).join(''), { mode: 0o600 });
      return await body(['--files-from-raw', list]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Runs `rclone <command> <args>`; throws OffsiteError unless it exits 0 (or with one of
   * `okCodes`). `what` names the step in the error.
   */
  private async run(
    command: string,
    args: readonly string[],
    what: string,
    options: { okCodes?: readonly number[]; failIfDifferent?: boolean } = {},
  ): Promise<RcloneOutput> {
    const { logger, configFile, timeoutSeconds } = this.options;
    const argv = [
      this.options.program ?? 'rclone',
      command,
      // Never wait for a password on a terminal: an unattended run would hang.
      '--ask-password=false',
      ...(configFile === undefined ? [] : ['--config', configFile]),
      ...args,
    ];
    logger.debug(`rclone ${command} ${args.filter((arg) => !arg.startsWith('--')).join(' ')}`);
    const stdout: string[] = [];
    const stderr: string[] = [];
    const timeoutMs = timeoutSeconds * 1000;
    let outcome: CommandOutcome;
    try {
      outcome = await runCommand(argv, {
        timeoutMs,
        abortSignal: this.options.signal,
        onLine: (line, stream) => {
          if (stream === 'stdout') stdout.push(line);
          else {
            stderr.push(line);
            logger.debug(`rclone: ${redact(line)}`);
          }
        },
      });
    } catch (error) {
      throw new OffsiteError(`cannot run rclone for the ${what}: ${(error as Error).message}`, {
        cause: error,
        hint: 'Install rclone (apt-get install rclone) or put it on PATH.',
      });
    }
    const ok = outcome.exitCode === 0 || options.okCodes?.includes(outcome.exitCode ?? -1) === true;
    if (!ok) {
      const problems = stderr.filter((line) => /\bERROR\b|Failed/.test(line)).slice(-5);
      const detail = (problems.length > 0 ? problems : stderr.slice(-3))
        .map((line) => redact(line.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /, '')))
        .join('; ');
      throw new OffsiteError(
        options.failIfDifferent === true && outcome.exitCode === 1
          ? `the ${what} found differences: ${detail}`
          : `the ${what} failed: rclone ${describeOutcome(outcome, timeoutMs)}${detail === '' ? '' : `: ${detail}`}`,
        {
          hint: `Try the remote by hand: rclone${configFile === undefined ? '' : ` --config ${configFile}`} lsd ${this.options.remote}`,
        },
      );
    }
    return { outcome, stdout, stderr };
  }
}
