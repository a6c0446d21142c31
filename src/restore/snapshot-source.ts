/**
 * Where a restore reads a host directory's files from: the working tree, a git revision
 * (straight from the object store, without touching the work tree), or a directory written
 * by the original tool.
 */
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Repository } from '../git/repository.js';

export interface SnapshotSource {
  /** For messages: `working tree /x/host` or `revision abc123 of /x/host`. */
  readonly description: string;
  /** File names of the host directory, sorted. */
  listFiles(): Promise<string[]>;
  /** A file's bytes, streamed. */
  readFile(name: string): AsyncIterable<Buffer>;
}

/** The files in `directory` as they are on disk. */
export function directorySource(
  directory: string,
  description = `directory ${directory}`,
): SnapshotSource {
  return {
    description,
    async listFiles() {
      const entries = await readdir(directory, { withFileTypes: true });
      return entries
        .filter((entry) => entry.isFile())
        .map((entry) => entry.name)
        .sort();
    },
    readFile(name) {
      // 1 MiB reads: a restore's table files are large; 64 KiB ones cost 16 times the calls.
      return createReadStream(join(directory, name), {
        highWaterMark: 1 << 20,
      }) as AsyncIterable<Buffer>;
    },
  };
}

/** The files of `hostDir` at `revision` of `repository`. */
export function gitRevisionSource(
  repository: Repository,
  revision: string,
  hostDir: string,
): SnapshotSource {
  return {
    description: `revision ${revision} of ${hostDir}`,
    listFiles: () => repository.listFiles(revision, hostDir),
    readFile: (name) => repository.readFileAt(revision, join(hostDir, name)),
  };
}

/** Collects a whole (small) file as text. */
export async function readText(source: SnapshotSource, name: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of source.readFile(name)) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
