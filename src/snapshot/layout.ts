/**
 * Where a snapshot's files live: `<backup dir>/<host>/`, one file per table (`<table>.sql`)
 * and per other object (`<name>.<kind>.sql`); an object of a PostgreSQL schema is
 * `<schema>.<name>[.<kind>].sql`. Names are encoded so that any identifier is a safe, unique
 * file name: bytes outside `[A-Za-z0-9_$-]` become `%XX` (a dot too), so a table called
 * `a.view` cannot collide with the view `a`, nor table `b` of schema `a` with table `a.b`.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { isObjectKind, type ObjectKind } from '../engine/engine.js';
import { hostNameProblem } from '../support/host-name.js';

export const SNAPSHOT_FILE_SUFFIX = '.sql';

/**
 * The database defaults file of a host directory. An encoded name never holds a `.`, so no
 * table or object file can have this name, and {@link objectForFileName} knows it as none.
 */
export const DATABASE_DEFAULTS_FILE = 'database.defaults.sql';

/** The link in a host's user-data directory to its newest copy. */
export const LATEST_LINK = 'latest';
/** The manifest of a user-data copy (tables, rows, checksums, compression). */
export const USER_DATA_MANIFEST = 'manifest.json';

/** The directory beside the host directories that holds locks and staging files (git-ignored). */
export const WORK_DIR_NAME = '.schema_backup';

/** `<backupDir>/<host>`. Throws on a host name that is not a single path segment. */
export function hostDirectory(backupDir: string, host: string): string {
  if (!isValidHostName(host))
    throw new Error(`not a usable host directory name: ${JSON.stringify(host)}`);
  return join(backupDir, host);
}

/** True when `host` can name a host directory (see {@link hostNameProblem}). */
export function isValidHostName(host: string): boolean {
  return hostNameProblem(host) === undefined;
}

/**
 * The file name of an object, from the parts of its name its engine gives
 * ({@link Engine.fileNameParts}), e.g. `auth_user.sql`, `active_users.view.sql`,
 * `public.items.sql` (table `items` of schema `public`); a string is a whole name, one part.
 * Each part is encoded on its own
 * (so it holds no `.`), the parts are joined with `.`, and a kind other than `table` is added.
 */
export function fileNameForObject(kind: ObjectKind, name: string | readonly string[]): string {
  const parts = typeof name === 'string' ? [name] : name;
  const encoded = parts.map((part, index) =>
    // A last part that reads as a kind would be taken for the kind of another object
    // (`app.view.sql`, table `view` of schema `app`): its first letter is encoded.
    index > 0 && index === parts.length - 1 && isObjectKind(part)
      ? `%${part.charCodeAt(0).toString(16).toUpperCase()}${encodeName(part.slice(1))}`
      : encodeName(part),
  );
  const stem = encoded.join('.');
  return kind === 'table'
    ? `${stem}${SNAPSHOT_FILE_SUFFIX}`
    : `${stem}.${kind}${SNAPSHOT_FILE_SUFFIX}`;
}

/**
 * The kind of object a snapshot file holds, by its name's suffix (`.view.sql`; none for a
 * table), whether or not its name part decodes; undefined for a file that is not one of ours.
 */
export function kindOfFileName(fileName: string): ObjectKind | undefined {
  return splitFileName(fileName)?.kind;
}

/** The object a snapshot file holds, or undefined for a file that is not one of ours. */
export function objectForFileName(
  fileName: string,
): { kind: ObjectKind; name: string } | undefined {
  const split = splitFileName(fileName);
  if (split === undefined) return undefined;
  try {
    return { kind: split.kind, name: split.parts.map(decodeName).join('.') };
  } catch {
    return undefined;
  }
}

/** A snapshot file name's kind and encoded name parts; undefined for another file. */
function splitFileName(
  fileName: string,
): { kind: ObjectKind; parts: readonly string[] } | undefined {
  if (!fileName.endsWith(SNAPSHOT_FILE_SUFFIX) || fileName === DATABASE_DEFAULTS_FILE)
    return undefined;
  const segments = fileName.slice(0, -SNAPSHOT_FILE_SUFFIX.length).split('.');
  const last = segments[segments.length - 1] ?? '';
  const kind = segments.length > 1 && isObjectKind(last) ? last : 'table';
  const parts = kind === 'table' ? segments : segments.slice(0, -1);
  // `table` is never written as a kind, nor a part that reads as one as it is (see
  // fileNameForObject).
  if (last === 'table' || (parts.length > 1 && isObjectKind(parts[parts.length - 1] ?? '')))
    return undefined;
  return { kind, parts };
}

/** Encoded names longer than this many bytes are cut and given a hash (file names stop at 255). */
const MAX_ENCODED_BYTES = 200;

function encodeName(name: string): string {
  let result = '';
  for (const char of name) {
    // Letters and digits of any script are safe on the file systems git runs on.
    if (
      /^[A-Za-z0-9_$-]$/.test(char) ||
      ((char.codePointAt(0) ?? 0) > 0x7f && /^[\p{L}\p{N}]$/u.test(char))
    ) {
      result += char;
    } else {
      for (const byte of Buffer.from(char, 'utf8'))
        result += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  if (Buffer.byteLength(result) <= MAX_ENCODED_BYTES) return result;
  // Too long for a file name: a readable prefix and a hash of the whole name. `%%` never
  // decodes, so such a name is known as ours but not decoded back.
  let prefix = '';
  for (const char of result) {
    if (Buffer.byteLength(prefix + char) > MAX_ENCODED_BYTES - 20) break;
    prefix += char;
  }
  return `${prefix.replace(/%[0-9A-F]?$/, '')}%%${createHash('sha256').update(name).digest('hex').slice(0, 16)}`;
}

function decodeName(encoded: string): string {
  return Buffer.from(decodeURIComponent(encoded), 'utf8').toString('utf8');
}
