/**
 * `schema_backup install-timer`: installs the nightly schedule, a systemd service and timer
 * (or with `--cron` a cron file), for this config. `--root DIR` installs below DIR instead of
 * `/`; `--dry-run` prints the files. Never runs systemctl: it prints what to run next.
 */
import { existsSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { installTimer, parseTimeOfDay, type TimerUnitOptions } from '../../ops/timer-units.js';
import { parseDuration } from '../../support/duration.js';
import { hostNameFor, loadContext, type GlobalArgs } from '../context.js';
import { dumpDirectoryOf, stateFileOf } from '../ops-config.js';
import { printJson, printLine } from '../output/print.js';

export interface InstallTimerArgs extends GlobalArgs {
  readonly root?: string | undefined;
  readonly dryRun?: boolean | undefined;
  readonly cron?: boolean | undefined;
  readonly at?: string | undefined;
  readonly randomizedDelay?: string | undefined;
  readonly bin?: string | undefined;
  readonly user?: string | undefined;
  readonly force?: boolean | undefined;
  readonly json?: boolean | undefined;
}

export async function installTimerHandler(args: InstallTimerArgs): Promise<number> {
  const context = await loadContext(args);
  const { config } = context;
  parseTimeOfDay(args.at ?? '02:30');
  const delay = parseDuration(args.randomizedDelay ?? '15m');
  if (delay === undefined)
    throw new UsageError(`--randomized-delay ${args.randomizedDelay ?? ''} is not a duration`);
  const executable = resolve(args.bin ?? findExecutable());
  const host = await hostNameFor(config);
  const writable = [
    config.backupDir,
    config.userDataBackupDir,
    dumpDirectoryOf(config),
    config.logging.file === undefined ? undefined : dirname(config.logging.file),
    config.metrics.textfile === undefined ? undefined : dirname(config.metrics.textfile),
    dirname(stateFileOf(config, host)),
  ].filter((path): path is string => path !== undefined);
  const options: TimerUnitOptions = {
    executable,
    configFile: config.file,
    at: args.at ?? '02:30',
    randomizedDelaySeconds: Math.round(delay),
    // The state file's directory is inside the backup directory unless state_file moves it.
    writablePaths: writable.filter(
      (path) => !writable.some((other) => other !== path && path.startsWith(`${other}/`)),
    ),
    user: args.user,
  };
  const root = resolve(args.root ?? '/');
  const files = await installTimer(options, {
    root,
    cron: args.cron === true,
    dryRun: args.dryRun === true,
    force: args.force === true,
  });
  if (args.json === true) {
    printJson(files);
    return 0;
  }
  for (const file of files) {
    if (file.action === 'would-write') {
      printLine(`# ${file.path}`);
      printLine(file.content);
    } else printLine(`${file.action} ${file.path}`);
  }
  if (args.dryRun !== true) {
    const prefix = root === '/' ? '' : ` (after copying them from ${root} to /)`;
    printLine(
      args.cron === true
        ? `cron picks the file up by itself${prefix}.`
        : `next${prefix}: systemctl daemon-reload && systemctl enable --now schema_backup.timer`,
    );
  }
  return 0;
}

/** `schema_backup` on PATH, else the script running now. */
function findExecutable(): string {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    if (directory === '' || !isAbsolute(directory)) continue;
    const candidate = join(directory, 'schema_backup');
    if (existsSync(candidate)) return candidate;
  }
  return process.argv[1] ?? 'schema_backup';
}
