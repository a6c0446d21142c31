/**
 * `snapshot -e DIR`: the rows of ephemeral tables, which a snapshot never saves, written to a
 * directory of the operator's choosing (the original's upgrade tool did this so that
 * in-flight state survives an upgrade). Same format as the git files: one loadable `.sql`
 * file per table. Files go in place only when the whole snapshot succeeded.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { renameDurably, temporaryPathFor } from '../support/atomic-write.js';

export class EphemeralCopy {
  readonly dir: string;
  private readonly written: { temporary: string; final: string }[] = [];

  private constructor(dir: string) {
    this.dir = dir;
  }

  static async begin(dir: string): Promise<EphemeralCopy> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return new EphemeralCopy(dir);
  }

  /** Writes `file` from `chunks` under a temporary name, and flushes it to disk. */
  async writeTable(file: string, chunks: AsyncIterable<string>): Promise<void> {
    const final = join(this.dir, file);
    const temporary = temporaryPathFor(final);
    this.written.push({ temporary, final });
    await pipeline(
      Readable.from(chunks),
      createWriteStream(temporary, { mode: 0o600, flags: 'wx' }),
    );
    const handle = await open(temporary, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** Puts every file in place; returns their paths. */
  async finish(): Promise<string[]> {
    for (const { temporary, final } of this.written) await renameDurably(temporary, final);
    const files = this.written.map((entry) => entry.final);
    this.written.length = 0;
    return files;
  }

  /** Removes what a failed run wrote. */
  async abort(): Promise<void> {
    for (const { temporary } of this.written) await unlink(temporary).catch(() => undefined);
    this.written.length = 0;
  }
}
