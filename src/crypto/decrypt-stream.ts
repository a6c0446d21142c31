/**
 * Fast streaming decryption of age files, for dumps of gigabytes: age-encryption checks the
 * header and unwraps the file key (Decrypter.decryptHeader, which verifies the header MAC);
 * the payload, ChaCha20-Poly1305 in age's STREAM, is decrypted here with node:crypto (about
 * ten times the library's JavaScript cipher), the counterpart of encrypting-writer.ts.
 * Every chunk is authenticated before it is handed out; truncation is detected by the
 * last-chunk flag, as age specifies.
 */
import { createDecipheriv, hkdfSync } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { CryptoError } from '../errors.js';
import { AGE_CHUNK_SIZE } from './encrypting-writer.js';
import { decryptFile } from './decrypt.js';

const TAG_BYTES = 16;
const NONCE_BYTES = 16;
const SEALED_CHUNK = AGE_CHUNK_SIZE + TAG_BYTES;
const ARMOR_HEADER = Buffer.from('-----BEGIN AGE ENCRYPTED FILE-----');
const MAC_LINE = Buffer.from('\n--- ');

/**
 * The plaintext of the age file at `path`, in chunks. Throws {@link CryptoError}: a wrong
 * identity before the first chunk; a corrupt or truncated file at the damaged chunk.
 */
export async function* decryptAgeFile(
  path: string,
  identities: readonly string[],
): AsyncIterable<Buffer> {
  const input = createReadStream(path, { highWaterMark: 1024 * 1024 });
  const iterator = (input as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let pending: Buffer = Buffer.alloc(0);
  let ended = false;
  const more = async (): Promise<boolean> => {
    if (ended) return false;
    let next: IteratorResult<Buffer>;
    try {
      next = await iterator.next();
    } catch (error) {
      throw new CryptoError(
        (error as { code?: string }).code === 'ENOENT'
          ? `${path} does not exist`
          : `cannot read ${path}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (next.done === true) {
      ended = true;
      return false;
    }
    pending = pending.length === 0 ? next.value : Buffer.concat([pending, next.value]);
    return true;
  };
  try {
    // The header: text lines up to and including the `--- <MAC>` line.
    let headerEnd = -1;
    while (headerEnd === -1) {
      const macAt = pending.indexOf(MAC_LINE);
      if (macAt !== -1) {
        const lineEnd = pending.indexOf(0x0a, macAt + MAC_LINE.length);
        if (lineEnd !== -1) headerEnd = lineEnd + 1;
      }
      if (headerEnd === -1 && (pending.length > 1_000_000 || !(await more()))) break;
    }
    if (pending.subarray(0, ARMOR_HEADER.length).equals(ARMOR_HEADER)) {
      // ASCII-armored (`age -a`): small by design; the library reads it.
      yield* (async function* () {
        for await (const chunk of decryptFile(path, identities)) yield Buffer.from(chunk);
      })();
      return;
    }
    if (headerEnd === -1) throw corrupt(path, 'no age header');
    const { Decrypter } = await import('age-encryption');
    const decrypter = new Decrypter();
    for (const identity of identities) decrypter.addIdentity(identity);
    let fileKey: Uint8Array;
    try {
      fileKey = await decrypter.decryptHeader(pending.subarray(0, headerEnd));
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      if (/no identity matched/i.test(text))
        throw new CryptoError(`none of the given identities can decrypt ${path}`, {
          cause: error,
          hint: 'It was encrypted to other recipients: use the identity whose public key was in encryption.recipients when it was made.',
        });
      throw corrupt(path, `bad header: ${text}`, error);
    }
    while (pending.length < headerEnd + NONCE_BYTES && (await more()));
    if (pending.length < headerEnd + NONCE_BYTES) throw corrupt(path, 'cut short in the header');
    const nonce = pending.subarray(headerEnd, headerEnd + NONCE_BYTES);
    const key = Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32));
    pending = Buffer.from(pending.subarray(headerEnd + NONCE_BYTES));
    let counter = 0n;
    for (;;) {
      // A full chunk is known not to be the last only once more bytes follow it.
      while (pending.length > SEALED_CHUNK) {
        yield open(key, counter, pending.subarray(0, SEALED_CHUNK), false, path);
        counter += 1n;
        pending = pending.subarray(SEALED_CHUNK);
      }
      if (!(await more())) break;
    }
    if (pending.length === 0 && counter > 0n) throw corrupt(path, 'the last chunk is missing');
    const last = open(key, counter, pending, true, path);
    if (last.length === 0 && counter > 0n) throw corrupt(path, 'an empty last chunk');
    yield last;
  } finally {
    input.destroy();
  }
}

function open(key: Buffer, index: bigint, sealed: Buffer, last: boolean, path: string): Buffer {
  if (sealed.length < TAG_BYTES) throw corrupt(path, 'a chunk is cut short');
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(index & 0xffffffffffffffffn, 3);
  nonce.writeUInt8(last ? 1 : 0, 11);
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, {
    authTagLength: TAG_BYTES,
  });
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([
      decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch (error) {
    throw corrupt(path, 'a chunk failed authentication', error);
  }
}

function corrupt(path: string, what: string, cause?: unknown): CryptoError {
  return new CryptoError(`${path} is corrupt or truncated (${what})`, {
    cause,
    hint: 'The file was damaged or cut short after it was written; use another copy.',
  });
}
