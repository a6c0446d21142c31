/**
 * The verify workflow: restore a snapshot into a scratch database (dropped in every case),
 * snapshot that database again without writing anything, and compare: every file must come
 * out the same (a sequence's file holds its next value, so that is compared too), and the
 * manifest's row counts and SHA-256s of global tables must match the restored rows (a
 * changed byte in a global file restores a different row, which the manifest catches). Local tables are checked against their user-data copy's row counts.
 * `live` mode compares the live database with the snapshot instead of a restore.
 *
 * Differences found are a result (exit 3), not an exception.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Categories } from '../config/schema.js';
import type { ConnectionOptions, Engine } from '../engine/engine.js';
import { quieterLogger, type Logger } from '../support/logger.js';
import type { ProgressCallback } from '../support/progress.js';
import { formatRowChanges } from '../diff/count-row-changes.js';
import {
  DATABASE_DEFAULTS_FILE,
  fileNameForObject,
  objectForFileName,
} from '../snapshot/layout.js';
import {
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  parseManifest,
  type ManifestTable,
  type SnapshotManifest,
} from '../snapshot/manifest.js';
import { renderUserDataRows } from '../snapshot/render-files.js';
import { compareWithHostDirectory } from '../snapshot/stage-snapshot.js';
import { restoreSnapshot, type UserDataInput } from './restore-snapshot.js';
import { readText, type SnapshotSource } from './snapshot-source.js';

export interface VerifyOptions {
  readonly connection: ConnectionOptions;
  readonly source: SnapshotSource;
  /** `restore`: into a scratch database; `live`: compare `liveDatabase` itself. */
  readonly mode: 'restore' | 'live';
  /** The database `live` mode compares. */
  readonly liveDatabase: string;
  /** The config's categories: used when the snapshot has no manifest, and for `ignore`. */
  readonly fallbackCategories: Categories;
  /**
   * The schemas the snapshot covers (PostgreSQL's `database.schemas`): only they are read
   * back; omitted: every user schema.
   */
  readonly schemas?: readonly string[] | undefined;
  readonly userData?: UserDataInput | undefined;
  /** Row counts of local tables recorded with their user-data copy. */
  readonly userDataRows?: ReadonlyMap<string, ExpectedLocalRows> | undefined;
  /** This host's user-data fingerprint key, when it is at hand (it never leaves the host). */
  readonly fingerprintKey?: Buffer | undefined;
  readonly host: string;
  readonly parallel: number;
  /** The restore creates definitions that reach outside the database (restore's option). */
  readonly allowExternalAccess?: boolean | undefined;
  readonly logger: Logger;
  /** Progress of the restore into the scratch database (for a progress display). */
  readonly onRestoreProgress?: ProgressCallback | undefined;
  /** Progress of reading the restored (or live) database again to compare it. */
  readonly onCompareProgress?: ProgressCallback | undefined;
}

/** What a user-data copy recorded of a local table. */
export interface ExpectedLocalRows {
  readonly rows: number;
  readonly fingerprint: string;
}

export interface Difference {
  /** `table`, `view`, … or `manifest`. */
  readonly kind: string;
  readonly name: string;
  readonly problem: string;
}

export interface VerifyResult {
  readonly equal: boolean;
  readonly mode: 'restore' | 'live';
  readonly database: string;
  readonly source: string;
  readonly tablesChecked: number;
  readonly objectsChecked: number;
  readonly differences: readonly Difference[];
}

/** Verifies `options.source` as described by `options.mode`. */
export async function verifySnapshot(
  engine: Engine,
  options: VerifyOptions,
): Promise<VerifyResult> {
  const files = await options.source.listFiles();
  const manifestText = files.includes(MANIFEST_FILE)
    ? await readText(options.source, MANIFEST_FILE)
    : undefined;
  const manifest = manifestText === undefined ? undefined : parseManifest(manifestText);
  if (manifest === undefined)
    options.logger.warn(
      `${options.source.description} has no manifest: rows of global tables are compared with the files only`,
    );

  // The snapshot's files in a directory of their own, for the comparing snapshot to read.
  const workDir = await mkdtemp(join(tmpdir(), 'schema_backup-verify-'));
  const scratch = `schema_backup_verify_${randomBytes(4).toString('hex')}`;
  const database = options.mode === 'live' ? options.liveDatabase : scratch;
  let restored = false;
  try {
    const hostDir = join(workDir, options.host);
    await mkdir(hostDir, { recursive: true });
    for (const file of files) {
      const chunks: Buffer[] = [];
      for await (const chunk of options.source.readFile(file)) chunks.push(chunk);
      await writeFile(join(hostDir, file), Buffer.concat(chunks));
    }
    const mismatches: Difference[] = [];
    const disabledEventFiles = new Set<string>();
    if (options.mode === 'restore') {
      restored = true;
      const restoredCopy = await restoreSnapshot(engine, {
        connection: options.connection,
        target: scratch,
        scratch: true,
        source: options.source,
        userData: options.userData,
        legacy: false,
        force: false,
        forceSource: false,
        only: [],
        exclude: [],
        parallel: options.parallel,
        // A file that differs from its manifest is a finding; a statement a snapshot does not
        // write is refused all the same: verify runs nothing it did not write.
        trust: false,
        onMismatch: (mismatch) => mismatches.push({ ...mismatch, kind: mismatch.kind }),
        // The scheduler may be on: no event body gets a chance to run in the scratch database.
        keepEventsEnabled: false,
        allowExternalAccess: options.allowExternalAccess === true,
        logger: options.logger,
        onProgress: options.onRestoreProgress,
      });
      // Each event was created disabled: its file is compared in that form (the restore has
      // checked the file itself against the manifest's checksum already).
      for (const name of restoredCopy.disabledEvents) {
        const file = fileNameForObject('event', engine.fileNameParts('event', name));
        disabledEventFiles.add(file);
        const path = join(hostDir, file);
        await writeFile(path, await disabledEventFile(engine, await readFile(path, 'utf8'), name));
      }
    }
    const again = await compareWithHostDirectory(engine, options.connection, hostDir, {
      database,
      schemas: options.schemas,
      categories:
        manifest === undefined
          ? options.fallbackCategories
          : { ...categoriesOf(manifest), ignore: options.fallbackCategories.ignore },
      strict: false,
      // Files of the snapshot's own format, so that an earlier one compares byte for byte
      // (format 1 has no transaction lines and no sequence state).
      format: manifest?.format ?? MANIFEST_FORMAT,
      localRowsSaved: false,
      // Its warnings (local rows not saved, ...) are about the comparing snapshot, not news.
      logger: quieterLogger(options.logger),
      onProgress: options.onCompareProgress,
    });
    const differences: Difference[] = [...mismatches];
    for (const table of again.tables) {
      if (table.change === 'unchanged') continue;
      if (table.change === 'added')
        differences.push({ kind: 'table', name: table.name, problem: 'not in the snapshot' });
      else {
        const parts = [
          table.structureChanged ? 'structure differs' : '',
          table.rowsAdded + table.rowsRemoved + table.rowsChanged > 0
            ? `rows differ (${formatRowChanges({ added: table.rowsAdded, removed: table.rowsRemoved, changed: table.rowsChanged })})`
            : '',
        ].filter(Boolean);
        differences.push({
          kind: 'table',
          name: table.name,
          problem: parts.join(', ') || 'file differs',
        });
      }
    }
    for (const object of again.objects) {
      if (object.change === 'added')
        differences.push({ kind: object.kind, name: object.name, problem: 'not in the snapshot' });
      else if (object.change === 'changed')
        differences.push({
          kind: object.kind,
          name: object.name,
          // A sequence's file holds its state too: a restore that set it wrong shows here.
          problem:
            object.kind === 'sequence' ? 'definition or next value differs' : 'definition differs',
        });
    }
    // A snapshot older than the defaults file has none to compare with.
    if (again.databaseDefaultsChange === 'changed') differences.push(DEFAULTS_DIFFER);
    for (const file of again.removed)
      differences.push({
        kind: 'file',
        name: file,
        problem: 'in the snapshot, missing from the database',
      });
    if (manifest !== undefined) {
      // A table whose file already differs needs no second line about its checksum.
      const reported = new Set(differences.map((difference) => difference.name));
      differences.push(
        ...compareManifest(
          manifest,
          again.manifest,
          new Map([...again.objectHashes].filter(([file]) => !disabledEventFiles.has(file))),
        ).filter((difference) => !reported.has(difference.name)),
      );
    }
    if (options.userDataRows !== undefined && options.mode === 'restore') {
      differences.push(...(await compareLocalRows(engine, options, scratch, options.userDataRows)));
    }
    return {
      equal: differences.length === 0,
      mode: options.mode,
      database,
      source: options.source.description,
      tablesChecked: again.tables.length,
      objectsChecked: again.objects.length,
      differences: dedupe(differences),
    };
  } finally {
    await rm(workDir, { recursive: true, force: true });
    if (restored) await dropScratch(engine, options.connection, scratch);
  }
}

/**
 * The text of the file of event `name` with its CREATE EVENT as restore ran it (disabled): the
 * statement the engine's checker gives for it in place of the file's own.
 */
async function disabledEventFile(engine: Engine, text: string, name: string): Promise<string> {
  const checker = engine.script.checker({ kind: 'event', name });
  let result = text;
  for await (const statement of engine.script.readStatements(Readable.from([text]))) {
    const disabled = checker.check(statement.sql).disabledEvent;
    if (disabled !== undefined) result = result.replace(statement.sql, () => disabled);
  }
  return result;
}

const DEFAULTS_DIFFER: Difference = {
  kind: 'database',
  name: 'defaults',
  problem: 'default character set or collation differs',
};

/** The categories a manifest records (ignored tables are not in it). */
function categoriesOf(manifest: SnapshotManifest): Categories {
  const categories: Record<'global' | 'local' | 'ephemeral' | 'ignore', string[]> = {
    global: [],
    local: [],
    ephemeral: [],
    ignore: [],
  };
  for (const [name, entry] of Object.entries(manifest.tables)) {
    if (entry.category !== 'uncategorized') categories[entry.category].push(name);
  }
  return categories;
}

/** Row counts and checksums of global tables: what the snapshot recorded against what came back. */
function compareManifest(
  recorded: SnapshotManifest,
  actual: ReadonlyMap<string, ManifestTable>,
  actualObjects: ReadonlyMap<string, string>,
): Difference[] {
  const differences: Difference[] = [];
  for (const [file, hash] of Object.entries(recorded.objects ?? {})) {
    const now = actualObjects.get(file);
    const object = objectForFileName(file);
    if (file === DATABASE_DEFAULTS_FILE) {
      if (now !== undefined && now !== hash) differences.push(DEFAULTS_DIFFER);
    } else if (now !== undefined && now !== hash) {
      differences.push({
        kind: object?.kind ?? 'file',
        name: object?.name ?? file,
        problem: 'definition differs from the checksum the snapshot recorded',
      });
    }
  }
  for (const [name, entry] of Object.entries(recorded.tables)) {
    const now = actual.get(name);
    if (now === undefined) {
      differences.push({
        kind: 'table',
        name,
        problem: 'in the snapshot, missing from the database',
      });
      continue;
    }
    if (
      entry.structure !== undefined &&
      now.structure !== undefined &&
      entry.structure !== now.structure
    ) {
      differences.push({
        kind: 'table',
        name,
        problem: 'structure differs from the checksum the snapshot recorded',
      });
    } else if (entry.rows !== undefined && entry.rows !== now.rows) {
      differences.push({
        kind: 'table',
        name,
        problem: `row count ${String(now.rows ?? 0)}, the snapshot recorded ${String(entry.rows)}`,
      });
    } else if (entry.sha256 !== undefined && entry.sha256 !== now.sha256) {
      differences.push({
        kind: 'table',
        name,
        problem: 'rows differ from the checksum the snapshot recorded',
      });
    }
  }
  return differences;
}

/**
 * Local tables against their user-data copy: row counts, and where this host's fingerprint
 * key is at hand, the keyed fingerprint of their rows (so a changed value is caught too).
 */
async function compareLocalRows(
  engine: Engine,
  options: VerifyOptions,
  database: string,
  expected: ReadonlyMap<string, ExpectedLocalRows>,
): Promise<Difference[]> {
  const session = await engine.openSession({ ...options.connection, database });
  try {
    const descriptions = await session.describeTables(database);
    const differences: Difference[] = [];
    for (const [table, recorded] of expected) {
      const description = descriptions.get(table);
      if (description === undefined) {
        differences.push({
          kind: 'table',
          name: table,
          problem: 'local table of the user-data copy is missing',
        });
        continue;
      }
      const hmac =
        options.fingerprintKey === undefined
          ? undefined
          : createHmac('sha256', options.fingerprintKey);
      let count = 0;
      for await (const chunk of renderUserDataRows(
        engine.dialect,
        description,
        session.readRowBatches(database, description),
      )) {
        count += chunk.rows;
        hmac?.update(Buffer.from(chunk.text, 'utf8'));
      }
      if (count !== recorded.rows) {
        differences.push({
          kind: 'table',
          name: table,
          problem: `${String(count)} rows restored from the user-data copy, which recorded ${String(recorded.rows)}`,
        });
      } else if (hmac !== undefined && hmac.digest('hex') !== recorded.fingerprint) {
        differences.push({
          kind: 'table',
          name: table,
          problem: 'rows differ from the fingerprint the user-data copy recorded',
        });
      }
    }
    return differences;
  } finally {
    await session.close();
  }
}

async function dropScratch(
  engine: Engine,
  connection: ConnectionOptions,
  scratch: string,
): Promise<void> {
  const session = await engine.openSession({
    ...connection,
    database: engine.script.admin.adminDatabase,
  });
  try {
    await session.execute(engine.script.admin.dropDatabase(scratch));
  } finally {
    await session.close();
  }
}

function dedupe(differences: readonly Difference[]): Difference[] {
  const seen = new Set<string>();
  return differences.filter((difference) => {
    const key = `${difference.kind}\0${difference.name}\0${difference.problem}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
