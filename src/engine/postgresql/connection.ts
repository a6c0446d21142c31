/**
 * Connection settings resolved as libpq (and so psql) resolves them, for a `pg.Client`:
 *
 *   1. what the caller names (host, port, socket directory, user, database, password or
 *      password file, service, sslmode, sslrootcert, TLS files);
 *   2. the service's entries (`service` or `$PGSERVICE`), from `$PGSERVICEFILE` or
 *      `~/.pg_service.conf`, else `$PGSYSCONFDIR/pg_service.conf` or the Debian system file;
 *   3. the `PG*` environment variables;
 *   4. libpq's defaults: socket directory /var/run/postgresql, port 5432, the OS user, a
 *      database named like the user, sslmode `prefer`.
 *
 * A service's entries win over `PG*` variables, as in libpq (`PGSERVICE=x PGPORT=1 psql`
 * connects to x's port). The password, when none of these gives one, comes from the password
 * file (`~/.pgpass`, `$PGPASSFILE` or the service's `passfile`) with libpq's rules, read only
 * when the server asks for a password. pg 8 would read `~/.pgpass` itself, through the
 * deprecated `pgpass` package, without libpq's socket-directory rule: it is given a
 * password function instead, so it never does.
 *
 * The password never goes into a message: the description is `user@host:port/database`.
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { ClientConfig } from 'pg';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { EngineError } from '../../errors.js';
import { registerSecret } from '../../support/redact.js';
import type { ConnectionOptions } from '../engine.js';

/** Debian's libpq: where the server's socket is when nothing names a host. */
export const DEFAULT_SOCKET_DIRECTORY = '/var/run/postgresql';
export const DEFAULT_PORT = 5432;
/** Debian's libpq sysconfdir: the system service file when `$PGSYSCONFDIR` is unset. */
export const DEFAULT_SYSCONF_DIRECTORY = '/etc/postgresql-common';

/** libpq's sslmode values, weakest first. */
export type SslMode = NonNullable<ConnectionOptions['sslMode']>;
export const SSL_MODES: readonly SslMode[] = [
  'disable',
  'allow',
  'prefer',
  'require',
  'verify-ca',
  'verify-full',
];

/**
 * What the config says about the connection. {@link ConnectionOptions} carries libpq's own
 * keys (`passwordFile`, `service`, `sslMode`, `sslRootCert`); the name stays for readers of
 * this module.
 */
export type PostgresConnectionOptions = ConnectionOptions;

/** The process's surroundings, injectable for tests. */
export interface ConnectionEnvironment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly home: string;
  readonly osUser: string;
  /** Where the system service file is when `$PGSYSCONFDIR` is unset. */
  readonly sysconfDirectory?: string | undefined;
  /** Warnings about files libpq ignores (a password file others can read). */
  readonly warn?: ((message: string) => void) | undefined;
}

export interface ResolvedConnection {
  /** For `new pg.Client(...)`. Its `password` is a function: the password is not in it as text. */
  readonly config: ClientConfig;
  /** `user@host:port/database`, for messages. */
  readonly description: string;
  /** Where the password comes from, for messages (`password_file /x`, `$PGPASSWORD`, `~/.pgpass`…). */
  readonly passwordSource: string;
  /** sslmode `prefer`: when the server refuses TLS, connect again without it. */
  readonly retryWithoutTls: boolean;
  /** The resolved libpq settings (no password), for messages and tests. */
  readonly settings: ConnectionSummary;
}

export interface ConnectionSummary {
  /** A host name or address, or a socket directory (starts with `/`). */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  readonly sslMode: SslMode;
  readonly service?: string | undefined;
}

/** The libpq keys this resolution reads, with their environment variables. */
const ENVIRONMENT: Readonly<Record<string, string>> = {
  host: 'PGHOST',
  port: 'PGPORT',
  user: 'PGUSER',
  dbname: 'PGDATABASE',
  password: 'PGPASSWORD',
  passfile: 'PGPASSFILE',
  sslmode: 'PGSSLMODE',
  sslrootcert: 'PGSSLROOTCERT',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  connect_timeout: 'PGCONNECT_TIMEOUT',
};

export function processEnvironment(): ConnectionEnvironment {
  return { env: process.env, home: homedir(), osUser: userInfo().username };
}

/** Resolves `options` as libpq would. Throws EngineError for a service or file that cannot be used. */
export function resolvePostgresConnection(
  options: PostgresConnectionOptions,
  environment: ConnectionEnvironment = processEnvironment(),
): ResolvedConnection {
  const { env, home } = environment;
  const explicit = explicitSettings(options);
  const sources = new Map<string, string>();
  const settings = new Map<string, string>();
  const take = (values: ReadonlyMap<string, string>, source: string): void => {
    for (const [key, value] of values) {
      if (settings.has(key)) continue;
      settings.set(key, value);
      sources.set(key, source);
    }
  };
  take(explicit, 'config');
  const service = options.service ?? nonEmpty(env.PGSERVICE);
  if (service !== undefined) take(readService(service, environment), `service ${service}`);
  const fromEnvironment = new Map<string, string>();
  for (const [key, variable] of Object.entries(ENVIRONMENT)) {
    const value = nonEmpty(env[variable]);
    if (value !== undefined) fromEnvironment.set(key, value);
  }
  take(fromEnvironment, 'environment');

  const host = settings.get('host') ?? DEFAULT_SOCKET_DIRECTORY;
  const port = portNumber(settings.get('port') ?? String(DEFAULT_PORT));
  const user = settings.get('user') ?? environment.osUser;
  const database = settings.get('dbname') ?? user;
  const sslMode = sslModeOf(settings.get('sslmode') ?? 'prefer');
  const isSocket = host.startsWith('/');
  const description = `${user}@${host}:${String(port)}/${database}`;

  // An empty password is none, as in libpq: the password file is then read.
  const password = nonEmpty(settings.get('password'));
  const passFile = settings.get('passfile') ?? join(home, '.pgpass');
  const from = sources.get('password');
  const passwordSource =
    password === undefined
      ? `password file ${passFile} (if it has an entry)`
      : options.passwordFile !== undefined
        ? `password_file ${options.passwordFile}`
        : from === 'environment'
          ? '$PGPASSWORD'
          : (from ?? 'config');
  registerSecret(password);
  const passwordFunction = (): string | undefined => {
    if (password !== undefined) return password;
    const found = readPasswordFile(passFile, { host, port, database, user }, environment.warn);
    registerSecret(found);
    if (found === undefined) {
      // libpq's words: the server asked for a password and there is none.
      throw new EngineError(`the server ${description} asks for a password and none was given`, {
        code: 'NO_PASSWORD',
        hint: `Give one in database.password_file, $PGPASSWORD, a service of pg_service.conf, or a line of ${passFile} (mode 0600).`,
      });
    }
    return found;
  };

  const timeoutText = settings.get('connect_timeout');
  const connectTimeoutMs =
    options.connectTimeoutMs ??
    (timeoutText === undefined ? 10_000 : timeoutSeconds(timeoutText) * 1000);

  const tls = isSocket ? false : tlsOptions(sslMode, settings, host, home);
  const config: ClientConfig = {
    host,
    port,
    user,
    database,
    password: passwordFunction as () => string,
    ssl: tls,
    connectionTimeoutMillis: connectTimeoutMs,
    application_name: 'schema_backup',
    // Every value as the server's text: nothing goes through a JS number or Date.
    types: { getTypeParser: () => (value: string) => value },
  };
  return {
    config,
    description,
    passwordSource,
    retryWithoutTls: !isSocket && sslMode === 'prefer',
    settings: { host, port, user, database, sslMode, service },
  };
}

/** The libpq keys the caller gave, in libpq's names. */
function explicitSettings(options: PostgresConnectionOptions): Map<string, string> {
  const values = new Map<string, string>();
  const set = (key: string, value: string | number | undefined): void => {
    if (value !== undefined && value !== '') values.set(key, String(value));
  };
  let socket = options.socket;
  let socketPort: number | undefined;
  // A socket file (`/var/run/postgresql/.s.PGSQL.5433`) names its directory and port.
  const socketFile = socket === undefined ? undefined : /^(.*)\/\.s\.PGSQL\.(\d+)$/.exec(socket);
  if (socketFile !== null && socketFile !== undefined) {
    socket = socketFile[1] === '' ? '/' : socketFile[1];
    socketPort = Number(socketFile[2]);
  }
  set('host', options.host ?? socket);
  set('port', options.port ?? (options.host === undefined ? socketPort : undefined));
  set('user', options.user);
  set('dbname', options.database);
  if (options.passwordFile !== undefined) set('password', readFirstLine(options.passwordFile));
  else if (options.password !== undefined) values.set('password', options.password);
  // The config's TLS block: its CA and whether to check the server, in libpq's terms.
  const tls = options.tls;
  set('sslmode', options.sslMode ?? (tls === undefined ? undefined : sslModeForTls(tls)));
  set('sslrootcert', options.sslRootCert ?? tls?.ca);
  set('sslcert', tls?.cert);
  set('sslkey', tls?.key);
  return values;
}

function sslModeForTls(tls: NonNullable<ConnectionOptions['tls']>): SslMode {
  if (!tls.verifyServerCert) return 'require';
  return 'verify-full';
}

function sslModeOf(text: string): SslMode {
  if ((SSL_MODES as readonly string[]).includes(text)) return text as SslMode;
  throw new EngineError(`invalid sslmode "${text}"`, {
    code: 'BAD_SSLMODE',
    hint: `Use one of ${SSL_MODES.join(', ')}.`,
  });
}

/**
 * pg's `ssl` option for `sslMode`: false, or the TLS options. `allow` connects without TLS
 * (libpq would try TLS only after the server refused a plain connection); `prefer` tries TLS
 * first, and the caller connects again without it when the server has none.
 */
function tlsOptions(
  sslMode: SslMode,
  settings: ReadonlyMap<string, string>,
  host: string,
  home: string,
): false | TlsConnectionOptions {
  if (sslMode === 'disable' || sslMode === 'allow') return false;
  const postgresqlDirectory = join(home, '.postgresql');
  const explicitRoot = settings.get('sslrootcert');
  const rootCert = explicitRoot ?? join(postgresqlDirectory, 'root.crt');
  const client = clientCertificate(settings, postgresqlDirectory);
  // libpq: `require` with a root certificate file present checks the chain, as verify-ca does.
  const rootExists = rootCert === 'system' || isFile(rootCert);
  const verify = sslMode === 'verify-ca' || sslMode === 'verify-full' || rootExists;
  if (!verify) return { rejectUnauthorized: false, ...client };
  if (!rootExists) {
    throw new EngineError(`root certificate file "${rootCert}" does not exist`, {
      code: 'NO_ROOT_CERT',
      hint: 'Either provide the file (database.sslrootcert or $PGSSLROOTCERT) or change sslmode to disable server certificate verification.',
    });
  }
  const ca = rootCert === 'system' ? {} : { ca: readText(rootCert, 'root certificate') };
  // verify-ca checks the chain only; verify-full also that the certificate names `host`.
  const identity =
    sslMode === 'verify-full' ? { servername: host } : { checkServerIdentity: () => undefined };
  return { rejectUnauthorized: true, ...ca, ...identity, ...client };
}

/** The client certificate and key: named, else `~/.postgresql/postgresql.crt`/`.key` when they exist. */
function clientCertificate(
  settings: ReadonlyMap<string, string>,
  directory: string,
): { cert?: string; key?: string } {
  const certFile = settings.get('sslcert') ?? join(directory, 'postgresql.crt');
  const keyFile = settings.get('sslkey') ?? join(directory, 'postgresql.key');
  if (!isFile(certFile)) {
    if (settings.has('sslcert'))
      throw new EngineError(`certificate file "${certFile}" does not exist`, { code: 'NO_CERT' });
    return {};
  }
  return {
    cert: readText(certFile, 'client certificate'),
    key: readText(keyFile, 'client key'),
  };
}

/**
 * The entries of service `name`: from the user's service file if it has the service, else
 * from the system's. Throws when neither has it, as libpq does.
 */
function readService(name: string, environment: ConnectionEnvironment): Map<string, string> {
  const { env, home } = environment;
  const userFile = nonEmpty(env.PGSERVICEFILE) ?? join(home, '.pg_service.conf');
  const systemFile = join(
    nonEmpty(env.PGSYSCONFDIR) ?? environment.sysconfDirectory ?? DEFAULT_SYSCONF_DIRECTORY,
    'pg_service.conf',
  );
  for (const file of [userFile, systemFile]) {
    const text = readIfExists(file);
    if (text === undefined) continue;
    const services = parseServiceFile(text, file);
    const entries = services.get(name);
    if (entries !== undefined) {
      if (entries.has('service'))
        throw new EngineError(`nested service specifications are not supported (${file})`, {
          code: 'BAD_SERVICE_FILE',
        });
      return entries;
    }
  }
  throw new EngineError(`definition of service "${name}" not found`, {
    code: 'NO_SERVICE',
    hint: `Define [${name}] in ${userFile} or ${systemFile}, or unset $PGSERVICE.`,
  });
}

/**
 * The services of a `pg_service.conf`: `[name]` groups of `key=value` lines; `#` comments,
 * blank lines and the spaces around keys and values ignored. libpq keys only (`dbname`, not
 * `database`).
 */
export function parseServiceFile(
  text: string,
  file = 'pg_service.conf',
): Map<string, Map<string, string>> {
  const services = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index += 1) {
    const line = (lines[index] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('[')) {
      const end = line.indexOf(']');
      const name = line.slice(1, end === -1 ? undefined : end);
      // The first group of a name counts, as in libpq, which stops at the one it looks for.
      current = services.has(name) ? new Map() : new Map<string, string>();
      if (!services.has(name)) services.set(name, current);
      continue;
    }
    const equals = line.indexOf('=');
    if (equals === -1)
      throw new EngineError(`syntax error in service file "${file}", line ${String(index + 1)}`, {
        code: 'BAD_SERVICE_FILE',
      });
    if (current === undefined) continue;
    const key = line.slice(0, equals).trim();
    if (!current.has(key)) current.set(key, line.slice(equals + 1).trim());
  }
  return services;
}

/** What a password file line is compared with. */
export interface PasswordFileTarget {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
}

/**
 * The password for `target` from password file `path` (`.pgpass`), or undefined. As libpq:
 * a missing file gives none; a file that is not a plain file, or that the group or others
 * may read, is ignored with a warning.
 */
export function readPasswordFile(
  path: string,
  target: PasswordFileTarget,
  warn?: (message: string) => void,
): string | undefined {
  let mode: number;
  try {
    const stats = statSync(path);
    if (!stats.isFile()) {
      warn?.(`password file "${path}" is not a plain file`);
      return undefined;
    }
    mode = stats.mode;
  } catch {
    return undefined;
  }
  if ((mode & 0o077) !== 0) {
    warn?.(
      `password file "${path}" has group or world access; permissions should be u=rw (0600) or less`,
    );
    return undefined;
  }
  const text = readIfExists(path);
  return text === undefined ? undefined : lookUpPassword(text, target);
}

/**
 * The password of the first line of a `.pgpass` text that matches `target`
 * (`host:port:database:user:password`; `*` matches anything; `\` escapes `:` and `\`). A
 * socket in the default directory matches `localhost`, as in libpq.
 */
export function lookUpPassword(text: string, target: PasswordFileTarget): string | undefined {
  const host = target.host === DEFAULT_SOCKET_DIRECTORY ? 'localhost' : target.host;
  const wanted = [host, String(target.port), target.database, target.user];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line === '' || line.startsWith('#')) continue;
    const fields = splitPasswordLine(line);
    if (fields.length < 5) continue;
    if (wanted.every((value, index) => matches(fields[index], value))) return fields[4]?.text;
  }
  return undefined;
}

function matches(field: PasswordField | undefined, value: string): boolean {
  if (field === undefined) return false;
  return field.wildcard || field.text === value;
}

interface PasswordField {
  readonly text: string;
  /** The field is exactly an unescaped `*`. */
  readonly wildcard: boolean;
}

/** Splits a password file line at its unescaped colons: four fields, then the password. */
function splitPasswordLine(line: string): PasswordField[] {
  const fields: PasswordField[] = [];
  let text = '';
  let raw = '';
  for (let index = 0; index < line.length; index += 1) {
    const char = line[index] ?? '';
    if (char === '\\' && index + 1 < line.length) {
      text += line[index + 1] ?? '';
      raw += char + (line[index + 1] ?? '');
      index += 1;
      continue;
    }
    if (char === ':') {
      fields.push({ text, wildcard: raw === '*' });
      text = '';
      raw = '';
      // The password too ends at an unescaped colon, as libpq reads it.
      continue;
    }
    text += char;
    raw += char;
  }
  fields.push({ text, wildcard: raw === '*' });
  return fields;
}

function readFirstLine(path: string): string {
  return readText(path, 'password file').split(/\r?\n/)[0] ?? '';
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new EngineError(
      `cannot read the ${what} ${path}: ${(error as { code?: string }).code ?? 'error'}`,
      { code: 'UNREADABLE_FILE', cause: error },
    );
  }
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw new EngineError(`cannot read ${path}: ${(error as { code?: string }).code ?? 'error'}`, {
      code: 'UNREADABLE_FILE',
      cause: error,
    });
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function portNumber(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535)
    throw new EngineError(`invalid port number: "${text}"`, { code: 'BAD_PORT' });
  return port;
}

/** libpq's connect_timeout: whole seconds; 0 or less waits for ever (we keep a bound of 2 s, libpq's minimum). */
function timeoutSeconds(text: string): number {
  const seconds = Number.parseInt(text, 10);
  if (Number.isNaN(seconds))
    throw new EngineError(`invalid connect_timeout: "${text}"`, { code: 'BAD_TIMEOUT' });
  return seconds <= 0 ? 0 : Math.max(2, seconds);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
