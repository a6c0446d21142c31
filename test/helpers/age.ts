/**
 * The stock age tools (the Debian `age` 1.1.x CLI) for tests: keys made by `age-keygen`,
 * files encrypted and decrypted by `age`, and `age -d [| zstd -d] | mariadb` as an operator
 * restores.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { testServer } from './database.js';

export interface AgeKey {
  /** The identity file written by `age-keygen -o`. */
  readonly identityFile: string;
  /** Its public key, `age1...`. */
  readonly recipient: string;
}

/** `age-keygen -o <dir>/<name>` and the recipient of the new identity (`age-keygen -y`). */
export function ageKeygen(dir: string, name = 'key.txt'): AgeKey {
  const identityFile = join(dir, name);
  execFileSync('age-keygen', ['-o', identityFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  return { identityFile, recipient: recipientOf(identityFile) };
}

/** The public key of an identity file, as `age-keygen -y` prints it. */
export function recipientOf(identityFile: string): string {
  return execFileSync('age-keygen', ['-y', identityFile], { encoding: 'utf8' }).trim();
}

/** Runs the stock `age` with `args` (and `input` on stdin); returns stdout. Throws on a non-zero exit. */
export function age(args: readonly string[], input?: Buffer | string): Buffer {
  return execFileSync('age', [...args], {
    input,
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** `age -d -i identityFile file`: the plaintext. */
export function ageDecrypt(identityFile: string, file: string): Buffer {
  return age(['-d', '-i', identityFile, file]);
}

/**
 * The SQL of a user-data file as an operator reads it: `age -d`, then for a `.zst.age` file
 * `zstd -d` (both the stock CLIs).
 */
export function ageDecryptSql(identityFile: string, file: string): Buffer {
  const decrypted = ageDecrypt(identityFile, file);
  if (!file.endsWith('.zst.age')) return decrypted;
  return execFileSync('zstd', ['-d', '-c', '-q'], {
    input: decrypted,
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

function exitOf(child: ChildProcess, name: string): Promise<string> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(stderr) : reject(new Error(`${name} exited ${String(code)}: ${stderr}`)),
    );
  });
}

/**
 * `age -d -i identityFile file | mariadb database`, with `| zstd -d |` between them for a
 * `.zst.age` file: the plaintext never touches the disk.
 */
export async function pipeAgeIntoMariadb(
  identityFile: string,
  file: string,
  database: string,
): Promise<void> {
  const server = testServer();
  const decrypter = spawn('age', ['-d', '-i', identityFile, file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const client = spawn(
    'mariadb',
    [
      '--host',
      server.host,
      '--port',
      String(server.port),
      '--user',
      server.user,
      '--default-character-set=utf8mb4',
      database,
    ],
    { env: { ...process.env, MYSQL_PWD: server.password }, stdio: ['pipe', 'ignore', 'pipe'] },
  );
  if (!file.endsWith('.zst.age')) {
    decrypter.stdout.pipe(client.stdin);
    await Promise.all([exitOf(decrypter, 'age -d'), exitOf(client, 'mariadb')]);
    return;
  }
  const decompressor = spawn('zstd', ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  decrypter.stdout.pipe(decompressor.stdin);
  decompressor.stdout.pipe(client.stdin);
  await Promise.all([
    exitOf(decrypter, 'age -d'),
    exitOf(decompressor, 'zstd -d'),
    exitOf(client, 'mariadb'),
  ]);
}

/** Every regular file under `dir` (recursively, dot files and `.git` included), with its bytes. */
export async function readTree(dir: string): Promise<Map<string, Buffer>> {
  const result = new Map<string, Buffer>();
  const walk = async (current: string): Promise<void> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) result.set(path, await readFile(path));
      else if (entry.isSymbolicLink() && (await stat(path).catch(() => undefined))?.isFile())
        result.set(path, await readFile(path));
    }
  };
  await walk(dir);
  return result;
}
