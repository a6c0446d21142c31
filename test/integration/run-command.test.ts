/** Child processes: timeouts end the whole process group, and no password variable reaches them. */
import { describe, expect, it } from 'vitest';
import { runCommand } from '../../src/support/run-command.js';

describe('runCommand', () => {
  it('a timeout ends the program and what it started, and does not wait for them', async () => {
    const started = Date.now();
    const outcome = await runCommand(['bash', '-c', 'sleep 60 & sleep 60'], { timeoutMs: 500 });
    expect(outcome.timedOut).toBe(true);
    // Far below the sleeps, far above a loaded machine's start-up of bash.
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('does not pass the password variables on', async () => {
    const lines: string[] = [];
    const outcome = await runCommand(['env'], {
      env: {
        PATH: process.env.PATH,
        SCHEMA_BACKUP_DB_PASSWORD: 'hunter2',
        MYSQL_PWD: 'x',
        PGPASSWORD: 'y',
        KEPT: 'yes',
      },
      onLine: (line) => lines.push(line),
    });
    expect(outcome.exitCode).toBe(0);
    expect(lines).toContain('KEPT=yes');
    expect(lines.join('\n')).not.toContain('hunter2');
    expect(lines.some((line) => line.startsWith('MYSQL_PWD='))).toBe(false);
    expect(lines.some((line) => line.startsWith('PGPASSWORD='))).toBe(false);
  });

  it('resolves soon after exit when a daemon it started keeps the output pipe open', async () => {
    const started = Date.now();
    const outcome = await runCommand(['bash', '-c', '(sleep 60 &) ; echo done']);
    expect(outcome.exitCode).toBe(0);
    expect(outcome.tail).toEqual(['done']);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
