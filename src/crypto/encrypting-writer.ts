/**
 * Writes age-encrypted files from text produced piece by piece, encrypting in a worker
 * thread (see encrypt-worker.mjs). Memory stays bounded: at most {@link MAX_CHUNKS_IN_FLIGHT}
 * chunks of {@link CHUNK_BYTES} wait for the encrypter. Each file is also fingerprinted
 * with HMAC-SHA256 under a caller's key, so that unchanged data can be recognised without
 * storing an unkeyed hash that would confirm a guessed value.
 */
import { createHmac } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { CryptoError } from '../errors.js';

const CHUNK_BYTES = 1024 * 1024;
const MAX_CHUNKS_IN_FLIGHT = 8;

type WorkerMessage =
  { type: 'ack' } | { type: 'done'; bytes: number } | { type: 'error'; message: string };

export interface EncryptedFileResult {
  /** Ciphertext bytes written. */
  readonly bytes: number;
  /** Plaintext bytes. */
  readonly plaintextBytes: number;
  /** Hex HMAC-SHA256 of the plaintext under the writer's fingerprint key. */
  readonly fingerprint: string;
}

/** One worker, one set of recipients, any number of files one after another. Call {@link close}. */
export class EncryptingWriter {
  private readonly worker: Worker;
  private readonly fingerprintKey: Buffer;
  private failure: Error | undefined;
  private inFlight = 0;
  private readonly waiters: (() => void)[] = [];
  private onDone: ((bytes: number) => void) | undefined;

  constructor(recipients: readonly string[], fingerprintKey: Buffer) {
    if (recipients.length === 0) throw new CryptoError('no age recipients to encrypt to');
    this.fingerprintKey = fingerprintKey;
    this.worker = new Worker(new URL('./encrypt-worker.mjs', import.meta.url), {
      workerData: { recipients: [...recipients] },
    });
    this.worker.on('message', (message: WorkerMessage) => {
      this.handle(message);
    });
    this.worker.on('error', (error) => {
      this.fail(error);
    });
    this.worker.on('exit', (code) => {
      if (code !== 0) this.fail(new Error(`encryption worker exited with code ${String(code)}`));
    });
  }

  /**
   * Encrypts the text `source` yields into a new file at `path` (it must not exist).
   * Throws {@link CryptoError} on failure, after removing the partial file.
   */
  async writeFile(path: string, source: AsyncIterable<string>): Promise<EncryptedFileResult> {
    this.throwIfFailed();
    const hmac = createHmac('sha256', this.fingerprintKey);
    const done = new Promise<number>((resolve) => {
      this.onDone = resolve;
    });
    this.worker.postMessage({ type: 'begin', path });
    let plaintextBytes = 0;
    let pending: string[] = [];
    let pendingChars = 0;
    const send = async (): Promise<void> => {
      if (pending.length === 0) return;
      const bytes = Buffer.from(pending.join(''), 'utf8');
      pending = [];
      pendingChars = 0;
      hmac.update(bytes);
      plaintextBytes += bytes.length;
      while (this.inFlight >= MAX_CHUNKS_IN_FLIGHT) {
        await new Promise<void>((resolve) => this.waiters.push(resolve));
        this.throwIfFailed();
      }
      this.inFlight += 1;
      // A copy that owns its memory, so the transfer detaches nothing shared (Buffer pools).
      const owned = new Uint8Array(bytes).buffer;
      this.worker.postMessage({ type: 'chunk', data: owned }, [owned]);
    };
    try {
      for await (const text of source) {
        pending.push(text);
        pendingChars += text.length;
        if (pendingChars >= CHUNK_BYTES) await send();
        this.throwIfFailed();
      }
      await send();
      this.worker.postMessage({ type: 'end' });
      const bytes = await Promise.race([done, this.failed()]);
      return { bytes, plaintextBytes, fingerprint: hmac.digest('hex') };
    } catch (error) {
      await unlink(path).catch(() => undefined);
      if (error instanceof CryptoError) throw error;
      throw new CryptoError(`encrypting ${path} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }

  private handle(message: WorkerMessage): void {
    switch (message.type) {
      case 'ack':
        this.inFlight -= 1;
        this.waiters.shift()?.();
        break;
      case 'done':
        this.onDone?.(message.bytes);
        break;
      case 'error':
        this.fail(new Error(message.message));
        break;
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiters.splice(0)) waiter();
    this.rejectFailed?.(error);
  }

  private rejectFailed: ((error: Error) => void) | undefined;

  private failed(): Promise<never> {
    return new Promise<never>((_, reject) => {
      if (this.failure !== undefined) reject(this.failure);
      this.rejectFailed = reject;
    });
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined)
      throw new CryptoError(`encryption failed: ${this.failure.message}`, { cause: this.failure });
  }
}
