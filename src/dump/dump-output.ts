/**
 * One output of a dump: SQL bytes in; compressed, then encrypted, then written to a new
 * file (mode 0600, fsynced) or to a stream such as stdout. Plaintext never reaches the disk
 * when encrypting. Writes may come from several workers; each write lands whole.
 */
import { createHash, type Hash } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { PassThrough, Transform, Writable, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DirectFile } from '../support/direct-file.js';
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
  /** Write a file with O_DIRECT where the file system allows it (see DirectFile); default true. */
  readonly direct?: boolean | undefined;
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

/**
 * Resolves when `head` drained, or closed because the pipeline failed (the next write or
 * finish() reports that). Listeners on the stream, removed again: a callback on the
 * pipeline's promise would stay until the end, holding on to whatever its scope held (a
 * megabyte of SQL per wait).
 */
async function untilDrained(head: PassThrough): Promise<void> {
  await new Promise<void>((resolve) => {
    const settle = (): void => {
      head.off('drain', settle);
      head.off('close', settle);
      resolve();
    };
    head.once('drain', settle);
    head.once('close', settle);
  });
}

/**
 * Where the bytes go. A plain file takes them straight (`file`): each write is copied into
 * the file's blocks before it resolves, so the caller may reuse its buffer. With compression,
 * encryption, or a stream target, a stream pipeline (`pipe`) takes them.
 */
type Route =
  | { readonly kind: 'file'; readonly file: DirectFile }
  | {
      readonly kind: 'pipe';
      readonly head: PassThrough;
      readonly done: Promise<void>;
      readonly file: DirectFile | undefined;
    };

export class DumpOutput {
  private readonly route: Route;
  private readonly path: string | undefined;
  private readonly state: { failure: Error | undefined; bytes: number; plaintextBytes: number } = {
    failure: undefined,
    bytes: 0,
    plaintextBytes: 0,
  };
  private readonly hash: Hash | undefined;
  private readonly syncEveryBytes: number;
  /** The last write to a plain file: the next one waits for it, so writes never interleave. */
  private tail: Promise<void> = Promise.resolve();
  /** The background flushing of a file target (see {@link SYNC_EVERY_BYTES}). */
  private readonly flusher: { running: Promise<void> | undefined; flushedAt: number } = {
    running: undefined,
    flushedAt: 0,
  };

  private constructor(
    route: (output: DumpOutput) => Route,
    path: string | undefined,
    checksum: boolean,
    syncEveryBytes: number,
  ) {
    this.path = path;
    this.syncEveryBytes = syncEveryBytes;
    this.hash = checksum ? createHash('sha256') : undefined;
    this.route = route(this);
  }

  /** Opens the output; a file target must not exist yet. */
  static async open(target: DumpOutputTarget, options: DumpOutputOptions): Promise<DumpOutput> {
    const stages: (Duplex | Transform)[] = [];
    const compressor = createCompressor(options.compression, options.threads);
    if (compressor !== undefined) stages.push(compressor);
    if (options.recipients.length > 0) {
      // Loaded on first use: importing age-encryption (and its hashes) costs every dump
      // start-up time otherwise, encrypted or not.
      const { createEncryptStream } = await import('../crypto/encrypt-stream.js');
      stages.push(await createEncryptStream(options.recipients));
    }
    const checksum = options.checksum === true;
    if ('path' in target) {
      const file = await DirectFile.create(target.path, {
        mode: 0o600,
        direct: options.direct ?? true,
      });
      const syncEvery = options.syncEveryBytes ?? SYNC_EVERY_BYTES;
      if (stages.length === 0)
        return new DumpOutput(() => ({ kind: 'file', file }), target.path, checksum, syncEvery);
      return new DumpOutput(
        (output) => output.pipe(stages, file.writable(), file),
        target.path,
        checksum,
        syncEvery,
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
    return new DumpOutput((output) => output.pipe(stages, sink, undefined), undefined, checksum, 0);
  }

  /**
   * Appends `bytes`; resolves when the output can take more. Throws if the output failed.
   * `release`, when given, is called once the output no longer needs `bytes` (their buffer
   * may then be reused): at once for a plain file, never when a pipeline keeps them.
   */
  async write(bytes: Buffer | string, release?: () => void): Promise<void> {
    if (this.state.failure !== undefined) throw this.state.failure;
    const buffer = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
    this.state.plaintextBytes += buffer.length;
    const route = this.route;
    if (route.kind === 'file') {
      const write = this.tail.then(async () => {
        if (this.state.failure !== undefined) throw this.state.failure;
        this.count(buffer);
        await route.file.append(buffer);
        release?.();
      });
      this.tail = write.catch((error: unknown) => {
        this.state.failure ??= error instanceof Error ? error : new Error(String(error));
      });
      await write;
      return;
    }
    if (!route.head.write(buffer)) await untilDrained(route.head);
  }

  /** Ends the output, waits for every stage, fsyncs a file, and returns its size and checksum. */
  async finish(): Promise<DumpOutputResult> {
    const route = this.route;
    if (route.kind === 'file') {
      await this.tail;
      if (this.state.failure !== undefined) throw this.state.failure;
      await route.file.end();
    } else {
      route.head.end();
      await route.done;
    }
    const file = route.file;
    if (file !== undefined) {
      await this.flusher.running;
      try {
        await file.sync();
      } finally {
        await file.close();
      }
    }
    return {
      bytes: this.state.bytes,
      plaintextBytes: this.state.plaintextBytes,
      sha256: this.hash?.digest('hex') ?? '',
    };
  }

  /** Stops the output and removes a partial file. Never throws. */
  async abort(): Promise<void> {
    const route = this.route;
    if (route.kind === 'file') await this.tail;
    else {
      route.head.destroy(new Error('dump aborted'));
      await route.done.catch(() => undefined);
    }
    await this.flusher.running;
    await route.file?.close();
    if (this.path !== undefined) await unlink(this.path).catch(() => undefined);
  }

  /** The pipeline route: head, then the stages, then a counter, then `sink`. */
  private pipe(
    stages: (Duplex | Transform)[],
    sink: Writable,
    file: DirectFile | undefined,
  ): Route {
    const head = new PassThrough({ highWaterMark: BUFFERED_BYTES });
    const counter = new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        this.count(chunk);
        callback(null, chunk);
      },
    });
    const done = pipeline([head, ...stages, counter, sink]);
    done.catch((error: unknown) => {
      this.state.failure ??= error instanceof Error ? error : new Error(String(error));
    });
    return { kind: 'pipe', head, done, file };
  }

  /** Counts (and hashes) bytes on their way to the file or stream. */
  private count(chunk: Buffer): void {
    this.hash?.update(chunk);
    this.state.bytes += chunk.length;
    this.flushInBackground();
  }

  /**
   * Starts an fdatasync of the file when `syncEveryBytes` more were written since the
   * last one and none is running. Its failure is not reported here: the final fsync in
   * {@link finish} reports what matters.
   */
  private flushInBackground(): void {
    const flusher = this.flusher;
    const file = this.route.file;
    if (file === undefined || flusher.running !== undefined) return;
    if (this.state.bytes - flusher.flushedAt < this.syncEveryBytes) return;
    flusher.flushedAt = this.state.bytes;
    flusher.running = file
      .datasync()
      .catch(() => undefined)
      .finally(() => {
        flusher.running = undefined;
      });
  }
}
