/**
 * The snapshot history of a host directory from git: per commit, which tables were added or
 * removed, whose structure changed and how many rows. One `git log -p --unified=0` streamed
 * and counted line by line: no checkout, no file read twice, a thousand commits in seconds.
 */
import type { Repository } from '../git/repository.js';
import { DATABASE_DEFAULTS_FILE, objectForFileName } from '../snapshot/layout.js';
import { MANIFEST_FILE } from '../snapshot/manifest.js';

export interface LoggedChange {
  readonly kind: string;
  readonly name: string;
  readonly change: 'added' | 'removed' | 'changed';
  /** Lines other than rows changed (CREATE, options, comments). */
  readonly structureChanged: boolean;
  readonly rowsAdded: number;
  readonly rowsRemoved: number;
}

export interface LogEntry {
  readonly id: string;
  /** ISO 8601, with the author's offset. */
  readonly date: string;
  readonly author: string;
  readonly subject: string;
  readonly changes: readonly LoggedChange[];
}

export interface LogOptions {
  /** Only commits that touched this table's file. */
  readonly table?: string | undefined;
  /** Anything `git log --since` takes, e.g. `2 weeks ago`, `2026-01-01`. */
  readonly since?: string | undefined;
  readonly maxCount?: number | undefined;
}

const COMMIT_MARK = '\x1e';
const FIELD = '\x1f';

/** The history of `hostDir` in `repository`, newest first. */
export async function readSnapshotLog(
  repository: Repository,
  hostDir: string,
  fileOfTable: (table: string) => string,
  options: LogOptions = {},
): Promise<LogEntry[]> {
  // Every option that a user's git config could change is given explicitly (diff.noprefix,
  // log.showRoot, diff.renames, color.ui, diff.external).
  const args = [
    `--format=${COMMIT_MARK}%H${FIELD}%aI${FIELD}%an${FIELD}%s`,
    '-p',
    '--unified=0',
    '--no-color',
    '--no-renames',
    '--no-ext-diff',
    '--root',
    '--src-prefix=a/',
    '--dst-prefix=b/',
    '--no-textconv',
  ];
  if (options.since !== undefined) args.push(`--since=${options.since}`);
  if (options.maxCount !== undefined) args.push(`--max-count=${String(options.maxCount)}`);
  // The manifest changes with every table; diffing it would be most of git's work, for nothing.
  const paths =
    options.table === undefined
      ? [hostDir, `:(exclude)${hostDir}/${MANIFEST_FILE}`]
      : [`${hostDir}/${fileOfTable(options.table)}`];

  const entries: LogEntry[] = [];
  let commit:
    | {
        id: string;
        date: string;
        author: string;
        subject: string;
        files: Map<string, MutableChange>;
      }
    | undefined;
  let file: MutableChange | undefined;
  const finish = (): void => {
    if (commit === undefined) return;
    entries.push({
      id: commit.id,
      date: commit.date,
      author: commit.author,
      subject: commit.subject,
      changes: [...commit.files.values()].filter(
        (change) =>
          change.kind !== '' && !(change.kind === 'database' && change.change === 'added'),
      ),
    });
  };
  let inHunk = false;
  for await (const line of repository.logLines(args, paths)) {
    if (line.startsWith(COMMIT_MARK)) {
      finish();
      const [id = '', date = '', author = '', subject = ''] = line.slice(1).split(FIELD);
      commit = { id, date, author, subject, files: new Map() };
      file = undefined;
      continue;
    }
    if (commit === undefined) continue;
    const header = /^diff --git a\/(.*) b\/(.*)$/.exec(line);
    if (header) {
      const name = (header[2] ?? '').split('/').pop() ?? '';
      // The database defaults file names no object; a new one (a new host directory, or the
      // upgrade that added it) is no news of its own.
      const object =
        name === DATABASE_DEFAULTS_FILE
          ? { kind: 'database', name: 'defaults' }
          : objectForFileName(name);
      file = {
        kind: object?.kind ?? '',
        name: object?.name ?? name,
        change: 'changed',
        structureChanged: false,
        rowsAdded: 0,
        rowsRemoved: 0,
      };
      commit.files.set(name, file);
      inHunk = false;
      continue;
    }
    if (file === undefined) continue;
    if (line.startsWith('@@')) inHunk = true;
    else if (!inHunk && line.startsWith('new file mode')) file.change = 'added';
    else if (!inHunk && line.startsWith('deleted file mode')) file.change = 'removed';
    // Before the first hunk, `---`/`+++` name the files; inside, `---` is a removed `-- comment`.
    else if (inHunk && (line.startsWith('+') || line.startsWith('-'))) {
      const content = line.slice(1);
      if (content.startsWith('INSERT INTO ')) {
        if (line.startsWith('+')) file.rowsAdded += 1;
        else file.rowsRemoved += 1;
      } else if (content.trim() !== '') {
        file.structureChanged = true;
      }
    }
  }
  finish();
  return entries;
}

interface MutableChange {
  kind: string;
  name: string;
  change: LoggedChange['change'];
  structureChanged: boolean;
  rowsAdded: number;
  rowsRemoved: number;
}
