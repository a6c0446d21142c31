/**
 * Replays local commits onto a remote tip with plumbing only (a private index,
 * `commit-tree`): the repository's own index, work tree and HEAD are not touched, so the
 * user's uncommitted work, staged or not, can never be carried into a commit or lost.
 * Each commit keeps its author, date and message; only the paths it changed are taken from
 * it, everything else comes from the remote.
 *
 * Must not import the engine, the config or the CLI.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { GitCommandError, runGit } from './run-git.js';

export interface ReplayOptions {
  /** The local tip whose commits are replayed. */
  readonly from: string;
  /** The commit to replay them onto (the remote's tip). */
  readonly onto: string;
  /**
   * Paths (relative to the root, forward slashes) this repository alone writes, e.g. the host
   * directory: any change under them on the remote is a conflict, even to a file the local
   * commits leave alone.
   */
  readonly owned: readonly string[];
  /** Committer when git has no `user.name` configured. */
  readonly committer?: { readonly name: string; readonly email: string } | undefined;
}

export type ReplayResult =
  | { readonly outcome: 'replayed'; readonly tip: string; readonly commits: number }
  /** The remote changed paths the local commits change or own; nothing was written. */
  | { readonly outcome: 'conflict'; readonly paths: readonly string[] }
  /** The local commits include a merge: they cannot be replayed one by one. */
  | { readonly outcome: 'merge-commit'; readonly commit: string };

/** One line of `git diff-tree --raw -z`. */
interface RawChange {
  readonly mode: string;
  readonly id: string;
  readonly path: string;
}

/**
 * Replays the commits of `from` that `onto` lacks, in order, onto `onto`, and returns the new
 * tip (unreferenced: the caller moves a branch to it). Throws {@link GitCommandError} when git
 * fails.
 */
export async function replayCommits(root: string, options: ReplayOptions): Promise<ReplayResult> {
  const git = (args: string[], env?: Record<string, string>, input?: string): Promise<string> =>
    runGit(root, args, { env, input });
  const base = await git(['merge-base', options.from, options.onto]).then(
    (out) => out.trim(),
    (error: unknown) => {
      // Exit 1: no common ancestor (a host that ran `git init` before the remote was added).
      if (error instanceof GitCommandError && error.exitCode === 1) return undefined;
      throw error;
    },
  );
  const range = base === undefined ? [options.from] : [`${base}..${options.from}`];
  const lines = (await git(['rev-list', '--reverse', '--topo-order', '--parents', ...range]))
    .split('\n')
    .filter((line) => line !== '');
  const emptyTree = (await git(['hash-object', '-t', 'tree', '--stdin'], undefined, '')).trim();
  const gitDir = (await git(['rev-parse', '--absolute-git-dir'])).trim();
  const indexFile = join(gitDir, `schema_backup-replay-${randomBytes(6).toString('hex')}.index`);
  const env = { GIT_INDEX_FILE: indexFile };
  // Without a configured identity, the given committer, else each commit's own author,
  // commits (as the snapshot's own commit does), instead of commit-tree refusing.
  const hasIdentity = (await git(['config', '--get', 'user.name']).catch(() => '')).trim() !== '';
  for (const line of lines) {
    const [commit = '', ...parents] = line.split(' ');
    if (parents.length > 1) return { outcome: 'merge-commit', commit };
  }
  let parent = options.onto;
  try {
    for (const line of lines) {
      const [commit = '', ...parents] = line.split(' ');
      const before = parents[0] ?? emptyTree;
      const changes = parseRawDiff(
        await git(['diff-tree', '-r', '--no-renames', '--raw', '-z', before, commit]),
      );
      const remote = parseRawDiff(
        await git(['diff-tree', '-r', '--no-renames', '--raw', '-z', before, parent]),
      );
      const touched = new Set(changes.map((change) => change.path));
      const conflicts = remote
        .map((change) => change.path)
        .filter(
          (path) =>
            touched.has(path) ||
            options.owned.some((owned) => owned === '.' || path.startsWith(`${owned}/`)),
        );
      if (conflicts.length > 0) return { outcome: 'conflict', paths: conflicts };
      await git(['read-tree', parent], env);
      if (changes.length > 0)
        await git(
          ['update-index', '-z', '--index-info'],
          env,
          changes.map((change) => `${change.mode} ${change.id}\t${change.path}\0`).join(''),
        );
      const tree = (await git(['write-tree'], env)).trim();
      const [name = '', email = '', date = ''] = (
        await git(['show', '-s', '--format=%an%x00%ae%x00%ad', '--date=raw', commit])
      )
        .replace(/\n$/, '')
        .split('\0');
      // The message exactly as stored (after the header's blank line).
      const raw = await git(['cat-file', 'commit', commit]);
      const message = raw.slice(raw.indexOf('\n\n') + 2);
      parent = (
        await git(
          ['commit-tree', tree, '-p', parent, '-F', '-'],
          {
            GIT_AUTHOR_NAME: name,
            GIT_AUTHOR_EMAIL: email,
            GIT_AUTHOR_DATE: date,
            ...(hasIdentity
              ? {}
              : {
                  GIT_COMMITTER_NAME: options.committer?.name ?? name,
                  GIT_COMMITTER_EMAIL: options.committer?.email ?? email,
                }),
          },
          message,
        )
      ).trim();
    }
  } finally {
    await rm(indexFile, { force: true });
  }
  return { outcome: 'replayed', tip: parent, commits: lines.length };
}

/** `git diff-tree --raw -z` output: the new mode and blob of each path (mode 0 = deleted). */
function parseRawDiff(output: string): RawChange[] {
  const fields = output.split('\0');
  const changes: RawChange[] = [];
  for (let index = 0; index + 1 < fields.length; index += 2) {
    const match = /^:\d+ (\d+) [0-9a-f]+ ([0-9a-f]+) [A-Z]/.exec(fields[index] ?? '');
    if (match === null) continue;
    changes.push({ mode: match[1] ?? '', id: match[2] ?? '', path: fields[index + 1] ?? '' });
  }
  return changes;
}
