/**
 * The git repository that tracks snapshots: each git command a child process (runGit). Commits touch exactly the paths
 * they are given: other staged or unstaged files of the repository are left as they were.
 *
 * Must not import the engine, the config or the CLI.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { realpathSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { GitError, PushError } from '../errors.js';
import { replayCommits, type ReplayResult } from './replay-commits.js';
import { GitCommandError, gitEnvironment, runGit } from './run-git.js';

export interface Author {
  readonly name: string;
  readonly email: string;
}

/** Parses `Name <email>`. */
export function parseAuthor(text: string): Author {
  const match = /^\s*([^<>]+?)\s*<([^<>]*)>\s*$/.exec(text);
  if (!match)
    throw new GitError(`not an author of the form "Name <email>": ${JSON.stringify(text)}`);
  return { name: match[1] ?? '', email: match[2] ?? '' };
}

/** One changed path of a commit, as `git diff --name-status` reports it. */
export interface ChangedPath {
  readonly status: 'added' | 'modified' | 'deleted';
  /** Relative to the repository root. */
  readonly path: string;
}

export interface CommitOptions {
  /** Hundreds of files changed: store their blobs in one pack. */
  readonly manyFiles?: boolean;
  /**
   * This run changed no file under the path: one `git status` tells whether anything is
   * left to commit there (files a killed run put in place), instead of `git add` and
   * `git diff --cached` every time.
   */
  readonly nothingWritten?: boolean;
}

export interface CommitResult {
  readonly id: string;
  readonly changes: readonly ChangedPath[];
}

export interface PushOptions {
  /**
   * Directories this repository alone writes (the host directory): a change under them on the
   * remote is a conflict, never merged.
   */
  readonly owned?: readonly string[] | undefined;
  /** Pushes tried before giving up (default: no limit but `maxSeconds`). */
  readonly maxAttempts?: number | undefined;
  /** Seconds before giving up (default 120). */
  readonly maxSeconds?: number | undefined;
  /** Committer of replayed commits when git has no `user.name` configured. */
  readonly committer?: Author | undefined;
  /** For tests: a number in [0, 1) for the backoff's jitter. */
  readonly random?: (() => number) | undefined;
}

export interface PushResult {
  /** Commits the remote received (0: it had them all; nothing was pushed). */
  readonly commits: number;
  /** Pushes tried. */
  readonly attempts: number;
  /** Times the local commits were replayed onto a remote that moved. */
  readonly replayed: number;
  /** HEAD afterwards (a new id when the commits were replayed); undefined without commits. */
  readonly head: string | undefined;
}

// No count by default: every retryable rejection is another host's push landing, so a fleet
// always makes progress, and a fleet of N hosts at once rejects its last host up to N-1 times
// (20 hosts on a loaded machine needed 11). The time limit bounds a run.
const DEFAULT_PUSH_ATTEMPTS = Number.POSITIVE_INFINITY;
const DEFAULT_PUSH_SECONDS = 120;
const BASE_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;

export class Repository {
  /** Absolute path of the work tree's top directory. */
  readonly root: string;
  /**
   * Where HEAD and the refs are kept (`--absolute-git-dir`, `--git-common-dir`), when known:
   * a commit's id is then read from them instead of from one more git process.
   */
  private readonly dirs: GitDirectories | undefined;

  private constructor(root: string, dirs?: GitDirectories) {
    this.root = root;
    this.dirs = dirs;
  }

  /** `git ARGS` in the root; its stdout. */
  private git(args: readonly string[]): Promise<string> {
    return runGit(this.root, args);
  }

  /**
   * The repository whose work tree contains `directory`, or undefined when there is none.
   * With `init`, creates one in `directory` instead of returning undefined.
   */
  static async find(
    directory: string,
    options: { init?: boolean } = {},
  ): Promise<Repository | undefined> {
    await mkdir(directory, { recursive: true });
    let found: { root: string; dirs?: GitDirectories } | undefined;
    try {
      // Two git processes side by side, not three one after the other: where the work tree
      // is (and its git directories), and whether it ignores `directory`.
      const [place, ignored] = await Promise.all([locateWorkTree(directory), isIgnored(directory)]);
      // A directory the enclosing repository ignores is not tracked by it (e.g. a work
      // area inside a project checkout): it is treated as being in no repository.
      if (place !== undefined && !ignored) found = place;
    } catch (error) {
      throw translate(error, `looking for the git repository of ${directory}`);
    }
    if (found === undefined) {
      if (options.init !== true) return undefined;
      try {
        await runGit(directory, ['init', '--quiet']);
      } catch (error) {
        throw translate(error, `creating a git repository in ${directory}`);
      }
      // `git init` made `directory/.git`, unless the environment points git elsewhere.
      const gitDir = join(resolve(directory), '.git');
      const dirs =
        process.env.GIT_DIR === undefined && process.env.GIT_COMMON_DIR === undefined
          ? { gitDir, commonDir: gitDir }
          : undefined;
      found = { root: directory, dirs };
    }
    return new Repository(found.root, found.dirs);
  }

  /** `path` relative to the root, with forward slashes, for pathspecs. */
  pathspec(path: string): string {
    // git's root is a real path; a backup directory reached through a symlink must be too.
    const relativePath = relative(this.root, realPathOf(path)).split('\\').join('/');
    return relativePath === '' ? '.' : relativePath;
  }

  /**
   * Stages every change under `path` (a literal path: a host called `db*` is no glob) (added, modified, deleted; ignored files too, because a
   * snapshot file silently left out by a .gitignore would be lost) and commits exactly those
   * paths. Returns undefined when there is nothing to commit.
   */
  async commitPath(
    path: string,
    message: (changes: readonly ChangedPath[]) => string,
    author: Author,
    options: CommitOptions = {},
  ): Promise<CommitResult | undefined> {
    const spec = this.pathspec(path);
    try {
      if (options.nothingWritten === true && (await this.isClean(spec))) return undefined;
      // Many new files: a bigFileThreshold of 1 byte makes `git add` stream every blob into
      // one pack (bulk check-in) instead of one loose object file each, a third faster for
      // 1,000 files. Only this command sees these settings.
      // Compression level 1: a third less CPU, and gc recompresses the pack later anyway.
      const bulk =
        options.manyFiles === true
          ? ['-c', 'core.bigFileThreshold=1', '-c', 'core.compression=1']
          : [];
      // Whether git has a committer name is asked while `git add` runs, not after it.
      const committer = this.committerConfig(author);
      await runGit(this.root, [
        ...bulk,
        '--literal-pathspecs',
        'add',
        '--all',
        '--force',
        '--',
        spec,
      ]);
      // Every staged change of the repository: ours, and any the user staged elsewhere.
      const staged = parseNameStatus(
        await this.git(['diff', '--cached', '--name-status', '--no-renames', '-z']),
      );
      const prefix = spec === '.' ? '' : `${spec}/`;
      const changes = staged.filter(
        (change) => prefix === '' || change.path === spec || change.path.startsWith(prefix),
      );
      if (changes.length === 0) return undefined;
      // With nothing else staged, the index is exactly what to commit. `--only` with a
      // pathspec commits those paths and nothing else that may be staged, but adds each file
      // again (twice), which for 1,000 files costs more than the rest of the commit.
      const only = changes.length === staged.length ? [] : ['--only'];
      await runGit(this.root, [
        ...(await committer),
        '--literal-pathspecs',
        'commit',
        ...only,
        '--quiet',
        '--no-edit',
        `--author=${author.name} <${author.email}>`,
        '-m',
        message(changes),
        ...(only.length === 0 ? [] : ['--', spec]),
      ]);
      const id = (await this.headFromFiles()) ?? (await this.git(['rev-parse', 'HEAD'])).trim();
      return { id, changes };
    } catch (error) {
      throw translate(error, `committing ${spec}`);
    }
  }

  /**
   * Whether the work tree, the index and HEAD agree on everything under `spec`: no change,
   * staged or not, no untracked file, ignored ones included (as `git add --all --force` would
   * add them). Anything `git status` lists means: add and look.
   */
  private async isClean(spec: string): Promise<boolean> {
    const out = await this.git([
      '--literal-pathspecs',
      'status',
      '--porcelain',
      '-z',
      '--untracked-files=all',
      '--ignored',
      '--',
      spec,
    ]);
    return out === '';
  }

  /**
   * The commit HEAD names, read from the git directory's files (HEAD, then the loose ref it
   * points to, which a commit has just written): one git process less after a commit.
   * Undefined when that is not certain (unknown directories, a packed or reftable ref, a
   * symbolic ref outside refs/heads): then ask `git rev-parse`.
   */
  private async headFromFiles(): Promise<string | undefined> {
    if (this.dirs === undefined) return undefined;
    const objectId = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
    try {
      const head = (await readFile(join(this.dirs.gitDir, 'HEAD'), 'utf8')).trim();
      if (objectId.test(head)) return head;
      const ref = /^ref: (refs\/heads\/[^\s]+)$/.exec(head)?.[1];
      if (ref === undefined) return undefined;
      const id = (await readFile(join(this.dirs.commonDir, ref), 'utf8')).trim();
      return objectId.test(id) ? id : undefined;
    } catch {
      return undefined;
    }
  }

  /** Resets the index entries under `path` to HEAD (to nothing before the first commit). */
  async unstage(path: string): Promise<void> {
    const spec = this.pathspec(path);
    try {
      if ((await this.head()) === undefined)
        await this.git([
          '--literal-pathspecs',
          'rm',
          '-r',
          '-q',
          '--cached',
          '--ignore-unmatch',
          '--',
          spec,
        ]);
      else await this.git(['--literal-pathspecs', 'reset', '-q', 'HEAD', '--', spec]);
    } catch (error) {
      throw translate(error, `unstaging ${spec}`);
    }
  }

  /**
   * Pushes HEAD to `branch` of `remote` (default: the current branch's name) when the remote
   * lacks any of its commits, whether this run made them or an earlier run failed to push
   * them. Nothing is contacted when the last known remote tip already contains HEAD.
   *
   * A push rejected because the remote moved (another host pushed first) is retried: fetch,
   * replay the local commits onto the remote tip ({@link replayCommits}: the user's index and
   * work tree outside the paths the remote changed are left alone), move the branch, push
   * again, with jittered exponential backoff, for at most `maxSeconds` (and `maxAttempts`
   * tries when given).
   * A change on the remote to a path the local commits change, or under `owned`, is a
   * conflict. Throws {@link PushError} (with the count of commits left unpushed) when the
   * push does not happen; the local commits are always kept.
   */
  async push(remote: string, branch?: string, options: PushOptions = {}): Promise<PushResult> {
    const maxAttempts = options.maxAttempts ?? DEFAULT_PUSH_ATTEMPTS;
    const deadline = Date.now() + (options.maxSeconds ?? DEFAULT_PUSH_SECONDS) * 1000;
    const random = options.random ?? Math.random;
    const owned = (options.owned ?? []).map((path) => this.pathspec(path));
    const target = branch ?? (await this.currentBranch());
    const tracking = await this.trackingRef(remote, target);
    const where = `${remote} (branch ${target})`;
    let replayed = 0;
    for (let attempt = 1; ; attempt++) {
      const head = await this.head();
      if (head === undefined) return { commits: 0, attempts: attempt - 1, replayed, head };
      const ahead = await this.countAhead(tracking, head);
      if (ahead === 0) return { commits: 0, attempts: attempt - 1, replayed, head };
      let failure: unknown;
      try {
        await runGit(this.root, ['push', '--quiet', remote, `${head}:refs/heads/${target}`]);
        await runGit(this.root, ['update-ref', tracking, head]);
        return { commits: ahead, attempts: attempt, replayed, head };
      } catch (error) {
        failure = error;
      }
      const text = gitOutput(failure);
      if (!isRetryableRejection(text))
        throw new PushError(
          `cannot push to ${where}: ${firstLines(text)}; ${waiting(ahead)}`,
          ahead,
          {
            hint: `The snapshot is committed locally in ${this.root}. ${
              /remote rejected|declined/i.test(text)
                ? 'The remote refused it (a hook, or permissions): see its message.'
                : `Check that the remote is reachable (\`git ls-remote ${remote}\`).`
            } The next run pushes every commit the remote lacks.`,
            cause: failure,
          },
        );
      if (attempt >= maxAttempts || Date.now() >= deadline)
        throw new PushError(
          `the push to ${where} was rejected ${plural(attempt, 'time')}: other hosts kept pushing first; ${waiting(ahead)}`,
          ahead,
          {
            hint: `The snapshot is committed locally in ${this.root}; the next run pushes it. If this repeats, spread the hosts' start times (e.g. RandomizedDelaySec= in the systemd timer).`,
            cause: failure,
          },
        );
      // Full jitter: hosts rejected together do not retry together.
      const cap = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** (attempt - 1));
      await sleep(Math.min(random() * cap, Math.max(0, deadline - Date.now())));
      try {
        await runGit(this.root, [
          'fetch',
          '--quiet',
          '--no-tags',
          remote,
          `+refs/heads/${target}:${tracking}`,
        ]);
      } catch (error) {
        throw new PushError(
          `the push to ${where} was rejected and fetching it failed: ${firstLines(gitOutput(error))}`,
          ahead,
          {
            hint: `The snapshot is committed locally in ${this.root}; the next run pushes it.`,
            cause: error,
          },
        );
      }
      const remoteTip = (await runGit(this.root, ['rev-parse', '--verify', tracking])).trim();
      let result: ReplayResult;
      try {
        result = await replayCommits(this.root, {
          from: head,
          onto: remoteTip,
          owned,
          committer: options.committer,
        });
      } catch (error) {
        throw new PushError(
          `the push to ${where} was rejected, and replaying the local commits onto it failed: ${firstLines(gitOutput(error))}`,
          await this.countAhead(tracking, head),
          {
            hint: `The snapshot is committed locally in ${this.root}; nothing was changed. Rebase onto ${tracking} by hand and push, or let the next run try again.`,
            cause: error,
          },
        );
      }
      if (result.outcome === 'merge-commit')
        throw new PushError(
          `the push to ${where} was rejected, and the local commits cannot be replayed onto it: ${result.commit.slice(0, 12)} is a merge`,
          await this.countAhead(tracking, head),
          {
            hint: `The snapshot is committed locally. In ${this.root}, rebase or merge ${tracking} by hand and push; the next run pushes whatever is left.`,
          },
        );
      if (result.outcome === 'conflict') {
        const shown = result.paths.slice(0, 5).join(', ');
        const more = result.paths.length > 5 ? ` and ${String(result.paths.length - 5)} more` : '';
        throw new PushError(
          `the push to ${where} was rejected: the remote changed ${shown}${more}, which the local commits change or this host owns`,
          await this.countAhead(tracking, head),
          {
            hint: `The snapshot is committed locally (${head.slice(0, 12)}); nothing was changed on the remote. Someone else wrote this host's directory there: see \`git log -p HEAD..${tracking} -- ${owned[0] ?? '.'}\` in ${this.root}. To keep this host's snapshot, \`git rebase ${tracking}\` (resolve by taking this host's files) and push; to take the remote's, \`git reset --keep ${tracking}\`. The next run pushes whatever is then ahead.`,
          },
        );
      }
      // A branch that moved meanwhile (another run committing in this repository) is
      // replayed again from its new tip by the next attempt.
      if (await this.moveHead(head, result.tip, tracking)) replayed++;
    }
  }

  /**
   * How many commits of HEAD the last known tip of `branch` on `remote` lacks (all of them
   * when that tip is unknown; 0 without commits; undefined on a detached HEAD without
   * `branch`). Contacts no remote.
   */
  async countUnpushed(remote: string, branch?: string): Promise<number | undefined> {
    const head = await this.head();
    if (head === undefined) return 0;
    const target =
      branch ??
      (await runGit(this.root, ['symbolic-ref', '--short', '-q', 'HEAD']).catch(() => '')).trim();
    if (target === '') return undefined;
    return this.countAhead(await this.trackingRef(remote, target), head);
  }

  /**
   * Moves the current branch from `from` to `to`, updating the index and the work tree for
   * the paths that differ between them only (as a checkout does). A path the user changed
   * that would have to change too throws {@link PushError} with nothing moved. Returns false,
   * with nothing moved, when the branch is no longer at `from`.
   */
  private async moveHead(from: string, to: string, tracking: string): Promise<boolean> {
    try {
      await runGit(this.root, ['read-tree', '-m', '-u', from, to]);
    } catch (error) {
      throw new PushError(
        `the local commits were replayed onto the remote, but the work tree cannot be updated to them: ${firstLines(gitOutput(error))}`,
        await this.countAhead(tracking, from),
        {
          hint: `Uncommitted changes in ${this.root} are in the way of files that changed on the remote; commit or move them away, and the next run pushes.`,
          cause: error,
        },
      );
    }
    try {
      // Compare-and-swap: a branch that moved meanwhile is not overwritten.
      await runGit(this.root, [
        'update-ref',
        '-m',
        `schema_backup: replayed onto ${tracking}`,
        'HEAD',
        to,
        from,
      ]);
      return true;
    } catch {
      // The index and work tree go back to what the branch holds.
      await runGit(this.root, ['read-tree', '-m', '-u', to, from]).catch(() => undefined);
      return false;
    }
  }

  /** Commits in `head` that `ref` lacks; all of them when `ref` does not exist. */
  private async countAhead(ref: string, head: string): Promise<number> {
    const known = await runGit(this.root, ['rev-parse', '--verify', '--quiet', ref]).then(
      () => true,
      () => false,
    );
    const out = await runGit(this.root, [
      'rev-list',
      '--count',
      head,
      ...(known ? [`^${ref}`] : []),
    ]);
    return Number(out.trim());
  }

  /**
   * Where the remote's tip is remembered: the usual remote-tracking ref for a configured
   * remote, or a ref of our own for a URL (which has no remote-tracking refs).
   */
  private async trackingRef(remote: string, branch: string): Promise<string> {
    const configured = await runGit(this.root, ['config', '--get', `remote.${remote}.url`]).then(
      () => true,
      () => false,
    );
    if (configured) return `refs/remotes/${remote}/${branch}`;
    const key = createHash('sha256').update(remote).digest('hex').slice(0, 16);
    return `refs/schema_backup/remotes/${key}/${branch}`;
  }

  private async currentBranch(): Promise<string> {
    try {
      return (await runGit(this.root, ['symbolic-ref', '--short', 'HEAD'])).trim();
    } catch (error) {
      throw new GitError(`${this.root} has no current branch (detached HEAD): nothing to push to`, {
        hint: 'Check out a branch, or set git.branch in the config.',
        cause: error,
      });
    }
  }

  /**
   * The names of the files directly in `directory` at `revision` (a commit, branch or tag),
   * sorted. Throws {@link GitError} when the revision or the directory does not exist there.
   */
  async listFiles(revision: string, directory: string): Promise<string[]> {
    const names = await this.listTree(revision, directory, []);
    if (names === undefined)
      throw new GitError(`${this.pathspec(directory)} does not exist at revision ${revision}`, {
        hint: 'Check the revision with `git log -- <host dir>` and the host with --backup-host.',
      });
    return names;
  }

  /**
   * The names of the directories directly in `directory` at `revision`, sorted; empty when
   * the revision or the directory does not exist there.
   */
  async listDirectories(revision: string, directory: string): Promise<string[]> {
    return (await this.listTree(revision, directory, ['-d'])) ?? [];
  }

  /** `git ls-tree` of `directory` at `revision`: names, sorted; undefined when it is not there. */
  private async listTree(
    revision: string,
    directory: string,
    options: readonly string[],
  ): Promise<string[] | undefined> {
    const spec = this.pathspec(directory);
    let output: string;
    try {
      output = await this.git([
        'ls-tree',
        '-z',
        ...options,
        '--name-only',
        `${revision}:${spec === '.' ? '' : spec}`,
      ]);
    } catch {
      return undefined;
    }
    return output
      .split('\0')
      .filter((name) => name !== '')
      .sort();
  }

  /** The bytes of `path` at `revision`, streamed from `git cat-file` (never the whole file in memory). */
  readFileAt(revision: string, path: string): AsyncIterable<Buffer> {
    return this.catFile(['blob', `${revision}:${this.pathspec(path)}`]);
  }

  /** The bytes of the blob `id`, streamed (stop reading to stop git). */
  readBlob(id: string): AsyncIterable<Buffer> {
    return this.catFile(['blob', id]);
  }

  /** `git cat-file ARGS` stdout, streamed. */
  private catFile(args: readonly string[]): AsyncIterable<Buffer> {
    const root = this.root;
    const what = args.join(' ');
    return (async function* () {
      const child = spawn('git', ['cat-file', ...args], {
        cwd: root,
        env: gitEnvironment(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exit = new Promise<number>((resolve) =>
        child.on('close', (code) => resolve(code ?? 1)),
      );
      try {
        for await (const chunk of child.stdout) yield chunk as Buffer;
      } finally {
        if (child.exitCode === null) child.kill();
      }
      const code = await exit;
      if (code !== 0) throw new GitError(`cannot read ${what}: ${stderr.trim()}`);
    })();
  }

  /**
   * The files directly in `directory` at `revision` with their blob ids, by name: equal ids
   * mean equal content, so a comparison reads only the files that differ.
   */
  async listBlobs(revision: string, directory: string): Promise<Map<string, string>> {
    const spec = this.pathspec(directory);
    let output: string;
    try {
      output = await this.git(['ls-tree', '-z', `${revision}:${spec === '.' ? '' : spec}`]);
    } catch (error) {
      // A directory that did not exist yet at that revision is empty there; a bad revision
      // (or any other failure) is an error.
      await this.resolveRevision(revision);
      if (/not a valid object name|not a tree object/i.test((error as Error).message))
        return new Map();
      throw new GitError(
        `cannot list ${spec} at revision ${revision}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const blobs = new Map<string, string>();
    for (const entry of output.split('\0')) {
      const match = /^\d+ blob ([0-9a-f]+)\t(.*)$/s.exec(entry);
      if (match) blobs.set(match[2] ?? '', match[1] ?? '');
    }
    return blobs;
  }

  /**
   * {@link listBlobs} of every directory directly in `directory` at `revision`, by directory
   * name, from one `git ls-tree`: comparing a hundred host directories lists them once.
   * Empty when `directory` does not exist there; throws {@link GitError} for a bad revision.
   */
  async listBlobsUnder(
    revision: string,
    directory: string,
  ): Promise<Map<string, Map<string, string>>> {
    const commit = await this.resolveRevision(revision);
    const spec = this.pathspec(directory);
    const result = new Map<string, Map<string, string>>();
    let output: string;
    try {
      output = await runGit(this.root, [
        'ls-tree',
        '-r',
        '-z',
        `${commit}:${spec === '.' ? '' : spec}`,
      ]);
    } catch (error) {
      if (/not a valid object name|not a tree object/i.test(gitOutput(error))) return result;
      throw new GitError(
        `cannot list ${spec} at revision ${revision}: ${gitOutput(error).trim()}`,
        {
          cause: error,
        },
      );
    }
    for (const entry of output.split('\0')) {
      const match = /^\d+ blob ([0-9a-f]+)\t([^/]+)\/([^/]+)$/s.exec(entry);
      if (match === null) continue;
      const [, id = '', name = '', file = ''] = match;
      let blobs = result.get(name);
      if (blobs === undefined) result.set(name, (blobs = new Map<string, string>()));
      blobs.set(file, id);
    }
    return result;
  }

  /** A reader of many blobs through one `git cat-file --batch` process; close it when done. */
  openBlobReader(): BlobReader {
    return new BlobReader(this.root);
  }

  /**
   * The lines of `git log` with `args` (format, patch options) for `path`, streamed from one
   * git process: a history of thousands of commits is never held whole.
   */
  async *logLines(args: readonly string[], paths: readonly string[]): AsyncIterable<string> {
    // Magic pathspecs (`:(exclude)…`) keep their prefix; the path part is made relative.
    const specs = paths.map((path) => {
      const magic = /^(:\([^)]*\))(.*)$/.exec(path);
      return magic ? `${magic[1] ?? ''}${this.pathspec(magic[2] ?? '')}` : this.pathspec(path);
    });
    // Unquoted non-ASCII paths, whatever the user's core.quotePath.
    const child = spawn('git', ['-c', 'core.quotePath=false', 'log', ...args, '--', ...specs], {
      cwd: this.root,
      env: gitEnvironment(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exit = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
    const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
    try {
      for await (const line of lines) yield line;
    } finally {
      if (child.exitCode === null) child.kill();
    }
    const code = await exit;
    if (code !== 0 && stderr !== '') throw new GitError(`git log failed: ${stderr.trim()}`);
  }

  /** When `revision` was committed. */
  async commitTime(revision: string): Promise<Date> {
    try {
      return new Date((await this.git(['show', '-s', '--format=%cI', revision])).trim());
    } catch (error) {
      throw new GitError(`no commit ${revision} in ${this.root}`, { cause: error });
    }
  }

  /** The full id of `revision`; throws {@link GitError} when it names no commit. */
  async resolveRevision(revision: string): Promise<string> {
    try {
      return (await this.git(['rev-parse', '--verify', '--quiet', `${revision}^{commit}`])).trim();
    } catch (error) {
      throw new GitError(`no commit ${revision} in ${this.root}`, { cause: error });
    }
  }

  /** The full id of HEAD, or undefined in a repository without commits. */
  async head(): Promise<string | undefined> {
    try {
      return (await this.git(['rev-parse', '--verify', '--quiet', 'HEAD'])).trim() || undefined;
    } catch {
      return undefined;
    }
  }

  /** The newest commit touching `path`, or undefined when there is none (for `status`). */
  async lastCommit(
    path: string,
  ): Promise<{ id: string; date: string; subject: string } | undefined> {
    if ((await this.head()) === undefined) return undefined;
    let out: string;
    try {
      out = await this.git(['log', '-1', '--format=%H%x00%cI%x00%s', '--', this.pathspec(path)]);
    } catch (error) {
      throw translate(error, `reading the last commit of ${path}`);
    }
    const [id, date, subject] = out.trim().split('\0');
    return id === undefined || id === ''
      ? undefined
      : { id, date: date ?? '', subject: subject ?? '' };
  }

  /**
   * The newest commit of HEAD's history touching each of `names`, the directories directly
   * in `directory` (host directories), from one `git log` read until every name was seen:
   * a hundred hosts cost one process, not a hundred. The date is the author date, which a
   * replayed push keeps (the committer date is the replay's). Names no commit touched are
   * missing from the result; empty in a repository without commits.
   */
  async lastCommitsUnder(
    directory: string,
    names: readonly string[],
  ): Promise<Map<string, DirectoryCommit>> {
    const found = new Map<string, DirectoryCommit>();
    if (names.length === 0 || (await this.head()) === undefined) return found;
    const wanted = new Set(names);
    const spec = this.pathspec(directory);
    const prefix = spec === '.' ? '' : `${spec}/`;
    let current: DirectoryCommit | undefined;
    // A NUL opens each commit's header line: no path holds one.
    const lines = this.logLines(
      ['--no-renames', '--name-only', '--format=%x00%H%x00%aI%x00%an <%ae>%x00%s'],
      [directory],
    );
    for await (const line of lines) {
      if (line.startsWith('\0')) {
        const [, id = '', date = '', author = '', subject = ''] = line.split('\0');
        current = { id, date, author, subject };
        continue;
      }
      const path = unquotePath(line);
      if (current === undefined || !path.startsWith(prefix)) continue;
      const name = path.slice(prefix.length).split('/')[0] ?? '';
      if (!wanted.has(name) || found.has(name)) continue;
      found.set(name, current);
      if (found.size === wanted.size) break;
    }
    return found;
  }

  /** Commit count touching `path` (for tests and status). */
  async countCommits(path: string): Promise<number> {
    if ((await this.head()) === undefined) return 0;
    const out = await this.git(['rev-list', '--count', 'HEAD', '--', this.pathspec(path)]);
    return Number(out.trim());
  }

  /**
   * A nightly timer often runs as a user without `user.name`; then the author doubles as the
   * committer (given as `-c` options), instead of git refusing to commit.
   */
  private async committerConfig(author: Author): Promise<string[]> {
    const configured = await this.git(['config', '--get', 'user.name']).catch(() => '');
    if (configured.trim() !== '') return [];
    return ['-c', `user.name=${author.name}`, '-c', `user.email=${author.email}`];
  }
}

/** One commit as {@link Repository.lastCommitsUnder} reports it. */
export interface DirectoryCommit {
  readonly id: string;
  /** Author date, ISO 8601 with the author's offset. */
  readonly date: string;
  /** `Name <email>`. */
  readonly author: string;
  readonly subject: string;
}

/**
 * A path as `git log --name-only` prints it: as it is, or, with a `"`, `\\` or control
 * character in it, between quotes with C escapes (core.quotePath=false keeps other bytes).
 */
function unquotePath(line: string): string {
  if (!line.startsWith('"') || !line.endsWith('"')) return line;
  const escapes: Readonly<Record<string, string>> = { n: '\n', t: '\t', '"': '"', '\\': '\\' };
  const bytes: number[] = [];
  const body = line.slice(1, -1);
  for (let index = 0; index < body.length; index++) {
    const char = String.fromCodePoint(body.codePointAt(index) ?? 0);
    if (char !== '\\') {
      bytes.push(...Buffer.from(char, 'utf8'));
      index += char.length - 1;
      continue;
    }
    const octal = /^[0-7]{3}/.exec(body.slice(index + 1));
    if (octal !== null) {
      bytes.push(parseInt(octal[0], 8));
      index += 3;
    } else {
      const next = body[index + 1] ?? '';
      bytes.push(...Buffer.from(escapes[next] ?? next, 'utf8'));
      index += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** `path` with symlinks resolved, as far as it exists (the rest is appended unchanged). */
function realPathOf(path: string): string {
  const missing: string[] = [];
  let current = resolve(path);
  for (;;) {
    try {
      return join(realpathSync(current), ...missing.reverse());
    } catch {
      const parent = dirname(current);
      if (parent === current) return path;
      missing.push(basename(current));
      current = parent;
    }
  }
}

/**
 * Blobs by id from one long-lived `git cat-file --batch`: a comparison that reads hundreds
 * of files starts one process, not hundreds. Requests are answered in order.
 */
export class BlobReader {
  private readonly child: ReturnType<typeof spawn>;
  private readonly waiting: {
    resolve: (content: Buffer) => void;
    reject: (error: Error) => void;
    id: string;
  }[] = [];
  private chunks: Buffer[] = [];
  private buffered = 0;
  private failure: Error | undefined;

  constructor(root: string) {
    this.child = spawn('git', ['cat-file', '--batch'], {
      cwd: root,
      env: gitEnvironment(),
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      this.drain();
    });
    this.child.on('error', (error) => {
      this.fail(error);
    });
    this.child.on('close', () => {
      this.fail(new GitError('git cat-file ended'));
    });
  }

  /** The content of blob `id`. Throws {@link GitError} when there is no such object. */
  read(id: string): Promise<Buffer> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject, id });
      this.child.stdin?.write(`${id}\n`);
    });
  }

  close(): void {
    this.child.stdin?.end();
  }

  private drain(): void {
    for (;;) {
      const request = this.waiting[0];
      if (request === undefined) return;
      const buffer =
        this.chunks.length === 1
          ? (this.chunks[0] ?? Buffer.alloc(0))
          : Buffer.concat(this.chunks, this.buffered);
      this.chunks = [buffer];
      const newline = buffer.indexOf(10);
      if (newline === -1) return;
      const header = /^\S+ \S+ (\d+)$/.exec(buffer.subarray(0, newline).toString('latin1'));
      if (header === null) {
        this.consume(buffer, newline + 1);
        this.waiting.shift();
        request.reject(new GitError(`no object ${request.id} in the repository`));
        continue;
      }
      const size = Number(header[1]);
      if (buffer.length < newline + 1 + size + 1) return;
      const content = Buffer.from(buffer.subarray(newline + 1, newline + 1 + size));
      this.consume(buffer, newline + 1 + size + 1);
      this.waiting.shift();
      request.resolve(content);
    }
  }

  private consume(buffer: Buffer, length: number): void {
    const rest = buffer.subarray(length);
    this.chunks = rest.length === 0 ? [] : [rest];
    this.buffered = rest.length;
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const request of this.waiting.splice(0)) request.reject(this.failure);
  }
}

/** Where a repository keeps HEAD (`gitDir`) and its refs (`commonDir`; differs in a worktree). */
interface GitDirectories {
  readonly gitDir: string;
  readonly commonDir: string;
}

/**
 * The work tree's top directory and git directories for `directory`, from one `git
 * rev-parse`; undefined when it is in no work tree. Anything unusual (inside a `.git`
 * directory, a bare repository) is decided by {@link isInWorkTree} as before.
 */
async function locateWorkTree(
  directory: string,
): Promise<{ root: string; dirs?: GitDirectories } | undefined> {
  let lines: string[];
  try {
    lines = (
      await runGit(directory, [
        'rev-parse',
        '--is-inside-work-tree',
        '--show-toplevel',
        '--absolute-git-dir',
        '--git-common-dir',
      ])
    ).split('\n');
  } catch (error) {
    if (
      error instanceof GitCommandError &&
      error.exitCode === 128 &&
      /(Not a git repository|Kein Git-Repository)/i.test(error.stderr)
    )
      return undefined;
    lines = [];
  }
  const [inside, root, gitDir, commonDir] = lines;
  // Four lines and a final newline; a path with a newline in it takes the slow way.
  if (lines.length !== 5 || inside !== 'true' || !root || !gitDir || !commonDir) {
    if (!(await isInWorkTree(directory))) return undefined;
    return { root: (await runGit(directory, ['rev-parse', '--show-toplevel'])).trim() };
  }
  // --git-common-dir is relative to `directory` unless absolute (git before 2.31 has no
  // --path-format=absolute).
  return { root, dirs: { gitDir, commonDir: resolve(directory, commonDir) } };
}

/**
 * Whether `directory` is in a git work tree (`git rev-parse --is-inside-work-tree`); false
 * when git says it is in no repository (the English and German messages, as simple-git
 * recognised them before), any other failure throws.
 */
async function isInWorkTree(directory: string): Promise<boolean> {
  try {
    return (await runGit(directory, ['rev-parse', '--is-inside-work-tree'])).trim() === 'true';
  } catch (error) {
    if (
      error instanceof GitCommandError &&
      error.exitCode === 128 &&
      /(Not a git repository|Kein Git-Repository)/i.test(error.stderr)
    )
      return false;
    throw error;
  }
}

async function isIgnored(directory: string): Promise<boolean> {
  // check-ignore exits 1 (an error here) when the path is not ignored.
  try {
    return (await runGit(directory, ['check-ignore', '--', directory])).trim() !== '';
  } catch {
    return false;
  }
}

function parseNameStatus(output: string): ChangedPath[] {
  const fields = output.split('\0').filter((field) => field !== '');
  const changes: ChangedPath[] = [];
  for (let index = 0; index + 1 < fields.length; index += 2) {
    const code = fields[index] ?? '';
    const path = fields[index + 1] ?? '';
    const status = code.startsWith('A') ? 'added' : code.startsWith('D') ? 'deleted' : 'modified';
    changes.push({ status, path });
  }
  return changes;
}

/**
 * A push refused because the remote's branch moved (another host pushed first), as opposed to
 * a hook or a permission refusing it. Two pushes landing together can also fail to lock the
 * remote's ref.
 */
function isRetryableRejection(text: string): boolean {
  return /non-fast-forward|fetch first|\(stale info\)|cannot lock ref|failed to update ref|incorrect old value/i.test(
    text,
  );
}

function firstLines(text: string): string {
  return text
    .trim()
    .split('\n')
    .map((line) => line.trim().replace(/[.:]$/, ''))
    .filter((line) => line !== '')
    .slice(0, 2)
    .join(': ');
}

/** What git said: its stderr when it ran, else the error's message. */
function gitOutput(error: unknown): string {
  if (error instanceof GitCommandError) return error.stderr;
  return error instanceof Error ? error.message : String(error);
}

function waiting(commits: number): string {
  return `${plural(commits, 'commit')} ${commits === 1 ? 'waits' : 'wait'} to be pushed`;
}

function plural(count: number, noun: string): string {
  return `${String(count)} ${noun}${count === 1 ? '' : 's'}`;
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

function translate(error: unknown, action: string): GitError {
  if (error instanceof GitError) return error;
  // A git run by runGit: what it said, not its arguments (a commit's are its whole message).
  const text =
    error instanceof GitCommandError
      ? error.stderr.trim() || `exit code ${String(error.exitCode)}`
      : error instanceof Error
        ? error.message
        : String(error);
  return new GitError(
    `git failed while ${action}: ${text.trim().split('\n').slice(0, 5).join(' ')}`,
    { cause: error },
  );
}
