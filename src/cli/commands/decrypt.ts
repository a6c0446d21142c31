/**
 * `schema_backup decrypt`: write the SQL of user-data files to stdout, decompressed (a
 * copy's file as its manifest says; a named file by its name: `.sql.zst.age` is zstd). Every
 * file is first decrypted in full and discarded, so a wrong identity or a damaged file fails
 * before a single byte is written.
 */
import { join } from 'node:path';
import { readIdentityFile } from '../../crypto/recipients.js';
import { compressionOfName, type Compression } from '../../dump/compression.js';
import { UsageError } from '../../errors.js';
import { fetchUserDataCopy, type FetchedItem } from '../../offsite/fetch-from-offsite.js';
import {
  compressionOfEntry,
  findCopy,
  LATEST_LINK,
  readCopyAt,
  type UserDataManifest,
} from '../../snapshot/user-data-copy.js';
import type { Engine } from '../../engine/engine.js';
import { engineFor } from '../engine-for.js';
import { configTableName } from '../table-patterns.js';
import { requireOffsiteStore } from '../ops-config.js';
import { hostNameFor, loadContext, type GlobalArgs } from '../context.js';

export interface DecryptArgs extends GlobalArgs {
  readonly files?: readonly string[] | undefined;
  readonly table?: readonly string[] | undefined;
  readonly copy?: string | undefined;
  readonly identity?: string | undefined;
  readonly fromOffsite?: string | undefined;
}

interface FileToDecrypt {
  readonly path: string;
  readonly compression: Compression;
}

export async function decryptHandler(args: DecryptArgs): Promise<number> {
  let fetched: FetchedItem | undefined;
  try {
    return await decryptFiles(args, (item) => (fetched = item));
  } finally {
    await fetched?.remove();
  }
}

async function decryptFiles(
  args: DecryptArgs,
  onFetched: (item: FetchedItem) => void,
): Promise<number> {
  let files: FileToDecrypt[] = (args.files ?? []).map((path) => ({
    path,
    compression: compressionOfName(path),
  }));
  let identityFile = args.identity;
  if (args.fromOffsite !== undefined && files.length > 0)
    throw new UsageError('--from-offsite takes a copy from the remote: name no files with it');
  if (files.length === 0 || identityFile === undefined) {
    const context = await loadContext(args);
    const { config, logger } = context;
    identityFile ??= config.encryption.identityFile;
    const host = await hostNameFor(config);
    if (args.fromOffsite !== undefined) {
      const store = requireOffsiteStore(config, logger, '--from-offsite');
      const named = args.fromOffsite !== '' ? args.fromOffsite : args.copy;
      const fetched = await fetchUserDataCopy(store, {
        host,
        name: named === LATEST_LINK ? undefined : named,
        logger,
      });
      onFetched(fetched);
      files = filesOfCopy(await readCopyAt(fetched.path), args, await engineFor(config));
    } else if (files.length === 0) {
      if (config.userDataBackupDir === undefined)
        throw new UsageError(
          'user_data_backup_dir is not set in the config: name the .age files to decrypt',
        );
      files = filesOfCopy(
        await findCopy(config.userDataBackupDir, host, args.copy ?? LATEST_LINK),
        args,
        await engineFor(config),
      );
    }
  }
  if (identityFile === undefined) {
    throw new UsageError('no identity to decrypt with', {
      hint: 'Pass --identity PATH or set encryption.identity_file.',
    });
  }
  const identities = await readIdentityFile(identityFile);
  // Loaded here, not at start-up: age-encryption takes a tenth of a second to import.
  const { readUserDataFile, verifyUserDataFile } = await import('../../restore/user-data-input.js');
  for (const file of files) await verifyUserDataFile(file.path, identities, file.compression);
  for (const file of files) {
    for await (const chunk of readUserDataFile(file.path, identities, file.compression)) {
      if (!process.stdout.write(chunk)) await drained(process.stdout);
    }
  }
  return 0;
}

/**
 * The files of `copy` of the tables `--table` names (default all), in table order. A name
 * is the copy's, or one as a category entry gives it (PostgreSQL: `users` is `public.users`).
 */
function filesOfCopy(
  copy: { dir: string; manifest: UserDataManifest },
  args: DecryptArgs,
  engine: Pick<Engine, 'tableNamed'>,
): FileToDecrypt[] {
  const tables = args.table ?? Object.keys(copy.manifest.tables).sort();
  return tables.map((table) => {
    const entry =
      copy.manifest.tables[table] ?? copy.manifest.tables[configTableName(engine, table)];
    if (entry === undefined)
      throw new UsageError(`table ${table} is not in the copy ${copy.dir}`, {
        hint: `Tables of the copy: ${Object.keys(copy.manifest.tables).sort().join(', ') || 'none'}.`,
      });
    // A manifest from a remote is as forgeable as its files: names stay inside the copy.
    if (!/^[^/\\]+\.age$/.test(entry.file) || entry.file.startsWith('.'))
      throw new UsageError(`the copy ${copy.dir} names ${JSON.stringify(entry.file)} for ${table}`);
    const compression = compressionOfEntry(entry);
    if (compression === undefined)
      throw new UsageError(
        `the copy ${copy.dir} says ${entry.file} is compressed in a way this version cannot read`,
      );
    return { path: join(copy.dir, entry.file), compression };
  });
}

/** Resolves when `stream` can take more, or is gone (then the write error ends the run). */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (error?: Error): void => {
      stream.off('drain', onDrain).off('close', onDrain).off('error', done);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onDrain = (): void => {
      done();
    };
    stream.once('drain', onDrain).once('close', onDrain).once('error', done);
  });
}
