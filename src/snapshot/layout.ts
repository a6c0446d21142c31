/**
 * Where a snapshot's files live: `<backup dir>/<host>/`, one file per table (`<table>.sql`)
 * and per other object (`<name>.<kind>.sql`). Names are encoded so that any identifier is a
 * safe, unique file name: bytes outside `[A-Za-z0-9_$-]` become `%XX`, so a table called
 * `a.view` cannot collide with the view `a`.
 */
import { join } from 'node:path';
import type { ObjectKind } from '../engine/engine.js';

export const SNAPSHOT_FILE_SUFFIX = '.sql';

/** The directory beside the host directories that holds locks and staging files (git-ignored). */
export const WORK_DIR_NAME = '.schema_backup';

/** `<backupDir>/<host>`. Throws on a host name that is not a single path segment. */
export function hostDirectory(backupDir: string, host: string): string {
  if (!isValidHostName(host))
    throw new Error(`not a usable host directory name: ${JSON.stringify(host)}`);
  return join(backupDir, host);
}

export function isValidHostName(host: string): boolean {
  return (
    host !== '' && host !== '.' && host !== '..' && !host.startsWith('.') && !/[/\\\0]/.test(host)
  );
}

/** The file name of an object, e.g. `auth_user.sql`, `active_users.view.sql`. */
export function fileNameForObject(kind: ObjectKind, name: string): string {
  const encoded = encodeName(name);
  return kind === 'table'
    ? `${encoded}${SNAPSHOT_FILE_SUFFIX}`
    : `${encoded}.${kind}${SNAPSHOT_FILE_SUFFIX}`;
}

/** The object a snapshot file holds, or undefined for a file that is not one of ours. */
export function objectForFileName(
  fileName: string,
): { kind: ObjectKind; name: string } | undefined {
  if (!fileName.endsWith(SNAPSHOT_FILE_SUFFIX)) return undefined;
  const stem = fileName.slice(0, -SNAPSHOT_FILE_SUFFIX.length);
  const match = /^([^.]*)(?:\.(view|sequence|procedure|function|event))?$/.exec(stem);
  if (!match) return undefined;
  const kind = (match[2] ?? 'table') as ObjectKind;
  try {
    return { kind, name: decodeName(match[1] ?? '') };
  } catch {
    return undefined;
  }
}

function encodeName(name: string): string {
  let result = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const char = String.fromCharCode(byte);
    result += /[A-Za-z0-9_$-]/.test(char)
      ? char
      : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return result;
}

function decodeName(encoded: string): string {
  return Buffer.from(decodeURIComponent(encoded), 'utf8').toString('utf8');
}
