/**
 * Writes age-encrypted files (age v1, readable by the stock `age` CLI) from text produced
 * piece by piece, with memory bounded by one 64 KiB chunk plus one write buffer.
 *
 * age-encryption makes the header: it wraps a fresh file key for each recipient and MACs the
 * header. The payload, ChaCha20-Poly1305 in age's STREAM construction, is encrypted here with
 * node:crypto (OpenSSL, about 1 GB/s) instead of the library's JavaScript cipher (about
 * 120 MB/s, which made encryption the bottleneck of a snapshot and cost a worker thread's
 * memory). The file key reaches us through the library's public Recipient interface: an
 * extra recipient that records the key and adds no stanza.
 *
 * Each file is also fingerprinted with HMAC-SHA256 under a caller's key, so that unchanged
 * data can be recognised without storing an unkeyed hash that would confirm a guessed value.
 */
import { createCipheriv, createHmac, hkdfSync } from 'node:crypto';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { Readable, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CryptoError, SchemaBackupError } from '../errors.js';

/** age's STREAM chunk size (plaintext bytes per chunk). */
const CHUNK_SIZE = 64 * 1024;
/** Ciphertext is written in pieces of about this size. */
const WRITE_BYTES = 1024 * 1024;
const TAG_BYTES = 16;
const NONCE_BYTES = 16;

export interface EncryptedFileResult {
  /** Ciphertext bytes written. */
  readonly bytes: number;
  /** Plaintext bytes. */
  readonly plaintextBytes: number;
  /** Hex HMAC-SHA256 of the plaintext under the writer's fingerprint key. */
  readonly fingerprint: string;
}

/** Encrypts any number of files, one after another, to one set of recipients. */
export class EncryptingWriter {
  private readonly recipients: readonly string[];
  private readonly fingerprintKey: Buffer;

  constructor(recipients: readonly string[], fingerprintKey: Buffer) {
    if (recipients.length === 0) throw new CryptoError('no age recipients to encrypt to');
    this.recipients = recipients;
    this.fingerprintKey = fingerprintKey;
  }

  /**
   * Encrypts the text `source` yields into a new file at `path` (it must not exist; mode
   * 0600; fsynced). With `compressor` (a maker of a stream, e.g. zstd), the plaintext goes
   * through it before it is encrypted; size and fingerprint stay those of the plaintext. Throws
   * {@link CryptoError} when compressing, encrypting or writing fails, and the error of
   * `source` as it is when that fails, after removing the partial file.
   */
  async writeFile(
    path: string,
    source: AsyncIterable<string>,
    options: { readonly compressor?: (() => Duplex | undefined) | undefined } = {},
  ): Promise<EncryptedFileResult> {
    let handle: FileHandle | undefined;
    try {
      const { preamble, payloadKey } = await this.startFile();
      handle = await open(path, 'wx', 0o600);
      const stream = new StreamEncryptor(payloadKey, handle);
      const hmac = createHmac('sha256', this.fingerprintKey);
      await stream.write(preamble, false);
      let plaintextBytes = 0;
      const plaintext = (async function* () {
        for await (const text of source) {
          const bytes = Buffer.from(text, 'utf8');
          hmac.update(bytes);
          plaintextBytes += bytes.length;
          yield bytes;
        }
      })();
      const compressor = options.compressor?.();
      if (compressor === undefined) {
        for await (const bytes of plaintext) await stream.push(bytes);
      } else {
        // pipeline() destroys every stage when one fails, so a failing source or a full disk
        // never leaves the compressor (possibly a child process) waiting on a pipe.
        await pipeline(
          Readable.from(plaintext, { objectMode: false }),
          compressor,
          async (compressed: AsyncIterable<Buffer>) => {
            for await (const bytes of compressed) await stream.push(bytes);
          },
        );
      }
      const bytes = await stream.finish();
      await handle.sync();
      await handle.close();
      handle = undefined;
      return { bytes: bytes + preamble.length, plaintextBytes, fingerprint: hmac.digest('hex') };
    } catch (error) {
      await handle?.close().catch(() => undefined);
      await unlink(path).catch(() => undefined);
      // A failure of the source (the database read: an EngineError, an interruption) is
      // reported as itself; only what failed here is a CryptoError.
      if (error instanceof SchemaBackupError) throw error;
      throw new CryptoError(`encrypting ${path} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /** Nothing to release; kept so that callers need not know how encryption is done. */
  async close(): Promise<void> {
    await Promise.resolve();
  }

  private async startFile(): Promise<AgeFileStart> {
    return startAgeFile(this.recipients);
  }
}

/** The start of a new age file: its header and payload nonce, and the payload key. */
export interface AgeFileStart {
  readonly preamble: Buffer;
  readonly payloadKey: Buffer;
}

/**
 * The header and payload nonce of a new file to `recipients`, and its payload key: the
 * library encrypts an empty file, whose output is header, nonce and one empty final chunk.
 */
export async function startAgeFile(recipients: readonly string[]): Promise<AgeFileStart> {
  let fileKey: Uint8Array | undefined;
  // Loaded on first use: a snapshot without local tables never needs it (0.03 s of start-up).
  const { Encrypter } = await import('age-encryption');
  const encrypter = new Encrypter();
  for (const recipient of recipients) encrypter.addRecipient(recipient);
  encrypter.addRecipient({
    wrapFileKey(key: Uint8Array) {
      fileKey = key;
      return [];
    },
  });
  const empty = Buffer.from(await encrypter.encrypt(new Uint8Array(0)));
  if (fileKey === undefined) throw new CryptoError('age-encryption did not hand out the file key');
  const preambleLength = empty.length - TAG_BYTES;
  const preamble = empty.subarray(0, preambleLength);
  const nonce = preamble.subarray(preambleLength - NONCE_BYTES);
  const payloadKey = Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32));
  return { preamble, payloadKey };
}

/** Seals one STREAM chunk: counter `index`, flagged when it is the last. */
export function sealAgeChunk(key: Buffer, index: bigint, chunk: Buffer, last: boolean): Buffer[] {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(index & 0xffffffffffffffffn, 3);
  nonce.writeUInt8(last ? 1 : 0, 11);
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES });
  return [cipher.update(chunk), cipher.final(), cipher.getAuthTag()];
}

/** age's STREAM chunk size (plaintext bytes per chunk). */
export const AGE_CHUNK_SIZE = 64 * 1024;

/**
 * age's STREAM: 64 KiB plaintext chunks, each sealed with ChaCha20-Poly1305 under a nonce of
 * an 11-byte big-endian counter and a last-chunk flag byte. The final chunk is the only one
 * flagged, and it is empty only when the whole plaintext is, so one chunk is held back until
 * more data (or the end) shows whether it is the last.
 */
class StreamEncryptor {
  private readonly key: Buffer;
  private readonly handle: FileHandle;
  private pending: Buffer = Buffer.alloc(0);
  private counter = 0n;
  private out: Buffer[] = [];
  private outBytes = 0;
  private written = 0;

  constructor(key: Buffer, handle: FileHandle) {
    this.key = key;
    this.handle = handle;
  }

  async push(bytes: Buffer): Promise<void> {
    this.pending = this.pending.length === 0 ? bytes : Buffer.concat([this.pending, bytes]);
    let offset = 0;
    // Seal full chunks while more data follows them.
    while (this.pending.length - offset > CHUNK_SIZE) {
      this.seal(this.pending.subarray(offset, offset + CHUNK_SIZE), false);
      offset += CHUNK_SIZE;
    }
    this.pending = offset === 0 ? this.pending : Buffer.from(this.pending.subarray(offset));
    if (this.outBytes >= WRITE_BYTES) await this.flush();
  }

  /** Seals the last chunk, writes everything, and returns the payload's size in bytes. */
  async finish(): Promise<number> {
    this.seal(this.pending, true);
    this.pending = Buffer.alloc(0);
    await this.flush();
    return this.written;
  }

  async write(bytes: Buffer, count = true): Promise<void> {
    await this.handle.write(bytes);
    if (count) this.written += bytes.length;
  }

  private seal(chunk: Buffer, last: boolean): void {
    const sealed = sealAgeChunk(this.key, this.counter, chunk, last);
    this.counter += 1n;
    for (const part of sealed) {
      this.out.push(part);
      this.outBytes += part.length;
    }
  }

  private async flush(): Promise<void> {
    if (this.out.length === 0) return;
    const data = Buffer.concat(this.out);
    this.out = [];
    this.outBytes = 0;
    await this.write(data);
  }
}
