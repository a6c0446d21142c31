#!/usr/bin/env node
/**
 * The command line: parses argv with yargs, runs one command, and is the one place that
 * catches errors, prints them and chooses the exit code.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ExitCode, isSchemaBackupError, SchemaBackupError, UsageError } from '../errors.js';
import { printableLines } from '../support/printable.js';
import { redact } from '../support/redact.js';
import { checkBuilder } from './commands/check-options.js';
import type { CheckArgs } from './commands/check.js';
import { decryptBuilder } from './commands/decrypt-options.js';
import type { DecryptArgs } from './commands/decrypt.js';
import { keygenBuilder } from './commands/keygen-options.js';
import type { KeygenArgs } from './commands/keygen.js';
import { restoreBuilder } from './commands/restore-options.js';
import type { RestoreArgs } from './commands/restore.js';
import { verifyBuilder } from './commands/verify-options.js';
import type { VerifyArgs } from './commands/verify.js';
import { diffBuilder } from './commands/diff-options.js';
import type { DiffArgs } from './commands/diff.js';
import { logBuilder } from './commands/log-options.js';
import type { LogArgs } from './commands/log.js';
import { snapshotBuilder } from './commands/snapshot-options.js';
import type { SnapshotArgs } from './commands/snapshot.js';
import { servicesBuilder } from './commands/services-options.js';
import type { ServicesArgs } from './commands/services.js';
import { upgradeBuilder } from './commands/upgrade-options.js';
import type { UpgradeArgs } from './commands/upgrade.js';
import { pruneBuilder } from './commands/prune-options.js';
import type { PruneArgs } from './commands/prune.js';
import { statusBuilder } from './commands/status-options.js';
import type { StatusArgs } from './commands/status.js';
import { installTimerBuilder } from './commands/install-timer-options.js';
import type { InstallTimerArgs } from './commands/install-timer.js';
import { dumpBuilder } from './commands/dump-options.js';
import type { DumpArgs } from './commands/dump.js';
import { loadBuilder } from './commands/load-options.js';
import type { LoadArgs } from './commands/load.js';
import { withdrawPasswordVariables } from './password-variables.js';
import { startBufferCollector } from '../support/buffer-collector.js';

/** Runs the CLI on `argv` (without node and script) and returns the exit code. Never throws. */
export async function main(argv: readonly string[]): Promise<number> {
  // Before anything can start a child process: none of them may inherit the password.
  withdrawPasswordVariables();
  let exitCode: number = ExitCode.Ok;
  const setExit = (code: number): void => {
    exitCode = code;
  };
  // Words after `--` are the upgrade command, taken as they are: yargs would turn `10.10`
  // into the number 10.1.
  const separator = argv.indexOf('--');
  const options = separator < 0 ? argv : argv.slice(0, separator);
  const trailing = separator < 0 ? undefined : argv.slice(separator + 1);
  let verbose = options.includes('--verbose') || options.includes('-v');
  try {
    await buildParser(options, trailing, setExit).parseAsync();
  } catch (error) {
    verbose ||= process.env.SCHEMA_BACKUP_DEBUG === '1';
    // With --json, the error is JSON on stdout too, where the caller's parser reads; not
    // when stdout carries a dump (`-o -`).
    const json =
      options.includes('--json') &&
      !options.some(
        (word, at) => word === '-' && ['-o', '--output'].includes(options[at - 1] ?? ''),
      );
    return reportError(error, verbose, json);
  }
  return exitCode;
}

function buildParser(
  argv: readonly string[],
  trailing: readonly string[] | undefined,
  setExit: (code: number) => void,
): Argv {
  const run =
    <T>(handler: (args: T) => Promise<number>) =>
    async (args: T): Promise<void> => {
      if (trailing !== undefined)
        throw new UsageError('only upgrade takes a command after --', {
          hint: 'e.g. schema_backup upgrade -- apt-get install -y mariadb-server',
        });
      setExit(await handler(args));
    };
  // Each command's options are built here (help, parsing); its handler module, with the
  // drivers, git and age it needs, is imported only when that command runs: `--version`,
  // `--help` and `status` start in half the time.
  // .help() without .alias('help', 'h'): as for the mariadb client, -h is the database
  // server's host (connection-options.ts); `-h 127.0.0.1` must not print the help, exit 0.
  // English, as every message of ours is, whatever LANG says: usageHint() reads yargs'
  // English messages, and the bundle (dist/cli/main.js) carries no yargs locale files.
  return withoutHelpCache(yargs([...argv]))
    .locale('en')
    .scriptName('schema_backup')
    .usage('$0 [command] [options]\n\nKeep a MariaDB/MySQL schema and configuration under git.')
    .option('config', {
      alias: 'c',
      type: 'string',
      describe:
        'config file (default: $SCHEMA_BACKUP_CONFIG, ./etc/schema_backup.conf, /etc/schema_backup/schema_backup.conf)',
    })
    .option('database', {
      type: 'string',
      describe: 'database to use instead of database.name (dump: --databases for several)',
    })
    .option('verbose', {
      alias: 'v',
      type: 'boolean',
      describe: 'more detail, and the cause of errors',
    })
    .option('quiet', {
      alias: 'q',
      type: 'boolean',
      describe: 'only warnings and errors on stderr',
    })
    .command(
      ['snapshot', '$0'],
      'take a snapshot of the database and commit it (the default command)',
      snapshotBuilder,
      run(async (args: SnapshotArgs) =>
        (await import('./commands/snapshot.js')).snapshotHandler(args),
      ),
    )
    .command(
      'restore',
      'rebuild a database from a snapshot (working tree, --rev, or --legacy DIR) and a user-data copy',
      restoreBuilder,
      run(async (args: RestoreArgs) =>
        (await import('./commands/restore.js')).restoreHandler(args),
      ),
    )
    .command(
      'verify',
      'restore a snapshot into a scratch database and compare (--live: compare the live database); exit 3 on differences',
      verifyBuilder,
      run(async (args: VerifyArgs) => (await import('./commands/verify.js')).verifyHandler(args)),
    )
    .command(
      'diff [revisions..]',
      'schema and row changes between two revisions, two hosts, or the last commit and the live database (--live: exit 3 on drift); --hosts A B, --model HOST: committed hosts, exit 3 when they differ',
      diffBuilder,
      run(async (args: DiffArgs) => (await import('./commands/diff.js')).diffHandler(args)),
    )
    .command(
      'log',
      'the snapshot history of this host, with what changed in each commit',
      logBuilder,
      run(async (args: LogArgs) => (await import('./commands/log.js')).logHandler(args)),
    )
    .command(
      'upgrade',
      'stop the consumers, snapshot, run the upgrade command (after --), snapshot again, show the schema diff, start the consumers',
      upgradeBuilder,
      async (args: UpgradeArgs) => {
        const { upgradeHandler } = await import('./commands/upgrade.js');
        setExit(await upgradeHandler(args, trailing ?? []));
      },
    )
    .command(
      'services <action>',
      'stop, start or show the consumers by hand (start --resume: what a crashed run left stopped)',
      servicesBuilder,
      run(async (args: ServicesArgs) =>
        (await import('./commands/services.js')).servicesHandler(args),
      ),
    )
    .command(
      'keygen',
      'make an age identity (secret key file) and print its recipient (public key)',
      keygenBuilder,
      run(async (args: KeygenArgs) => (await import('./commands/keygen.js')).keygenHandler(args)),
    )
    .command(
      'decrypt [files..]',
      'write the SQL of user-data files (a copy of local tables) to stdout',
      decryptBuilder,
      run(async (args: DecryptArgs) =>
        (await import('./commands/decrypt.js')).decryptHandler(args),
      ),
    )
    .command(
      'dump',
      'a full dump of every table and row: consistent, parallel, compressed and encrypted (to dump.dir, a file, or stdout); --databases or --all-databases for more than one',
      dumpBuilder,
      run(async (args: DumpArgs) => (await import('./commands/dump.js')).dumpHandler(args)),
    )
    .command(
      'load [dump]',
      'load a dump file or directory (or --from-offsite a dump on the remote) into a database (checks its end marker, manifest and row counts)',
      loadBuilder,
      run(async (args: LoadArgs) => (await import('./commands/load.js')).loadHandler(args)),
    )
    .command(
      'check',
      'validate the config, connect, and list every table with its category',
      checkBuilder,
      run(async (args: CheckArgs) => (await import('./commands/check.js')).checkHandler(args)),
    )
    .command(
      'prune',
      'delete user-data copies and dumps beyond the retention policy (--dry-run: list them)',
      pruneBuilder,
      run(async (args: PruneArgs) => (await import('./commands/prune.js')).pruneHandler(args)),
    )
    .command(
      'status',
      'last runs, their age, failures and disk use; exit 1 when the last successful snapshot is older than --max-age (--all-hosts: every host of the repository)',
      statusBuilder,
      run(async (args: StatusArgs) => (await import('./commands/status.js')).statusHandler(args)),
    )
    .command(
      'install-timer',
      'install the nightly systemd timer (or --cron file) for this config; --root DIR, --dry-run',
      installTimerBuilder,
      run(async (args: InstallTimerArgs) =>
        (await import('./commands/install-timer.js')).installTimerHandler(args),
      ),
    )
    .strict()
    .help()
    .version(packageVersion())
    .wrap(Math.min(110, process.stdout.columns || 100))
    .epilogue('Exit codes: 0 success, 1 failure, 2 bad usage or config, 3 differences found.')
    .fail((message: string | null | undefined, error: Error | undefined) => {
      // Parse failures come here as a message, and a value an option's coerce refused as a
      // YError (yargs wraps what coerce throws: number-option.ts); a handler's error is
      // rethrown untouched so that a runtime failure never prints the help text
      // (yargs/yargs#2394).
      if (error !== undefined && error.name !== 'YError') throw error;
      const problem = message ?? error?.message ?? 'bad usage';
      throw new UsageError(problem, { hint: usageHint(problem) });
    });
}

/**
 * yargs renders the whole help text (the width of every line) before each command's handler
 * and keeps it, to print with a later failure: 15-20 ms of every run. Ours never prints it
 * (`.fail` throws, the error is printed by main), so the cache is switched off, where
 * yargs' internals offer it (otherwise nothing changes).
 */
function withoutHelpCache(parser: Argv): Argv {
  type Internals = { getUsageInstance?: () => { cacheHelpMessage?: unknown } | undefined };
  const usage = (parser as unknown as { getInternalMethods?: () => Internals })
    .getInternalMethods?.()
    .getUsageInstance?.();
  if (usage !== undefined && typeof usage.cacheHelpMessage === 'function')
    usage.cacheHelpMessage = (): void => undefined;
  return parser;
}

/**
 * The version in the package's package.json, two levels up from this module both as
 * src/cli/main.ts and as the bundle dist/cli/main.js. (yargs' own guess looks beside its
 * node_modules folder, which the bundle has none of: from another directory it said
 * `unknown`.)
 */
function packageVersion(): string {
  try {
    const manifest = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version?: unknown };
    return typeof manifest.version === 'string' ? manifest.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * What to do about a parse failure; for the options a MariaDB user reaches for, what they
 * are called here.
 */
function usageHint(problem: string): string {
  const help = 'Run schema_backup --help for the commands and options.';
  const unknown = /^Unknown arguments?: (.*)$/.exec(problem)?.[1]?.split(', ') ?? [];
  if (unknown.includes('h') || /following: h$/.test(problem))
    return `-h is the database server's host, as for the mariadb and psql clients, on the commands that connect; --help prints the help. ${help}`;
  if (unknown.includes('host'))
    return `--host (now --backup-host) names a backup host directory, on diff, log, restore and verify; the database server's host is -h/--server-host. ${help}`;
  if (unknown.some((name) => ['password', 'p'].includes(name)))
    return 'There is no password option (a command line is visible to other users): the password comes from database.password_file, else $SCHEMA_BACKUP_DB_PASSWORD, else the option files (~/.my.cnf, --defaults-extra-file) with MariaDB, or $PGPASSWORD, a service or ~/.pgpass with PostgreSQL.';
  return help;
}

/**
 * Prints `error: ...` (and the hint, and with --verbose the causes) on stderr and returns the
 * exit code. With `json`, also prints `{"error": {type, message, hint, exitCode}}` on stdout.
 */
export function reportError(error: unknown, verbose: boolean, json = false): number {
  const exitCode = reportErrorText(error, verbose);
  if (json) {
    const known = isSchemaBackupError(error);
    process.stdout.write(
      `${JSON.stringify({
        error: {
          type: error instanceof Error ? error.name : 'Error',
          message: redact(error instanceof Error ? error.message : String(error)),
          hint: known && error.hint !== undefined ? redact(error.hint) : null,
          exitCode,
        },
      })}\n`,
    );
  }
  return exitCode;
}

function reportErrorText(error: unknown, verbose: boolean): number {
  const write = (line: string): void => {
    process.stderr.write(`${printableLines(redact(line))}\n`);
  };
  if (isSchemaBackupError(error)) {
    write(`error: ${error.message}`);
    if (error.hint !== undefined) write(`hint: ${error.hint}`);
    if (verbose) {
      let cause: unknown = error.cause;
      while (cause !== undefined && cause !== null) {
        write(`cause: ${cause instanceof Error ? cause.message : JSON.stringify(cause)}`);
        cause = cause instanceof Error ? cause.cause : undefined;
      }
    }
    return error.exitCode;
  }
  // A file system or network failure (EACCES, ENOSPC, …) is the machine's, not a bug.
  const system = error as NodeJS.ErrnoException;
  if (
    error instanceof Error &&
    typeof system.code === 'string' &&
    typeof system.syscall === 'string'
  ) {
    write(`error: ${error.message}`);
    write('hint: check the permissions and free space of the paths in the config.');
    return ExitCode.Failure;
  }
  write(`error: ${error instanceof Error ? error.message : String(error)}`);
  write(
    'this is a bug in schema_backup: please report it with the command you ran and this output (run again with --verbose for the stack).',
  );
  if (verbose && error instanceof Error && error.stack !== undefined) write(error.stack);
  return error instanceof SchemaBackupError ? error.exitCode : ExitCode.Failure;
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // A reader that stops early (`| head`, `| mariadb` that failed) closes the pipe: that ends
  // the run quietly, as for any Unix tool, instead of an unhandled 'error' with a stack.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(ExitCode.Failure);
    throw error;
  });
  // If the run's promise never settles (a driver event nobody listens to) the event loop
  // drains and Node would exit 0: a failed run must never look like a good one.
  let finished = false;
  process.once('beforeExit', () => {
    if (finished) return;
    process.stderr.write(
      'error: the run stopped before it finished; this is a bug in schema_backup, please report it (run again with --verbose)\n',
    );
    process.exit(ExitCode.Failure);
  });
  // Only for the CLI's own process: a program that imports main() keeps its own GC settings.
  const stopBufferCollector = startBufferCollector();
  process.exitCode = await main(hideBin(process.argv));
  stopBufferCollector();
  finished = true;
}
