/**
 * Where a snapshot's files live: `<backup dir>/<host>/`, one file per table (`<table>.sql`)
 * and per other object (`<name>.<kind>.sql`). Names are encoded so that any identifier is a
 * safe, unique file name: bytes outside `[A-Za-z0-9_$-]` become `%XX`, so a table called
 * `a.view` cannot collide with the view `a`.
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

/** The file name of an object, e.g. `auth_user.sql`, `active_users.view.sql`. */
export function fileNameForObject(kind: ObjectKind, name: string): string {
  const encoded = encodeName(name);
  return kind === 'table'
    ? `${encoded}${SNAPSHOT_FILE_SUFFIX}`
    : `${encoded}.${kind}${SNAPSHOT_FILE_SUFFIX}`;
}

/**
 * The kind of object a snapshot file holds, by its name's suffix (`.view.sql`; none for a
 * table), whether or not its name part decodes; undefined for a file that is not one of ours.
 */
export function kindOfFileName(fileName: string): ObjectKind | undefined {
  if (!fileName.endsWith(SNAPSHOT_FILE_SUFFIX)) return undefined;
  const stem = fileName.slice(0, -SNAPSHOT_FILE_SUFFIX.length);
  const dot = stem.lastIndexOf('.');
  if (dot === -1) return 'table';
  const kind = stem.slice(dot + 1);
  return isObjectKind(kind) && kind !== 'table' ? kind : undefined;
}

/** The object a snapshot file holds, or undefined for a file that is not one of ours. */
export function objectForFileName(
  fileName: string,
): { kind: ObjectKind; name: string } | undefined {
  if (!fileName.endsWith(SNAPSHOT_FILE_SUFFIX)) return undefined;
  const kind = kindOfFileName(fileName);
  if (kind === undefined) return undefined;
  const stem = fileName.slice(0, -SNAPSHOT_FILE_SUFFIX.length);
  const encoded = kind === 'table' ? stem : stem.slice(0, -(kind.length + 1));
  if (encoded.includes('.')) return undefined;
  try {
    return { kind, name: decodeName(encoded) };
  } catch {
    return undefined;
  }
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
