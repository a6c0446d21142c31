/**
 * `schema_backup decrypt`: write the SQL of user-data files to stdout. Every file is first
 * decrypted in full and discarded, so a wrong identity or a damaged file fails before a
 * single byte is written.
 */
import { join } from 'node:path';
import type { Argv } from 'yargs';
import { readIdentityFile } from '../../crypto/recipients.js';
import { UsageError } from '../../errors.js';
import { findCopy, LATEST_LINK } from '../../snapshot/user-data-copy.js';
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

export async function decryptHandler(args: DecryptArgs): Promise<number> {
  let files = [...(args.files ?? [])];
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
  const { decryptFile, verifyDecryptable } = await import('../../crypto/decrypt.js');
  for (const file of files) await verifyDecryptable(file, identities);
  for (const file of files) {
    for await (const chunk of decryptFile(file, identities)) {
      if (!process.stdout.write(chunk)) await drained(process.stdout);
    }
  }
  return 0;
}

async function filesOfCopy(
  userDataDir: string | undefined,
  host: string,
  args: DecryptArgs,
): Promise<string[]> {
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
    return join(copy.dir, entry.file);
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
