/** `schema_backup keygen`: make an age identity and print its recipient (public key). */
import { open } from 'node:fs/promises';
import { UsageError } from '../../errors.js';
import { printLine } from '../output/print.js';

export interface KeygenArgs {
  readonly output?: string | undefined;
}

export async function keygenHandler(args: KeygenArgs): Promise<number> {
  // Loaded here, not at start-up: age-encryption takes a tenth of a second to import.
  const { generateAgeIdentity } = await import('../../crypto/keygen.js');
  const { fileText, recipient } = await generateAgeIdentity();
  if (args.output === undefined) {
    // As age-keygen: the identity on stdout, the public key on stderr.
    process.stdout.write(fileText);
    process.stderr.write(`Public key: ${recipient}\n`);
    return 0;
  }
  let handle;
  try {
    handle = await open(args.output, 'wx', 0o600);
  } catch (error) {
    if ((error as { code?: string }).code === 'EEXIST') {
      throw new UsageError(`${args.output} already exists; keygen never overwrites an identity`, {
        hint: 'Losing an identity makes every copy encrypted to it unreadable: choose another path, or move the old file away yourself.',
      });
    }
    throw new UsageError(`cannot create ${args.output}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    await handle.writeFile(fileText);
    await handle.sync();
  } finally {
    await handle.close();
  }
  printLine(recipient);
  return 0;
}
