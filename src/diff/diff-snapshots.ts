/**
 * The diff workflow: compares two versions of a host directory (two git revisions, a revision
 * and the working tree, two hosts, or a revision and the live database) and says what changed
 * per table and object, then gives the unified diff of each changed file. Files with equal
 * git blob ids are never read, so comparing two revisions of a thousand tables reads only the
 * few that changed.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import type { BlobReader, Repository } from '../git/repository.js';
import { isSelected } from '../support/glob.js';
import { DATABASE_DEFAULTS_FILE, objectForFileName } from '../snapshot/layout.js';
import { MANIFEST_FILE } from '../snapshot/manifest.js';
import { summarizeText } from '../snapshot/compare-table-file.js';
import { compareStructures, isStructureUnchanged, type StructureChange } from './compare-tables.js';
import { countRowChanges, type RowChangeCount } from './count-row-changes.js';
import type { Engine, ScriptFormat } from '../engine/engine.js';

/** One side of a comparison: file names with an id that is equal exactly when contents are. */
export interface SnapshotTree {
  readonly label: string;
  readonly ids: ReadonlyMap<string, string>;
  read(name: string): Promise<string>;
  /** Releases what reading needed (a git process). */
  close?(): void;
}

/** A host directory at a git revision. */
export async function revisionTree(
  repository: Repository,
  revision: string,
  hostDir: string,
  label = revision,
): Promise<SnapshotTree> {
  // A host directory that did not exist yet at that revision is empty there (listBlobs).
  const ids = await repository.listBlobs(revision, hostDir);
  let reader: BlobReader | undefined;
  return {
    label,
    ids,
    read: async (name) => {
      reader ??= repository.openBlobReader();
      return (await reader.read(ids.get(name) ?? '')).toString('utf8');
    },
    close: () => reader?.close(),
  };
}

/**
 * Every host directory directly in `backupDir` at `revision`, by name, from one `git ls-tree`
 * and read through one shared `git cat-file` process (closed by any tree's `close`): a model
 * compared with a hundred hosts starts two git processes. Labels are `<host>@<label>`.
 */
export async function revisionTrees(
  repository: Repository,
  revision: string,
  backupDir: string,
  label = revision,
): Promise<Map<string, SnapshotTree>> {
  const listed = await repository.listBlobsUnder(revision, backupDir);
  let reader: BlobReader | undefined;
  const trees = new Map<string, SnapshotTree>();
  for (const [host, ids] of listed)
    trees.set(host, {
      label: `${host}@${label}`,
      ids,
      read: async (name) => {
        reader ??= repository.openBlobReader();
        return (await reader.read(ids.get(name) ?? '')).toString('utf8');
      },
      close: () => {
        reader?.close();
        reader = undefined;
      },
    });
  return trees;
}

/** A directory on disk; ids are git blob ids, so they compare with a revision's. */
export async function directoryTree(directory: string, label: string): Promise<SnapshotTree> {
  const ids = new Map<string, string>();
  const contents = new Map<string, Buffer>();
  let names: string[] = [];
  try {
    names = (await readdir(directory, { withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') throw error;
  }
  for (const name of names) {
    const content = await readFile(join(directory, name));
    contents.set(name, content);
    ids.set(name, gitBlobId(content));
  }
  return {
    label,
    ids,
    read: async (name) => Promise.resolve((contents.get(name) ?? Buffer.alloc(0)).toString('utf8')),
  };
}

/** The id git gives `content` as a blob. */
export function gitBlobId(content: Buffer): string {
  return createHash('sha1')
    .update(`blob ${String(content.length)}\0`)
    .update(content)
    .digest('hex');
}

export interface TableDiff {
  readonly kind: 'table';
  readonly name: string;
  readonly change: 'added' | 'removed' | 'changed';
  readonly structure?: StructureChange | undefined;
  /** Counted by key, as the commit message and `log` count them. */
  readonly rows?: RowChangeCount | undefined;
}

export interface ObjectDiff {
  readonly kind: string;
  readonly name: string;
  readonly change: 'added' | 'removed' | 'changed';
}

export interface FilePatch {
  readonly file: string;
  /** Unified diff text; undefined when a side is too large to diff in memory. */
  readonly patch: string | undefined;
}

export interface DiffResult {
  readonly from: string;
  readonly to: string;
  readonly tables: readonly TableDiff[];
  readonly objects: readonly ObjectDiff[];
  readonly patches: readonly FilePatch[];
  /**
   * With `rows: false`: tables whose structure is the same but whose rows differ, not
   * counted as differences (sorted).
   */
  readonly rowsNotCompared?: readonly string[] | undefined;
}

export interface DiffOptions {
  /** Shell patterns of tables (and objects) to compare; empty: all. */
  readonly only: readonly string[];
  /** Leave out the unified diffs (for --stat). */
  readonly patches: boolean;
  /**
   * False: compare the schema only. The rows of global tables are left out of the summary
   * and the unified diffs; a table whose rows alone differ is named in `rowsNotCompared`.
   * Default true.
   */
  readonly rows?: boolean | undefined;
}

/** Files larger than this get a summary but no unified diff. */
const MAX_PATCH_BYTES = 8 * 1024 * 1024;

/** Compares `from` with `to`, reading their files as `engine` writes them. */
export async function diffSnapshots(
  engine: Engine,
  from: SnapshotTree,
  to: SnapshotTree,
  options: DiffOptions,
): Promise<DiffResult> {
  const names = [...new Set([...from.ids.keys(), ...to.ids.keys()])].sort();
  const tables: TableDiff[] = [];
  const objects: ObjectDiff[] = [];
  const patches: FilePatch[] = [];
  const rowsNotCompared: string[] = [];
  const schemaOnly = options.rows === false;
  for (const file of names) {
    if (file === MANIFEST_FILE) continue;
    // The database defaults file names no object: it goes with every comparison of all objects.
    const object =
      file === DATABASE_DEFAULTS_FILE && options.only.length === 0
        ? { kind: 'database', name: 'defaults' }
        : objectForFileName(file);
    if (object === undefined || !isSelected(object.name, options.only, [])) continue;
    const oldId = from.ids.get(file);
    const newId = to.ids.get(file);
    if (oldId === newId) continue;
    const change = oldId === undefined ? 'added' : newId === undefined ? 'removed' : 'changed';
    let before = oldId === undefined ? '' : await from.read(file);
    let after = newId === undefined ? '' : await to.read(file);
    if (schemaOnly && object.kind === 'table') {
      before = withoutRows(engine.script, before);
      after = withoutRows(engine.script, after);
      if (change === 'changed' && before === after) {
        rowsNotCompared.push(object.name);
        continue;
      }
    }
    if (object.kind === 'table')
      tables.push(diffTable(engine.script, object.name, change, before, after));
    else objects.push({ kind: object.kind, name: object.name, change });
    if (options.patches) {
      const tooLarge = before.length > MAX_PATCH_BYTES || after.length > MAX_PATCH_BYTES;
      patches.push({
        file,
        patch: tooLarge
          ? undefined
          : createTwoFilesPatch(
              oldId === undefined ? '/dev/null' : `a/${file}`,
              newId === undefined ? '/dev/null' : `b/${file}`,
              before,
              after,
              from.label,
              to.label,
            ),
      });
    }
  }
  return {
    from: from.label,
    to: to.label,
    tables,
    objects,
    patches,
    ...(schemaOnly ? { rowsNotCompared } : {}),
  };
}

/** A table file's text without its rows and the lines that frame them: its structure. */
function withoutRows(script: ScriptFormat, text: string): string {
  return text
    .split('\n')
    .filter((line) => !line.startsWith(script.rowLinePrefix) && !script.isFramingLine(line))
    .join('\n');
}

function diffTable(
  script: ScriptFormat,
  name: string,
  change: TableDiff['change'],
  before: string,
  after: string,
): TableDiff {
  if (change !== 'changed') return { kind: 'table', name, change };
  const oldDefinition = script.parseCreateTable(before);
  const newDefinition = script.parseCreateTable(after);
  const structure =
    oldDefinition !== undefined && newDefinition !== undefined
      ? compareStructures(oldDefinition, newDefinition)
      : undefined;
  const rows = countRowChanges(
    summarizeText(script, before).rows,
    summarizeText(script, after).rows,
  );
  return {
    kind: 'table',
    name,
    change,
    structure: structure !== undefined && isStructureUnchanged(structure) ? undefined : structure,
    rows: rows.added + rows.removed + rows.changed === 0 ? undefined : rows,
  };
}
