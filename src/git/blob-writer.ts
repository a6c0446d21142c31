/**
 * Git objects written ahead of a commit, in one pack, by one `git fast-import` process that
 * runs beside the snapshot's read (issue 17). `git add` of a new file hashes it, deflates it
 * and writes it: for 1,000 files of a fresh snapshot that was ~0.5 s of CPU after the last
 * table, most of it deflate. Fed each changed file as soon as it is staged, fast-import does
 * that work on the other core while the next tables are read; `git add` then only hashes the
 * files and finds their objects already there.
 *
 * Only blobs: no commit, no ref, no index change. A blob of a run that fails is an
 * unreferenced object, which `git gc` prunes like any other. Without `--done`, the end of its
 * input (our process killed) ends fast-import normally, with the objects received so far:
 * no crash report is left in the repository.
 *
 * Must not import the engine, the config or the CLI.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Bytes waiting in the pipe to fast-import past which a blob is not queued (left to `git
 * add`): a fast-import slower than the read (a busy machine) must not make the snapshot hold
 * every changed file in memory.
 */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

/**
 * Blobs held (their buffers only, not copied) before fast-import is started: a run that
 * changes fewer files starts no process, and `git add` writes their objects as it always did
 * (fast-import would have written fewer than its unpackLimit, 100 by default, as loose
 * objects anyway, through one more process). Past this many bytes held, it starts at once.
 */
const START_AFTER_BLOBS = 100;
const START_AFTER_BYTES = 8 * 1024 * 1024;

export class BlobWriter {
  private readonly root: string;
  /** Started once enough blobs came: an unchanged re-run starts no process. */
  private child: ChildProcess | undefined;
  private exit: Promise<{ code: number | null; stderr: string; error?: Error }> | undefined;
  private held: (readonly Buffer[])[] = [];
  private heldBytes = 0;
  private failed = false;
  private ended = false;
  private count = 0;

  constructor(root: string) {
    this.root = root;
  }

  /** Blobs given to fast-import so far; 0 once it failed. */
  get added(): number {
    return this.failed ? 0 : this.count;
  }

  /**
   * Queues one blob, the concatenation of `content` (the buffers must not change); returns
   * false when it will not be written (the writer failed or ended, or too much is waiting for
   * fast-import).
   */
  add(content: readonly Buffer[]): boolean {
    if (this.failed || this.ended) return false;
    if (this.child === undefined) {
      // A copy of the list: the caller may empty its own once the file is written.
      this.held.push([...content]);
      for (const piece of content) this.heldBytes += piece.length;
      if (this.held.length < START_AFTER_BLOBS && this.heldBytes < START_AFTER_BYTES) return true;
      const held = this.held;
      this.held = [];
      this.heldBytes = 0;
      this.start();
      for (const blob of held) this.send(blob);
      return !this.failed;
    }
    const stdin = this.child.stdin;
    if (stdin === null || stdin.writableLength > MAX_QUEUED_BYTES) return false;
    this.send(content);
    return true;
  }

  private send(content: readonly Buffer[]): void {
    const stdin = this.child?.stdin;
    if (stdin === null || stdin === undefined || this.failed) return;
    let size = 0;
    for (const piece of content) size += piece.length;
    stdin.write(`blob\ndata ${String(size)}\n`);
    for (const piece of content) stdin.write(piece);
    stdin.write('\n');
    this.count += 1;
  }

  /**
   * Ends the input and waits until fast-import has written its pack and index. Never throws:
   * undefined when every blob queued is in the repository (or none was), else what went
   * wrong (`git add` then writes whatever is missing, as it would have without this writer).
   */
  async finish(): Promise<string | undefined> {
    if (this.child === undefined || this.exit === undefined) {
      // Too few to start fast-import for: `git add` writes them.
      this.ended = true;
      this.held = [];
      return undefined;
    }
    if (!this.ended) {
      this.ended = true;
      this.child.stdin?.end();
    }
    const { code, stderr, error } = await this.exit;
    if (error !== undefined) return `git fast-import could not run: ${error.message}`;
    if (code !== 0)
      return `git fast-import exited ${String(code)}: ${stderr.trim().split('\n')[0] ?? ''}`;
    return undefined;
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
  }
}
