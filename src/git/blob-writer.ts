/**
 * Git objects written ahead of a commit, in one pack, by one `git fast-import` process that
 * runs beside the snapshot's read (issue 17). `git add` of a new file hashes it, deflates it
 * and writes it: for 1,000 files of a fresh snapshot that was ~0.5 s of CPU after the last
 * table, most of it deflate. Fed each changed file as soon as it is staged, fast-import does
 * that work on the other core while the next tables are read; the files it could not take
 * then (too much waiting in its pipe, a file that spilled to disk) follow from the disk
 * before the commit, and `git add` only hashes the files and finds their objects there.
 *
 * Only blobs: no commit, no ref, no index change. A blob of a run that fails is an
 * unreferenced object, which `git gc` prunes like any other. Without `--done`, the end of its
 * input (our process killed) ends fast-import normally, with the objects received so far:
 * no crash report is left in the repository.
 *
 * Must not import the engine, the config or the CLI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';

/**
 * Bytes waiting in the pipe to fast-import past which a file staged during the read is not
 * queued (it is sent from the disk before the commit): a fast-import slower than the read (a
 * busy machine) must not make the snapshot hold every changed file in memory.
 */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

/**
 * Fewer changed files than this start no process: `git add` writes their objects as it
 * always did (fast-import would have written fewer than its unpackLimit, 100 by default, as
 * loose objects anyway, through one more process). Until then, the files staged are held
 * (their buffers only, not copied), at most this many bytes of them.
 */
const START_AFTER_FILES = 100;
const MAX_HELD_BYTES = 8 * 1024 * 1024;

interface Exit {
  readonly code: number | null;
  readonly stderr: string;
  readonly error?: Error;
}

export class BlobWriter {
  private readonly root: string;
  private child: ChildProcess | undefined;
  private stdin: Writable | undefined;
  private exit: Promise<Exit> | undefined;
  private held: { key: string; content: readonly Buffer[] }[] = [];
  private heldBytes = 0;
  /** Keys of the files given to fast-import. */
  private readonly sent = new Set<string>();
  private failed = false;
  private ended = false;
  private readFromDisk = 0;

  constructor(root: string) {
    this.root = root;
  }

  /** Of {@link added}, the files {@link complete} read from the disk. */
  get fromDisk(): number {
    return this.failed ? 0 : this.readFromDisk;
  }

  /** Files given to fast-import; 0 when it failed. */
  get added(): number {
    return this.failed ? 0 : this.sent.size;
  }

  /**
   * Offers the content of file `key` (relative to the directory {@link complete} is given),
   * the concatenation of `content` (its buffers must not change), while the read goes on.
   * Taken, held until enough files came, or left for {@link complete}; never waits.
   */
  offer(key: string, content: readonly Buffer[]): void {
    if (this.failed || this.ended || this.sent.has(key)) return;
    if (this.stdin === undefined) {
      let bytes = 0;
      for (const piece of content) bytes += piece.length;
      if (this.heldBytes + bytes > MAX_HELD_BYTES) return;
      // A copy of the list: the caller may empty its own once the file is written.
      this.held.push({ key, content: [...content] });
      this.heldBytes += bytes;
      if (this.held.length >= START_AFTER_FILES) this.start();
      return;
    }
    if (this.stdin.writableLength > MAX_QUEUED_BYTES) return;
    this.send(key, content);
  }

  /**
   * Gives fast-import every file of `keys` (in `directory`) it has not had yet, read from the
   * disk (waiting for its pipe to drain), then ends its input and waits until it has written
   * its pack and index. Fewer than 100 files: nothing is written, no process is left running.
   * Never throws: undefined when every file's object is in the repository (or none was
   * written), else what went wrong (`git add` then writes whatever is missing, as it would
   * have without this writer).
   */
  async complete(directory: string, keys: readonly string[]): Promise<string | undefined> {
    if (this.stdin === undefined && keys.length >= START_AFTER_FILES && !this.ended) this.start();
    if (this.stdin === undefined) {
      this.end();
      return undefined;
    }
    try {
      for (const key of keys) {
        if (this.failed) break;
        if (this.sent.has(key)) continue;
        const path = join(directory, key);
        await this.write(`blob\ndata ${String((await stat(path)).size)}\n`);
        for await (const chunk of createReadStream(path)) await this.write(chunk as Buffer);
        await this.write('\n');
        this.sent.add(key);
        this.readFromDisk += 1;
      }
    } catch (error) {
      // The stream to fast-import is cut mid-object: it must not take it as a blob.
      this.failed = true;
      this.child?.kill();
      await this.exit;
      return `could not give git fast-import ${directory}'s files: ${(error as Error).message}`;
    }
    return this.finish();
  }

  /**
   * Ends fast-import's input and waits for it, without giving it more (a run that failed;
   * idempotent). Never throws: what went wrong, if anything.
   */
  async finish(): Promise<string | undefined> {
    this.end();
    if (this.exit === undefined) return undefined;
    const { code, stderr, error } = await this.exit;
    if (error !== undefined) return `git fast-import could not run: ${error.message}`;
    if (code !== 0)
      return `git fast-import exited ${String(code)}: ${stderr.trim().split('\n')[0] ?? ''}`;
    return undefined;
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.held = [];
    this.stdin?.end();
  }

  private send(key: string, content: readonly Buffer[]): void {
    const stdin = this.stdin;
    if (stdin === undefined || this.failed) return;
    let size = 0;
    for (const piece of content) size += piece.length;
    stdin.write(`blob\ndata ${String(size)}\n`);
    for (const piece of content) stdin.write(piece);
    stdin.write('\n');
    this.sent.add(key);
  }

  /** Writes to fast-import, waiting while its pipe is full (or until it exits). */
  private async write(data: string | Buffer): Promise<void> {
    const stdin = this.stdin;
    if (stdin === undefined || this.failed) throw new Error('git fast-import is not running');
    if (!stdin.write(data)) await Promise.race([once(stdin, 'drain'), this.exit]);
  }

  private start(): void {
    // Compression level 1, as `git add` of many files had (bulk check-in): a third less CPU
    // than the default. No deltas (--depth=0), as with bulk check-in: deltas against the
    // previous blob doubled fast-import's CPU; gc finds better ones.
    const child = spawn(
      'git',
      ['-c', 'pack.compression=1', 'fast-import', '--quiet', '--depth=0'],
      {
        cwd: this.root,
        stdio: ['pipe', 'ignore', 'pipe'],
      },
    );
    this.child = child;
    this.stdin = child.stdin;
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    this.exit = new Promise((resolve) => {
      child.on('error', (error) => {
        this.failed = true;
        resolve({ code: null, stderr, error });
      });
      child.on('close', (code) => {
        if (code !== 0) this.failed = true;
        resolve({ code, stderr });
      });
    });
    // A fast-import that exits early fails by its exit code (finish), not EPIPE.
    child.stdin.on('error', () => {
      this.failed = true;
    });
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const { key, content } of held) this.send(key, content);
  }
}
