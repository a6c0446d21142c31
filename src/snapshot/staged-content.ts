/**
 * Collects a file's new content while it is generated, and tells whether it differs from the
 * file already in place, so that unchanged files are never rewritten. Small contents stay in
 * memory; past {@link SPILL_BYTES} they spill to a staging file, so a large table never sits
 * whole in memory. Nothing here touches the destination.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { renameDurably, writeFileAtomic } from '../support/atomic-write.js';

/** Contents larger than this are written to a staging file as they are generated. */
export const SPILL_BYTES = 4 * 1024 * 1024;
/** Pending text is turned into bytes in pieces of about this size. */
const FLUSH_CHARS = 64 * 1024;

export class StagedContent {
  private readonly stagingDir: string;
  private readonly pending: string[] = [];
  private pendingChars = 0;
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  private readonly hash = createHash('sha256');
  private spillPath: string | undefined;
  private spillHandle: FileHandle | undefined;

  /** `stagingDir` must be on the destination's file system (renamed into place from there). */
  constructor(stagingDir: string) {
    this.stagingDir = stagingDir;
  }

  /** Appends text (UTF-8). */
  async write(text: string): Promise<void> {
    this.pending.push(text);
    this.pendingChars += text.length;
    if (this.pendingChars >= FLUSH_CHARS) await this.flush();
  }

  /** The staging file once the content spilled to disk (flushed by {@link small} or {@link sameAs}). */
  get stagedPath(): string | undefined {
    return this.spillPath;
  }

  get size(): number {
    return this.bytes;
  }

  /** The content in memory, or undefined when it spilled to a file. */
  async small(): Promise<Buffer | undefined> {
    await this.flush();
    return this.spillPath === undefined ? Buffer.concat(this.chunks) : undefined;
  }

  /** True when `path` exists and holds exactly this content. */
  async sameAs(path: string): Promise<boolean> {
    await this.flush();
    let existingSize: number;
    try {
      existingSize = (await stat(path)).size;
    } catch {
      return false;
    }
    if (existingSize !== this.bytes) return false;
    const inMemory = await this.small();
    if (inMemory !== undefined) return inMemory.equals(await readFile(path));
    return (await hashFile(path)) === this.digest();
  }

  /** Puts the content at `path` atomically (rename of a fsynced file), with `mode`. */
  async commitTo(path: string, mode: number): Promise<void> {
    await this.flush();
    if (this.spillHandle === undefined || this.spillPath === undefined) {
      await writeFileAtomic(path, Buffer.concat(this.chunks), { mode });
      return;
    }
    await this.spillHandle.sync();
    await this.spillHandle.chmod(mode);
    await this.spillHandle.close();
    this.spillHandle = undefined;
    await renameDurably(this.spillPath, path);
    this.spillPath = undefined;
  }

  /** Drops any staging file. Safe to call after {@link commitTo}. */
  async discard(): Promise<void> {
    await this.spillHandle?.close().catch(() => undefined);
    this.spillHandle = undefined;
    if (this.spillPath !== undefined) await unlink(this.spillPath).catch(() => undefined);
    this.spillPath = undefined;
    this.chunks.length = 0;
  }

  private digestValue: string | undefined;

  private digest(): string {
    this.digestValue ??= this.hash.digest('hex');
    return this.digestValue;
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const buffer = Buffer.from(this.pending.join(''), 'utf8');
    this.pending.length = 0;
    this.pendingChars = 0;
    this.hash.update(buffer);
    this.bytes += buffer.length;
    if (this.spillHandle === undefined && this.bytes > SPILL_BYTES) {
      this.spillPath = join(this.stagingDir, `${randomBytes(8).toString('hex')}.part`);
      this.spillHandle = await open(this.spillPath, 'wx', 0o600);
      for (const chunk of this.chunks) await this.spillHandle.write(chunk);
      this.chunks.length = 0;
    }
    if (this.spillHandle !== undefined) await this.spillHandle.write(buffer);
    else this.chunks.push(buffer);
  }
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
