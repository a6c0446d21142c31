/**
 * `schema_backup decrypt`: write the SQL of user-data files to stdout, decompressed (a
 * copy's file as its manifest says; a named file by its name: `.sql.zst.age` is zstd). Every
 * file is first decrypted in full and discarded, so a wrong identity or a damaged file fails
 * before a single byte is written.
 */
import { join } from 'node:path';
import type { Argv } from 'yargs';
import { readIdentityFile } from '../../crypto/recipients.js';
import { compressionOfName, type Compression } from '../../dump/compression.js';
import { UsageError } from '../../errors.js';
import { compressionOfEntry, findCopy, LATEST_LINK } from '../../snapshot/user-data-copy.js';
import { hostNameFor, loadContext, type GlobalArgs } from '../context.js';

export interface DecryptArgs extends GlobalArgs {
  readonly files?: readonly string[] | undefined;
  readonly table?: readonly string[] | undefined;
  readonly copy?: string | undefined;
  readonly identity?: string | undefined;
}

export function decryptBuilder(yargs: Argv): Argv<DecryptArgs> {
  return yargs
    .positional('files', {
      type: 'string',
      array: true,
      describe: '.age files to decrypt (default: the tables of a copy)',
    })
    .option('table', {
      alias: 't',
      type: 'string',
      array: true,
      describe: 'tables of the copy to decrypt (default: all)',
    })
    .option('copy', {
      type: 'string',
      describe: 'the copy: latest, or a timestamp directory name',
      default: LATEST_LINK,
    })
    .option('identity', {
      alias: 'i',
      type: 'string',
      describe: 'age identity file (default: encryption.identity_file)',
    });
}

interface FileToDecrypt {
  readonly path: string;
  readonly compression: Compression;
}

export async function decryptHandler(args: DecryptArgs): Promise<number> {
  let files: FileToDecrypt[] = (args.files ?? []).map((path) => ({
    path,
    compression: compressionOfName(path),
  }));
  let identityFile = args.identity;
  if (files.length === 0 || identityFile === undefined) {
    const context = await loadContext(args);
    identityFile ??= context.config.encryption.identityFile;
    if (files.length === 0)
      files = await filesOfCopy(
        context.config.userDataBackupDir,
        await hostNameFor(context.config),
        args,
      );
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

async function filesOfCopy(
  userDataDir: string | undefined,
  host: string,
  args: DecryptArgs,
): Promise<FileToDecrypt[]> {
  if (userDataDir === undefined) {
    throw new UsageError(
      'user_data_backup_dir is not set in the config: name the .age files to decrypt',
    );
  }
  const copy = await findCopy(userDataDir, host, args.copy ?? LATEST_LINK);
  const tables = args.table ?? Object.keys(copy.manifest.tables).sort();
  return tables.map((table) => {
    const entry = copy.manifest.tables[table];
    if (entry === undefined)
      throw new UsageError(`table ${table} is not in the copy ${copy.dir}`, {
        hint: `Tables of the copy: ${Object.keys(copy.manifest.tables).sort().join(', ') || 'none'}.`,
      });
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
