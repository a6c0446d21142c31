/**
 * `schema_backup decrypt`: write the SQL of user-data files to stdout. Every file is first
 * decrypted in full and discarded, so a wrong identity or a damaged file fails before a
 * single byte is written.
 */
import { join } from 'node:path';
import type { Argv } from 'yargs';
import { readIdentityFile } from '../../crypto/recipients.js';
import { UsageError } from '../../errors.js';
import { fileNameForObject } from '../../snapshot/layout.js';
import { LATEST_LINK, readLatestManifest } from '../../snapshot/user-data-copy.js';
import { hostNameFor, loadContext, type GlobalArgs } from '../context.js';
import { readFile } from 'node:fs/promises';
import type { UserDataManifest } from '../../snapshot/user-data-copy.js';

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
      if (!process.stdout.write(chunk))
        await new Promise((resolve) => process.stdout.once('drain', resolve));
    }
  }
  return 0;
}

async function filesOfCopy(
  userDataDir: string | undefined,
  host: string,
  args: DecryptArgs,
): Promise<string[]> {
  if (userDataDir === undefined)
    throw new UsageError(
      'user_data_backup_dir is not set in the config: name the .age files to decrypt',
    );
  const hostDir = join(userDataDir, host);
  const copy = args.copy ?? LATEST_LINK;
  let manifest: UserDataManifest;
  let copyDir: string;
  if (copy === LATEST_LINK) {
    const latest = await readLatestManifest(hostDir);
    if (latest === undefined)
      throw new UsageError(`no user-data copy in ${hostDir} (no readable ${LATEST_LINK})`);
    manifest = latest.manifest;
    copyDir = join(hostDir, latest.name);
  } else {
    copyDir = join(hostDir, copy);
    try {
      manifest = JSON.parse(
        await readFile(join(copyDir, 'manifest.json'), 'utf8'),
      ) as UserDataManifest;
    } catch (error) {
      throw new UsageError(`no user-data copy ${copy} in ${hostDir}`, { cause: error });
    }
  }
  const tables = args.table ?? Object.keys(manifest.tables).sort();
  return tables.map((table) => {
    const entry = manifest.tables[table];
    if (entry === undefined) throw new UsageError(`table ${table} is not in the copy ${copyDir}`);
    return join(copyDir, entry.file || `${fileNameForObject('table', table)}.age`);
  });
}
