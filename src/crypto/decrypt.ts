/** Reading age files back: whole-file verification, then streaming plaintext. */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { Decrypter } from 'age-encryption';
import { CryptoError } from '../errors.js';

/**
 * The plaintext of the age file at `path` as a stream of chunks. Each chunk is authenticated
 * before it is yielded; a wrong identity fails before the first chunk, a corrupt or truncated
 * file at the damaged chunk. Throws {@link CryptoError}.
 */
export async function* decryptFile(
  path: string,
  identities: readonly string[],
): AsyncIterable<Uint8Array> {
  const decrypter = new Decrypter();
  for (const identity of identities) decrypter.addIdentity(identity);
  const ciphertext = Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>;
  let plaintext: ReadableStream<Uint8Array>;
  try {
    plaintext = await decrypter.decrypt(ciphertext);
  } catch (error) {
    throw classify(error, path, 'header');
  }
  try {
    for await (const chunk of plaintext as unknown as AsyncIterable<Uint8Array>) yield chunk;
  } catch (error) {
    throw classify(error, path, 'body');
  }
}

/** Decrypts the whole file and discards the plaintext: proves it decrypts before anything is written. */
export async function verifyDecryptable(
  path: string,
  identities: readonly string[],
): Promise<number> {
  let bytes = 0;
  for await (const chunk of decryptFile(path, identities)) bytes += chunk.length;
  return bytes;
}

function classify(error: unknown, path: string, phase: 'header' | 'body'): CryptoError {
  const text = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && (error as { code?: string }).code === 'ENOENT') {
    return new CryptoError(`${path} does not exist`, { cause: error });
  }
  if (phase === 'header' && /no identity matched/i.test(text)) {
    return new CryptoError(`none of the given identities can decrypt ${path}`, {
      cause: error,
      hint: 'It was encrypted to other recipients: use the identity whose public key was in encryption.recipients when the copy was made.',
    });
  }
  return new CryptoError(
    `${path} is corrupt or truncated (${phase === 'header' ? 'bad header' : 'a chunk failed authentication'}: ${text})`,
    {
      cause: error,
      hint: 'The file was damaged or cut short after it was written; use another copy.',
    },
  );
}
