/**
 * What a dump looks like on disk: names, the header line, the end marker, the manifest of
 * the directory form. Shared by `dump-database.ts` (writing) and `load-dump.ts` (reading).
 *
 * A dump is SQL that the stock `mariadb` client loads. Its first line is a comment holding
 * a JSON header; its last line is a comment holding the end marker, which is written only
 * after every row: a dump without it was cut short and is refused by `load`.
 */
import type { Compression } from './compression.js';
import type { SnapshotPosition } from '../engine/engine.js';

/** Version of the format below; `load` refuses newer ones. */
export const DUMP_FORMAT_VERSION = 1;
export const HEADER_PREFIX = '-- schema_backup dump ';
export const END_MARKER_PREFIX = '-- schema_backup dump complete ';
/** The end marker of each file of the directory form. */
export const FILE_END_MARKER = '-- schema_backup dump file complete';
export const MANIFEST_NAME = 'manifest.json';
/** A dump (after compression and encryption) smaller than this cannot hold a header and an end marker. */
export const MINIMUM_DUMP_BYTES = 64;

/** Databases never dumped by --all-databases: the server's own. */
export const SYSTEM_DATABASES: readonly string[] = [
  'mysql',
  'information_schema',
  'performance_schema',
  'sys',
];

/** The first line of a single-file dump, as JSON. */
export interface DumpHeader {
  readonly version: number;
  readonly host: string;
  readonly databases: readonly string[];
  readonly server: string;
  readonly startedAt: string;
  /** True when every table was read at one instant. */
  readonly consistent: boolean;
  /** Tables in the dump. */
  readonly tables: number;
  /** The server's estimate of the rows, for progress. */
  readonly rowsEstimate: number;
  readonly position?: SnapshotPosition | undefined;
}

/** The last line of a single-file dump, as JSON. */
export interface DumpEndMarker {
  readonly rows: number;
  /** Rows per table, keyed `database.table`. */
  readonly tables: Readonly<Record<string, number>>;
}

export type DumpFileKind = 'schema' | 'data' | 'objects';

export interface ManifestFile {
  /** File name inside the dump directory. */
  readonly name: string;
  readonly kind: DumpFileKind;
  readonly database: string;
  readonly table?: string | undefined;
  readonly rows: number;
  /** Bytes on disk (compressed, encrypted). */
  readonly bytes: number;
  /** SHA-256 of the bytes on disk, hex. */
  readonly sha256: string;
}

/** `manifest.json` of the directory form: written last, so its presence marks a complete dump. */
export interface DumpManifest extends DumpHeader {
  readonly format: 'schema_backup dump';
  readonly finishedAt: string;
  readonly compression: Compression;
  readonly encrypted: boolean;
  readonly rows: number;
  /** Rows per table, keyed `database.table`. */
  readonly tableRows: Readonly<Record<string, number>>;
  /** In load order: schema files, then data, then objects. */
  readonly files: readonly ManifestFile[];
}

/** The database part of a dump's name: the one name, `all`, or several joined with `+`. */
export function databasePart(databases: readonly string[], all: boolean): string {
  if (all) return 'all';
  return databases.join('+');
}

/**
 * `<host>_<database>_<timestamp>` plus `.sql`, the compression's extension and `.age` when
 * encrypted; the directory form has no extension. The retention code relies on this shape.
 */
export function dumpName(options: {
  readonly host: string;
  readonly database: string;
  readonly timestamp: string;
  readonly directory: boolean;
  readonly extension: string;
}): string {
  const base = `${options.host}_${safeFilePart(options.database)}_${options.timestamp}`;
  return options.directory ? base : `${base}${options.extension}`;
}

/** `.sql`, then `.zst`/`.gz`, then `.age`. */
export function dumpExtension(compressionExtension: string, encrypted: boolean): string {
  return `.sql${compressionExtension}${encrypted ? '.age' : ''}`;
}

/** Hidden temporary name beside the final one: never mistaken for a dump. */
export function temporaryDumpName(finalName: string, random: string): string {
  return `.${finalName}.tmp-${random}`;
}

/** A name part that is safe in a file name: characters other than letters, digits, `_+-$` as `@xx`. */
export function safeFilePart(name: string): string {
  return Array.from(Buffer.from(name, 'utf8'))
    .map((byte) => {
      const char = String.fromCharCode(byte);
      return /[A-Za-z0-9_+$-]/.test(char) ? char : `@${byte.toString(16).padStart(2, '0')}`;
    })
    .join('');
}
