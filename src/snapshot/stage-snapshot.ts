/**
 * The stage part of a snapshot: a sink for {@link readSnapshot} that compares each rendered
 * file with the one in the host directory and keeps those that differ as pending writes
 * (staged in memory or in the staging directory), with what changed in each. Nothing in the
 * host directory changes here.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionOptions, Engine, ScriptFormat } from '../engine/engine.js';
import type { Logger } from '../support/logger.js';
import {
  compareSummaries,
  summarizeFile,
  summarizeText,
  type TableFileChange,
} from './compare-table-file.js';
import { DATABASE_DEFAULTS_FILE, SNAPSHOT_FILE_SUFFIX } from './layout.js';
import { MANIFEST_FILE } from './manifest.js';
import type { PlannedTable, SnapshotPlan } from './plan-snapshot.js';
import {
  expectedFiles,
  readSnapshot,
  type ReadSnapshotOptions,
  type SnapshotRead,
  type SnapshotSink,
} from './read-snapshot.js';
import { MemoryBudget, StagedContent } from './staged-content.js';

export type FileChange = 'added' | 'changed' | 'unchanged' | 'removed';

export interface TableOutcome extends TableFileChange {
  readonly name: string;
  readonly category: PlannedTable['category'];
  readonly file: string;
  readonly change: FileChange;
  /** Rows written to git (global tables), else 0. */
  readonly rows: number;
}

export interface ObjectOutcome {
  readonly kind: string;
  readonly name: string;
  readonly file: string;
  readonly change: FileChange;
}

/** A staged file waiting to be put in place. */
export interface PendingWrite {
  readonly file: string;
  readonly content: StagedContent;
  /** An older version of the file is in place (it must be replaced durably, and can be rolled back to). */
  readonly replaces: boolean;
}

/** What staging found: the writes to make, and what each file's change is. */
export interface StagedSnapshot {
  readonly tables: readonly TableOutcome[];
  readonly objects: readonly ObjectOutcome[];
  /** Files of objects that no longer exist, to be removed. */
  readonly removed: readonly string[];
  readonly pending: readonly PendingWrite[];
  readonly bytesWritten: number;
  readonly manifestChange: FileChange;
  /** `unchanged` in format 1, which has no defaults file. */
  readonly databaseDefaultsChange: FileChange;
}

/** Staged contents held in memory by one run, together; past this they spill to disk. */
const STAGED_MEMORY_BYTES = 16 * 1024 * 1024;

/**
 * Stages the files read into `stagingDir` against those in `hostDir`. Call
 * {@link SnapshotStager.finish} once the read succeeded, and {@link SnapshotStager.discard}
 * in every case when the pending writes are no longer needed.
 */
export class SnapshotStager implements SnapshotSink<StagedContent> {
  private readonly pending: PendingWrite[] = [];
  private readonly tables: Promise<TableOutcome>[] = [];
  private readonly changes = new Map<string, FileChange>();
  private readonly memoryBudget = new MemoryBudget(STAGED_MEMORY_BYTES);

  private readonly script: ScriptFormat;
  private readonly hostDir: string;
  private readonly stagingDir: string;
  private readonly logger: Logger;

  constructor(script: ScriptFormat, hostDir: string, stagingDir: string, logger: Logger) {
    this.script = script;
    this.hostDir = hostDir;
    this.stagingDir = stagingDir;
    this.logger = logger;
  }

  create(): StagedContent {
    return new StagedContent(this.stagingDir, this.memoryBudget);
  }

  table(table: PlannedTable, content: StagedContent, rows: number): Promise<void> {
    const staged = this.stage(table.file, content, rows).then((outcome) => {
      this.logger.debug(
        `${table.name}: ${outcome.change}${table.rows === 'git' ? `, ${String(rows)} rows` : ''}`,
      );
      return { name: table.name, category: table.category, file: table.file, rows, ...outcome };
    });
    staged.catch(() => undefined);
    this.tables.push(staged);
    return staged.then(() => undefined);
  }

  async file(file: string, content: StagedContent): Promise<void> {
    const { change } = await this.stage(file, content, 0);
    this.changes.set(file, change);
  }

  /** The outcome, once the read of `plan` in `format` succeeded. */
  async finish(plan: SnapshotPlan, format: number): Promise<StagedSnapshot> {
    const tables = await Promise.all(this.tables);
    const expected = expectedFiles(plan, format);
    const removed = (await listSnapshotFiles(this.hostDir)).filter((file) => !expected.has(file));
    return {
      tables,
      objects: plan.objects.map((object) => ({
        kind: object.kind,
        name: object.name,
        file: object.file,
        change: this.changes.get(object.file) ?? 'unchanged',
      })),
      removed,
      pending: this.pending,
      bytesWritten: this.pending.reduce((sum, write) => sum + write.content.size, 0),
      manifestChange: this.changes.get(MANIFEST_FILE) ?? 'unchanged',
      databaseDefaultsChange: this.changes.get(DATABASE_DEFAULTS_FILE) ?? 'unchanged',
    };
  }

  /** Frees the staged contents (open spill files); the staging directory is the caller's. */
  async discard(): Promise<void> {
    await Promise.allSettled(this.tables);
    for (const write of this.pending) await write.content.discard();
  }

  private async stage(
    file: string,
    content: StagedContent,
    rows: number,
  ): Promise<TableFileChange & { change: FileChange }> {
    const target = join(this.hostDir, file);
    let existing: Awaited<ReturnType<StagedContent['compareWith']>>;
    try {
      existing = await content.compareWith(target);
    } catch (error) {
      await content.discard();
      throw error;
    }
    if (existing === 'same') {
      await content.discard();
      return {
        change: 'unchanged',
        structureChanged: false,
        rowsAdded: 0,
        rowsRemoved: 0,
        rowsChanged: 0,
      };
    }
    this.pending.push({ file, content, replaces: existing === 'different' });
    if (existing === 'missing')
      return {
        change: 'added',
        structureChanged: true,
        rowsAdded: rows,
        rowsRemoved: 0,
        rowsChanged: 0,
      };
    const before = await summarizeFile(this.script, target);
    const small = await content.small();
    const after =
      small === undefined
        ? ((await summarizeFile(this.script, content.stagedPath ?? '')) ??
          summarizeText(this.script, ''))
        : summarizeText(this.script, small.toString('utf8'));
    return { change: 'changed', ...compareSummaries(before, after) };
  }
}

/**
 * Reads database `options.database` and stages it against `hostDir` as a snapshot would, but
 * writes nothing there: what `verify` compares. Nothing is pending when it returns.
 */
export async function compareWithHostDirectory(
  engine: Engine,
  connection: ConnectionOptions,
  hostDir: string,
  options: ReadSnapshotOptions,
): Promise<SnapshotRead & StagedSnapshot> {
  const session = await engine.openSession({
    ...connection,
    database: options.database,
    readsOnly: true,
  });
  const staging = await mkdtemp(join(tmpdir(), 'schema_backup-dry-run-'));
  const stager = new SnapshotStager(engine.script, hostDir, staging, options.logger);
  try {
    const read = await readSnapshot(engine, session, options, stager);
    // Nothing is put in place: the staged contents are only compared.
    return { ...read, ...(await stager.finish(read.plan, options.format)), pending: [] };
  } finally {
    await stager.discard();
    await rm(staging, { recursive: true, force: true });
    await session.close();
  }
}

/** The snapshot files (`*.sql`) now in the host directory; none when it does not exist. */
async function listSnapshotFiles(hostDir: string): Promise<string[]> {
  try {
    const entries = await readdir(hostDir, { withFileTypes: true });
    return entries
      .filter((entry) => entry.isFile() && entry.name.endsWith(SNAPSHOT_FILE_SUFFIX))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return [];
    throw error;
  }
}
