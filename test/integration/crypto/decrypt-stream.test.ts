/**
 * decryptAgeFile (node:crypto payload decryption for dumps) against files the stock `age`
 * CLI wrote: sizes around the 64 KiB chunk boundary, armored files, a wrong key, and files
 * cut short anywhere, a chunk boundary included.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decryptAgeFile } from '../../../src/crypto/decrypt-stream.js';
import { readIdentityFile } from '../../../src/crypto/recipients.js';
import { CryptoError } from '../../../src/errors.js';
import { age, ageKeygen } from '../../helpers/age.js';
import { createTempDir } from '../../helpers/temp-dir.js';

async function plaintextOf(path: string, identities: readonly string[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of decryptAgeFile(path, identities)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('decryptAgeFile', () => {
  it('decrypts what the age CLI encrypts, at every chunk boundary, armored too', async () => {
    const dir = await createTempDir('agefast');
    const key = ageKeygen(dir);
    const identities = await readIdentityFile(key.identityFile);
    for (const size of [0, 1, 65535, 65536, 65537, 131072, 300000]) {
      const plain = randomBytes(size);
      const file = join(dir, `f${String(size)}.age`);
      await writeFile(join(dir, 'plain'), plain);
      age(['-r', key.recipient, '-o', file, join(dir, 'plain')]);
      expect((await plaintextOf(file, identities)).equals(plain)).toBe(true);
      if (size === 65537) {
        age(['-a', '-r', key.recipient, '-o', `${file}.asc`, join(dir, 'plain')]);
        expect((await plaintextOf(`${file}.asc`, identities)).equals(plain)).toBe(true);
      }
    }
  });

  it('refuses a wrong key and a file cut short, at a chunk boundary too', async () => {
    const dir = await createTempDir('agefast');
    const key = ageKeygen(dir);
    const other = ageKeygen(dir, 'other.txt');
    const file = join(dir, 'f.age');
    await writeFile(join(dir, 'plain'), randomBytes(200000));
    age(['-r', key.recipient, '-o', file, join(dir, 'plain')]);
    await expect(plaintextOf(file, await readIdentityFile(other.identityFile))).rejects.toThrow(
      /none of the given identities/,
    );
    const bytes = await readFile(file);
    const identities = await readIdentityFile(key.identityFile);
    // Header, nonce, then 64 KiB + 16-byte chunks: cut after the second chunk, and mid-chunk.
    const payloadStart = bytes.length - (200000 + 4 * 16);
    for (const length of [payloadStart + 2 * (65536 + 16), bytes.length - 5, 40]) {
      await writeFile(join(dir, 'cut.age'), bytes.subarray(0, length));
      const error = await plaintextOf(join(dir, 'cut.age'), identities).catch(
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(CryptoError);
      expect((error as Error).message).toMatch(/corrupt or truncated/);
    }
  });
});
