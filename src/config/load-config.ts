/**
 * Reads a config file: YAML syntax, the type of every known key, the rules across keys
 * (a table in two categories, ...), defaults and aliases, and where the run would write as
 * the file system is now (only read: nothing inside `.git`, no directory that is a file, user
 * data apart from git). Every problem that stops the run is a {@link ConfigError} naming file,
 * line and key, thrown before anything is touched; the rest come back as warnings. Never
 * reads a password: it only records where one is.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import yaml from 'js-yaml';
import { ConfigError } from '../errors.js';
import { parseDuration } from '../support/duration.js';
import { hostNameProblem } from '../support/host-name.js';
import { fileInTheWay, gitDirectoryContaining, isSameOrInside } from './directory-rules.js';
import { nearestKey } from './nearest-key.js';
import {
  CATEGORIES,
  DATABASE_KEYS,
  DEFAULT_ENGINE_NAME,
  ENGINE_NAMES,
  ENGINE_ONLY_DATABASE_KEYS,
  SSL_MODES,
  ENCRYPTION_KEYS,
  GIT_KEYS,
  PAUSE_HOOK_KEYS,
  SERVICE_MANAGER_KEYS,
  LOG_LEVELS,
  LOGGING_KEYS,
  METRICS_KEYS,
  NOTIFY_KEYS,
  RETENTION_KEYS,
  STATUS_KEYS,
  DUMP_KEYS,
  OFFSITE_KEYS,
  OFFSITE_RETENTION_KEYS,
  TOP_LEVEL_KEYS,
  type Categories,
  type Category,
  type Config,
  type DumpConfig,
  type ConfigWarning,
  type DatabaseConfig,
  type EngineName,
  type SslModeName,
  type EncryptionConfig,
  type GitConfig,
  type LoadedConfig,
  type PauseHooksConfig,
  type ServiceManagerConfig,
  type LoggingConfig,
  type MetricsConfig,
  type NotifyConfig,
  type OffsiteConfig,
  type RetentionConfig,
  type StatusConfig,
} from './schema.js';
import { splitCommandLine } from './split-command.js';
import { mapYamlSource, type KeyPath, type YamlSourceMap } from './source-map.js';

type Mapping = Readonly<Record<string, unknown>>;

/** Reads and checks the config at `file` (absolute). */
export async function loadConfig(file: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError({ file }, `cannot read the config: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const loaded = parseConfig(text, file);
  await checkRecipientsFile(loaded.config, text);
  return loaded;
}

/**
 * The rule of `recipients: []` applied to `recipients_file`, which {@link parseConfig} does
 * not read: with local tables and a user-data directory and no inline recipient, the file
 * must be readable and hold at least one recipient line (and no secret key). Throws a
 * ConfigError at the line of `encryption.recipients_file`. Whether each line is a valid
 * recipient is checked where the recipients are used, as for the inline list.
 */
async function checkRecipientsFile(config: Config, text: string): Promise<void> {
  const { encryption } = config;
  const path = encryption.recipientsFile;
  if (
    path === undefined ||
    config.categories.local.length === 0 ||
    config.userDataBackupDir === undefined ||
    encryption.recipients.length > 0
  )
    return;
  const location = {
    file: config.file,
    line: mapYamlSource(text).lineOf(['encryption', 'recipients_file']),
    key: 'encryption.recipients_file',
  };
  const hint =
    'Local rows are saved encrypted only. List the age1... public key printed by `schema_backup keygen` (or `age-keygen -y key.txt`) in that file, one per line.';
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      location,
      `cannot read the recipients file ${path}: ${(error as Error).message}`,
      { cause: error, hint },
    );
  }
  const lines = content
    .split(/\r?\n/)
    .map((line, index) => ({ line: line.trim(), number: index + 1 }))
    .filter(({ line }) => line !== '' && !line.startsWith('#'));
  // Never echo the line: it is a secret.
  const secret = lines.find(({ line }) => /^AGE-SECRET-KEY-/i.test(line));
  if (secret !== undefined)
    throw new ConfigError(
      location,
      `${path}:${String(secret.number)} is a secret key (an age identity), not a recipient`,
      {
        hint: 'Put the public key (age-keygen -y key.txt prints it) there instead, and keep the identity off this host.',
      },
    );
  if (lines.length === 0)
    throw new ConfigError(
      location,
      `${path} holds no age recipient, but ${String(config.categories.local.length)} local table(s) and user_data_backup_dir are set`,
      { hint },
    );
}

/** Checks config `text` as if read from `file` (absolute; relative paths resolve against its directory). */
export function parseConfig(text: string, file: string): LoadedConfig {
  let document: unknown;
  try {
    document = yaml.load(text, { filename: file, schema: yaml.CORE_SCHEMA });
  } catch (error) {
    const mark = (error as { mark?: { line?: number } }).mark;
    const reason = (error as { reason?: string }).reason ?? (error as Error).message;
    throw new ConfigError(
      { file, line: mark?.line === undefined ? undefined : mark.line + 1 },
      `malformed YAML: ${reason}`,
      {
        cause: error,
      },
    );
  }
  const reader = new ConfigReader(file, mapYamlSource(text));
  return reader.read(document);
}

const KEY_NAMES = {
  top: TOP_LEVEL_KEYS as readonly string[],
  database: DATABASE_KEYS as readonly string[],
  encryption: ENCRYPTION_KEYS as readonly string[],
  git: GIT_KEYS as readonly string[],
  serviceManager: SERVICE_MANAGER_KEYS as readonly string[],
  pauseHooks: PAUSE_HOOK_KEYS as readonly string[],
  retention: RETENTION_KEYS as readonly string[],
  logging: LOGGING_KEYS as readonly string[],
  notify: NOTIFY_KEYS as readonly string[],
  metrics: METRICS_KEYS as readonly string[],
  status: STATUS_KEYS as readonly string[],
  dump: DUMP_KEYS as readonly string[],
  offsite: OFFSITE_KEYS as readonly string[],
  offsiteRetention: OFFSITE_RETENTION_KEYS as readonly string[],
};

/** How messages name an engine's keys. */
const ENGINE_LABELS: Readonly<Record<EngineName, string>> = {
  mariadb: 'MariaDB/MySQL',
  postgresql: 'PostgreSQL',
};

/** What to do about a key of the other engine, by the config's engine. */
const OTHER_ENGINE_KEY_HINTS: Readonly<Record<EngineName, string>> = {
  mariadb:
    'Set database.engine: postgresql for a PostgreSQL server, or remove the key. MariaDB reads TLS from ssl, ssl_ca, ssl_cert, ssl_key and ssl_verify_server_cert, and the rest from MySQL option files (defaults_file).',
  postgresql:
    'PostgreSQL does not read MySQL option files: remove the key. Use database.service (pg_service.conf), database.sslmode and database.sslrootcert; PG* variables and ~/.pgpass are read as psql reads them.',
};

/** systemd's commands, the service manager when the config names none. */
const SYSTEMCTL: Readonly<Record<'stop' | 'start' | 'restart' | 'status', string>> = {
  stop: 'systemctl stop {service}',
  start: 'systemctl start {service}',
  restart: 'systemctl restart {service}',
  status: 'systemctl is-active --quiet {service}',
};

class ConfigReader {
  readonly warnings: ConfigWarning[] = [];

  private readonly file: string;
  private readonly source: YamlSourceMap;

  constructor(file: string, source: YamlSourceMap) {
    this.file = file;
    this.source = source;
  }

  read(document: unknown): LoadedConfig {
    const root = document === null || document === undefined ? {} : this.mapping(document, []);
    this.warnUnknownKeys(root, [], KEY_NAMES.top);
    const configDir = dirname(this.file);

    if (root.csv2_backup_dir !== undefined && root.backup_dir !== undefined) {
      throw this.error(
        ['backup_dir'],
        'both csv2_backup_dir and its alias backup_dir are set; keep one',
      );
    }
    const backupDirKey = root.backup_dir !== undefined ? 'backup_dir' : 'csv2_backup_dir';
    const backupDirValue = this.optionalString(root, [backupDirKey]);
    const backupDir =
      backupDirValue === undefined || backupDirValue === 'default'
        ? defaultBackupDir(configDir)
        : this.path(backupDirValue, configDir);

    const userDataDir = this.optionalString(root, ['user_data_backup_dir']);
    const userDataCompression = this.optionalString(root, ['user_data_compression']);
    if (
      userDataCompression !== undefined &&
      !['zstd', 'gzip', 'none'].includes(userDataCompression)
    )
      throw this.error(
        ['user_data_compression'],
        `must be zstd, gzip or none, not ${JSON.stringify(userDataCompression)}`,
      );
    const categories = this.categories(root);
    const database = this.database(root, configDir);
    const encryption = this.encryption(root, configDir);
    const git = this.git(root);
    const pauseInterval = this.optionalNumber(root, ['pause_interval']) ?? 0;
    if (pauseInterval < 0 || pauseInterval > 86_400)
      throw this.error(['pause_interval'], 'must be from 0 to 86400 seconds');

    if (
      categories.local.length > 0 &&
      userDataDir !== undefined &&
      encryption.recipients.length === 0 &&
      encryption.recipientsFile === undefined
    ) {
      throw this.error(
        ['encryption', 'recipients'],
        `${String(categories.local.length)} local table(s) and user_data_backup_dir are set, but no age recipient`,
        {
          hint: 'Local rows are saved encrypted only. Make a key with `schema_backup keygen -o /root/.config/schema_backup/key.txt`, keep that file off this host, and list the printed age1... public key under encryption.recipients.',
        },
      );
    }

    const operations = this.operations(root, configDir);
    const config: Config = {
      file: this.file,
      backupDir,
      userDataBackupDir: userDataDir === undefined ? undefined : this.path(userDataDir, configDir),
      userDataCompression: userDataCompression as Config['userDataCompression'],
      providers: this.stringList(root, ['providers']),
      consumers: this.stringList(root, ['consumers']),
      categories,
      categoryLines: this.categoryLines,
      pauseInterval,
      database,
      hostname: this.hostname(root),
      strict: this.optionalBoolean(root, ['strict']) ?? false,
      encryption,
      git,
      serviceManager: this.serviceManager(root),
      pauseHooks: this.pauseHooks(root),
      ...operations,
      dump: this.dump(root, configDir, backupDir),
      offsite: this.offsite(root, configDir, operations.retention),
      example: this.optionalBoolean(root, ['example']),
    };
    this.checkPlaces(config, root, backupDirKey);
    if (config.pauseInterval > 0 && config.pauseHooks.before.length === 0)
      this.warn(
        ['pause_interval'],
        'pause_interval is set but pause_hooks.before is not: nothing is paused and there is no wait',
      );
    return { config, warnings: this.warnings };
  }

  /**
   * The directories the run writes, as the file system is now: none inside a git directory
   * (it would become the repository's own metadata), none that is a file or lies below one,
   * and user data and dumps apart from the git-tracked backup directory (issue 19).
   */
  private checkPlaces(config: Config, root: Mapping, backupDirKey: string): void {
    const dumpBlock = root.dump;
    const dumpDirSet =
      typeof dumpBlock === 'object' &&
      dumpBlock !== null &&
      (dumpBlock as Mapping).dir !== undefined &&
      (dumpBlock as Mapping).dir !== null;
    // Only the directories: the state, log and metrics files are extras whose failure is
    // logged without stopping the run (cli/with-run-journal.ts).
    const places: readonly { path: KeyPath; value: string | undefined }[] = [
      { path: [backupDirKey], value: config.backupDir },
      { path: ['user_data_backup_dir'], value: config.userDataBackupDir },
      { path: ['dump', 'dir'], value: dumpDirSet ? config.dump.dir : undefined },
    ];
    for (const { path, value } of places) {
      if (value === undefined) continue;
      const gitDir = gitDirectoryContaining(value);
      if (gitDir !== undefined)
        throw this.error(
          path,
          `${value} is inside the git directory ${gitDir}: what is written there would become part of the repository's own metadata`,
          { hint: `Name a directory outside ${gitDir}, e.g. in the work tree beside it.` },
        );
      const blocker = fileInTheWay(value);
      if (blocker === resolve(value)) throw this.error(path, `${value} is a file, not a directory`);
      if (blocker !== undefined)
        throw this.error(path, `${blocker} is a file, so ${value} cannot be made below it`);
    }

    const backupDir = config.backupDir;
    const userDataDir = config.userDataBackupDir;
    const apart =
      'User data must stay in a directory of its own, apart from what git tracks, e.g. /var/lib/schema_backup/user_data.';
    if (userDataDir !== undefined && isSameOrInside(userDataDir, backupDir))
      throw this.error(
        ['user_data_backup_dir'],
        `${userDataDir} is ${isSameOrInside(backupDir, userDataDir) ? 'the same directory as' : 'inside'} ${backupDirKey} ${backupDir}, which git tracks`,
        { hint: apart },
      );
    if (userDataDir !== undefined && isSameOrInside(backupDir, userDataDir))
      throw this.error(
        ['user_data_backup_dir'],
        `${userDataDir} holds ${backupDirKey} ${backupDir}, which git tracks`,
        { hint: apart },
      );
    if (dumpDirSet && isSameOrInside(config.dump.dir, backupDir))
      throw this.error(
        ['dump', 'dir'],
        `${config.dump.dir} is inside ${backupDirKey} ${backupDir}, which git tracks: a dump holds every row, those of local tables too`,
        { hint: 'Keep dumps apart, e.g. in the default dumps/ beside the backup directory.' },
      );
  }

  /** `hostname:`, checked here so that a bad one is reported with its line. */
  private hostname(root: Mapping): string | undefined {
    const host = this.optionalString(root, ['hostname']);
    const problem = host === undefined ? undefined : hostNameProblem(host);
    if (problem !== undefined)
      throw this.error(
        ['hostname'],
        `${JSON.stringify(host)} cannot name the host directory: ${problem}`,
        { hint: 'Use the host name as DNS has it, e.g. db1.example.org.' },
      );
    return host;
  }

  /** The line of each category entry, by name as written (its first, when listed twice). */
  private readonly categoryLines = new Map<string, number>();

  private categories(root: Mapping): Categories {
    const firstSeen = new Map<string, { category: Category; index: number }>();
    const result = {} as Record<Category, string[]>;
    const conflicts: string[] = [];
    let firstConflictPath: KeyPath | undefined;
    for (const category of CATEGORIES) {
      const names = this.stringList(root, [category], { exact: true });
      const unique: string[] = [];
      names.forEach((name, index) => {
        const line = this.source.lineOf([category, index]);
        if (line !== undefined && !this.categoryLines.has(name)) this.categoryLines.set(name, line);
        const seen = firstSeen.get(name);
        if (seen === undefined) {
          firstSeen.set(name, { category, index });
          unique.push(name);
        } else if (seen.category === category) {
          this.warn([category, index], `${category}: ${name} is listed twice`);
        } else {
          const here = this.source.lineOf([category, index]);
          const there = this.source.lineOf([seen.category, seen.index]);
          conflicts.push(
            `${name} is listed in both ${seen.category} (line ${String(there)}) and ${category} (line ${String(here)})`,
          );
          firstConflictPath ??= [category, index];
        }
      });
      result[category] = unique;
    }
    if (firstConflictPath !== undefined) {
      throw this.error(
        firstConflictPath,
        `a table may be in one category only: ${conflicts.join('; ')}`,
        {
          hint: 'Remove each table from all but one of global, local, ephemeral and ignore.',
        },
      );
    }
    return result;
  }

  private database(root: Mapping, configDir: string): DatabaseConfig {
    const block = this.optionalMapping(root, ['database']);
    if (block === undefined) return {};
    const at = (key: string): KeyPath => ['database', key];
    const engine = this.engineName(block);
    const effective = engine ?? DEFAULT_ENGINE_NAME;
    this.refuseOtherEnginesKeys(block, engine);
    // Suggestions only among the keys of this engine: `ssl_mode` with postgresql is sslmode.
    const otherKeys = ENGINE_NAMES.filter((name) => name !== effective).flatMap(
      (name) => ENGINE_ONLY_DATABASE_KEYS[name],
    );
    this.warnUnknownKeys(
      block,
      ['database'],
      KEY_NAMES.database.filter((key) => !otherKeys.includes(key)),
    );
    const port = this.optionalNumber(block, at('port'));
    if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
      throw this.error(at('port'), 'must be a TCP port number (1-65535)');
    }
    const file = (key: string): string | undefined => {
      const value = this.optionalString(block, at(key));
      return value === undefined ? undefined : this.path(value, configDir);
    };
    const database: DatabaseConfig = {
      host: this.optionalString(block, at('host')),
      port,
      socket: this.optionalString(block, at('socket')),
      user: this.optionalString(block, at('user')),
      passwordFile: file('password_file'),
      name: this.optionalString(block, at('name')),
      defaultsFile: file('defaults_file'),
      ssl: this.optionalBoolean(block, at('ssl')),
      sslCa: file('ssl_ca'),
      sslCert: file('ssl_cert'),
      sslKey: file('ssl_key'),
      sslVerifyServerCert: this.optionalBoolean(block, at('ssl_verify_server_cert')),
      connectTimeout: this.optionalNumber(block, at('connect_timeout')),
      engine,
    };
    if (effective !== 'postgresql') return database;
    if (database.host !== undefined && database.socket !== undefined)
      throw this.error(
        at('socket'),
        'with postgresql, database.host and database.socket name two ways to connect; give one',
        {
          hint: 'libpq has one host: a name or address for TCP, or a socket directory (a path starting with /). Keep host, or keep socket (the socket directory).',
        },
      );
    const sslmode = this.optionalString(block, at('sslmode'));
    if (sslmode !== undefined && !(SSL_MODES as readonly string[]).includes(sslmode))
      throw this.error(
        at('sslmode'),
        `must be one of ${SSL_MODES.join(', ')} (as libpq's sslmode), not ${JSON.stringify(sslmode)}`,
      );
    const sslrootcert = this.optionalString(block, at('sslrootcert'));
    return {
      ...database,
      schemas: this.schemaNames(block),
      service: this.optionalString(block, at('service')),
      sslmode: sslmode as SslModeName | undefined,
      // `system`: the system's CA store, as libpq reads it; else a file.
      sslrootcert:
        sslrootcert === undefined || sslrootcert === 'system'
          ? sslrootcert
          : this.path(sslrootcert, configDir),
    };
  }

  /**
   * `database.engine`: one of {@link ENGINE_NAMES}, or undefined when the config names none.
   * Throws for any other name, with the nearest known one when it looks like a typo.
   */
  private engineName(block: Mapping): EngineName | undefined {
    const path: KeyPath = ['database', 'engine'];
    const name = this.optionalString(block, path);
    if (name === undefined || (ENGINE_NAMES as readonly string[]).includes(name))
      return name as EngineName | undefined;
    const suggestion = nearestKey(name, ENGINE_NAMES);
    throw this.error(
      path,
      `unknown engine ${JSON.stringify(name)}${suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`}`,
      { hint: 'Use mariadb (MariaDB or MySQL, the default) or postgresql.' },
    );
  }

  /** Throws at the first key of `block` that only another engine than `engine` reads. */
  private refuseOtherEnginesKeys(block: Mapping, engine: EngineName | undefined): void {
    const effective = engine ?? DEFAULT_ENGINE_NAME;
    const engineText = engine === undefined ? `${effective} (the default)` : effective;
    for (const key of Object.keys(block)) {
      const owner = ENGINE_NAMES.find(
        (name) => name !== effective && ENGINE_ONLY_DATABASE_KEYS[name].includes(key),
      );
      if (owner === undefined) continue;
      throw this.error(
        ['database', key],
        `is a ${ENGINE_LABELS[owner]} key, and database.engine is ${engineText}`,
        { hint: OTHER_ENGINE_KEY_HINTS[effective] },
      );
    }
  }

  /** `database.schemas`: a list of schema names, at least one, as written. */
  private schemaNames(block: Mapping): readonly string[] | undefined {
    const path: KeyPath = ['database', 'schemas'];
    const value = block.schemas;
    if (value === undefined || value === null) return undefined;
    const names = this.stringList(block, path, { exact: true });
    if (names.length === 0)
      throw this.error(path, 'names no schema, so nothing would be read', {
        hint: "List the schemas to snapshot, e.g. [public, app], or leave the key out for every schema but the server's own.",
      });
    const unique: string[] = [];
    names.forEach((name, index) => {
      if (unique.includes(name))
        this.warn([...path, index], `database.schemas: ${name} is listed twice`);
      else unique.push(name);
    });
    return unique;
  }

  private encryption(root: Mapping, configDir: string): EncryptionConfig {
    const block = this.optionalMapping(root, ['encryption']);
    if (block === undefined) return { recipients: [] };
    this.warnUnknownKeys(block, ['encryption'], KEY_NAMES.encryption);
    const recipientsFile = this.optionalString(block, ['encryption', 'recipients_file']);
    const identityFile = this.optionalString(block, ['encryption', 'identity_file']);
    return {
      recipients: this.stringList(block, ['encryption', 'recipients']),
      recipientsFile:
        recipientsFile === undefined ? undefined : this.path(recipientsFile, configDir),
      identityFile: identityFile === undefined ? undefined : this.path(identityFile, configDir),
    };
  }

  private git(root: Mapping): GitConfig {
    const block = this.optionalMapping(root, ['git']) ?? {};
    this.warnUnknownKeys(block, ['git'], KEY_NAMES.git);
    const pushValue = block.push;
    let push: string | undefined;
    if (pushValue === true) push = 'origin';
    else if (pushValue === false || pushValue === undefined || pushValue === null) push = undefined;
    else push = this.optionalString(block, ['git', 'push']);
    const author = this.optionalString(block, ['git', 'author']);
    if (author !== undefined && !/^[^<>]+ <[^<>]*>$/.test(author)) {
      throw this.error(
        ['git', 'author'],
        `must look like "Name <email>", not ${JSON.stringify(author)}`,
      );
    }
    const pushAttempts = this.optionalNumber(block, ['git', 'push_attempts']);
    if (pushAttempts !== undefined && (!Number.isInteger(pushAttempts) || pushAttempts < 1))
      throw this.error(['git', 'push_attempts'], 'must be a whole number, 1 or more');
    const pushTimeoutSeconds = this.optionalNumber(block, ['git', 'push_timeout']);
    if (pushTimeoutSeconds !== undefined && !(pushTimeoutSeconds > 0))
      throw this.error(['git', 'push_timeout'], 'must be a number of seconds, more than 0');
    return {
      commit: this.optionalBoolean(block, ['git', 'commit']) ?? true,
      init: this.optionalBoolean(block, ['git', 'init']) ?? false,
      author,
      push,
      branch: this.optionalString(block, ['git', 'branch']),
      pushAttempts,
      pushTimeoutSeconds,
    };
  }

  private serviceManager(root: Mapping): ServiceManagerConfig {
    const block = this.optionalMapping(root, ['service_manager']) ?? {};
    this.warnUnknownKeys(block, ['service_manager'], KEY_NAMES.serviceManager);
    const command = (action: keyof typeof SYSTEMCTL): string[] => {
      const path = ['service_manager', action];
      const template = this.optionalString(block, path) ?? SYSTEMCTL[action];
      let argv: string[];
      try {
        argv = splitCommandLine(template);
      } catch (error) {
        throw this.error(path, (error as Error).message);
      }
      if (!argv.some((word) => word.includes('{service}')))
        throw this.error(path, 'must contain {service}, which stands for the service name');
      return argv;
    };
    const seconds = (key: string, fallback: number): number => {
      const value = this.optionalNumber(block, ['service_manager', key]) ?? fallback;
      if (value <= 0 || value > 86_400)
        throw this.error(['service_manager', key], 'must be a number of seconds from 1 to 86400');
      return value;
    };
    return {
      stop: command('stop'),
      start: command('start'),
      restart: command('restart'),
      status: command('status'),
      timeoutSeconds: seconds('timeout', 120),
      readyTimeoutSeconds: seconds('ready_timeout', 120),
    };
  }

  private pauseHooks(root: Mapping): PauseHooksConfig {
    const block = this.optionalMapping(root, ['pause_hooks']) ?? {};
    this.warnUnknownKeys(block, ['pause_hooks'], KEY_NAMES.pauseHooks);
    const statements = (key: 'before' | 'after'): string[] => {
      const path = ['pause_hooks', key];
      const value = block[key];
      return typeof value === 'string' ? [value.trim()] : this.stringList(block, path);
    };
    const hooks = { before: statements('before'), after: statements('after') };
    if (hooks.before.length > 0 && hooks.after.length === 0)
      throw this.error(
        ['pause_hooks', 'after'],
        'is needed with pause_hooks.before: it undoes the pause',
        {
          hint: 'e.g. before: "UPDATE status SET pause = 1" and after: "UPDATE status SET pause = 0"',
        },
      );
    return hooks;
  }

  /** The blocks of nightly operation: retention, logging, notify, metrics, status, state_file. */
  private operations(
    root: Mapping,
    configDir: string,
  ): {
    retention: RetentionConfig;
    logging: LoggingConfig;
    notify: NotifyConfig;
    metrics: MetricsConfig;
    status: StatusConfig;
    stateFile: string | undefined;
  } {
    const retentionBlock = this.optionalMapping(root, ['retention']) ?? {};
    this.warnUnknownKeys(retentionBlock, ['retention'], KEY_NAMES.retention);
    const count = (key: string, fallback: number): number => {
      const value = this.optionalNumber(retentionBlock, ['retention', key]);
      if (value === undefined) return fallback;
      if (!Number.isInteger(value) || value < 0)
        throw this.error(['retention', key], 'must be a whole number, 0 or more');
      return value;
    };
    const retention: RetentionConfig = {
      daily: count('daily', 30),
      weekly: count('weekly', 12),
      monthly: count('monthly', 12),
      afterRun: this.optionalBoolean(retentionBlock, ['retention', 'after_run']) ?? false,
    };

    const loggingBlock = this.optionalMapping(root, ['logging']) ?? {};
    this.warnUnknownKeys(loggingBlock, ['logging'], KEY_NAMES.logging);
    const logFile = this.optionalString(loggingBlock, ['logging', 'file']);
    const level = this.optionalString(loggingBlock, ['logging', 'level']) ?? 'info';
    if (!(LOG_LEVELS as readonly string[]).includes(level))
      throw this.error(['logging', 'level'], `must be one of ${LOG_LEVELS.join(', ')}`);
    const logging: LoggingConfig = {
      file: logFile === undefined ? undefined : this.path(logFile, configDir),
      level: level as LoggingConfig['level'],
    };

    const notifyBlock = this.optionalMapping(root, ['notify']) ?? {};
    this.warnUnknownKeys(notifyBlock, ['notify'], KEY_NAMES.notify);
    const url = this.optionalString(notifyBlock, ['notify', 'url']);
    if (url !== undefined && !/^https?:\/\/[^\s]+$/.test(url))
      throw this.error(['notify', 'url'], 'must be an http:// or https:// URL');
    const timeout = this.optionalNumber(notifyBlock, ['notify', 'timeout']) ?? 10;
    if (timeout <= 0) throw this.error(['notify', 'timeout'], 'must be more than 0 seconds');
    const notify: NotifyConfig = {
      command: this.stringList(notifyBlock, ['notify', 'command'], { exact: true }),
      url,
      onSuccess: this.optionalBoolean(notifyBlock, ['notify', 'on_success']) ?? false,
      timeoutSeconds: timeout,
    };

    const metricsBlock = this.optionalMapping(root, ['metrics']) ?? {};
    this.warnUnknownKeys(metricsBlock, ['metrics'], KEY_NAMES.metrics);
    const textfile = this.optionalString(metricsBlock, ['metrics', 'textfile']);
    if (textfile !== undefined && !textfile.endsWith('.prom'))
      throw this.error(
        ['metrics', 'textfile'],
        'must end in .prom (the textfile collector reads only those)',
      );

    const statusBlock = this.optionalMapping(root, ['status']) ?? {};
    this.warnUnknownKeys(statusBlock, ['status'], KEY_NAMES.status);
    const maxAgeValue = statusBlock.max_age;
    let maxAgeSeconds = 26 * 3600;
    if (maxAgeValue !== undefined && maxAgeValue !== null) {
      const parsed =
        typeof maxAgeValue === 'string' || typeof maxAgeValue === 'number'
          ? parseDuration(maxAgeValue)
          : undefined;
      if (parsed === undefined || parsed <= 0)
        throw this.error(['status', 'max_age'], 'must be a duration such as 26h, 90m or 2d');
      maxAgeSeconds = parsed;
    }
    const stateFile = this.optionalString(root, ['state_file']);
    return {
      retention,
      logging,
      notify,
      metrics: { textfile: textfile === undefined ? undefined : this.path(textfile, configDir) },
      status: { maxAgeSeconds },
      stateFile: stateFile === undefined ? undefined : this.path(stateFile, configDir),
    };
  }

  private dump(root: Mapping, configDir: string, backupDir: string): DumpConfig {
    const block = this.optionalMapping(root, ['dump']) ?? {};
    this.warnUnknownKeys(block, ['dump'], KEY_NAMES.dump);
    const at = (key: string): KeyPath => ['dump', key];
    const dir = this.optionalString(block, at('dir'));
    const compression = this.optionalString(block, at('compression'));
    if (compression !== undefined && !['zstd', 'gzip', 'none'].includes(compression))
      throw this.error(
        at('compression'),
        `must be zstd, gzip or none, not ${JSON.stringify(compression)}`,
      );
    const threads = this.optionalNumber(block, at('threads')) ?? 2;
    if (!Number.isInteger(threads) || threads < 1 || threads > 64)
      throw this.error(at('threads'), 'must be a whole number from 1 to 64');
    const chunkRows = this.optionalNumber(block, at('chunk_rows')) ?? DEFAULT_CHUNK_ROWS;
    if (!Number.isInteger(chunkRows) || chunkRows < 1000)
      throw this.error(at('chunk_rows'), 'must be a whole number of at least 1000');
    return {
      dir: dir === undefined ? join(dirname(backupDir), 'dumps') : this.path(dir, configDir),
      compression: compression as DumpConfig['compression'],
      encrypt: this.optionalBoolean(block, at('encrypt')),
      threads,
      chunkRows,
    };
  }

  /**
   * `offsite:`. The remote must be a remote named in rclone's config: an on-the-fly remote
   * (`:sftp,pass=...:`) or a connection string (`name,key=value:`) would put its settings,
   * credentials included, into this file and into rclone's argv.
   */
  private offsite(
    root: Mapping,
    configDir: string,
    local: RetentionConfig,
  ): OffsiteConfig | undefined {
    const block = this.optionalMapping(root, ['offsite']);
    if (block === undefined) return undefined;
    this.warnUnknownKeys(block, ['offsite'], KEY_NAMES.offsite);
    const at = (key: string): KeyPath => ['offsite', key];
    const remote = this.optionalString(block, at('remote'));
    if (remote === undefined)
      throw this.error(at('remote'), 'is needed in an offsite block: the rclone remote and path', {
        hint: 'e.g. remote: "backup:schema_backup", where backup is a remote of `rclone config`.',
      });
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.+@ -]*:/.test(remote))
      throw this.error(
        at('remote'),
        // Not echoed: an inline remote may hold a credential.
        "must be a remote named in rclone's config and a path, as name:path (inline settings and plain paths are refused)",
        {
          hint: "Define the remote with `rclone config` (its credentials stay in rclone's config file) and write remote: name:path. Inline settings such as :sftp,pass=...: are refused.",
        },
      );
    const rcloneConfig = this.optionalString(block, at('rclone_config'));
    const retentionBlock = this.optionalMapping(block, at('retention')) ?? {};
    this.warnUnknownKeys(retentionBlock, at('retention'), KEY_NAMES.offsiteRetention);
    const count = (key: 'daily' | 'weekly' | 'monthly'): number => {
      const value = this.optionalNumber(retentionBlock, ['offsite', 'retention', key]);
      if (value === undefined) return local[key];
      if (!Number.isInteger(value) || value < 0)
        throw this.error(['offsite', 'retention', key], 'must be a whole number, 0 or more');
      return value;
    };
    const timeoutValue = block.timeout;
    let timeoutSeconds = 6 * 3600;
    if (timeoutValue !== undefined && timeoutValue !== null) {
      const parsed =
        typeof timeoutValue === 'string' || typeof timeoutValue === 'number'
          ? parseDuration(timeoutValue)
          : undefined;
      if (parsed === undefined || parsed <= 0)
        throw this.error(at('timeout'), 'must be a duration such as 6h, 90m or 3600');
      timeoutSeconds = parsed;
    }
    return {
      remote,
      rcloneConfig: rcloneConfig === undefined ? undefined : this.path(rcloneConfig, configDir),
      uploadPlaintextDumps: this.optionalBoolean(block, at('upload_plaintext_dumps')) ?? false,
      retention: {
        daily: count('daily'),
        weekly: count('weekly'),
        monthly: count('monthly'),
        afterUpload:
          this.optionalBoolean(retentionBlock, ['offsite', 'retention', 'after_upload']) ?? true,
      },
      timeoutSeconds,
    };
  }

  // ---- typed readers: each throws a ConfigError naming the key path --------------------

  private mapping(value: unknown, path: KeyPath): Mapping {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw this.error(path, `must be a mapping of keys, not ${describe(value)}`);
    }
    return value as Mapping;
  }

  private optionalMapping(parent: Mapping, path: KeyPath): Mapping | undefined {
    const value = parent[String(path.at(-1))];
    if (value === undefined || value === null) return undefined;
    return this.mapping(value, path);
  }

  private optionalString(parent: Mapping, path: KeyPath): string | undefined {
    const value = parent[String(path.at(-1))];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'number') return String(value);
    if (typeof value !== 'string')
      throw this.error(path, `must be a string, not ${describe(value)}`);
    return value;
  }

  private optionalNumber(parent: Mapping, path: KeyPath): number | undefined {
    const value = parent[String(path.at(-1))];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw this.error(path, `must be a number, not ${describe(value)}`);
    }
    return value;
  }

  private optionalBoolean(parent: Mapping, path: KeyPath): boolean | undefined {
    const value = parent[String(path.at(-1))];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean')
      throw this.error(path, `must be true or false, not ${describe(value)}`);
    return value;
  }

  /**
   * A list of strings that are not blank; an absent or empty key is an empty list. With
   * `exact`, items are kept as written (table names, which may start with a space, and a
   * command's arguments: YAML already drops the spaces around an unquoted item); else trimmed.
   */
  private stringList(parent: Mapping, path: KeyPath, options: { exact?: boolean } = {}): string[] {
    const value = parent[String(path.at(-1))];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value))
      throw this.error(path, `must be a list (lines starting with "- "), not ${describe(value)}`);
    return value.map((item: unknown, index) => {
      if (typeof item === 'number') return String(item);
      if (typeof item !== 'string' || item.trim() === '') {
        throw this.error([...path, index], `list items must be names, not ${describe(item)}`);
      }
      return options.exact === true ? item : item.trim();
    });
  }

  private path(value: string, configDir: string): string {
    const expanded =
      value === '~' ? homedir() : value.startsWith('~/') ? join(homedir(), value.slice(2)) : value;
    return isAbsolute(expanded) ? expanded : resolve(configDir, expanded);
  }

  private warnUnknownKeys(block: Mapping, path: KeyPath, known: readonly string[]): void {
    for (const key of Object.keys(block)) {
      if (known.includes(key)) continue;
      const suggestion = nearestKey(key, known);
      const where = [...path, key].join('.');
      this.warn(
        [...path, key],
        `unknown key ${where}${suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`}`,
      );
    }
  }

  private warn(path: KeyPath, message: string): void {
    this.warnings.push({ message, line: this.source.lineOf(path) });
  }

  private error(path: KeyPath, problem: string, options: { hint?: string } = {}): ConfigError {
    const key = path
      .map((part) => (typeof part === 'number' ? `[${String(part)}]` : part))
      .join('.')
      .replace(/\.\[/g, '[');
    return new ConfigError(
      { file: this.file, line: this.source.lineOf(path), key },
      problem,
      options,
    );
  }
}

/**
 * `schema_backup/` beside the `etc/` directory that holds the config (the original's layout,
 * `/opt/cloudscheduler/etc` -> `/opt/cloudscheduler/schema_backup`); for a config kept
 * anywhere else, `schema_backup/` inside the config's own directory.
 */
/** Rows per key range of a large table in a dump. */
export const DEFAULT_CHUNK_ROWS = 100_000;

export function defaultBackupDir(configDir: string): string {
  return basename(configDir) === 'etc'
    ? join(dirname(configDir), 'schema_backup')
    : join(configDir, 'schema_backup');
}

function describe(value: unknown): string {
  if (value === null) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}
