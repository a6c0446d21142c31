/**
 * The snapshot history of a host directory from git: per commit, which tables were added or
 * removed, whose structure changed and how many rows. One `git log -p --unified=0` streamed
 * and counted line by line: no checkout, a thousand commits in seconds.
 *
 * Rows are counted by key as the commit message and `diff` count them (countRowChanges), from
 * the lines the diff shows: the lines it does not show are equal on both sides, so they change
 * no count. The key comes from the head of the file's blob, read once per table and carried
 * from commit to commit by blob id; it is read again only where a commit changed a key line.
 */
import type { Repository } from '../git/repository.js';
import {
  countRowChanges,
  RowDigestCollector,
  RowKeyReader,
  type RowChangeCount,
} from './count-row-changes.js';
import type { Engine, ScriptFormat } from '../engine/engine.js';
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
  /** Rows whose key stayed and whose values changed. */
  readonly rowsChanged: number;
  /** False when a side had too many changed rows to compare: counts are then differences. */
  readonly rowsCounted?: boolean | undefined;
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

/** The history of `hostDir` in `repository`, newest first; files are read as `engine` writes them. */
export async function readSnapshotLog(
  engine: Engine,
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
    // Whole blob ids, to read a version's key.
    '--full-index',
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
      changes: [...commit.files.values()]
        .filter(
          (change) =>
            change.kind !== '' && !(change.kind === 'database' && change.change === 'added'),
        )
        .map((change) => {
          const rows =
            change.before === undefined || change.after === undefined
              ? undefined
              : countRowChanges(change.before.result(), change.after.result());
          const logged: LoggedChange = {
            kind: change.kind,
            name: change.name,
            change: change.change,
            structureChanged: change.structureChanged,
            rowsAdded: change.rowsAdded,
            rowsRemoved: change.rowsRemoved,
            rowsChanged: change.rowsChanged,
          };
          return rows === undefined ? logged : { ...logged, ...rowFields(rows) };
        }),
    });
  };
  const { script } = engine;
  const keys = new RowKeys(repository, script);
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
        rowsChanged: 0,
        keyLineChanged: false,
      };
      commit.files.set(name, file);
      inHunk = false;
      continue;
    }
    if (file === undefined) continue;
    if (line.startsWith('@@')) inHunk = true;
    else if (!inHunk && line.startsWith('new file mode')) file.change = 'added';
    else if (!inHunk && line.startsWith('deleted file mode')) file.change = 'removed';
    else if (!inHunk && line.startsWith('index ')) {
      const ids = /^index ([0-9a-f]+)\.\.([0-9a-f]+)/.exec(line);
      if (ids) file.blobs = { before: ids[1] ?? '', after: ids[2] ?? '' };
    }
    // Before the first hunk, `---`/`+++` name the files; inside, `---` is a removed `-- comment`.
    else if (inHunk && (line.startsWith('+') || line.startsWith('-'))) {
      const content = line.slice(1);
      const added = line.startsWith('+');
      if (content.startsWith(script.rowLinePrefix)) {
        if (file.change === 'changed' && file.kind === 'table' && file.blobs !== undefined) {
          // The CREATE TABLE comes before the rows: its changed lines have been seen.
          if (file.before === undefined || file.after === undefined) {
            const afterKey = await keys.of(file.blobs.after);
            const beforeKey = file.keyLineChanged
              ? await keys.of(file.blobs.before)
              : keys.remember(file.blobs.before, afterKey);
            file.before = new RowDigestCollector(script, beforeKey);
            file.after = new RowDigestCollector(script, afterKey);
          }
          (added ? file.after : file.before).add(content);
        } else if (added) file.rowsAdded += 1;
        else file.rowsRemoved += 1;
      } else if (!script.isFramingLine(content)) {
        file.structureChanged = true;
        if (script.isKeyLine(content)) file.keyLineChanged = true;
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
  rowsChanged: number;
  /** From the `index` line: the blob ids of both versions. */
  blobs?: { readonly before: string; readonly after: string } | undefined;
  /** A line that may define the row key (PRIMARY or UNIQUE KEY) changed. */
  keyLineChanged: boolean;
  before?: RowDigestCollector | undefined;
  after?: RowDigestCollector | undefined;
}

function rowFields(
  rows: RowChangeCount,
): Pick<LoggedChange, 'rowsAdded' | 'rowsRemoved' | 'rowsChanged' | 'rowsCounted'> {
  return {
    rowsAdded: rows.added,
    rowsRemoved: rows.removed,
    rowsChanged: rows.changed,
    ...(rows.counted === false ? { rowsCounted: false } : {}),
  };
}

/** The row key of each version of a table file, by blob id, read from its head once. */
class RowKeys {
  private readonly known = new Map<string, readonly string[]>();
  private readonly repository: Repository;
  private readonly script: ScriptFormat;

  constructor(repository: Repository, script: ScriptFormat) {
    this.repository = repository;
    this.script = script;
  }

  /** Records the key of `blob` (known without reading it); returns it. */
  remember(blob: string, key: readonly string[]): readonly string[] {
    this.known.set(blob, key);
    return key;
  }

  /**
   * The key of `blob`: its CREATE TABLE's, read up to the first row when that names one;
   * else from every line but the rows (PostgreSQL adds the keys after the rows).
   */
  async of(blob: string): Promise<readonly string[]> {
    const known = this.known.get(blob);
    if (known !== undefined) return known;
    const reader = new RowKeyReader(this.script);
    let pending = '';
    const decoder = new TextDecoder();
    reading: for await (const chunk of this.repository.readBlob(blob)) {
      pending += decoder.decode(chunk, { stream: true });
      let end = pending.indexOf('\n');
      let start = 0;
      while (end !== -1) {
        // Stopping here stops git.
        if (!reader.add(pending.slice(start, end))) break reading;
        start = end + 1;
        end = pending.indexOf('\n', start);
      }
      pending = pending.slice(start);
    }
    if (pending !== '') reader.add(pending);
    return this.remember(blob, reader.rowKey());
  }
}
