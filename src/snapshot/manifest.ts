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
export const MANIFEST_FORMAT = 1;

export interface ManifestTable {
  readonly category: PlannedTable['category'];
  /** Hex SHA-256 of the file's structure part (header and CREATE TABLE), for every table. */
  readonly structure?: string;
  /** Global tables: rows written. */
  readonly rows?: number;
  /** Global tables: hex SHA-256 of the INSERT lines exactly as written (see `renderRows`). */
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
): string {
  const sorted: Record<string, ManifestTable> = {};
  for (const name of [...tables.keys()].sort()) {
    const entry = tables.get(name);
    if (entry !== undefined) sorted[name] = entry;
  }
  const sortedObjects: Record<string, string> = {};
  for (const file of [...objects.keys()].sort()) sortedObjects[file] = objects.get(file) ?? '';
  const manifest: SnapshotManifest = {
    format: MANIFEST_FORMAT,
    tables: sorted,
    objects: sortedObjects,
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Parses a manifest; undefined when the text is not one (an old snapshot has none). */
export function parseManifest(text: string): SnapshotManifest | undefined {
  try {
    const value = JSON.parse(text) as Partial<SnapshotManifest>;
    if (value.format !== MANIFEST_FORMAT || typeof value.tables !== 'object') return undefined;
    return value as SnapshotManifest;
  } catch {
    return undefined;
  }
}
