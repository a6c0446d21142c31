/**
 * Turns the `database:` block into everything needed to connect. MariaDB: what the config
 * leaves out comes from MySQL option files, the password from `password_file`, else
 * `$SCHEMA_BACKUP_DB_PASSWORD`, else the option files. PostgreSQL: only what the config and
 * the command line say, the password from `password_file`, else `$SCHEMA_BACKUP_DB_PASSWORD`,
 * else `$PGPASSWORD`; the rest is the engine's, which resolves it as libpq does (`PG*`
 * variables, `pg_service.conf`, `~/.pgpass`); no MySQL option file is read. Every password
 * read is registered with `redact` so that no later message can show it.
 */
import { readFile, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { ConfigError, UsageError } from '../errors.js';
import { pathExists } from '../support/path-exists.js';
import { registerSecret } from '../support/redact.js';
import { readOptionFiles, type OptionValues } from './my-cnf/read-option-files.js';
import type { Config, SslModeName } from './schema.js';

/** Where the client looks for the server's socket when nothing names one. */
export const DEFAULT_SOCKETS = [
  '/run/mysqld/mysqld.sock',
  '/var/run/mysqld/mysqld.sock',
  '/tmp/mysql.sock',
];

export const PASSWORD_ENV = 'SCHEMA_BACKUP_DB_PASSWORD';
/** libpq's password variable, withdrawn from the environment at start like {@link PASSWORD_ENV}. */
export const PG_PASSWORD_ENV = 'PGPASSWORD';

export interface TlsSettings {
  /** PEM file paths. */
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  /** Check the server certificate against `ca` and its name against the host. */
  readonly verifyServerCert: boolean;
}

/**
 * A connection description, shaped like the engine's `ConnectionOptions`. Complete for
 * MariaDB; for PostgreSQL what the config and command line say, the engine resolving the rest.
 */
export interface ConnectionSettings {
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  /** MariaDB: the socket file. PostgreSQL: the socket directory (or its `.s.PGSQL.<port>` file). */
  readonly socket?: string | undefined;
  /** Always set for MariaDB; PostgreSQL: undefined = the service's, `$PGUSER`, else the OS user. */
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  /**
   * The database. PostgreSQL: `''` when neither the config nor `--database` names one (the
   * service's, `$PGDATABASE`, else the one named like the user).
   */
  readonly database: string;
  readonly tls?: TlsSettings | undefined;
  /** PostgreSQL: a service of `pg_service.conf`. */
  readonly service?: string | undefined;
  /** PostgreSQL: libpq's sslmode. */
  readonly sslMode?: SslModeName | undefined;
  /** PostgreSQL: libpq's sslrootcert. */
  readonly sslRootCert?: string | undefined;
  /** Undefined (PostgreSQL without `connect_timeout`): `$PGCONNECT_TIMEOUT`, else 10 s. */
  readonly connectTimeoutMs?: number | undefined;
  /** `user@host:port` or `user@socket`, for messages; never holds the password. */
  readonly description: string;
  /** Where the password came from, for messages (`password_file /x`, `~/.my.cnf`, `none`). */
  readonly passwordSource: string;
}

/**
 * The connection options of the command line, spelled as the `mariadb` client spells them.
 * Each overrides the config's `database.*` key, which overrides the option files.
 */
export interface ConnectionOverrides {
  /** `-h/--server-host`. */
  readonly host?: string | undefined;
  /** `-P/--port`: TCP, also to a host that is `localhost` (as the client since 10.6). */
  readonly port?: number | undefined;
  /** `-S/--socket`: this socket, whatever host the config or option files name. */
  readonly socket?: string | undefined;
  /** `-u/--user`. */
  readonly user?: string | undefined;
  /** MariaDB: `--defaults-file`: read only this option file (instead of `database.defaults_file`). */
  readonly defaultsFile?: string | undefined;
  /** MariaDB: `--defaults-extra-file`: read this option file too, before `~/.my.cnf`. */
  readonly defaultsExtraFile?: string | undefined;
}

export interface ResolveConnectionOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly home?: string;
  /** Overrides `database.name` (e.g. `--database` on the command line). */
  readonly database?: string | undefined;
  /** Overrides of the command line. */
  readonly overrides?: ConnectionOverrides | undefined;
  /** Warnings about insecure files go here. */
  readonly warn?: (message: string) => void;
}

/**
 * Resolves the connection of `config`. Throws {@link ConfigError} when a MariaDB config names
 * no database or a password file cannot be read, {@link UsageError} for command-line options
 * that do not go together (or that the engine has not).
 */
export async function resolveConnection(
  config: Pick<Config, 'database' | 'file'>,
  options: ResolveConnectionOptions = {},
): Promise<ConnectionSettings> {
  if (config.database.engine === 'postgresql') return resolvePostgresqlConnection(config, options);
  const env = options.env ?? process.env;
  const db = config.database;
  const cli = options.overrides ?? {};
  const defaultsFile = cli.defaultsFile ?? db.defaultsFile;
  if (cli.defaultsExtraFile !== undefined && defaultsFile !== undefined)
    // The client reads no extra file beside a defaults file, silently; say so instead.
    throw new UsageError(
      `--defaults-extra-file is not read with a defaults file (${cli.defaultsFile === undefined ? 'database.defaults_file' : '--defaults-file'}), as with the mariadb client`,
      { hint: 'Give one of them, or !include the extra file from the defaults file.' },
    );
  if (cli.socket !== undefined && cli.port !== undefined)
    throw new UsageError('--socket and --port name two ways to connect; give one');
  const files: OptionValues = await readOptionFiles({
    defaultsFile,
    extraFile: cli.defaultsExtraFile,
    env,
    ...(options.home === undefined ? {} : { home: options.home }),
  });
  const fromFiles = (name: string): string | undefined => files.get(name)?.value;

  const database = options.database ?? db.name ?? fromFiles('database');
  if (database === undefined || database === '') {
    throw new ConfigError(
      { file: config.file, key: 'database.name' },
      'no database to snapshot is named',
      {
        hint: 'Set database.name in the config (or `database=` in the [client] group of an option file).',
      },
    );
  }
  const user = cli.user ?? db.user ?? fromFiles('user') ?? userInfo().username;

  let password: string | undefined;
  let passwordSource = 'none';
  const envPassword = env[PASSWORD_ENV];
  if (db.passwordFile !== undefined) {
    password = await readPasswordFile(db.passwordFile, config.file, options.warn);
    passwordSource = `password_file ${db.passwordFile}`;
  } else if (envPassword !== undefined) {
    password = envPassword;
    passwordSource = `$${PASSWORD_ENV}`;
  } else if (files.get('password') !== undefined) {
    password = fromFiles('password');
    passwordSource = `option file ${files.get('password')?.file ?? ''}`;
  }
  registerSecret(password);

  let host = cli.host ?? db.host ?? fromFiles('host');
  // On the command line, --socket means that socket and --port means TCP (the client since
  // MariaDB 10.6), whatever the config and option files say.
  if (cli.socket !== undefined) host = undefined;
  else if (cli.port !== undefined && (host === undefined || host === 'localhost'))
    host = '127.0.0.1';
  const endpoint = await chooseEndpoint(
    host,
    cli.socket ?? db.socket ?? fromFiles('socket'),
    cli.port ?? db.port ?? numberOption(files, 'port'),
  );
  const tls = tlsSettings(config, files);
  const description =
    endpoint.socket !== undefined
      ? `${user}@${endpoint.socket}`
      : `${user}@${endpoint.host ?? ''}:${String(endpoint.port ?? 3306)}`;
  return {
    ...endpoint,
    user,
    password,
    database,
    tls,
    connectTimeoutMs: Math.round((db.connectTimeout ?? 10) * 1000),
    description,
    passwordSource,
  };
}

/**
 * The PostgreSQL connection: what the config and command line name, nothing from MySQL option
 * files. `-S` names the socket directory (dropping the host), `-h` the host (dropping the
 * socket); `-P` the port of either, as for psql. The password: `password_file`, else
 * `$SCHEMA_BACKUP_DB_PASSWORD`, else `$PGPASSWORD` (withdrawn from the environment at start,
 * so given here: it then counts before a service's password, where libpq reads the service
 * first), else none, and the engine reads `~/.pgpass` or a service's as libpq does.
 */
async function resolvePostgresqlConnection(
  config: Pick<Config, 'database' | 'file'>,
  options: ResolveConnectionOptions,
): Promise<ConnectionSettings> {
  const env = options.env ?? process.env;
  const db = config.database;
  const cli = options.overrides ?? {};
  const mysqlOption =
    cli.defaultsFile !== undefined
      ? '--defaults-file'
      : cli.defaultsExtraFile !== undefined
        ? '--defaults-extra-file'
        : undefined;
  if (mysqlOption !== undefined)
    throw new UsageError(
      `${mysqlOption} names a MySQL option file, which database.engine postgresql does not read`,
      {
        hint: 'PostgreSQL connections read PG* variables, ~/.pgpass ($PGPASSFILE) and pg_service.conf as psql does: name a service in database.service (or $PGSERVICE), or give -h, -P, -S, -u.',
      },
    );
  let host = cli.host ?? db.host;
  let socket = cli.socket ?? db.socket;
  if (cli.socket !== undefined) host = undefined;
  else if (cli.host !== undefined) socket = undefined;
  const port = cli.port ?? db.port;
  const user = cli.user ?? db.user;
  const database = options.database ?? db.name ?? '';

  let password: string | undefined;
  let passwordSource: string;
  const envPassword = env[PASSWORD_ENV];
  const pgPassword = env[PG_PASSWORD_ENV];
  if (db.passwordFile !== undefined) {
    password = await readPasswordFile(db.passwordFile, config.file, options.warn);
    passwordSource = `password_file ${db.passwordFile}`;
  } else if (envPassword !== undefined) {
    password = envPassword;
    passwordSource = `$${PASSWORD_ENV}`;
  } else if (pgPassword !== undefined && pgPassword !== '') {
    password = pgPassword;
    passwordSource = `$${PG_PASSWORD_ENV}`;
  } else {
    passwordSource = `the service or the password file ${env.PGPASSFILE ?? '~/.pgpass'}, if either has one (as libpq)`;
  }
  registerSecret(password);

  // What is known before libpq fills in the rest, as a conninfo string: psql users read it.
  const named: [string, string | number | undefined][] = [
    ['host', host ?? socket],
    ['port', port],
    ['user', user],
    ['dbname', database === '' ? undefined : database],
    ['service', db.service],
  ];
  const conninfo = named
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(' ');
  const description = conninfo === '' ? 'libpq defaults' : conninfo;
  return {
    host,
    port,
    socket,
    user,
    password,
    database,
    service: db.service,
    sslMode: db.sslmode,
    sslRootCert: db.sslrootcert,
    connectTimeoutMs:
      db.connectTimeout === undefined ? undefined : Math.round(db.connectTimeout * 1000),
    description,
    passwordSource,
  };
}

/**
 * The client's rule: a socket when one is named or the host is `localhost` (or unnamed) and
 * a socket exists; TCP otherwise, to 127.0.0.1 when nothing better is known.
 */
async function chooseEndpoint(
  host: string | undefined,
  socket: string | undefined,
  port: number | undefined,
): Promise<{ host?: string; port?: number; socket?: string }> {
  if (host !== undefined && host !== 'localhost') return { host, port: port ?? 3306 };
  if (socket !== undefined && host === undefined) return { socket };
  for (const candidate of socket === undefined ? DEFAULT_SOCKETS : [socket, ...DEFAULT_SOCKETS]) {
    if (await pathExists(candidate)) return { socket: candidate };
  }
  return { host: '127.0.0.1', port: port ?? 3306 };
}

function tlsSettings(
  config: Pick<Config, 'database'>,
  files: OptionValues,
): TlsSettings | undefined {
  const db = config.database;
  const ca = db.sslCa ?? files.get('ssl_ca')?.value;
  const cert = db.sslCert ?? files.get('ssl_cert')?.value;
  const key = db.sslKey ?? files.get('ssl_key')?.value;
  const fileSsl = files.get('ssl')?.value;
  const wanted =
    db.ssl ?? (fileSsl === undefined ? undefined : fileSsl !== '0' && fileSsl !== 'OFF');
  if (wanted === false || files.has('skip_ssl')) return undefined;
  if (wanted !== true && ca === undefined && cert === undefined) return undefined;
  const verifyOption = files.get('ssl_verify_server_cert')?.value;
  const verifyServerCert =
    db.sslVerifyServerCert ??
    (verifyOption === undefined ? ca !== undefined : verifyOption !== '0');
  return { ca, cert, key, verifyServerCert };
}

function numberOption(files: OptionValues, name: string): number | undefined {
  const value = files.get(name)?.value;
  if (value === undefined) return undefined;
  const number = Number(value);
  return Number.isInteger(number) ? number : undefined;
}

async function readPasswordFile(
  path: string,
  configFile: string,
  warn?: (message: string) => void,
): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      { file: configFile, key: 'database.password_file' },
      `cannot read ${path}: ${(error as { code?: string }).code ?? (error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const mode = (await stat(path)).mode;
  if ((mode & 0o077) !== 0)
    warn?.(
      `password file ${path} is readable by other users (mode ${(mode & 0o777).toString(8)}); chmod 600 it`,
    );
  // The first line is the password, as in `mariadb --password="$(cat file)"`.
  return text.split(/\r?\n/)[0] ?? '';
}
