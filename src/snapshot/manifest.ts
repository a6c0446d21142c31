/**
 * The snapshot manifest, `<host>/manifest.json`: per table its category and, for global
 * tables, the row count and a SHA-256 of its rows as written. Deterministic (sorted, no
 * time, no database name), so an unchanged database leaves it unchanged. `verify` compares a
 * restore, or the live database, against it. Local tables' counts and keyed fingerprints are
 * kept with their encrypted copy instead: a plain hash of user data in git would let anyone
 * confirm a guessed value.
 */
import type { PlannedTable } from './plan-snapshot.js';

export const MANIFEST_FILE = 'manifest.json';
/**
 * The format of the snapshot's files, recorded in the manifest. 2: a table file's rows load in
 * one transaction, a sequence file sets the sequence's state. Files of format 1 still restore
 * (their rows and checksums are read the same way); the first snapshot of a new format
 * rewrites every file, and its commit message says so.
 */
export const MANIFEST_FORMAT = 2;
/** What each format writes differently from the one before it, for the commit that moves to it. */
export const FORMAT_CHANGES: Readonly<Record<number, string>> = {
  2: "a table's rows load in one transaction, a sequence file sets the sequence's state, object files set the client character set and collation they were created under, and database.defaults.sql holds the database's default character set and collation",
};
/** Formats this version reads, and writes where asked (verify compares like with like). */
export const READABLE_FORMATS: readonly number[] = [1, 2];

export interface ManifestTable {
  readonly category: PlannedTable['category'];
  /** Hex SHA-256 of the file's structure part (header and CREATE TABLE), for every table. */
  readonly structure?: string;
  /** Global tables: rows written. */
  readonly rows?: number;
  /**
   * Global tables: hex SHA-256 of the rows part exactly as written (see `renderRows`): all
   * after the line that ends the CREATE TABLE.
   */
  readonly sha256?: string;
}

export interface SnapshotManifest {
  readonly format: number;
  readonly tables: Readonly<Record<string, ManifestTable>>;
  /** Hex SHA-256 of each view, routine, trigger, event and sequence file, by file name. */
  readonly objects?: Readonly<Record<string, string>>;
}

/** The manifest text: keys sorted, two-space indent, final newline. */
export function renderManifest(
  tables: ReadonlyMap<string, ManifestTable>,
  objects: ReadonlyMap<string, string>,
  format: number = MANIFEST_FORMAT,
): string {
  const sorted: Record<string, ManifestTable> = {};
  for (const name of [...tables.keys()].sort()) {
    const entry = tables.get(name);
    if (entry !== undefined) sorted[name] = entry;
  }
  const sortedObjects: Record<string, string> = {};
  for (const file of [...objects.keys()].sort()) sortedObjects[file] = objects.get(file) ?? '';
  const manifest: SnapshotManifest = {
    format,
    tables: sorted,
    objects: sortedObjects,
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Parses a manifest; undefined when the text is not one (an old snapshot has none). */
export function parseManifest(text: string): SnapshotManifest | undefined {
  try {
    const value = JSON.parse(text) as Partial<SnapshotManifest>;
    if (
      typeof value.format !== 'number' ||
      !READABLE_FORMATS.includes(value.format) ||
      typeof value.tables !== 'object'
    )
      return undefined;
    return value as SnapshotManifest;
  } catch {
    return undefined;
  }
}

/** The format number a manifest's text records; undefined when it is not a manifest. */
export function manifestFormatOf(text: string): number | undefined {
  try {
    const value = (JSON.parse(text) as { format?: unknown } | null)?.format;
    return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
