/** Reading age files back: whole-file verification, then streaming plaintext. */
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { armor, Decrypter } from 'age-encryption';
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
  let plaintext: ReadableStream<Uint8Array>;
  try {
    plaintext = await decrypter.decrypt(await openCiphertext(path));
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

const ARMOR_HEADER = '-----BEGIN AGE ENCRYPTED FILE-----';

/**
 * The binary ciphertext of `path` as a stream. An ASCII-armored file (`age -a`) is decoded
 * first, in memory: armor is meant for small files pasted into text.
 */
async function openCiphertext(path: string): Promise<ReadableStream<Uint8Array>> {
  const handle = await open(path, 'r');
  let head: string;
  try {
    const buffer = Buffer.alloc(ARMOR_HEADER.length);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    head = buffer.subarray(0, bytesRead).toString('latin1');
  } finally {
    await handle.close();
  }
  if (head === ARMOR_HEADER) {
    const binary = armor.decode(await readFile(path, 'utf8'));
    return new ReadableStream({
      start(controller) {
        controller.enqueue(binary);
        controller.close();
      },
    });
  }
  return Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>;
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
