/**
 * The config as the rest of the program sees it, after `load-config.ts` has read, checked
 * and defaulted the YAML. Keys are those of DESIGN.md; the key lists here drive the
 * "unknown key" warnings.
 */

/** The four categories a table can be sorted into, in the order they are reported. */
export const CATEGORIES = ['global', 'local', 'ephemeral', 'ignore'] as const;
export type Category = (typeof CATEGORIES)[number];

export const TOP_LEVEL_KEYS = [
  'csv2_backup_dir',
  'backup_dir',
  'user_data_backup_dir',
  'user_data_compression',
  'providers',
  'consumers',
  ...CATEGORIES,
  'pause_interval',
  'database',
  'hostname',
  'strict',
  'encryption',
  'git',
  'service_manager',
  'pause_hooks',
  'retention',
  'logging',
  'notify',
  'metrics',
  'status',
  'state_file',
  'dump',
  'offsite',
  'example',
] as const;

export const DATABASE_KEYS = [
  'host',
  'port',
  'socket',
  'user',
  'password_file',
  'name',
  'defaults_file',
  'ssl',
  'ssl_ca',
  'ssl_cert',
  'ssl_key',
  'ssl_verify_server_cert',
  'connect_timeout',
  'engine',
  'schemas',
  'service',
  'sslmode',
  'sslrootcert',
] as const;

/** The engine kinds a config may name in `database.engine`; `mariadb` also serves MySQL. */
export const ENGINE_NAMES = ['mariadb', 'postgresql'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** The engine of a config that names none. */
export const DEFAULT_ENGINE_NAME: EngineName = 'mariadb';

/**
 * The `database.*` keys only one engine reads, by engine; every other database key applies
 * to both. A key of the other engine is an error, not ignored: MariaDB's come from MySQL
 * option files (`my.cnf`), PostgreSQL's from libpq (`pg_service.conf`, `sslmode`).
 */
export const ENGINE_ONLY_DATABASE_KEYS: Readonly<Record<EngineName, readonly string[]>> = {
  mariadb: ['defaults_file', 'ssl', 'ssl_ca', 'ssl_cert', 'ssl_key', 'ssl_verify_server_cert'],
  postgresql: ['schemas', 'service', 'sslmode', 'sslrootcert'],
};

/** libpq's sslmode values, weakest first (`database.sslmode`). */
export const SSL_MODES = [
  'disable',
  'allow',
  'prefer',
  'require',
  'verify-ca',
  'verify-full',
] as const;
export type SslModeName = (typeof SSL_MODES)[number];

export const ENCRYPTION_KEYS = ['recipients', 'recipients_file', 'identity_file'] as const;

export const GIT_KEYS = [
  'commit',
  'init',
  'author',
  'push',
  'branch',
  'push_attempts',
  'push_timeout',
] as const;

export const SERVICE_MANAGER_KEYS = [
  'stop',
  'start',
  'restart',
  'status',
  'timeout',
  'ready_timeout',
] as const;

export const PAUSE_HOOK_KEYS = ['before', 'after'] as const;

/** How services are stopped and started: argv templates in which `{service}` is the name. */
export interface ServiceManagerConfig {
  readonly stop: readonly string[];
  readonly start: readonly string[];
  readonly restart: readonly string[];
  /** Exit 0 means running. */
  readonly status: readonly string[];
  /** Seconds one command may take before it is killed. */
  readonly timeoutSeconds: number;
  /** Seconds to wait for the database to answer after providers restart. */
  readonly readyTimeoutSeconds: number;
}

/** SQL run around a snapshot taken without `-m`/`-t`, e.g. to set and clear a pause flag. */
export interface PauseHooksConfig {
  readonly before: readonly string[];
  /** Run on every exit path once `before` has started. */
  readonly after: readonly string[];
}
export const RETENTION_KEYS = ['daily', 'weekly', 'monthly', 'after_run'] as const;
export const LOGGING_KEYS = ['file', 'level'] as const;
export const NOTIFY_KEYS = ['command', 'url', 'on_success', 'timeout'] as const;
export const METRICS_KEYS = ['textfile'] as const;
export const STATUS_KEYS = ['max_age'] as const;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export const DUMP_KEYS = ['dir', 'compression', 'encrypt', 'threads', 'chunk_rows'] as const;
export const OFFSITE_KEYS = [
  'remote',
  'rclone_config',
  'upload_plaintext_dumps',
  'retention',
  'timeout',
] as const;
export const OFFSITE_RETENTION_KEYS = ['daily', 'weekly', 'monthly', 'after_upload'] as const;

/**
 * The `database:` block: what the config says. MariaDB fills the gaps from option files later;
 * PostgreSQL leaves them to libpq's rules (`PG*` variables, `~/.pgpass`, `pg_service.conf`).
 */
export interface DatabaseConfig {
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly socket?: string | undefined;
  readonly user?: string | undefined;
  readonly passwordFile?: string | undefined;
  readonly name?: string | undefined;
  readonly defaultsFile?: string | undefined;
  readonly ssl?: boolean | undefined;
  readonly sslCa?: string | undefined;
  readonly sslCert?: string | undefined;
  readonly sslKey?: string | undefined;
  readonly sslVerifyServerCert?: boolean | undefined;
  /** Seconds. */
  readonly connectTimeout?: number | undefined;
  /** The engine kind of the server (`mariadb`, which serves MySQL too); omitted = `mariadb`. */
  readonly engine?: EngineName | undefined;
  /** PostgreSQL: the schemas to snapshot; omitted = every schema but the server's own. */
  readonly schemas?: readonly string[] | undefined;
  /** PostgreSQL: a service of `pg_service.conf`; omitted = `$PGSERVICE`, if set. */
  readonly service?: string | undefined;
  /** PostgreSQL: libpq's sslmode; omitted = the service's, `$PGSSLMODE`, else `prefer`. */
  readonly sslmode?: SslModeName | undefined;
  /** PostgreSQL: the CA certificates file (absolute) the server is checked against, or `system`. */
  readonly sslrootcert?: string | undefined;
}

export interface EncryptionConfig {
  readonly recipients: readonly string[];
  readonly recipientsFile?: string | undefined;
  readonly identityFile?: string | undefined;
}

export interface GitConfig {
  /** Commit the host directory when it changed. */
  readonly commit: boolean;
  /** Create the repository when the backup directory is not in one. */
  readonly init: boolean;
  /** `Name <email>`; default `schema_backup <schema_backup@HOST>`. */
  readonly author?: string | undefined;
  /** Remote to push to after a commit; undefined = no push. */
  readonly push?: string | undefined;
  /** Branch to push to; default the current branch. */
  readonly branch?: string | undefined;
  /** Pushes tried when other hosts keep pushing first; undefined = the default (12). */
  readonly pushAttempts?: number | undefined;
  /** Seconds of retried pushes before giving up; undefined = the default (120). */
  readonly pushTimeoutSeconds?: number | undefined;
}

/** `retention:`: how many timestamped user-data copies and dumps `prune` keeps. */
export interface RetentionConfig {
  readonly daily: number;
  readonly weekly: number;
  readonly monthly: number;
  /** Prune after every successful run. */
  readonly afterRun: boolean;
}

/** `logging:`: the JSON-lines log of every run. */
export interface LoggingConfig {
  /** Absolute path; undefined = no log file. */
  readonly file?: string | undefined;
  readonly level: (typeof LOG_LEVELS)[number];
}

/** `notify:`: who hears of a failed (and optionally a successful) run. */
export interface NotifyConfig {
  /** argv of a command run without a shell, the run summary as JSON on stdin; empty = none. */
  readonly command: readonly string[];
  /** POST the summary as JSON here. */
  readonly url?: string | undefined;
  readonly onSuccess: boolean;
  /** Seconds each notification may take. */
  readonly timeoutSeconds: number;
}

/** `metrics:`: the Prometheus textfile-collector file. */
export interface MetricsConfig {
  /** Absolute path of the `.prom` file; undefined = none. */
  readonly textfile?: string | undefined;
}

/** `status:`. */
export interface StatusConfig {
  /** `status` exits 1 when the last successful snapshot is older than this many seconds. */
  readonly maxAgeSeconds: number;
}

/** The `dump:` block, defaults applied except where they depend on the machine. */
export interface DumpConfig {
  /** Where dumps go: absolute; default `dumps/` beside the backup directory. */
  readonly dir: string;
  /** undefined = zstd when available, else gzip. */
  readonly compression?: 'zstd' | 'gzip' | 'none' | undefined;
  /** Encrypt to encryption.recipients; default true when recipients are configured. */
  readonly encrypt?: boolean | undefined;
  /** Connections reading at once; default 2. */
  readonly threads: number;
  /** Rows per key range of a large table. */
  readonly chunkRows: number;
}

/** `offsite:`: copies of user data and dumps on an rclone remote. */
export interface OffsiteConfig {
  /** `name:path`: a remote defined in rclone's config (which holds its credentials). */
  readonly remote: string;
  /** rclone's config file; undefined = rclone's default ($RCLONE_CONFIG, ~/.config/rclone). */
  readonly rcloneConfig?: string | undefined;
  /** Upload a dump that is not age-encrypted (refused by default). */
  readonly uploadPlaintextDumps: boolean;
  /** What stays on the remote; each count defaults to the local `retention:` one. */
  readonly retention: {
    readonly daily: number;
    readonly weekly: number;
    readonly monthly: number;
    /** Apply it after each successful upload (else only `prune` does). */
    readonly afterUpload: boolean;
  };
  /** Seconds one rclone command may take. */
  readonly timeoutSeconds: number;
}

/** Which category each configured table name is in. Names are unique across categories. */
export type Categories = Readonly<Record<Category, readonly string[]>>;

/** A loaded, checked config with every default applied and every path absolute. */
export interface Config {
  /** Absolute path of the file it came from. */
  readonly file: string;
  /** The git-tracked directory holding one host directory per host. */
  readonly backupDir: string;
  /** Where encrypted user-data copies go; undefined = user data is not saved. */
  readonly userDataBackupDir?: string | undefined;
  /** Compression of user-data files before encryption; undefined = zstd when available, else gzip. */
  readonly userDataCompression?: 'zstd' | 'gzip' | 'none' | undefined;
  readonly providers: readonly string[];
  readonly consumers: readonly string[];
  readonly categories: Categories;
  /** The line of each category entry, by table name as written (for errors about it). */
  readonly categoryLines?: ReadonlyMap<string, number> | undefined;
  /** Seconds. */
  readonly pauseInterval: number;
  readonly database: DatabaseConfig;
  /** Overrides the fully qualified host name used for the host directory. */
  readonly hostname?: string | undefined;
  /** Uncategorized tables are an error rather than a warning. */
  readonly strict: boolean;
  readonly encryption: EncryptionConfig;
  readonly git: GitConfig;
  /** systemctl unless the config says otherwise. */
  readonly serviceManager: ServiceManagerConfig;
  readonly pauseHooks: PauseHooksConfig;
  readonly retention: RetentionConfig;
  readonly logging: LoggingConfig;
  readonly notify: NotifyConfig;
  readonly metrics: MetricsConfig;
  readonly status: StatusConfig;
  /** The run state file; undefined = `<backup dir>/.schema_backup/<host>.state.json`. */
  readonly stateFile?: string | undefined;
  /** Full database dumps (`dump`/`load`). */
  readonly dump: DumpConfig;
  /** undefined = nothing leaves this host but git pushes. */
  readonly offsite?: OffsiteConfig | undefined;
  /** `example: true`: the project's documented example, which no command runs with. */
  readonly example?: boolean | undefined;
}

/** A problem that does not stop the run (unknown key, ...), with where it is. */
export interface ConfigWarning {
  readonly message: string;
  readonly line?: number | undefined;
}

export interface LoadedConfig {
  readonly config: Config;
  readonly warnings: readonly ConfigWarning[];
}
