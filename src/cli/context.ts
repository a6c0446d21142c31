/**
 * What every command needs before it starts: the config (located, loaded, warnings shown),
 * a logger, and on demand the connection and the host name. Reads argv and the environment
 * so that workflows never do.
 */
import { join, resolve } from 'node:path';
import { EXAMPLE_CONFIG_HINT, locateConfig } from '../config/locate-config.js';
import { loadConfig, parseConfig } from '../config/load-config.js';
import { resolveConnection, type ConnectionSettings } from '../config/resolve-connection.js';
import type { Config } from '../config/schema.js';
import { ConfigError, UsageError } from '../errors.js';
import { Repository } from '../git/repository.js';
import { listHostDirectories } from '../snapshot/known-hosts.js';
import { pathExists } from '../support/path-exists.js';
import { fullyQualifiedHostName, hostNameProblem } from '../support/host-name.js';
import type { Logger } from '../support/logger.js';
import { connectionOverrides, type ConnectionArgs } from './connection-options.js';
import { loggerFor } from './logger-for.js';
import { PASSWORD_VARIABLES, withdrawnPasswordVariables } from './password-variables.js';

// Kept here too for the commands; main.ts imports them from their own light modules.
export { loggerFor } from './logger-for.js';
export { withdrawPasswordVariables } from './password-variables.js';

/** Options every command accepts. */
export interface GlobalArgs {
  readonly config?: string | undefined;
  readonly verbose?: boolean | undefined;
  readonly quiet?: boolean | undefined;
  readonly database?: string | undefined;
}

export interface CommandContext {
  readonly config: Config;
  readonly logger: Logger;
  /** Warnings of the config, already logged. */
  readonly configWarnings: readonly string[];
}

/** Locates and loads the config, logging its warnings. */
export async function loadContext(
  args: GlobalArgs,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): Promise<CommandContext> {
  const logger = loggerFor(args);
  const file = await locateConfig({
    explicitPath: args.config,
    environmentPath: env.SCHEMA_BACKUP_CONFIG,
    cwd,
  });
  const { config, warnings } = await loadConfig(file);
  // Named by --config or $SCHEMA_BACKUP_CONFIG (the search skips it): a copy of the example
  // that still says so, or the example itself, whose backup directory lies in the tool's
  // own checkout.
  if (config.example === true)
    throw new ConfigError(
      { file, key: 'example' },
      'this is the example config of schema_backup (example: true), which is never used',
      { hint: EXAMPLE_CONFIG_HINT },
    );
  const configWarnings = warnings.map(
    (warning) =>
      `${file}${warning.line === undefined ? '' : `:${String(warning.line)}`}: ${warning.message}`,
  );
  for (const warning of configWarnings) logger.warn(warning);
  return { config, logger, configWarnings };
}

/**
 * The context of a command that reads only the shared repository (`status --all-hosts`,
 * `diff --hosts`, `diff --model`). With `backupDir` (a `--backup-dir` option: a clone of the
 * repository, or a directory in one), it replaces the config's `backup_dir`, and a config is
 * read only when one is found: a clone on a machine with no database and no config works
 * with the defaults (`status.max_age` 26h, the default engine).
 */
export async function loadRepositoryContext(
  args: GlobalArgs,
  backupDir: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): Promise<CommandContext> {
  if (backupDir === undefined) return loadContext(args, env, cwd);
  const explicit =
    args.config !== undefined ||
    (env.SCHEMA_BACKUP_CONFIG !== undefined && env.SCHEMA_BACKUP_CONFIG !== '');
  const found =
    explicit ||
    (await locateConfig({ cwd }).then(
      () => true,
      () => false,
    ));
  const context = found
    ? await loadContext(args, env, cwd)
    : {
        config: parseConfig('', join(cwd, 'schema_backup.conf')).config,
        logger: loggerFor(args),
        configWarnings: [],
      };
  return { ...context, config: { ...context.config, backupDir: resolve(cwd, backupDir) } };
}

/**
 * The repository holding `backupDir`, for a command that only reads it (`what` says which).
 * Throws a UsageError (exit 2) when the directory does not exist (nothing is created) or
 * is in no git repository.
 */
export async function requireRepository(backupDir: string, what: string): Promise<Repository> {
  const hint =
    'Point --backup-dir (or backup_dir in the config) at a clone of the shared repository.';
  if (!(await pathExists(backupDir)))
    throw new UsageError(`${what}: the backup directory ${backupDir} does not exist`, { hint });
  const repository = await Repository.find(backupDir);
  if (repository === undefined)
    throw new UsageError(`${what}: ${backupDir} is not in a git repository`, { hint });
  return repository;
}

/**
 * The connection of the context's config, `--database` overriding `database.name` and the
 * connection options (`--socket`, `--port`, …: connection-options.ts) the other keys. The
 * password variables are those withdrawn at start, or still in `env` (then removed from it).
 */
export async function connectionFor(
  context: CommandContext,
  args: GlobalArgs & ConnectionArgs,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ConnectionSettings> {
  const connection = await resolveConnection(context.config, {
    env: { ...withdrawnPasswordVariables(), ...env },
    database: args.database,
    overrides: connectionOverrides(args),
    warn: (message) => context.logger.warn(message),
  });
  // Read once; from now on no child process (git and its hooks) inherits a password.
  for (const name of PASSWORD_VARIABLES) Reflect.deleteProperty(env, name);
  return connection;
}

/**
 * The host directory's name: `hostArg` (a `--backup-host` option), else `hostname:` from the
 * config (checked when it was loaded), else the fully qualified host name. Throws a
 * UsageError when the option or the system's name cannot be one.
 */
export async function hostNameFor(config: Config, hostArg?: string): Promise<string> {
  if (hostArg !== undefined) return hostArgument(hostArg, '--backup-host');
  if (config.hostname !== undefined) return config.hostname;
  const host = await fullyQualifiedHostName();
  const problem = hostNameProblem(host);
  if (problem !== undefined)
    throw new UsageError(
      `this host's name ${JSON.stringify(host)} cannot name the host directory: ${problem}`,
      { hint: 'Set hostname: in the config.' },
    );
  return host;
}

/**
 * `value` of the command-line option `option` (`--backup-host`, `--against-host`), checked
 * as a host directory name. Throws a UsageError (exit 2) for a name such as `..` or `a/b`,
 * which would lead outside the backup directory.
 */
export function hostArgument(value: string, option: string): string {
  const problem = hostNameProblem(value);
  if (problem !== undefined)
    throw new UsageError(
      `${option} ${JSON.stringify(value)} cannot name a host directory: ${problem}`,
    );
  return value;
}

/**
 * Throws a UsageError (exit 2) naming the host directories that exist when `host` has none
 * in the working tree nor at `revisions` (HEAD when none is given): a mistyped
 * `--backup-host` must not read as an empty snapshot. `option` names where the host came
 * from.
 */
export async function requireKnownHost(
  config: Config,
  host: string,
  option: string,
  repository: Repository | undefined,
  revisions: readonly string[] = [],
): Promise<void> {
  const hosts = await listHostDirectories(config.backupDir, repository, revisions);
  if (hosts.includes(host)) return;
  throw new UsageError(
    `${option} ${JSON.stringify(host)}: there is no such host directory in ${config.backupDir}`,
    {
      hint:
        hosts.length === 0
          ? 'There is no host directory yet: take a snapshot first.'
          : `Host directories: ${hosts.join(', ')}.`,
    },
  );
}
