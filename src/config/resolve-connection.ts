/**
 * Turns the `database:` block into everything needed to connect: what the config leaves out
 * comes from MySQL option files, the password from `password_file`, else
 * `$SCHEMA_BACKUP_DB_PASSWORD`, else the option files. Every password read is registered
 * with `redact` so that no later message can show it.
 */
import { readFile, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { ConfigError, UsageError } from '../errors.js';
import { pathExists } from '../support/path-exists.js';
import { registerSecret } from '../support/redact.js';
import { readOptionFiles, type OptionValues } from './my-cnf/read-option-files.js';
import type { Config } from './schema.js';

/** Where the client looks for the server's socket when nothing names one. */
export const DEFAULT_SOCKETS = [
  '/run/mysqld/mysqld.sock',
  '/var/run/mysqld/mysqld.sock',
  '/tmp/mysql.sock',
];

export const PASSWORD_ENV = 'SCHEMA_BACKUP_DB_PASSWORD';

export interface TlsSettings {
  /** PEM file paths. */
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  /** Check the server certificate against `ca` and its name against the host. */
  readonly verifyServerCert: boolean;
}

/** A complete connection description, shaped like the engine's `ConnectionOptions`. */
export interface ConnectionSettings {
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly socket?: string | undefined;
  readonly user: string;
  readonly password?: string | undefined;
  readonly database: string;
  readonly tls?: TlsSettings | undefined;
  readonly connectTimeoutMs: number;
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
  /** `--defaults-file`: read only this option file (instead of `database.defaults_file`). */
  readonly defaultsFile?: string | undefined;
  /** `--defaults-extra-file`: read this option file too, before `~/.my.cnf`. */
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

/** Resolves the connection of `config`. Throws {@link ConfigError} when no database is named. */
export async function resolveConnection(
  config: Pick<Config, 'database' | 'file'>,
  options: ResolveConnectionOptions = {},
): Promise<ConnectionSettings> {
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
