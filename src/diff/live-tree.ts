/**
 * The live database as one side of a diff: rendered as a snapshot would render it, in
 * memory (a directory read back held every file in memory all the same); nothing is written.
 */
import type { Categories } from '../config/schema.js';
import type { ConnectionOptions, Engine } from '../engine/engine.js';
import type { Logger } from '../support/logger.js';
import {
  readSnapshot,
  type SnapshotContent,
  type SnapshotSink,
} from '../snapshot/read-snapshot.js';
import { gitBlobId, type SnapshotTree } from './diff-snapshots.js';

export interface LiveTreeOptions {
  readonly database: string;
  readonly categories: Categories;
  /** The schemas to read (PostgreSQL's `database.schemas`); omitted: every user schema. */
  readonly schemas?: readonly string[] | undefined;
  /** The file format to render (the manifest's format number). */
  readonly format: number;
  readonly label: string;
  readonly logger: Logger;
}

/** Reads database `options.database` into a tree of the files a snapshot of it would hold. */
export async function liveTree(
  engine: Engine,
  connection: ConnectionOptions,
  options: LiveTreeOptions,
): Promise<SnapshotTree> {
  const session = await engine.openSession({
    ...connection,
    database: options.database,
    readsOnly: true,
  });
  const files = new MemoryFiles();
  try {
    await readSnapshot(
      engine,
      session,
      {
        database: options.database,
        schemas: options.schemas,
        categories: options.categories,
        strict: false,
        format: options.format,
        localRowsSaved: false,
        logger: options.logger,
      },
      files,
    );
  } finally {
    await session.close();
  }
  const contents = new Map([...files.texts].map(([name, text]) => [name, Buffer.from(text)]));
  return {
    label: options.label,
    ids: new Map([...contents].map(([name, content]) => [name, gitBlobId(content)])),
    read: async (name) => Promise.resolve((contents.get(name) ?? Buffer.alloc(0)).toString('utf8')),
  };
}

class MemoryContent implements SnapshotContent {
  readonly parts: string[] = [];

  async write(text: string | Buffer): Promise<void> {
    this.parts.push(typeof text === 'string' ? text : text.toString('utf8'));
    return Promise.resolve();
  }

  async discard(): Promise<void> {
    this.parts.length = 0;
    return Promise.resolve();
  }
}

/** Each file's text, by name. */
class MemoryFiles implements SnapshotSink<MemoryContent> {
  readonly texts = new Map<string, string>();

  create(): MemoryContent {
    return new MemoryContent();
  }

  async table(table: { readonly file: string }, content: MemoryContent): Promise<void> {
    return this.file(table.file, content);
  }

  async file(file: string, content: MemoryContent): Promise<void> {
    this.texts.set(file, content.parts.join(''));
    return Promise.resolve();
  }
}
