/**
 * The rows of a user-data copy, as a restore reads them: each file checked against the copy's
 * manifest before any of it runs (its size, its plaintext size, and where this host's
 * fingerprint key is at hand, the keyed fingerprint of its plaintext, which nobody without
 * the key can forge), then decrypted (and decompressed) again as it streams into the restore.
 *
 * age gives secrecy, not authenticity: anyone who can write into the user-data directory can
 * encrypt a file to the configured public key. The checks here, and the statement checker
 * the restore runs every file through, are what keep such a file from running.
 */
import { createHmac } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDecompressor, type Compression } from '../dump/compression.js';
import { isSchemaBackupError, RestoreError } from '../errors.js';
import { printable } from '../support/printable.js';
import {
  compressionOfEntry,
  fingerprintKeyId,
  type UserDataManifest,
} from '../snapshot/user-data-copy.js';

/** One table's rows in a user-data copy, and what the copy's manifest says of them. */
export interface UserDataFile {
  /** For messages: the copy's directory and the file. */
  readonly label: string;
  open(): AsyncIterable<Uint8Array>;
  readonly rows: number;
  readonly plaintextBytes: number;
  /** HMAC-SHA256 of the plaintext; checked when {@link UserDataInput.fingerprintKey} is set. */
  readonly fingerprint: string;
}

/** The encrypted rows of local tables to load after the tables. */
export interface UserDataInput {
  /** Files by table name. */
  readonly files: ReadonlyMap<string, UserDataFile>;
  readonly description: string;
  /** This host's fingerprint key, when the copy was made under it. */
  readonly fingerprintKey?: Buffer | undefined;
}

/**
 * Opens the copy in `dir` described by `manifest`, checking every file first. Throws
 * {@link RestoreError} naming the file that does not match, or CryptoError for one that does
 * not decrypt. `fingerprintKey`: this host's key, if at hand (ignored when the copy was made
 * under another key).
 */
export async function openUserDataCopy(
  dir: string,
  manifest: UserDataManifest,
  identities: readonly string[],
  fingerprintKey?: Buffer,
): Promise<UserDataInput> {
  const key =
    fingerprintKey !== undefined && fingerprintKeyId(fingerprintKey) === manifest.fingerprintKeyId
      ? fingerprintKey
      : undefined;
  const files = new Map<string, UserDataFile>();
  for (const [table, entry] of Object.entries(manifest.tables)) {
    // A manifest is as forgeable as the files: its names must stay inside the copy.
    if (!/^[^/\\]+\.age$/.test(entry.file) || entry.file.startsWith('.'))
      throw new RestoreError(
        `the user-data copy ${dir} names ${printable(JSON.stringify(entry.file))} for table ${printable(table)}, which is not a file of the copy`,
      );
    const path = join(dir, entry.file);
    const label = `${path} (user data of ${printable(table)})`;
    const compression = compressionOfEntry(entry);
    if (compression === undefined)
      throw new RestoreError(
        `${label}: the copy's manifest names a compression this version cannot read (${printable(JSON.stringify(entry.compression))})`,
      );
    const size = await stat(path).then(
      (stats) => stats.size,
      () => undefined,
    );
    if (size !== entry.bytes)
      throw new RestoreError(
        `${label}: ${size === undefined ? 'missing' : `${String(size)} bytes`}, the copy's manifest recorded ${String(entry.bytes)}`,
        {
          hint: 'The file was changed or replaced after the copy was made: do not restore from it.',
        },
      );
    // Decrypt the whole file once before anything runs: a wrong identity, a damaged or a
    // forged file fails here.
    const measured = await measurePlaintext(
      label,
      readUserDataFile(path, identities, compression),
      key,
      entry.plaintextBytes,
    );
    checkMeasured(label, measured, entry, key !== undefined);
    files.set(table, {
      label,
      open: () => readUserDataFile(path, identities, compression),
      rows: entry.rows,
      plaintextBytes: entry.plaintextBytes,
      fingerprint: entry.fingerprint,
    });
  }
  return { files, description: dir, fingerprintKey: key };
}

/** Plaintext size and keyed fingerprint of what `chunks` yields. */
export class PlaintextMeasure {
  bytes = 0;
  private readonly hmac;

  constructor(key: Buffer | undefined) {
    this.hmac = key === undefined ? undefined : createHmac('sha256', key);
  }

  async *tee(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of chunks) {
      this.bytes += chunk.length;
      this.hmac?.update(chunk);
      yield chunk;
    }
  }

  result(): { bytes: number; fingerprint: string | undefined } {
    return { bytes: this.bytes, fingerprint: this.hmac?.digest('hex') };
  }
}

/**
 * The SQL of a user-data file: decrypted, then decompressed. Leaving the iteration early
 * destroys every stage (for zstd possibly a child process). A file that decrypts but does
 * not decompress fails with {@link RestoreError}.
 */
export async function* readUserDataFile(
  path: string,
  identities: readonly string[],
  compression: Compression,
): AsyncIterable<Uint8Array> {
  // age and its ciphers load only for a restore that has user data (~0.1 s of CPU at start).
  const { decryptFile } = await import('../crypto/decrypt.js');
  const decompressor = createDecompressor(compression);
  if (decompressor === undefined) {
    yield* decryptFile(path, identities);
    return;
  }
  const done = pipeline(
    Readable.from(decryptFile(path, identities), { objectMode: false }),
    decompressor,
  );
  done.catch(() => undefined);
  try {
    for await (const chunk of decompressor as AsyncIterable<Buffer>) yield chunk;
    await done;
  } catch (error) {
    if (isSchemaBackupError(error)) throw error;
    throw new RestoreError(
      `${path} decrypts but does not decompress (${compression}): ${(error as Error).message}`,
      {
        cause: error,
        hint: 'The file was changed or replaced after the copy was made: do not restore from it.',
      },
    );
  } finally {
    decompressor.destroy();
  }
}

/** Reads the whole of a user-data file and discards it: proves it decrypts and decompresses. */
export async function verifyUserDataFile(
  path: string,
  identities: readonly string[],
  compression: Compression,
): Promise<void> {
  const chunks = readUserDataFile(path, identities, compression)[Symbol.asyncIterator]();
  for (let next = await chunks.next(); next.done !== true; next = await chunks.next());
}

/**
 * Size and fingerprint of the plaintext `chunks` yields. Stops reading once it exceeds
 * `expectedBytes`: a forged file that decompresses to far more is refused without reading on.
 */
async function measurePlaintext(
  label: string,
  chunks: AsyncIterable<Uint8Array>,
  key: Buffer | undefined,
  expectedBytes: number,
): Promise<{ bytes: number; fingerprint: string | undefined }> {
  const measure = new PlaintextMeasure(key);
  const measured = measure.tee(chunks);
  for (let next = await measured.next(); next.done !== true; next = await measured.next()) {
    if (measure.bytes > expectedBytes)
      throw new RestoreError(
        `${label}: more than the ${String(expectedBytes)} bytes the copy's manifest recorded`,
        {
          hint: 'The file was changed or replaced after the copy was made: do not restore from it.',
        },
      );
  }
  return measure.result();
}

/** Throws when a file's plaintext is not what the manifest recorded. */
export function checkMeasured(
  label: string,
  measured: { bytes: number; fingerprint: string | undefined },
  expected: { plaintextBytes: number; fingerprint: string },
  keyed: boolean,
): void {
  const hint = 'The file was changed or replaced after the copy was made: do not restore from it.';
  if (measured.bytes !== expected.plaintextBytes)
    throw new RestoreError(
      `${label}: ${String(measured.bytes)} bytes decrypted, the copy's manifest recorded ${String(expected.plaintextBytes)}`,
      { hint },
    );
  if (keyed && measured.fingerprint !== expected.fingerprint)
    throw new RestoreError(
      `${label}: its rows do not match the fingerprint the copy's manifest recorded`,
      { hint },
    );
}
