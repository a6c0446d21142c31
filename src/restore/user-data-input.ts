/**
 * The rows of a user-data copy, as a restore reads them: each file checked against the copy's
 * manifest before any of it runs (its size, its plaintext size, and where this host's
 * fingerprint key is at hand, the keyed fingerprint of its plaintext, which nobody without
 * the key can forge), then decrypted again as it streams into the restore.
 *
 * age gives secrecy, not authenticity: anyone who can write into the user-data directory can
 * encrypt a file to the configured public key. The checks here, and the statement checker
 * the restore runs every file through, are what keep such a file from running.
 */
import { createHmac } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { decryptFile } from '../crypto/decrypt.js';
import { RestoreError } from '../errors.js';
import { printable } from '../support/printable.js';
import { fingerprintKeyId, type UserDataManifest } from '../snapshot/user-data-copy.js';

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
    const measured = await measurePlaintext(path, identities, key);
    checkMeasured(label, measured, entry, key !== undefined);
    files.set(table, {
      label,
      open: () => decryptFile(path, identities),
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

async function measurePlaintext(
  path: string,
  identities: readonly string[],
  key: Buffer | undefined,
): Promise<{ bytes: number; fingerprint: string | undefined }> {
  const measure = new PlaintextMeasure(key);
  const chunks = measure.tee(decryptFile(path, identities));
  for (let next = await chunks.next(); next.done !== true; next = await chunks.next());
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
