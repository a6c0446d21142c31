/**
 * One output of a dump: SQL bytes in; compressed, then encrypted, then written to a new
 * file (mode 0600, fsynced) or to a stream such as stdout. Plaintext never reaches the disk
 * when encrypting. Writes may come from several workers; each write lands whole.
 */
import { createHash, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { PassThrough, Transform, Writable, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createEncryptStream } from '../crypto/encrypt-stream.js';
import { createCompressor, type Compression } from './compression.js';

export interface DumpOutputOptions {
  readonly compression: Compression;
  /** age recipients; empty = not encrypted. */
  readonly recipients: readonly string[];
  /** Threads the compressor may use. */
  readonly threads?: number | undefined;
  /** Compute the SHA-256 of the bytes written (for a manifest). */
  readonly checksum?: boolean | undefined;
  /** Flush a file to disk in the background every this many bytes; default {@link SYNC_EVERY_BYTES}. */
  readonly syncEveryBytes?: number | undefined;
}

export type DumpOutputTarget =
  { readonly path: string } | { readonly stream: NodeJS.WritableStream };

export interface DumpOutputResult {
  /** Bytes written (after compression and encryption). */
  readonly bytes: number;
  /** SQL bytes before compression. */
  readonly plaintextBytes: number;
  /** SHA-256 of the bytes written, hex; empty unless asked for. */
  readonly sha256: string;
}

/** High-water mark of the head of the pipeline: how much SQL may wait for the compressor. */
const BUFFERED_BYTES = 4 * 1024 * 1024;
/**
 * A file is flushed to disk in the background each time this many more bytes were written,
 * so that the fsync before the rename has little left to do: without it the kernel holds a
 * 2 GB dump in the page cache and the final fsync writes it all while the dump waits.
 */
const SYNC_EVERY_BYTES = 128 * 1024 * 1024;

export class DumpOutput {
  private readonly head: PassThrough;
  private readonly done: Promise<void>;
  private readonly path: string | undefined;
  private readonly state: { failure: Error | undefined; bytes: number; plaintextBytes: number } = {
    failure: undefined,
    bytes: 0,
    plaintextBytes: 0,
  };
  private readonly hash: Hash | undefined;
  private readonly syncEveryBytes: number;
  /** The background flushing of a file target (see {@link SYNC_EVERY_BYTES}). */
  private readonly flusher: {
    /** Opened at the first flush; undefined inside when it could not be opened. */
    handle: Promise<FileHandle | undefined> | undefined;
    running: Promise<void> | undefined;
    flushedAt: number;
  } = { handle: undefined, running: undefined, flushedAt: 0 };

  private constructor(
    stages: (Duplex | Transform)[],
    sink: Writable,
    path: string | undefined,
    checksum: boolean,
    syncEveryBytes: number,
  ) {
    this.path = path;
    this.syncEveryBytes = syncEveryBytes;
    this.hash = checksum ? createHash('sha256') : undefined;
    this.head = new PassThrough({ highWaterMark: BUFFERED_BYTES });
    const counter = new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        this.hash?.update(chunk);
        this.state.bytes += chunk.length;
        this.flushInBackground();
        callback(null, chunk);
      },
    });
    this.done = pipeline([this.head, ...stages, counter, sink]);
    this.done.catch((error: unknown) => {
      this.state.failure ??= error instanceof Error ? error : new Error(String(error));
    });
  }

  /** Opens the pipeline; a file target must not exist yet. */
  static async open(target: DumpOutputTarget, options: DumpOutputOptions): Promise<DumpOutput> {
    const stages: (Duplex | Transform)[] = [];
    const compressor = createCompressor(options.compression, options.threads);
    if (compressor !== undefined) stages.push(compressor);
    if (options.recipients.length > 0) stages.push(await createEncryptStream(options.recipients));
    if ('path' in target) {
      const sink = createWriteStream(target.path, { flags: 'wx', mode: 0o600 });
      return new DumpOutput(
        stages,
        sink,
        target.path,
        options.checksum === true,
        options.syncEveryBytes ?? SYNC_EVERY_BYTES,
      );
    }
    const stream = target.stream;
    // A Writable that never ends the stream it writes to (stdout stays open).
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (stream.write(chunk)) callback();
        else stream.once('drain', () => callback());
      },
    });
    return new DumpOutput(stages, sink, undefined, options.checksum === true, 0);
  }

  /** Appends `bytes`; resolves when the pipeline can take more. Throws if the pipeline failed. */
  async write(bytes: Buffer | string): Promise<void> {
    if (this.state.failure !== undefined) throw this.state.failure;
    const buffer = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
    this.state.plaintextBytes += buffer.length;
    if (this.head.write(buffer)) return;
    await new Promise<void>((resolve, reject) => {
      const onDrain = (): void => {
        resolve();
      };
      this.head.once('drain', onDrain);
      this.done.then(
        () => {
          this.head.off('drain', onDrain);
          resolve();
        },
        (error: unknown) => {
          this.head.off('drain', onDrain);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  /** Ends the output, waits for every stage, fsyncs a file, and returns its size and checksum. */
  async finish(): Promise<DumpOutputResult> {
    this.head.end();
    await this.done;
    if (this.path !== undefined) {
      await this.flusher.running;
      const handle = (await this.flusher.handle) ?? (await open(this.path, 'r+'));
      this.flusher.handle = undefined;
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    return {
      bytes: this.state.bytes,
      plaintextBytes: this.state.plaintextBytes,
      sha256: this.hash?.digest('hex') ?? '',
    };
  }

  /**
   * Starts an fdatasync of the file when `syncEveryBytes` more were written since the
   * last one and none is running. Its failure is not reported here: the final fsync in
   * {@link finish} reports what matters.
   */
  private flushInBackground(): void {
    const flusher = this.flusher;
    if (this.path === undefined || flusher.running !== undefined) return;
    if (this.state.bytes - flusher.flushedAt < this.syncEveryBytes) return;
    flusher.flushedAt = this.state.bytes;
    flusher.handle ??= open(this.path, 'r+').catch(() => undefined);
    const handle = flusher.handle;
    flusher.running = handle
      .then(async (opened) => opened?.datasync())
      .catch(() => undefined)
      .finally(() => {
        flusher.running = undefined;
      });
  }

  /** Stops the pipeline and removes a partial file. Never throws. */
  async abort(): Promise<void> {
    this.head.destroy(new Error('dump aborted'));
    await this.done.catch(() => undefined);
    await this.flusher.running;
    const handle = this.flusher.handle;
    this.flusher.handle = undefined;
    await (await handle)?.close().catch(() => undefined);
    if (this.path !== undefined) await unlink(this.path).catch(() => undefined);
  }
}
