/** The nightly schedule: shipped units, `install-timer` into a temp root, systemd-analyze verify. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TIMER_OPTIONS,
  renderCronFile,
  renderServiceUnit,
  renderTimerUnit,
} from '../../../src/ops/timer-units.js';
import { runCli } from '../../helpers/run-cli.js';
import { createTempDir } from '../../helpers/temp-dir.js';

const ETC = join(import.meta.dirname, '../../../etc');

const hasSystemdAnalyze =
  spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' }).status === 0;

/** `systemd-analyze verify` of unit files: its exit code and everything it printed. */
function verifyUnits(files: readonly string[]): { code: number | null; output: string } {
  const result = spawnSync('systemd-analyze', ['verify', ...files], { encoding: 'utf8' });
  return { code: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

async function writeConfig(dir: string): Promise<string> {
  const config = join(dir, 'etc/schema_backup.conf');
  await mkdir(join(dir, 'etc'), { recursive: true });
  await writeFile(
    config,
    [
      'csv2_backup_dir: /var/backups/schema',
      'user_data_backup_dir: /var/local/schema_backup/user data',
      'hostname: timer.example.org',
      'logging: { file: /var/log/schema_backup/runs.jsonl }',
      'metrics: { textfile: /var/lib/prometheus/node-exporter/schema_backup.prom }',
    ].join('\n'),
  );
  return config;
}

/** An executable stand-in for schema_backup (systemd-analyze checks that ExecStart exists). */
async function fakeExecutable(dir: string): Promise<string> {
  const bin = join(dir, 'bin/schema_backup');
  await mkdir(join(dir, 'bin'), { recursive: true });
  await writeFile(bin, '#!/bin/sh\nexit 0\n');
  await chmod(bin, 0o755);
  return bin;
}

describe('timer units', () => {
  it('etc/ ships exactly what install-timer renders with the documented defaults', async () => {
    expect(await readFile(join(ETC, 'systemd/schema_backup.service'), 'utf8')).toBe(
      renderServiceUnit(DEFAULT_TIMER_OPTIONS),
    );
    expect(await readFile(join(ETC, 'systemd/schema_backup.timer'), 'utf8')).toBe(
      renderTimerUnit(DEFAULT_TIMER_OPTIONS),
    );
    expect(await readFile(join(ETC, 'cron.d/schema_backup'), 'utf8')).toBe(
      renderCronFile(DEFAULT_TIMER_OPTIONS),
    );
  });

  it('install-timer writes the service and timer below --root, idempotently; --force replaces', async () => {
    const dir = await createTempDir('timer');
    const config = await writeConfig(dir);
    const root = join(dir, 'root');
    const bin = await fakeExecutable(dir);
    const args = ['install-timer', '--config', config, '--root', root, '--bin', bin];

    const dry = await runCli([...args, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`# ${root}/etc/systemd/system/schema_backup.service`);
    expect(existsSync(root)).toBe(false);

    const first = await runCli([...args, '--at', '03:15', '--randomized-delay', '30m']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`created ${root}/etc/systemd/system/schema_backup.timer`);
    expect(first.stdout).toContain(
      'systemctl daemon-reload && systemctl enable --now schema_backup.timer',
    );
    const service = await readFile(join(root, 'etc/systemd/system/schema_backup.service'), 'utf8');
    expect(service).toContain(
      `ExecStart=${bin} snapshot --config ${config} --quiet --wait-lock 600\n`,
    );
    expect(service).toContain(
      'ReadWritePaths=-/var/backups/dumps -/var/backups/schema -/var/lib/prometheus/node-exporter "-/var/local/schema_backup/user data" -/var/log/schema_backup\n',
    );
    expect(service).toContain('ProtectSystem=strict\n');
    const timer = await readFile(join(root, 'etc/systemd/system/schema_backup.timer'), 'utf8');
    expect(timer).toContain('OnCalendar=*-*-* 03:15:00\nRandomizedDelaySec=1800\n');
    expect(timer).toContain('Persistent=true\n');

    const again = await runCli([...args, '--at', '03:15', '--randomized-delay', '30m']);
    expect(again.stdout).toContain(`unchanged ${root}/etc/systemd/system/schema_backup.service`);
    const conflict = await runCli([...args, '--at', '04:00']);
    expect(conflict.code).toBe(2);
    expect(conflict.stderr).toContain('exists with other content');
    const forced = await runCli([...args, '--at', '04:00', '--force']);
    expect(forced.code).toBe(0);
    expect(await readFile(join(root, 'etc/systemd/system/schema_backup.timer'), 'utf8')).toContain(
      'OnCalendar=*-*-* 04:00:00',
    );
    expect((await runCli([...args, '--at', '25:00', '--dry-run'])).code).toBe(2);

    const cron = await runCli([...args, '--cron', '--at', '1:05']);
    expect(cron.code, cron.stderr).toBe(0);
    expect(await readFile(join(root, 'etc/cron.d/schema_backup'), 'utf8')).toContain(
      `5 1 * * * root sleep $(shuf -i 0-900 -n 1) && ${bin} snapshot --config ${config} --quiet --wait-lock 600 >/dev/null\n`,
    );
  });

  it.skipIf(!hasSystemdAnalyze)(
    'the installed and the shipped units pass systemd-analyze verify (skipped when systemd-analyze is not installed: apt-get install systemd)',
    async () => {
      const dir = await createTempDir('timer-verify');
      const config = await writeConfig(dir);
      const root = join(dir, 'root');
      const bin = await fakeExecutable(dir);
      const installed = await runCli([
        'install-timer',
        '--config',
        config,
        '--root',
        root,
        '--bin',
        bin,
      ]);
      expect(installed.code, installed.stderr).toBe(0);
      const units = join(root, 'etc/systemd/system');
      const result = verifyUnits([
        join(units, 'schema_backup.service'),
        join(units, 'schema_backup.timer'),
      ]);
      expect(result).toEqual({ code: 0, output: '' });

      // The shipped units, with ExecStart pointed at an executable that exists here.
      const shipped = join(dir, 'shipped');
      await mkdir(shipped);
      const service = (await readFile(join(ETC, 'systemd/schema_backup.service'), 'utf8')).replace(
        DEFAULT_TIMER_OPTIONS.executable,
        bin,
      );
      await writeFile(join(shipped, 'schema_backup.service'), service);
      await writeFile(
        join(shipped, 'schema_backup.timer'),
        await readFile(join(ETC, 'systemd/schema_backup.timer'), 'utf8'),
      );
      expect(
        verifyUnits([join(shipped, 'schema_backup.service'), join(shipped, 'schema_backup.timer')]),
      ).toEqual({ code: 0, output: '' });
    },
  );
});
