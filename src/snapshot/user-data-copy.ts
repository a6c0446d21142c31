/**
 * The user-data copy of one run: the rows of `local` tables, compressed (zstd by default)
 * then age-encrypted, one file per table (`<table>.sql.zst.age`), under
 * `<user data dir>/<host>/<timestamp>/` with a `latest` symlink to the newest copy. The copy
 * is built in a hidden directory and renamed into place only when complete; a copy whose
 * data equals the `latest` one is dropped (the run reports it unchanged). A table whose rows
 * equal those in `latest` is not stored twice: its file there is hard-linked into the new
 * copy, so a copy costs what changed, and deleting an older copy never breaks a newer one.
 * Directories are 0700 and files 0600; plaintext never touches the disk.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import {
  copyFile,
  link,
  mkdir,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  stat,
  symlink,
} from 'node:fs/promises';
import { join } from 'node:path';
import { EncryptingWriter } from '../crypto/encrypting-writer.js';
import {
  COMPRESSION_EXTENSION,
  COMPRESSIONS,
  createCompressor,
  defaultCompression,
  type Compression,
} from '../dump/compression.js';
import { LATEST_LINK, USER_DATA_MANIFEST, WORK_DIR_NAME } from './layout.js';
import type { SqlChunk } from './render-files.js';
import { CryptoError, UsageError } from '../errors.js';
import { renameDurably, syncDirectory, writeFileAtomic } from '../support/atomic-write.js';
import { pathExists } from '../support/path-exists.js';
import { removeLeftovers } from '../support/remove-leftovers.js';

export { LATEST_LINK, USER_DATA_MANIFEST } from './layout.js';
/** 1: `<table>.sql.age`, uncompressed; 2: entries say their compression. */
const MANIFEST_FORMAT = 2;

export interface UserDataTableEntry {
  readonly file: string;
  readonly rows: number;
  /** Bytes of SQL, before compression. */
  readonly plaintextBytes: number;
  /** Bytes of the file: compressed, then encrypted. */
  readonly bytes: number;
  /** How the SQL was compressed before encryption; absent (format 1) = none. */
  readonly compression?: Compression | undefined;
  /** HMAC-SHA256 of the plaintext under the host's fingerprint key: equal data, equal value. */
  readonly fingerprint: string;
}

export interface UserDataManifest {
  readonly format: number;
  readonly database: string;
  readonly created: string;
  /** Identifies the fingerprint key (an HMAC of a constant), so copies made under another key never compare equal. */
  readonly fingerprintKeyId: string;
  readonly recipients: readonly string[];
  readonly tables: Readonly<Record<string, UserDataTableEntry>>;
}

export type UserDataOutcome =
  | {
      readonly outcome: 'created';
      readonly path: string;
      readonly timestamp: string;
      readonly tables: number;
      /** Bytes of the copy's table files. */
      readonly bytes: number;
      /** Of those, bytes written by this run (the rest are links to the previous copy's files). */
      readonly newBytes: number;
      /** Tables whose file is the previous copy's (unchanged rows). */
      readonly reused: number;
    }
  | { readonly outcome: 'unchanged'; readonly latest: string };

/** `2026-11-24T05-13-53Z`: sortable, and free of characters some file systems refuse. */
export function copyTimestamp(now: Date): string {
  return now
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
}

export class UserDataCopy {
  readonly hostDir: string;
  private readonly workDir: string;
  private readonly writer: EncryptingWriter;
  private readonly fingerprintKey: Buffer;
  private readonly recipients: readonly string[];
  private readonly entries: Record<string, UserDataTableEntry> = {};
  private readonly now: Date;
  private readonly database: string;
  private readonly compression: Compression;
  /** The copy `latest` pointed at when this one began: unchanged tables link to its files. */
  private readonly previous: { dir: string; manifest: UserDataManifest } | undefined;
  private readonly reusedTables = new Set<string>();
  private prepared: UserDataOutcome | 'ready' | undefined;

  private constructor(
    hostDir: string,
    workDir: string,
    recipients: readonly string[],
    fingerprintKey: Buffer,
    now: Date,
    database: string,
    compression: Compression,
    previous: { dir: string; manifest: UserDataManifest } | undefined,
  ) {
    this.compression = compression;
    this.previous = previous;
    this.hostDir = hostDir;
    this.workDir = workDir;
    this.recipients = recipients;
    this.fingerprintKey = fingerprintKey;
    this.now = now;
    this.database = database;
    this.writer = new EncryptingWriter(recipients, fingerprintKey);
  }

  /** Starts a copy under `<root>/<host>/` (created 0700 when missing). */
  static async begin(options: {
    root: string;
    host: string;
    recipients: readonly string[];
    fingerprintKey: Buffer;
    now: Date;
    database: string;
    /** Compression of the table files before encryption (default zstd, or gzip without zstd). */
    compression?: Compression | undefined;
  }): Promise<UserDataCopy> {
    if (options.recipients.length === 0) {
      throw new CryptoError('local tables exist but no age recipient is configured', {
        hint: 'Make a key with `schema_backup keygen -o /root/.config/schema_backup/key.txt` and put the printed age1... public key under encryption.recipients.',
      });
    }
    const hostDir = join(options.root, options.host);
    await mkdir(hostDir, { recursive: true, mode: 0o700 });
    // Left by a run that was killed: never a valid copy. The caller holds the host's lock.
    await removeLeftovers(hostDir, /^\.(?:incomplete-|latest-)/);
    const workDir = join(
      hostDir,
      `.incomplete-${copyTimestamp(options.now)}-${randomBytes(4).toString('hex')}`,
    );
    await mkdir(workDir, { mode: 0o700 });
    const latest = await readLatestManifest(hostDir);
    return new UserDataCopy(
      hostDir,
      workDir,
      options.recipients,
      options.fingerprintKey,
      options.now,
      options.database,
      options.compression ?? defaultCompression(),
      latest === undefined
        ? undefined
        : { dir: join(hostDir, latest.name), manifest: latest.manifest },
    );
  }

  /**
   * Compresses and encrypts one table's rows (SQL text from `source`) into
   * `<file>.zst.age` (`<file>.age` uncompressed). When the rows are those of the previous
   * copy's file, that file is hard-linked in its place (copied where links fail).
   */
  async writeTable(
    table: string,
    file: string,
    source: AsyncIterable<SqlChunk>,
  ): Promise<UserDataTableEntry> {
    const encryptedFile = `${file}${COMPRESSION_EXTENSION[this.compression]}.age`;
    const path = join(this.workDir, encryptedFile);
    let rows = 0;
    const counted = (async function* () {
      for await (const chunk of source) {
        rows += chunk.rows;
        yield chunk.text;
      }
    })();
    // The fingerprint is known only once the rows have streamed through, so the file is
    // written either way; it costs encryption time, not disk.
    const result = await this.writer.writeFile(path, counted, {
      compressor: () => createCompressor(this.compression, 1),
    });
    let entry: UserDataTableEntry = {
      file: encryptedFile,
      rows,
      plaintextBytes: result.plaintextBytes,
      bytes: result.bytes,
      compression: this.compression,
      fingerprint: result.fingerprint,
    };
    const reusable = await this.reusableFile(table, entry);
    if (reusable !== undefined) {
      await rm(path);
      await linkOrCopy(reusable.path, path);
      entry = { ...entry, bytes: reusable.bytes };
      this.reusedTables.add(table);
    }
    this.entries[table] = entry;
    return entry;
  }

  /**
   * The previous copy's file of `table` when it holds the same rows, compressed the same way
   * and encrypted to the same recipients; undefined otherwise.
   */
  private async reusableFile(
    table: string,
    entry: UserDataTableEntry,
  ): Promise<{ path: string; bytes: number } | undefined> {
    const previous = this.previous;
    const old = previous?.manifest.tables[table];
    if (previous === undefined || old === undefined) return undefined;
    if (
      previous.manifest.fingerprintKeyId !== fingerprintKeyId(this.fingerprintKey) ||
      !sameRecipients(previous.manifest.recipients, this.recipients) ||
      (old.compression ?? 'none') !== entry.compression ||
      old.fingerprint !== entry.fingerprint ||
      old.plaintextBytes !== entry.plaintextBytes ||
      old.file !== entry.file
    )
      return undefined;
    const path = join(previous.dir, old.file);
    // A file changed since (a different size) is not trusted; a fresh file is kept instead.
    const size = await stat(path).then(
      (stats) => (stats.isFile() ? stats.size : undefined),
      () => undefined,
    );
    return size === old.bytes ? { path, bytes: size } : undefined;
  }

  /**
   * Everything of {@link finish} that can fail for want of disk or a bad file: compares with
   * `latest` (dropping an unchanged copy) and writes the manifest. Call it before the git
   * commit, so that what is left after the commit is two renames.
   */
  async prepare(): Promise<void> {
    if (this.prepared !== undefined) return;
    await this.writer.close();
    const manifest: UserDataManifest = {
      format: MANIFEST_FORMAT,
      database: this.database,
      created: this.now.toISOString(),
      fingerprintKeyId: fingerprintKeyId(this.fingerprintKey),
      recipients: this.recipients,
      tables: this.entries,
    };
    const latest = await readLatestManifest(this.hostDir);
    if (latest !== undefined && sameData(latest.manifest, manifest)) {
      await rm(this.workDir, { recursive: true, force: true });
      this.prepared = { outcome: 'unchanged', latest: latest.name };
      return;
    }
    await writeFileAtomic(
      join(this.workDir, USER_DATA_MANIFEST),
      `${JSON.stringify(manifest, null, 2)}\n`,
      { mode: 0o600 },
    );
    await syncDirectory(this.workDir);
    this.prepared = 'ready';
  }

  /**
   * Puts the copy in place and points `latest` at it, unless it holds the same data as the
   * copy `latest` points at; then it is dropped.
   */
  async finish(): Promise<UserDataOutcome> {
    await this.prepare();
    if (this.prepared !== 'ready' && this.prepared !== undefined) return this.prepared;
    let timestamp = copyTimestamp(this.now);
    if (await pathExists(join(this.hostDir, timestamp), { followSymlinks: false }))
      timestamp = `${timestamp}-${randomBytes(2).toString('hex')}`;
    await renameDurably(this.workDir, join(this.hostDir, timestamp));
    await pointLatestAt(this.hostDir, timestamp);
    const bytes = Object.values(this.entries).reduce((sum, entry) => sum + entry.bytes, 0);
    const newBytes = Object.entries(this.entries)
      .filter(([table]) => !this.reusedTables.has(table))
      .reduce((sum, [, entry]) => sum + entry.bytes, 0);
    return {
      outcome: 'created',
      path: join(this.hostDir, timestamp),
      timestamp,
      tables: Object.keys(this.entries).length,
      bytes,
      newBytes,
      reused: this.reusedTables.size,
    };
  }

  /** Removes the incomplete copy; `latest` and earlier copies are untouched. */
  async abort(): Promise<void> {
    await this.writer.close().catch(() => undefined);
    await rm(this.workDir, { recursive: true, force: true });
  }
}

/** Where a host's fingerprint key lives: beside the locks, in the git-ignored work directory. */
export function fingerprintKeyPath(backupDir: string, host: string): string {
  return join(backupDir, WORK_DIR_NAME, `${host}.user-data.key`);
}

/** The fingerprint key at `path`, or undefined when there is none (never creates one). */
export async function readFingerprintKey(path: string): Promise<Buffer | undefined> {
  try {
    const key = Buffer.from((await readFile(path, 'utf8')).trim(), 'hex');
    return key.length === 32 ? key : undefined;
  } catch {
    return undefined;
  }
}

/** The fingerprint key of this host: random, 0600, created on first use. */
export async function loadFingerprintKey(path: string): Promise<Buffer> {
  try {
    const key = Buffer.from((await readFile(path, 'utf8')).trim(), 'hex');
    if (key.length === 32) return key;
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') throw error;
  }
  const key = randomBytes(32);
  await writeFileAtomic(path, `${key.toString('hex')}\n`, { mode: 0o600 });
  return key;
}

/** The manifest `latest` points at, or undefined when there is none (first copy, or damaged). */
export async function readLatestManifest(
  hostDir: string,
): Promise<{ name: string; manifest: UserDataManifest } | undefined> {
  try {
    const name = await readlink(join(hostDir, LATEST_LINK));
    const manifest = JSON.parse(
      await readFile(join(hostDir, name, USER_DATA_MANIFEST), 'utf8'),
    ) as UserDataManifest;
    return { name, manifest };
  } catch {
    return undefined;
  }
}

/**
 * A copy of `<userDataDir>/<host>/`: `latest` or a timestamp directory name. Throws
 * {@link UsageError} when it does not exist or has no readable manifest.
 */
export async function findCopy(
  userDataDir: string,
  host: string,
  copy: string,
): Promise<{ dir: string; manifest: UserDataManifest }> {
  const hostDir = join(userDataDir, host);
  if (copy === LATEST_LINK) {
    const latest = await readLatestManifest(hostDir);
    if (latest === undefined)
      throw new UsageError(`no user-data copy in ${hostDir} (no readable ${LATEST_LINK})`);
    return { dir: join(hostDir, latest.name), manifest: latest.manifest };
  }
  try {
    return await readCopyAt(join(hostDir, copy));
  } catch (error) {
    throw new UsageError(`no user-data copy ${copy} in ${hostDir}`, { cause: error });
  }
}

/** The copy in `dir` and its manifest (as JSON; checked where it is used). Throws when unreadable. */
export async function readCopyAt(
  dir: string,
): Promise<{ dir: string; manifest: UserDataManifest }> {
  return {
    dir,
    manifest: JSON.parse(await readFile(join(dir, USER_DATA_MANIFEST), 'utf8')) as UserDataManifest,
  };
}

/** Timestamped copies under a host directory, oldest first. */
export async function listCopies(hostDir: string): Promise<string[]> {
  try {
    return (await readdir(hostDir, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory() && /^\d{4}-\d\d-\d\dT/.test(entry.name))
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}

/** A short public id of a fingerprint key: copies made under other keys never compare equal. */
export function fingerprintKeyId(key: Buffer): string {
  return createHmac('sha256', key)
    .update('schema_backup fingerprint key id')
    .digest('hex')
    .slice(0, 16);
}

function sameRecipients(a: readonly string[], b: readonly string[]): boolean {
  return [...a].sort().join() === [...b].sort().join();
}

function sameData(a: UserDataManifest, b: UserDataManifest): boolean {
  if (a.fingerprintKeyId !== b.fingerprintKeyId || a.database !== b.database) return false;
  if (!sameRecipients(a.recipients, b.recipients)) return false;
  const names = Object.keys(b.tables);
  if (Object.keys(a.tables).length !== names.length) return false;
  return names.every((name) => a.tables[name]?.fingerprint === b.tables[name]?.fingerprint);
}

/**
 * The compression of a copy's table file, as its manifest entry says (format 1: none);
 * undefined for one this version does not know.
 */
export function compressionOfEntry(entry: UserDataTableEntry): Compression | undefined {
  const compression: unknown = entry.compression ?? 'none';
  return COMPRESSIONS.find((known) => known === compression);
}

/**
 * Puts a hard link to `source` at `target`: the same file, stored once. Where the file
 * system refuses links, a copy (0600) takes its place.
 */
async function linkOrCopy(source: string, target: string): Promise<void> {
  try {
    await link(source, target);
  } catch {
    await copyFile(source, target, constants.COPYFILE_EXCL);
  }
}

/** Replaces the `latest` symlink atomically (a new link renamed over the old one). */
async function pointLatestAt(hostDir: string, name: string): Promise<void> {
  const temporary = join(hostDir, `.latest-${randomBytes(4).toString('hex')}`);
  await symlink(name, temporary);
  await rename(temporary, join(hostDir, LATEST_LINK));
  await syncDirectory(hostDir);
}
