/**
 * Services for tests: real background processes managed by `test/fixtures/service-manager.sh`
 * (never the machine's systemctl), each test with its own directory, all killed afterwards.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { createTempDir } from './temp-dir.js';

export const SERVICE_MANAGER_SCRIPT = join(import.meta.dirname, '../fixtures/service-manager.sh');

export interface TestServices {
  readonly dir: string;
  /** The `service_manager:` block of a config using this directory. */
  readonly configBlock: string;
  start(name: string): void;
  isRunning(name: string): boolean;
  /** The journal's actions other than `status`, e.g. `stop web`. */
  actions(): Promise<string[]>;
  /** Makes `action` of `name` fail (exit 1) or take `seconds` first. */
  fail(name: string, action: string): Promise<void>;
  slow(name: string, action: string, seconds: number): Promise<void>;
}

/** A service directory with `running` services started. */
export async function createTestServices(running: readonly string[]): Promise<TestServices> {
  const dir = await createTempDir('services');
  const manager = (action: string, name: string): string =>
    execFileSync(SERVICE_MANAGER_SCRIPT, [dir, action, name], { encoding: 'utf8' });
  onTestFinished(async () => {
    for (const entry of await readdir(dir)) {
      if (!entry.endsWith('.pid')) continue;
      const pid = Number(await readFile(join(dir, entry), 'utf8'));
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });
  const template = (action: string): string =>
    `  ${action}: "'${SERVICE_MANAGER_SCRIPT}' '${dir}' ${action} {service}"`;
  const services: TestServices = {
    dir,
    configBlock: [
      'service_manager:',
      template('stop'),
      template('start'),
      template('restart'),
      template('status'),
      '  timeout: 20',
      '  ready_timeout: 20',
    ].join('\n'),
    start: (name) => {
      manager('start', name);
    },
    isRunning: (name) => {
      try {
        manager('status', name);
        return true;
      } catch {
        return false;
      }
    },
    actions: async () => {
      const file = join(dir, 'journal');
      if (!existsSync(file)) return [];
      return (await readFile(file, 'utf8'))
        .split('\n')
        .filter((line) => line !== '' && !line.startsWith('status '));
    },
    fail: async (name, action) => {
      await writeFile(join(dir, `${name}.fail-${action}`), '');
    },
    slow: async (name, action, seconds) => {
      await writeFile(join(dir, `${name}.slow-${action}`), String(seconds));
    },
  };
  for (const name of running) services.start(name);
  // Starting them is set-up, not part of what a test checks.
  await writeFile(join(dir, 'journal'), '');
  return services;
}
