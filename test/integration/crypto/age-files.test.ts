/**
 * The tool's age files against the stock age CLI (Debian age 1.1.1), both ways, and the
 * tool's handling of damaged files: a wrong identity, a flipped byte, a cut-off end. The
 * `decrypt` command must fail before it writes a single byte to stdout.
 */
import { randomBytes } from 'node:crypto';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { decryptFile, verifyDecryptable } from '../../../src/crypto/decrypt.js';
import { EncryptingWriter } from '../../../src/crypto/encrypting-writer.js';
import { readIdentityFile } from '../../../src/crypto/recipients.js';
import { CryptoError } from '../../../src/errors.js';
import { age, ageDecrypt, ageKeygen, type AgeKey } from '../../helpers/age.js';
import { createTempDir } from '../../helpers/temp-dir.js';

/** 64 KiB chunks of plaintext, each sealed with a 16-byte tag (age STREAM). */
const CHUNK = 64 * 1024;
const TAG = 16;

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

/** Encrypts `pieces` with the tool's writer; returns the result and closes the writer. */
async function encryptWithTool(
  path: string,
  recipients: readonly string[],
  pieces: readonly string[],
) {
  const writer = new EncryptingWriter(recipients, randomBytes(32));
  try {
    return await writer.writeFile(
      path,
      (async function* () {
        // Yield to the event loop between pieces, as rows read from a server do.
        for (const piece of pieces) {
          await setImmediate();
          yield piece;
        }
      })(),
    );
  } finally {
    await writer.close();
  }
}

/** Text of about `bytes` UTF-8 bytes in pieces of varied sizes, multi-byte characters included. */
function textPieces(bytes: number): string[] {
  const pieces: string[] = [];
  let total = 0;
  let index = 0;
  while (total < bytes) {
    const size = [1, 17, 4096, 70_000, 300_000][index % 5] ?? 1;
    const piece = `${String(index)} é😀\0'\\\n${randomBytes(Math.ceil(size / 2)).toString('hex')}`;
    pieces.push(piece);
    total += Buffer.byteLength(piece);
    index += 1;
  }
  return pieces;
}

/** Offset of the payload: after the header's `--- MAC` line and the 16-byte nonce. */
function payloadOffset(ciphertext: Buffer): number {
  const macLine = ciphertext.indexOf('\n---');
  return ciphertext.indexOf('\n', macLine + 1) + 1 + 16;
}

async function identitiesOf(key: AgeKey): Promise<string[]> {
  return readIdentityFile(key.identityFile);
}

/** The CryptoError `action` rejects with (fails the test otherwise). */
async function cryptoErrorOf(action: Promise<unknown>): Promise<CryptoError> {
  const error = await action.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(CryptoError);
  return error as CryptoError;
}

/** Runs the CLI with stdout and stderr captured. */
async function runCli(
  argv: readonly string[],
): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const stdout: Buffer[] = [];
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(Buffer.from(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += Buffer.from(chunk).toString('utf8');
    return true;
  });
  try {
    const code = await main(argv);
    return { code, stdout: Buffer.concat(stdout), stderr };
  } finally {
    vi.restoreAllMocks();
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('age interoperability', () => {
  it('reads a file the stock age CLI encrypted, byte for byte', async () => {
    const dir = await createTempDir('age-in');
    const key = ageKeygen(dir);
    const other = ageKeygen(dir, 'other.txt');
    const plaintext = Buffer.concat([
      Buffer.from(Array.from({ length: 256 }, (_, index) => index)),
      Buffer.from("INSERT INTO `t` VALUES ('a\\'b', 0x00FF);\n😀\r\n"),
    ]);
    await writeFile(join(dir, 'plain.sql'), plaintext);
    const file = join(dir, 'x.age');
    age(['-r', key.recipient, '-o', file, join(dir, 'plain.sql')]);
    expect(await collect(decryptFile(file, await identitiesOf(key)))).toEqual(plaintext);

    // Several recipients; the identity given is the second one's.
    const both = join(dir, 'both.age');
    age(['-r', other.recipient, '-r', key.recipient, '-o', both, join(dir, 'plain.sql')]);
    expect(await collect(decryptFile(both, await identitiesOf(key)))).toEqual(plaintext);
    // Several identities, only one of which matches.
    expect(
      await collect(
        decryptFile(file, [...(await identitiesOf(other)), ...(await identitiesOf(key))]),
      ),
    ).toEqual(plaintext);

    // Empty plaintext.
    const empty = join(dir, 'empty.age');
    age(['-r', key.recipient, '-o', empty], Buffer.alloc(0));
    expect(await verifyDecryptable(empty, await identitiesOf(key))).toBe(0);
  });

  // Regression (fixed): armored files were rejected as "corrupt or truncated".
  it('reads an armored file of the stock age CLI (age -a)', async () => {
    const dir = await createTempDir('age-armor');
    const key = ageKeygen(dir);
    const plaintext = Buffer.from('INSERT INTO `t` VALUES (1);\n');
    const file = join(dir, 'x.age');
    age(['-a', '-r', key.recipient, '-o', file], plaintext);
    expect(ageDecrypt(key.identityFile, file)).toEqual(plaintext);
    expect(await collect(decryptFile(file, await identitiesOf(key)))).toEqual(plaintext);
  });

  // The payload is sealed with node:crypto in age's STREAM format: the stock CLI must read
  // every size around the 64 KiB chunk boundary (the final chunk is the only one flagged,
  // and empty only for an empty file), for one recipient and for two.
  it('writes files the stock age CLI decrypts, at every size around the chunk boundary', async () => {
    const dir = await createTempDir('age-sizes');
    const key = ageKeygen(dir);
    const other = ageKeygen(await createTempDir('age-sizes-2'));
    for (const size of [0, 1, 65_535, 65_536, 65_537, 131_072, 131_073, 200_000]) {
      const text = 'x'.repeat(size);
      const file = join(dir, `s${String(size)}.age`);
      const result = await encryptWithTool(
        file,
        [key.recipient, other.recipient],
        [text.slice(0, 1000), text.slice(1000)],
      );
      expect(result.plaintextBytes).toBe(size);
      expect(result.bytes).toBe((await readFile(file)).length);
      expect(ageDecrypt(key.identityFile, file).toString()).toBe(text);
      expect(ageDecrypt(other.identityFile, file).length).toBe(size);
    }
  });

  it('round-trips 5 MB: tool -> age -d, and age -> tool', async () => {
    const dir = await createTempDir('age-big');
    const key = ageKeygen(dir);

    const pieces = textPieces(5 * 1024 * 1024);
    const expected = Buffer.from(pieces.join(''), 'utf8');
    const toolFile = join(dir, 'tool.age');
    const result = await encryptWithTool(toolFile, [key.recipient], pieces);
    expect(result.plaintextBytes).toBe(expected.length);
    expect(result.bytes).toBe((await readFile(toolFile)).length);
    expect(expected.length).toBeGreaterThan(5 * 1024 * 1024);
    expect(ageDecrypt(key.identityFile, toolFile).equals(expected)).toBe(true);

    const binary = randomBytes(5 * 1024 * 1024 + 12_345);
    const cliFile = join(dir, 'cli.age');
    age(['-r', key.recipient, '-o', cliFile], binary);
    expect((await collect(decryptFile(cliFile, await identitiesOf(key)))).equals(binary)).toBe(
      true,
    );
    expect(await verifyDecryptable(cliFile, await identitiesOf(key))).toBe(binary.length);
  });

  it('writes exactly the plaintext to stdout with `decrypt FILE --identity KEY`', async () => {
    const dir = await createTempDir('age-cli-ok');
    const key = ageKeygen(dir);
    const pieces = textPieces(200_000);
    const file = join(dir, 't.sql.age');
    await encryptWithTool(file, [key.recipient], pieces);
    const { code, stdout, stderr } = await runCli([
      'decrypt',
      file,
      '--identity',
      key.identityFile,
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout.equals(Buffer.from(pieces.join(''), 'utf8'))).toBe(true);
  });
});

describe('damaged files and wrong keys', () => {
  /** A tool-written file of ~300 KiB plaintext (5 chunks), its key, and an unrelated key. */
  async function damagedFileSetup() {
    const dir = await createTempDir('age-bad');
    const key = ageKeygen(dir);
    const stranger = ageKeygen(dir, 'stranger.txt');
    const file = join(dir, 'good.age');
    await encryptWithTool(file, [key.recipient], textPieces(300 * 1024));
    const ciphertext = await readFile(file);
    expect(ciphertext.length).toBeGreaterThan(4 * CHUNK);
    return { dir, key, stranger, file, ciphertext };
  }

  it('says "none of the given identities" for a wrong identity', async () => {
    const { key, stranger, file } = await damagedFileSetup();
    expect(await verifyDecryptable(file, await identitiesOf(key))).toBeGreaterThan(300 * 1024);
    const error = await cryptoErrorOf(verifyDecryptable(file, await identitiesOf(stranger)));
    expect(error.message).toBe(`none of the given identities can decrypt ${file}`);
    expect(error.hint).toMatch(/recipients/);
    expect(error.exitCode).toBe(1);

    const cli = await runCli(['decrypt', file, '--identity', stranger.identityFile]);
    expect(cli.code).toBe(1);
    expect(cli.stdout.length).toBe(0);
    expect(cli.stderr).toContain('none of the given identities');
  });

  it('says "corrupt" for one flipped byte in the middle, and the CLI writes nothing', async () => {
    const { key, file, ciphertext } = await damagedFileSetup();
    const tampered = Buffer.from(ciphertext);
    const middle = Math.floor(tampered.length / 2);
    tampered[middle] = (tampered[middle] ?? 0) ^ 0x01;
    await writeFile(file, tampered);

    const error = await cryptoErrorOf(verifyDecryptable(file, await identitiesOf(key)));
    expect(error.message).toMatch(/is corrupt or truncated \(a chunk failed authentication/);
    expect(error.message).toContain(file);

    // The chunks before the damage do decrypt: only the up-front check keeps them off stdout.
    const before: Buffer[] = [];
    await expect(
      (async () => {
        for await (const chunk of decryptFile(file, await identitiesOf(key)))
          before.push(Buffer.from(chunk));
      })(),
    ).rejects.toThrow(CryptoError);
    expect(Buffer.concat(before).length).toBeGreaterThan(0);

    const cli = await runCli(['decrypt', file, '--identity', key.identityFile]);
    expect(cli.code).toBe(1);
    expect(cli.stdout.length).toBe(0);
    expect(cli.stderr).toMatch(/^error: .* is corrupt or truncated/);
    // The stock tool agrees that the file is damaged.
    expect(() => ageDecrypt(key.identityFile, file)).toThrow();
  });

  it('says "corrupt or truncated" for a file cut short, also exactly at a chunk boundary', async () => {
    const { key, file, ciphertext, dir } = await damagedFileSetup();
    await truncate(file, ciphertext.length - 100);
    const error = await cryptoErrorOf(verifyDecryptable(file, await identitiesOf(key)));
    expect(error.message).toMatch(/is corrupt or truncated/);
    const cli = await runCli(['decrypt', file, '--identity', key.identityFile]);
    expect(cli.code).toBe(1);
    expect(cli.stdout.length).toBe(0);

    // Whole chunks dropped from the end: the last remaining chunk is not marked final.
    const boundary = join(dir, 'boundary.age');
    await writeFile(
      boundary,
      ciphertext.subarray(0, payloadOffset(ciphertext) + 2 * (CHUNK + TAG)),
    );
    expect(() => ageDecrypt(key.identityFile, boundary)).toThrow();
    const cut = await cryptoErrorOf(verifyDecryptable(boundary, await identitiesOf(key)));
    expect(cut.message).toMatch(/is corrupt or truncated/);

    // Only the header left, and an empty file.
    const headerOnly = join(dir, 'header.age');
    await writeFile(headerOnly, ciphertext.subarray(0, payloadOffset(ciphertext)));
    expect(
      (await cryptoErrorOf(verifyDecryptable(headerOnly, await identitiesOf(key)))).message,
    ).toMatch(/is corrupt or truncated/);
    const empty = join(dir, 'empty.age');
    await writeFile(empty, '');
    expect(
      (await cryptoErrorOf(verifyDecryptable(empty, await identitiesOf(key)))).message,
    ).toMatch(/is corrupt or truncated \(bad header/);
    const missing = await cryptoErrorOf(
      verifyDecryptable(join(dir, 'missing.age'), await identitiesOf(key)),
    );
    expect(missing.message).toBe(`${join(dir, 'missing.age')} does not exist`);
  });

  it('fails a damaged header (MAC byte flipped) as corrupt, not as a wrong identity', async () => {
    const { key, file, ciphertext } = await damagedFileSetup();
    const tampered = Buffer.from(ciphertext);
    const mac = tampered.indexOf('\n--- ') + 6;
    tampered[mac] = tampered[mac] === 0x41 ? 0x42 : 0x41;
    await writeFile(file, tampered);
    const error = await cryptoErrorOf(verifyDecryptable(file, await identitiesOf(key)));
    expect(error.message).toMatch(/is corrupt or truncated \(bad header/);
  });

  it('checks every file before writing any: a good file then a damaged one prints nothing', async () => {
    const { key, file, ciphertext, dir } = await damagedFileSetup();
    const good = join(dir, 'first.age');
    await writeFile(good, ciphertext);
    await truncate(file, ciphertext.length - 100);
    const cli = await runCli(['decrypt', good, file, '--identity', key.identityFile]);
    expect(cli.code).toBe(1);
    expect(cli.stdout.length).toBe(0);
  });
});
