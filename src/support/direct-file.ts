/**
 * A new file written with O_DIRECT: the bytes are copied into a few aligned blocks, and each
 * full block goes to the device without passing through the page cache. Why: a dump is
 * gigabytes that nobody reads back soon. Written the ordinary way, the kernel copies every
 * byte into new page-cache pages and later reclaims them: on a 2-core VM, 2.8 CPU seconds for
 * a 2 GB dump, taken from the database server that shares the machine. O_DIRECT wrote the
 * same 2 GB for 0.25 s of CPU, and pushes no other file out of the page cache.
 *
 * Where O_DIRECT is refused (tmpfs, some network file systems) or a direct write fails,
 * the file is written through the page cache instead, at the same offsets, so nothing is
 * lost. Imports nothing of this project.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

/** The part of the WebAssembly global used here (its types come with the DOM library, not with Node's). */
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number; maximum: number }) => {
    readonly buffer: ArrayBuffer;
  };
};

/** Bytes in one aligned block: one write to the device. */
const BLOCK_BYTES = 1024 * 1024;
/** Blocks: one being filled while the others are written. */
const BLOCK_COUNT = 4;
/** Offsets and lengths of direct writes are multiples of this (the largest common sector size). */
const ALIGNMENT = 4096;
/** WebAssembly memory comes in pages of this size, page-aligned in the address space. */
const WASM_PAGE_BYTES = 65536;

export interface DirectFileOptions {
  /** Mode of the new file; default 0o600. */
  readonly mode?: number;
  /** Set false to write through the page cache (tests compare both). Default true. */
  readonly direct?: boolean;
  /**
   * For tests: moves the blocks this many bytes off their alignment, so that every direct
   * write fails and takes the fallback. Default 0.
   */
  readonly blockOffset?: number;
}

interface DirectState {
  readonly handle: FileHandle;
  readonly blocks: Buffer[];
  /** Whether `blocks` go back to {@link spareBlockSets} when the file is done with them. */
  readonly pooled: boolean;
  /** The write of each block still running, if any. */
  readonly pending: (Promise<void> | undefined)[];
  /** Every write still running, the last block's included: the blocks are free when none is. */
  readonly running: Set<Promise<void>>;
  /** Index of the block being filled. */
  current: number;
  /** Bytes in the block being filled. */
  filled: number;
}

export class DirectFile {
  /** The file opened the ordinary way: the buffered fallback, fsync, truncate. */
  private readonly handle: FileHandle;
  private direct: DirectState | undefined;
  /** File offset of the next byte: of the block being filled when writing direct. */
  private position = 0;
  /** Whether every byte so far went to the device directly (tests and logs). */
  private allDirect: boolean;

  private constructor(handle: FileHandle, direct: DirectState | undefined) {
    this.handle = handle;
    this.direct = direct;
    this.allDirect = direct !== undefined;
  }

  /**
   * Creates `path` (it must not exist) and opens it for writing. The file is created with
   * an ordinary exclusive open first: opening with O_DIRECT and O_CREAT on a file system
   * that refuses O_DIRECT fails only after creating the file.
   */
  static async create(path: string, options: DirectFileOptions = {}): Promise<DirectFile> {
    const handle = await open(path, 'wx', options.mode ?? 0o600);
    const direct =
      options.direct === false ? undefined : await openDirect(path, options.blockOffset ?? 0);
    return new DirectFile(handle, direct);
  }

  /** True when no byte took the buffered fallback. */
  get wroteDirect(): boolean {
    return this.allDirect;
  }

  /**
   * Appends `chunk`; resolves once all of it was copied (the caller may reuse it then) and
   * a block is free for more. One append at a time: the next waits for this one.
   */
  async append(chunk: Uint8Array): Promise<void> {
    const direct = this.direct;
    if (direct === undefined) {
      await writeAll(this.handle, chunk, chunk.length, this.position);
      this.position += chunk.length;
      return;
    }
    let from = 0;
    while (from < chunk.length) {
      const block = direct.blocks[direct.current] as Buffer;
      const copied = Math.min(chunk.length - from, BLOCK_BYTES - direct.filled);
      block.set(chunk.subarray(from, from + copied), direct.filled);
      from += copied;
      direct.filled += copied;
      if (direct.filled === BLOCK_BYTES) {
        const write = this.writeBlock(direct, block, BLOCK_BYTES, BLOCK_BYTES);
        // Handled here so a failure is not an unhandled rejection before its turn to be awaited.
        write.catch(() => undefined);
        direct.pending[direct.current] = write;
        this.position += BLOCK_BYTES;
        direct.current = (direct.current + 1) % BLOCK_COUNT;
        direct.filled = 0;
        // The next block is reused only once its previous write is done: this is the back-pressure.
        await direct.pending[direct.current];
        direct.pending[direct.current] = undefined;
        // Closed meanwhile (an abort): the blocks may be another file's now.
        if (this.direct !== direct) throw new Error('the file was closed while being written');
      }
    }
  }

  /** Writes what is left (the last, partial block) and cuts the padding off; the file stays open. */
  async end(): Promise<void> {
    const direct = this.direct;
    if (direct === undefined) return;
    for (let index = 0; index < BLOCK_COUNT; index += 1) {
      await direct.pending[index];
      direct.pending[index] = undefined;
    }
    if (this.direct !== direct) throw new Error('the file was closed while being written');
    if (direct.filled > 0) {
      const block = direct.blocks[direct.current] as Buffer;
      const aligned = Math.ceil(direct.filled / ALIGNMENT) * ALIGNMENT;
      block.fill(0, direct.filled, aligned);
      await this.writeBlock(direct, block, direct.filled, aligned);
      if (this.direct !== direct) throw new Error('the file was closed while being written');
      this.position += direct.filled;
      // The padding of the last block went to the file too; the file ends at the last real byte.
      if (aligned !== direct.filled) await this.handle.truncate(this.position);
      direct.filled = 0;
    }
    this.direct = undefined;
    releaseBlocks(direct);
    await direct.handle.close();
  }

  /** fdatasync of the file (for flushing in the background). */
  async datasync(): Promise<void> {
    await this.handle.datasync();
  }

  /** fsync of the file; call after {@link end}. */
  async sync(): Promise<void> {
    await this.handle.sync();
  }

  /** Closes the file, waiting for the writes still running. Never throws. */
  async close(): Promise<void> {
    const direct = this.direct;
    this.direct = undefined;
    if (direct !== undefined) {
      await Promise.all([...direct.running].map(async (write) => write.catch(() => undefined)));
      releaseBlocks(direct);
      await direct.handle.close().catch(() => undefined);
    }
    await this.handle.close().catch(() => undefined);
  }

  /** This file as the end of a stream pipeline: appends each chunk, and {@link end}s it at the end. */
  writable(): Writable {
    return new Writable({
      highWaterMark: BLOCK_BYTES,
      write: (chunk: Buffer, _encoding, callback) => {
        this.append(chunk).then(() => {
          callback();
        }, callback);
      },
      final: (callback) => {
        this.end().then(() => {
          callback();
        }, callback);
      },
    });
  }

  /**
   * Writes `length` bytes of `block` (`alignedLength` of them, padded, when direct) at the
   * current position. A failed direct write is done again through the page cache.
   */
  private async writeBlock(
    direct: DirectState,
    block: Buffer,
    length: number,
    alignedLength: number,
  ): Promise<void> {
    const position = this.position;
    const write = (async () => {
      try {
        await writeAll(direct.handle, block, alignedLength, position);
      } catch {
        this.allDirect = false;
        await writeAll(this.handle, block, length, position);
      }
    })();
    direct.running.add(write);
    try {
      await write;
    } finally {
      direct.running.delete(write);
    }
  }
}

/**
 * Block sets of finished files, for the next ones: making one maps and zero-fills 4 MiB and
 * reserves address space, which a directory dump of many small tables would do per table.
 */
const spareBlockSets: Buffer[][] = [];
/** More files than this are rarely written at once (one per dump thread). */
const MAX_SPARE_BLOCK_SETS = 8;

function releaseBlocks(direct: DirectState): void {
  if (direct.pooled && spareBlockSets.length < MAX_SPARE_BLOCK_SETS)
    spareBlockSets.push(direct.blocks);
}

/** Aligned blocks, or undefined where they cannot be had. */
function allocateBlocks(blockOffset: number): Buffer[] | undefined {
  try {
    // The only page-aligned memory JavaScript can get: a WebAssembly memory is mapped by itself.
    const pages = Math.ceil((BLOCK_BYTES * BLOCK_COUNT + blockOffset) / WASM_PAGE_BYTES);
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    return Array.from({ length: BLOCK_COUNT }, (_, index) =>
      Buffer.from(memory.buffer, index * BLOCK_BYTES + blockOffset, BLOCK_BYTES),
    );
  } catch {
    return undefined;
  }
}

/** Opens `path` for O_DIRECT writes with aligned blocks, or undefined where that is not possible. */
async function openDirect(path: string, blockOffset: number): Promise<DirectState | undefined> {
  // node:fs has O_DIRECT only where the platform has it (Linux), undefined elsewhere.
  const flag = (constants as { O_DIRECT?: number }).O_DIRECT;
  if (flag === undefined) return undefined;
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_WRONLY | flag);
  } catch {
    return undefined;
  }
  // Misaligned blocks (a test's) are never pooled.
  const pooled = blockOffset === 0;
  const blocks = (pooled ? spareBlockSets.pop() : undefined) ?? allocateBlocks(blockOffset);
  if (blocks === undefined) {
    await handle.close().catch(() => undefined);
    return undefined;
  }
  return {
    handle,
    blocks,
    pooled,
    pending: Array<undefined>(BLOCK_COUNT).fill(undefined),
    running: new Set(),
    current: 0,
    filled: 0,
  };
}

/** pwrite until the first `length` bytes of `buffer` are written (a write may take fewer). */
async function writeAll(
  handle: FileHandle,
  buffer: Uint8Array,
  length: number,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await handle.write(buffer, done, length - done, position + done);
    if (bytesWritten === 0) throw new Error('write wrote nothing');
    done += bytesWritten;
  }
}
