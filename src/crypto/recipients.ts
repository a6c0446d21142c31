/**
 * age recipients (public keys) and identities (secret keys) as files and strings, in the
 * formats of the stock `age` tools: `age -R FILE` recipients files, `age-keygen` identity
 * files. Must not import the engine, git, the config or the CLI.
 */
import { readFile } from 'node:fs/promises';
import { CryptoError } from '../errors.js';

const RECIPIENT = /^age1[0-9a-z]{20,}$/;
const IDENTITY = /^AGE-SECRET-KEY-(?:PQ-)?1[0-9A-Z]{20,}$/;

/**
 * Checks one recipient string. Throws {@link CryptoError} for SSH keys (age-encryption, the
 * library used here, does not implement them) and anything else that is not an `age1...` key.
 */
export function checkRecipient(recipient: string, where: string): string {
  const trimmed = recipient.trim();
  if (/^ssh-(?:ed25519|rsa)\s/.test(trimmed)) {
    throw new CryptoError(
      `${where}: SSH public keys are not supported as recipients; use an age key (age1...)`,
      {
        hint: 'Make one with `schema_backup keygen -o key.txt` (or age-keygen) and list its public key.',
      },
    );
  }
  if (!RECIPIENT.test(trimmed)) {
    throw new CryptoError(
      `${where}: not an age recipient: ${JSON.stringify(trimmed.slice(0, 20))}`,
      {
        hint: 'Recipients are public keys that start with age1, as age-keygen prints them.',
      },
    );
  }
  return trimmed;
}

/** Reads a recipients file: one recipient per line, `#` comments and blank lines skipped. */
export async function readRecipientsFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CryptoError(`cannot read the recipients file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return text
    .split(/\r?\n/)
    .map((line, index) => ({ line: line.trim(), number: index + 1 }))
    .filter(({ line }) => line !== '' && !line.startsWith('#'))
    .map(({ line, number }) => checkRecipient(line, `${path}:${String(number)}`));
}

/** The recipients of the config's inline list and recipients file, deduplicated, in order. */
export async function collectRecipients(
  inline: readonly string[],
  recipientsFile: string | undefined,
): Promise<string[]> {
  const all = inline.map((recipient, index) =>
    checkRecipient(recipient, `encryption.recipients[${String(index)}]`),
  );
  if (recipientsFile !== undefined) all.push(...(await readRecipientsFile(recipientsFile)));
  const unique = [...new Set(all)];
  // None to check (an unencrypted dump): age-encryption is not even loaded.
  if (unique.length === 0) return unique;
  // The pattern above lets a typo through; the encrypter checks the bech32 checksum and the
  // key type, before the run reads anything. Loaded here: it takes 0.1 s to import.
  const { Encrypter } = await import('age-encryption');
  for (const recipient of unique) {
    try {
      new Encrypter().addRecipient(recipient);
    } catch (error) {
      throw new CryptoError(
        `not a valid age recipient: ${recipient} (${(error as Error).message})`,
        {
          cause: error,
          hint: 'Copy the public key again from `age-keygen -y key.txt` or the output of `schema_backup keygen`.',
        },
      );
    }
  }
  return unique;
}

/**
 * Reads an identity file as age-keygen writes it: `AGE-SECRET-KEY-1...` lines, `#` comments.
 * Throws {@link CryptoError} when it cannot be read or holds no identity. The keys are
 * secrets: callers must never print them.
 */
export async function readIdentityFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CryptoError(
      `cannot read the identity file ${path}: ${(error as { code?: string }).code ?? (error as Error).message}`,
      {
        cause: error,
        hint: 'Pass --identity PATH, or set encryption.identity_file, to the file `schema_backup keygen` (or age-keygen) wrote.',
      },
    );
  }
  const identities = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (identities.length === 0 || !identities.every((line) => IDENTITY.test(line))) {
    throw new CryptoError(
      `${path} is not an age identity file (expected AGE-SECRET-KEY-1... lines)`,
    );
  }
  return identities;
}
