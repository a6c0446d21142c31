/**
 * Real rclone remotes for the off-site tests: a local-path remote (`type = local`) and an
 * SFTP remote served by an OpenSSH `sshd` that the test starts on 127.0.0.1 (a free port, its
 * own host key, authorized key and sshd_config in a temp dir) and stops after. The SFTP
 * client key is encrypted with a passphrase that only rclone's config holds (obscured), so
 * tests can check that the credential never reaches our output, logs or state.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createTempDir } from './temp-dir.js';

export interface TestRemote {
  /** rclone's config file written for the test. */
  readonly configFile: string;
  /** `name:path` for `offsite.remote`. */
  readonly remote: string;
  /** Where the remote's files are on this machine (both remotes store under a local dir). */
  readonly root: string;
  /** Secrets that must never show: the key passphrase and its obscured form. */
  readonly secrets: readonly string[];
}

/** A `type = local` remote rooted at `<temp>/remote`. */
export async function localRemote(): Promise<TestRemote> {
  const dir = await createTempDir('offsite-local');
  const root = join(dir, 'remote');
  const configFile = join(dir, 'rclone.conf');
  await writeFile(configFile, '[offsite_local]\ntype = local\n', { mode: 0o600 });
  return { configFile, remote: `offsite_local:${root}`, root, secrets: [] };
}

export interface SftpServer extends TestRemote {
  readonly port: number;
  /** Stops sshd (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts `sshd -D -e -f <config>` on 127.0.0.1 as root (PAM off, StrictModes off, no chroot),
 * serving SFTP; returns its rclone remote. Throws with sshd's own words when it cannot start:
 * the SFTP tests then fail instead of being skipped.
 */
export async function startSftpServer(dir: string): Promise<SftpServer> {
  const sshd = '/usr/sbin/sshd';
  const passphrase = `pp-${randomBytes(9).toString('hex')}`;
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  // One KDF round: every rclone command decrypts the key, and the default 16 take a while.
  execFileSync('ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-a',
    '1',
    '-N',
    passphrase,
    '-f',
    join(dir, 'client_key'),
  ]);
  await writeFile(
    join(dir, 'authorized_keys'),
    await readFile(join(dir, 'client_key.pub'), 'utf8'),
    { mode: 0o600 },
  );
  const port = await freePort();
  const hostKey = (await readFile(join(dir, 'host_key.pub'), 'utf8')).trim();
  await writeFile(join(dir, 'known_hosts'), `[127.0.0.1]:${String(port)} ${hostKey}\n`);
  const config = join(dir, 'sshd_config');
  await writeFile(
    config,
    [
      `Port ${String(port)}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      'StrictModes no',
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n'),
  );
  // sshd refuses to start without its privilege separation directory (Debian's /run/sshd).
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const child = spawn(sshd, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sshd did not start within 10 s: ${output}`));
    }, 10_000);
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Server listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${sshd} (apt-get install openssh-server): ${error.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sshd exited with status ${String(code)} before listening: ${output}`));
    });
  });
  const obscured = execFileSync('rclone', ['obscure', passphrase], { encoding: 'utf8' }).trim();
  const root = join(dir, 'sftp-root');
  const configFile = join(dir, 'rclone.conf');
  await writeFile(
    configFile,
    [
      '[offsite_sftp]',
      'type = sftp',
      'host = 127.0.0.1',
      `port = ${String(port)}`,
      'user = root',
      `key_file = ${join(dir, 'client_key')}`,
      `key_file_pass = ${obscured}`,
      `known_hosts_file = ${join(dir, 'known_hosts')}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return {
    configFile,
    remote: `offsite_sftp:${root}`,
    root,
    port,
    secrets: [passphrase, obscured],
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}
