/**
 * Compression of dumps: gzip through node:zlib, in blocks compressed in parallel on libuv's
 * thread pool (as pigz does; the members of a gzip file may simply follow each other); zstd
 * through node:zlib where the runtime has it (Node 22.15+/23.8+), else through the `zstd`
 * program (Debian package `zstd`), run without a shell, reading stdin and writing stdout.
 * The program is multi-threaded and runs beside Node on another core, so it costs the dump
 * little time.
 */
import { spawn, spawnSync } from 'node:child_process';
import { Duplex, Readable, Transform, type TransformCallback } from 'node:stream';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { UsageError } from '../errors.js';

export const COMPRESSIONS = ['zstd', 'gzip', 'none'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/** File name extension of each compression (after `.sql`). */
export const COMPRESSION_EXTENSION: Readonly<Record<Compression, string>> = {
  zstd: '.zst',
  gzip: '.gz',
  none: '',
};

/** zstd level: 3 is zstd's default, about as small as gzip -6 at many times the speed. */
const ZSTD_LEVEL = 3;
/** gzip level: 1, because gzip -6 (about 40 MB/s) would be slower than reading the database. */
const GZIP_LEVEL = 1;
/** Input of one gzip member: large enough that the members' headers and lost context cost nothing. */
const GZIP_BLOCK_BYTES = 1024 * 1024;
const gzipBlock = promisify(zlib.gzip);

interface ZstdZlib {
  createZstdCompress?: (options?: object) => Duplex;
  createZstdDecompress?: (options?: object) => Duplex;
}
const zstdZlib = zlib as unknown as ZstdZlib;

let zstdProgram: boolean | undefined;

/** True when zstd can be used here (node:zlib or the `zstd` program). */
export function isZstdAvailable(): boolean {
  if (zstdZlib.createZstdCompress !== undefined) return true;
  zstdProgram ??= spawnSync('zstd', ['--version'], { stdio: 'ignore' }).status === 0;
  return zstdProgram;
}

/** The default compression: zstd when available, else gzip. */
export function defaultCompression(): Compression {
  return isZstdAvailable() ? 'zstd' : 'gzip';
}

/** The compression a file name says, by its extension before any `.age`. */
export function compressionOfName(name: string): Compression {
  const base = name.replace(/\.age$/, '');
  if (base.endsWith('.zst')) return 'zstd';
  if (base.endsWith('.gz')) return 'gzip';
  return 'none';
}

/** A stream that compresses with `compression` (undefined for none). */
export function createCompressor(compression: Compression, threads = 2): Duplex | undefined {
  switch (compression) {
    case 'none':
      return undefined;
    case 'gzip':
      return new ParallelGzip(Math.max(1, threads));
    case 'zstd':
      if (zstdZlib.createZstdCompress !== undefined) return zstdZlib.createZstdCompress();
      return programStream(['-q', '-c', `-${String(ZSTD_LEVEL)}`, `-T${String(threads)}`]);
  }
}

/** A stream that decompresses `compression` (undefined for none). */
export function createDecompressor(compression: Compression): Duplex | undefined {
  switch (compression) {
    case 'none':
      return undefined;
    case 'gzip':
      return zlib.createGunzip();
    case 'zstd':
      if (zstdZlib.createZstdDecompress !== undefined) return zstdZlib.createZstdDecompress();
      return programStream(['-q', '-d', '-c']);
  }
}

/** The `zstd` program as a Duplex: stdin in, stdout out; a failure exit is a stream error. */
function programStream(args: readonly string[]): Duplex {
  if (!isZstdAvailable()) {
    throw new UsageError('zstd compression needs the zstd program', {
      hint: 'Install it (apt-get install zstd), or use --compress gzip.',
    });
  }
  const child = spawn('zstd', [...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr = (stderr + text).slice(-2000);
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `zstd failed (${code === null ? `killed by ${String(signal)}` : `exit ${String(code)}`}): ${stderr.trim()}`,
          ),
        );
    });
  });
  // The output ends only once zstd has exited well: a failure is never taken for the end.
  async function* output(): AsyncIterable<Buffer> {
    for await (const chunk of child.stdout) yield chunk as Buffer;
    await exited;
  }
  const duplex = Duplex.from({ writable: child.stdin, readable: Readable.from(output()) });
  exited.catch((error: unknown) => duplex.destroy(error as Error));
  duplex.on('close', () => {
    if (child.exitCode === null) child.kill();
  });
  return duplex;
}

/**
 * gzip in blocks of {@link GZIP_BLOCK_BYTES}, each compressed as a gzip member of its own on
 * the thread pool, at most `parallel` at a time, written in order. Every gzip reader (gzip
 * -d, zcat, node:zlib) reads the members one after the other as one stream.
 */
class ParallelGzip extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly inFlight: Promise<Buffer>[] = [];
  private readonly parallel: number;

  constructor(parallel: number) {
    super();
    this.parallel = parallel;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < GZIP_BLOCK_BYTES) {
      callback();
      return;
    }
    this.startBlock();
    this.drain(this.parallel - 1).then(() => {
      callback();
    }, callback);
  }

  override _flush(callback: TransformCallback): void {
    if (this.pendingBytes > 0) this.startBlock();
    this.drain(0).then(() => {
      callback();
    }, callback);
  }

  private startBlock(): void {
    const block = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    if (block === undefined) return;
    const compressed = gzipBlock(block, { level: GZIP_LEVEL });
    // Handled when its turn comes in drain(); this keeps an early failure from going unhandled.
    compressed.catch(() => undefined);
    this.inFlight.push(compressed);
  }

  /** Pushes finished blocks, in order, until at most `left` are still being compressed. */
  private async drain(left: number): Promise<void> {
    while (this.inFlight.length > left) {
      const next = this.inFlight.shift();
      if (next !== undefined) this.push(await next);
    }
  }
}
