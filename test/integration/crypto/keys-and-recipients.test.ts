/**
 * Keys and recipients: `schema_backup keygen` makes identities the stock age CLI uses, and
 * recipients are checked (SSH keys refused, recipients files parsed like `age -R`) before a
 * run, with the config refusing local tables that would be saved without encryption.
 */
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { parseConfig } from '../../../src/config/load-config.js';
import { generateAgeIdentity } from '../../../src/crypto/keygen.js';
import {
  collectRecipients,
  readIdentityFile,
  readRecipientsFile,
} from '../../../src/crypto/recipients.js';
import { ConfigError, CryptoError, ExitCode } from '../../../src/errors.js';
import { age, ageDecrypt, ageKeygen, recipientOf } from '../../helpers/age.js';
import { createTempDir } from '../../helpers/temp-dir.js';

const SSH_ED25519 =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN alice@example.org';
const SSH_RSA =
  'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDULTit0KUehbi7rh9mfdGWuXG8EGm+8Y3thJVa3r9jvBoe4cjcpvT2yXY8aDWTjbvlNVJ1QWH0tqLRDuEvmV1lnqBOs1nKqqCpy+HA bob@example.org';

async function runCli(
  argv: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += Buffer.from(chunk).toString('utf8');
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += Buffer.from(chunk).toString('utf8');
    return true;
  });
  try {
    return { code: await main(argv), stdout, stderr };
  } finally {
    vi.restoreAllMocks();
  }
}

async function cryptoErrorOf(action: Promise<unknown>): Promise<CryptoError> {
  const error = await action.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(CryptoError);
  return error as CryptoError;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('keygen', () => {
  it('writes a 0600 identity, prints its recipient, and the stock age CLI uses the pair', async () => {
    const dir = await createTempDir('keygen');
    const path = join(dir, 'key.txt');
    const { code, stdout, stderr } = await runCli(['keygen', '-o', path]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^age1[0-9a-z]{58}\n$/);
    const recipient = stdout.trim();
    expect(((await stat(path)).mode & 0o777).toString(8)).toBe('600');
    const text = await readFile(path, 'utf8');
    expect(text).toMatch(
      /^# created: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n# public key: age1\S+\nAGE-SECRET-KEY-1[0-9A-Z]+\n$/,
    );
    expect(text).toContain(`# public key: ${recipient}\n`);
    // The secret key never reaches stdout.
    expect(stdout).not.toContain('AGE-SECRET-KEY');
    // Stock age-keygen derives the same public key from the file.
    expect(recipientOf(path)).toBe(recipient);

    const plaintext = randomBytes(100_000);
    const file = join(dir, 'x.age');
    age(['-r', recipient, '-o', file], plaintext);
    expect(ageDecrypt(path, file)).toEqual(plaintext);
    expect(await readIdentityFile(path)).toHaveLength(1);
  });

  it('never overwrites an identity (exit 2, file unchanged)', async () => {
    const dir = await createTempDir('keygen-again');
    const path = join(dir, 'key.txt');
    expect((await runCli(['keygen', '-o', path])).code).toBe(0);
    const before = await readFile(path);
    const again = await runCli(['keygen', '-o', path]);
    expect(again.code).toBe(ExitCode.Usage);
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(/already exists; keygen never overwrites/);
    expect(again.stderr).not.toContain('AGE-SECRET-KEY');
    expect(await readFile(path)).toEqual(before);

    // Nor a file age-keygen made.
    const stock = ageKeygen(dir, 'stock.txt');
    const stockBefore = await readFile(stock.identityFile);
    expect((await runCli(['keygen', '-o', stock.identityFile])).code).toBe(ExitCode.Usage);
    expect(await readFile(stock.identityFile)).toEqual(stockBefore);
  });

  it('makes X25519 identities (readable by age 1.1) with distinct keys', async () => {
    const first = await generateAgeIdentity(new Date('2026-01-02T03:04:05.678Z'));
    const second = await generateAgeIdentity();
    expect(first.fileText.startsWith('# created: 2026-01-02T03:04:05Z\n')).toBe(true);
    expect(first.recipient).toMatch(/^age1[0-9a-z]{58}$/);
    expect(first.recipient).not.toBe(second.recipient);
    const dir = await createTempDir('keygen-lib');
    await writeFile(join(dir, 'k.txt'), first.fileText, { mode: 0o600 });
    expect(recipientOf(join(dir, 'k.txt'))).toBe(first.recipient);
  });
});

describe('recipients', () => {
  it('refuses SSH public keys with a CryptoError, inline and in a recipients file', async () => {
    const dir = await createTempDir('rcpt-ssh');
    const { recipient } = ageKeygen(dir);
    for (const ssh of [SSH_ED25519, SSH_RSA]) {
      const error = await cryptoErrorOf(collectRecipients([recipient, ssh], undefined));
      expect(error.message).toMatch(
        /^encryption\.recipients\[1\]: SSH public keys are not supported/,
      );
      expect(error.hint).toMatch(/keygen/);
    }
    const file = join(dir, 'recipients.txt');
    await writeFile(file, `# team\n${recipient}\n\n${SSH_ED25519}\n`);
    const error = await cryptoErrorOf(collectRecipients([], file));
    expect(error.message).toMatch(new RegExp(`^${file}:4: SSH public keys are not supported`));
  });

  it('reads a recipients file with comments, blank lines and CRLF, deduplicated with the inline list', async () => {
    const dir = await createTempDir('rcpt-file');
    const a = ageKeygen(dir, 'a.txt').recipient;
    const b = ageKeygen(dir, 'b.txt').recipient;
    const c = ageKeygen(dir, 'c.txt').recipient;
    const file = join(dir, 'recipients.txt');
    await writeFile(
      file,
      `# recipients of the nightly copies\n\n${a}\n   \n# bob, laptop\n  ${b}  \r\n\n${c}\r\n# end`,
    );
    expect(await readRecipientsFile(file)).toEqual([a, b, c]);
    expect(await collectRecipients([c, ` ${a} `], file)).toEqual([c, a, b]);

    // A file in the stricter format of the stock CLI (no indented or whitespace-only lines)
    // means the same recipients to both: `age -R`.
    const strict = join(dir, 'strict.txt');
    await writeFile(
      strict,
      `# recipients of the nightly copies\n\n${a}\n# bob, laptop\n${b}\n\n${c}\n# end\n`,
    );
    expect(await readRecipientsFile(strict)).toEqual([a, b, c]);
    const plaintext = Buffer.from('hello\n');
    const encrypted = join(dir, 'x.age');
    age(['-R', strict, '-o', encrypted], plaintext);
    expect(ageDecrypt(join(dir, 'a.txt'), encrypted)).toEqual(plaintext);
    expect(ageDecrypt(join(dir, 'c.txt'), encrypted)).toEqual(plaintext);
    expect(ageDecrypt(join(dir, 'b.txt'), encrypted)).toEqual(plaintext);

    const missing = await cryptoErrorOf(collectRecipients([], join(dir, 'nope.txt')));
    expect(missing.message).toMatch(/cannot read the recipients file/);
    const junk = join(dir, 'junk.txt');
    await writeFile(
      junk,
      `${a}\nAGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n`,
    );
    const secret = await cryptoErrorOf(collectRecipients([], junk));
    expect(secret.message).toMatch(/junk\.txt:2: not an age recipient/);
    // A secret key put where a public key belongs must not be echoed in full.
    expect(secret.message).not.toMatch(/AGE-SECRET-KEY-1Q{21}/);
  });

  // Regression (fixed): a recipient with a typo (bad bech32 checksum) passed the pattern check
  // and failed mid-snapshot in the encryption worker; collectRecipients now checks it first.
  it('refuses a recipient whose bech32 checksum is wrong (a typo)', async () => {
    const dir = await createTempDir('rcpt-typo');
    const { recipient } = ageKeygen(dir);
    const last = recipient.at(-1) === 'q' ? 'p' : 'q';
    const typo = `${recipient.slice(0, -1)}${last}`;
    expect(() => age(['-r', typo], Buffer.from('x'))).toThrow();
    const error = await cryptoErrorOf(collectRecipients([typo], undefined));
    expect(error.message).toContain(`not a valid age recipient: ${typo}`);
  });
});

describe('config: local tables need encryption', () => {
  const FILE = '/srv/app/etc/schema_backup.conf';

  it('refuses local tables with user_data_backup_dir and no recipient (ConfigError, exit 2, hint keygen)', () => {
    let caught: unknown;
    try {
      parseConfig('local: [t]\nuser_data_backup_dir: /x\n', FILE);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.exitCode).toBe(ExitCode.Usage);
    expect(error.message).toMatch(/no age recipient/);
    expect(error.message.startsWith(FILE)).toBe(true);
    expect(error.hint).toMatch(/schema_backup keygen/);

    // An encryption block without recipients is no better.
    expect(() =>
      parseConfig('local: [t]\nuser_data_backup_dir: /x\nencryption:\n  identity_file: /k\n', FILE),
    ).toThrow(ConfigError);
  });

  it('accepts them with a recipient or a recipients file, and without a user-data dir', () => {
    const recipient = 'age1fv2cqer9w9ta2vd7wzszeeg5830t89vwhtj5nyuhr0gjefpt6dys0yqxrv';
    const inline = parseConfig(
      `local: [t]\nuser_data_backup_dir: /x\nencryption:\n  recipients:\n    - ${recipient}\n`,
      FILE,
    );
    expect(inline.config.encryption.recipients).toEqual([recipient]);
    expect(inline.config.userDataBackupDir).toBe('/x');
    const viaFile = parseConfig(
      'local: [t]\nuser_data_backup_dir: /x\nencryption:\n  recipients_file: recipients.txt\n',
      FILE,
    );
    expect(viaFile.config.encryption.recipientsFile).toBe('/srv/app/etc/recipients.txt');
    expect(parseConfig('local: [t]\n', FILE).config.userDataBackupDir).toBeUndefined();
  });
});
