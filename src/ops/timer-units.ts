/**
 * The nightly schedule: a systemd service and timer pair, or a cron file, rendered from
 * options (pure), and installed under a root directory (`/` for real, a temp dir in tests).
 * The service is sandboxed (read-only system and home, private /tmp and devices, no new
 * privileges) yet may read the config, write the configured directories (`ReadWritePaths`)
 * and reach the database over its socket or TCP. Installing never runs systemctl.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../support/atomic-write.js';

export const UNIT_NAME = 'schema_backup';

export interface TimerUnitOptions {
  /** Absolute path of the `schema_backup` executable. */
  readonly executable: string;
  /** Absolute path of the config file. */
  readonly configFile: string;
  /** Time of day, `HH:MM` (local time of the host, as systemd and cron read it). */
  readonly at: string;
  /** Seconds of random delay after `at`, so that many hosts do not start at once. */
  readonly randomizedDelaySeconds: number;
  /** Directories the run writes: backup, user data, dumps, log, metrics, state. */
  readonly writablePaths: readonly string[];
  /** Run as this user instead of root. */
  readonly user?: string | undefined;
}

/** The defaults of the shipped units in `etc/` (see the README recipe). */
export const DEFAULT_TIMER_OPTIONS: TimerUnitOptions = {
  executable: '/usr/local/bin/schema_backup',
  configFile: '/etc/schema_backup/schema_backup.conf',
  at: '02:30',
  randomizedDelaySeconds: 900,
  writablePaths: [
    '/var/local/schema_backup',
    '/var/log/schema_backup',
    '/var/lib/prometheus/node-exporter',
  ],
};

/** `[hour, minute]` of an `HH:MM` time; throws {@link UsageError} on anything else. */
export function parseTimeOfDay(at: string): [number, number] {
  const match = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(at);
  if (match === null)
    throw new UsageError(`--at ${at} is not a time of day`, {
      hint: 'Write it as HH:MM, e.g. --at 02:30.',
    });
  return [Number(match[1]), Number(match[2])];
}

/** The arguments of the nightly run, as the service and cron run it. */
function runArguments(options: TimerUnitOptions): string[] {
  return [
    options.executable,
    'snapshot',
    '--config',
    options.configFile,
    '--quiet',
    '--wait-lock',
    '600',
  ];
}

/** systemd quoting for ExecStart arguments and paths with spaces or specials. */
function quoteSystemd(argument: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(argument)) return argument;
  return `"${argument.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** `schema_backup.service`. */
export function renderServiceUnit(options: TimerUnitOptions): string {
  const paths = [...new Set(options.writablePaths)].sort();
  return [
    '# Installed by `schema_backup install-timer`; started by schema_backup.timer.',
    '[Unit]',
    'Description=schema_backup nightly snapshot of the database schema',
    'Wants=network-online.target',
    'After=network-online.target mariadb.service mysql.service',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${runArguments(options).map(quoteSystemd).join(' ')}`,
    ...(options.user === undefined ? [] : [`User=${options.user}`]),
    'Nice=10',
    'IOSchedulingClass=idle',
    'TimeoutStartSec=4h',
    'UMask=0077',
    '# Sandbox: the system and /home are read-only (the config and keys stay readable),',
    '# only the directories of the config are writable; the database is reached over its',
    '# socket (connecting needs no write access) or TCP. `-` skips a path that does not exist.',
    'ProtectSystem=strict',
    'ProtectHome=read-only',
    ...(paths.length === 0
      ? []
      : [`ReadWritePaths=${paths.map((path) => quoteSystemd(`-${path}`)).join(' ')}`]),
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'NoNewPrivileges=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'RestrictNamespaces=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    'SystemCallArchitectures=native',
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6',
    '# Node.js compiles code at run time: MemoryDenyWriteExecute must stay off.',
    '',
  ].join('\n');
}

/** `schema_backup.timer`. */
export function renderTimerUnit(options: TimerUnitOptions): string {
  const [hour, minute] = parseTimeOfDay(options.at);
  return [
    '# Installed by `schema_backup install-timer`. Enable with:',
    '#   systemctl daemon-reload && systemctl enable --now schema_backup.timer',
    '[Unit]',
    'Description=Nightly schema_backup snapshot',
    '',
    '[Timer]',
    `OnCalendar=*-*-* ${pad(hour)}:${pad(minute)}:00`,
    `RandomizedDelaySec=${String(options.randomizedDelaySeconds)}`,
    '# A run missed while the host was off starts at the next boot.',
    'Persistent=true',
    'AccuracySec=1m',
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
}

/** `/etc/cron.d/schema_backup`: the same run from cron (a random delay by `shuf`). */
export function renderCronFile(options: TimerUnitOptions): string {
  const [hour, minute] = parseTimeOfDay(options.at);
  // cron reads an unescaped % as a newline.
  const command = runArguments(options).map(quoteShell).join(' ').replace(/%/g, '\\%');
  const delay =
    options.randomizedDelaySeconds > 0
      ? `sleep $(shuf -i 0-${String(options.randomizedDelaySeconds)} -n 1) && `
      : '';
  return [
    '# schema_backup nightly snapshot (installed by `schema_backup install-timer --cron`).',
    '# The summary on stdout is dropped; with --quiet stderr has only warnings and errors,',
    '# which cron mails.',
    'SHELL=/bin/sh',
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    `${String(minute)} ${String(hour)} * * * ${options.user ?? 'root'} ${delay}${command} >/dev/null`,
    '',
  ].join('\n');
}

export interface InstalledFile {
  readonly path: string;
  readonly content: string;
  /** `created`, `replaced`, `unchanged`, or in a dry run `would-write`. */
  readonly action: 'created' | 'replaced' | 'unchanged' | 'would-write';
}

/**
 * Writes the units (or with `cron` the cron file) under `root` (`/etc/systemd/system/` or
 * `/etc/cron.d/` below it). An existing file with other content is replaced only with
 * `force`, else {@link UsageError}. `dryRun` writes nothing.
 */
export async function installTimer(
  options: TimerUnitOptions,
  install: { root: string; cron: boolean; dryRun: boolean; force: boolean },
): Promise<InstalledFile[]> {
  const files = install.cron
    ? [
        {
          path: join(install.root, 'etc/cron.d', UNIT_NAME),
          content: renderCronFile(options),
          mode: 0o644,
        },
      ]
    : [
        {
          path: join(install.root, 'etc/systemd/system', `${UNIT_NAME}.service`),
          content: renderServiceUnit(options),
          mode: 0o644,
        },
        {
          path: join(install.root, 'etc/systemd/system', `${UNIT_NAME}.timer`),
          content: renderTimerUnit(options),
          mode: 0o644,
        },
      ];
  const existing = await Promise.all(
    files.map((file) => readFile(file.path, 'utf8').catch(() => undefined)),
  );
  if (!install.force) {
    const conflict = files.find(
      (file, index) => existing[index] !== undefined && existing[index] !== file.content,
    );
    if (conflict !== undefined)
      throw new UsageError(`${conflict.path} exists with other content`, {
        hint: 'Compare with --dry-run, then pass --force to replace it.',
      });
  }
  const result: InstalledFile[] = [];
  for (const [index, file] of files.entries()) {
    const before = existing[index];
    if (install.dryRun) {
      result.push({ path: file.path, content: file.content, action: 'would-write' });
      continue;
    }
    if (before === file.content) {
      result.push({ path: file.path, content: file.content, action: 'unchanged' });
      continue;
    }
    await mkdir(join(file.path, '..'), { recursive: true, mode: 0o755 });
    await writeFileAtomic(file.path, file.content, { mode: file.mode });
    result.push({
      path: file.path,
      content: file.content,
      action: before === undefined ? 'created' : 'replaced',
    });
  }
  return result;
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

/** POSIX sh single quotes where needed. */
function quoteShell(argument: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(argument)) return argument;
  return `'${argument.replace(/'/g, `'\\''`)}'`;
}
