/**
 * Off-site copies: puts a run's user-data copy or a dump on the remote store, ciphertext
 * only, and checks it there by size and hash. Runs after the local part of a run is safely
 * done (committed, renamed into place); a failure here never touches the local result.
 *
 * Layout on the store, one directory per host (several hosts may share a remote):
 *
 *     <host>/user-data/<timestamp>/<table>.sql.age, manifest.json   (and <timestamp>.keep)
 *     <host>/dumps/<host>_<database>_<timestamp>.sql.zst.age        (or a dump directory)
 *
 * A copy's (or dump directory's) `manifest.json` is uploaded last: a copy without one on the
 * store is incomplete, exactly as on disk. A workflow: uses support/, ops/ and errors only.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { OffsiteError } from '../errors.js';
import { KEEP_SUFFIX } from '../ops/prune.js';
import type { Logger } from '../support/logger.js';
import { pathExists } from '../support/path-exists.js';
import type { CheckMethod, OffsiteStore } from './offsite-store.js';

/** Name of the manifest of a user-data copy and of a dump directory: uploaded last. */
const MANIFEST = 'manifest.json';

/** The store directory of a host's user-data copies. */
export function remoteUserDataDir(host: string): string {
  return `${host}/user-data`;
}

/** The store directory of a host's dumps. */
export function remoteDumpDir(host: string): string {
  return `${host}/dumps`;
}

export interface UploadResult {
  /** The copy's or dump's name (a timestamp, a dump file or directory name). */
  readonly name: string;
  /** `name:path/<host>/...` of the uploaded item. */
  readonly remotePath: string;
  readonly files: number;
  readonly bytes: number;
  /** How the check compared the two sides. */
  readonly checkedBy: CheckMethod;
}

/**
 * Uploads the user-data copy in `copyDir` (`<user data dir>/<host>/<timestamp>`) and its
 * `.keep` sidecar, then checks it. Throws OffsiteError; uploading again is safe (files
 * already there are skipped).
 */
export async function uploadUserDataCopy(
  store: OffsiteStore,
  options: { copyDir: string; host: string; logger: Logger },
): Promise<UploadResult> {
  const name = basename(options.copyDir);
  const files = await listFiles(options.copyDir);
  if (!files.includes(MANIFEST))
    throw new OffsiteError(`${options.copyDir} has no ${MANIFEST}: it is not a complete copy`);
  // User-data files are age-encrypted by construction; checked anyway, as a promise kept.
  await requireCiphertext(options.copyDir, files, false);
  const result = await uploadDirectory(store, {
    localDir: options.copyDir,
    remoteParent: remoteUserDataDir(options.host),
    files,
    logger: options.logger,
  });
  await uploadKeepSidecar(store, options.copyDir, remoteUserDataDir(options.host));
  return { ...result, name };
}

/**
 * Uploads the dump at `path` (a file, or the directory form) and its `.keep` sidecar, then
 * checks it. A dump that is not age-encrypted is refused (OffsiteError, nothing uploaded)
 * unless `allowPlaintext`.
 */
export async function uploadDump(
  store: OffsiteStore,
  options: { path: string; host: string; allowPlaintext: boolean; logger: Logger },
): Promise<UploadResult> {
  const { path, host, logger } = options;
  const name = basename(path);
  const remoteParent = remoteDumpDir(host);
  let result: UploadResult;
  if ((await stat(path)).isDirectory()) {
    const files = await listFiles(path);
    await requireCiphertext(path, files, options.allowPlaintext);
    result = await uploadDirectory(store, { localDir: path, remoteParent, files, logger });
  } else {
    await requireCiphertext(dirname(path), [name], options.allowPlaintext);
    logger.info(`uploading ${name} to ${store.description}/${remoteParent}`);
    await store.upload(dirname(path), remoteParent, [name]);
    const checkedBy = await store.check('upload', dirname(path), remoteParent, [name]);
    result = {
      name,
      remotePath: `${store.description}/${remoteParent}/${name}`,
      files: 1,
      bytes: (await stat(path)).size,
      checkedBy,
    };
  }
  await uploadKeepSidecar(store, path, remoteParent);
  return result;
}

async function uploadDirectory(
  store: OffsiteStore,
  options: { localDir: string; remoteParent: string; files: readonly string[]; logger: Logger },
): Promise<UploadResult> {
  const { localDir, files } = options;
  const name = basename(localDir);
  const remoteDir = `${options.remoteParent}/${name}`;
  options.logger.info(`uploading ${name} to ${store.description}/${options.remoteParent}`);
  const data = files.filter((file) => file !== MANIFEST);
  await store.upload(localDir, remoteDir, data);
  if (files.includes(MANIFEST)) await store.upload(localDir, remoteDir, [MANIFEST]);
  const checkedBy = await store.check('upload', localDir, remoteDir, files);
  let bytes = 0;
  for (const file of files) bytes += (await stat(join(localDir, file))).size;
  return {
    name,
    remotePath: `${store.description}/${remoteDir}`,
    files: files.length,
    bytes,
    checkedBy,
  };
}

/** A manual mark (`<item>.keep`) goes along, so that remote retention keeps the item too. */
async function uploadKeepSidecar(
  store: OffsiteStore,
  itemPath: string,
  remoteParent: string,
): Promise<void> {
  const sidecar = `${basename(itemPath)}${KEEP_SUFFIX}`;
  if (await pathExists(join(dirname(itemPath), sidecar)))
    await store.upload(dirname(itemPath), remoteParent, [sidecar]);
}

/** Files under `dir`, recursively, as `/`-separated relative names, sorted. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) =>
      join(entry.parentPath, entry.name)
        .slice(dir.length + 1)
        .split('\\')
        .join('/'),
    )
    .sort();
}

/** How an age file begins: binary (`age-encryption.org/v1`) or armored. */
const AGE_HEADERS = ['age-encryption.org/v1\n', '-----BEGIN AGE ENCRYPTED FILE-----'];

/**
 * Throws OffsiteError when a file of `files` (in `dir`) other than a manifest does not begin
 * as an age file: plaintext rows never leave the host unless `allowPlaintext`.
 */
async function requireCiphertext(
  dir: string,
  files: readonly string[],
  allowPlaintext: boolean,
): Promise<void> {
  if (allowPlaintext) return;
  for (const file of files) {
    if (file === MANIFEST) continue;
    if (await isAgeFile(join(dir, file))) continue;
    throw new OffsiteError(
      `refusing to upload ${join(dir, file)}: it is not age-encrypted, and offsite.upload_plaintext_dumps is false`,
      {
        hint: 'Encrypt dumps (encryption.recipients, dump.encrypt: true), or set offsite.upload_plaintext_dumps: true if plaintext on the remote is acceptable.',
      },
    );
  }
}

async function isAgeFile(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(64);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const head = buffer.subarray(0, bytesRead).toString('latin1');
    return AGE_HEADERS.some((header) => head.startsWith(header));
  } finally {
    await handle.close();
  }
}
