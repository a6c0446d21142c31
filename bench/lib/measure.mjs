/**
 * Runs a command under /usr/bin/time (when the machine has it) and measures its wall time and
 * peak RSS: the one measuring function of the dump, pgdump and pgsnap suites.
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { intEnv } from './env.mjs';

const TIME = '/usr/bin/time';
const TIMEOUT_S = intEnv('BENCH_TIMEOUT', 3600);

/**
 * Runs argv; resolves `{ seconds, rssKiB }` (rssKiB undefined without /usr/bin/time), rejects
 * with the end of its stderr when it fails. Options: `cwd`, `env` (added to the process's),
 * `stdoutFile` (else stdout is dropped), `stdinFile` (else stdin is empty). Killed after
 * BENCH_TIMEOUT seconds.
 */
export function measure(argv, { cwd, env, stdoutFile, stdinFile } = {}) {
  return new Promise((resolve, reject) => {
    const rssFile = join(
      tmpdir(),
      `sbbench-rss-${String(process.pid)}-${String(Math.random()).slice(2)}`,
    );
    const useTime = existsSync(TIME);
    const [file, args] = useTime
      ? [TIME, ['-f', '%M', '-o', rssFile, ...argv]]
      : [argv[0], argv.slice(1)];
    const start = process.hrtime.bigint();
    const child = spawn(file, args, {
      ...(cwd === undefined ? {} : { cwd }),
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr = (stderr + String(chunk)).slice(-4000)));
    if (stdoutFile !== undefined) child.stdout.pipe(createWriteStream(stdoutFile));
    else child.stdout.resume();
    if (stdinFile !== undefined) createReadStream(stdinFile).pipe(child.stdin);
    else child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_S * 1000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      let rssKiB;
      if (useTime) {
        try {
          rssKiB = Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1));
        } catch {
          rssKiB = undefined;
        }
        void rm(rssFile, { force: true });
      }
      if (code !== 0)
        reject(
          new Error(`${argv.join(' ').slice(0, 300)} failed (exit ${String(code)}): ${stderr}`),
        );
      else resolve({ seconds, rssKiB });
    });
  });
}
