/**
 * The database connection options of the commands that connect, spelled as the `mariadb`
 * client spells them (`--defaults-file`, `--defaults-extra-file`, `-S/--socket`, `-P/--port`,
 * `-u/--user`, `-h`); their help says what each is for both engines' clients. Each overrides the config's `database.*` key. `-h`, `-P`, `-S` and `-u`
 * serve PostgreSQL too (`-S` is then the socket directory); the option-file ones are
 * MariaDB's, refused with PostgreSQL. There is no password option: a command line is visible
 * to every user of the host (`ps`, /proc).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Argv } from 'yargs';
import type { ConnectionOverrides } from '../config/resolve-connection.js';
import { numberOption } from './number-option.js';

export interface ConnectionArgs {
  readonly serverHost?: string | undefined;
  readonly port?: number | undefined;
  readonly socket?: string | undefined;
  readonly user?: string | undefined;
  readonly defaultsFile?: string | undefined;
  readonly defaultsExtraFile?: string | undefined;
}

const GROUP = 'Database connection (overrides database.* of the config):';

/** Adds the connection options to a command that connects. */
export function withConnectionOptions<T>(yargs: Argv<T>): Argv<T & ConnectionArgs> {
  return yargs
    .option('server-host', {
      alias: 'h',
      type: 'string',
      requiresArg: true,
      describe: "the database server's host, as the mariadb/psql client's -h",
    })
    .option('port', {
      alias: 'P',
      type: 'number',
      requiresArg: true,
      coerce: numberOption('--port', { min: 1, max: 65_535, whole: true }),
      describe:
        "the server's port, as the mariadb client's -P and psql's -p (MariaDB: connects over TCP, to 127.0.0.1 when the host is localhost; PostgreSQL: the port of the host or of the socket directory)",
    })
    .option('socket', {
      alias: 'S',
      type: 'string',
      requiresArg: true,
      describe:
        "the server's Unix socket, as the mariadb client's -S (MariaDB), or its socket directory, as psql's -h DIR (PostgreSQL): connects through it, whatever host the config names",
    })
    .option('user', {
      alias: 'u',
      type: 'string',
      requiresArg: true,
      describe:
        "the user to connect as, as the mariadb client's -u and psql's -U. The password is never an option: it comes from database.password_file, else $SCHEMA_BACKUP_DB_PASSWORD, else the option files (MariaDB) or $PGPASSWORD, a service or ~/.pgpass (PostgreSQL)",
    })
    .option('defaults-file', {
      type: 'string',
      requiresArg: true,
      describe: 'MariaDB: read only this option file (my.cnf) instead of the usual ones',
    })
    .option('defaults-extra-file', {
      type: 'string',
      requiresArg: true,
      describe: 'MariaDB: read this option file too, after /etc/my.cnf and before ~/.my.cnf',
    })
    .group(
      ['server-host', 'port', 'socket', 'user', 'defaults-file', 'defaults-extra-file'],
      GROUP,
    );
}

/** The connection options given in `args`, as flags (for a command that may not connect). */
export function connectionOptionsGiven(args: ConnectionArgs): string[] {
  const flags: Readonly<Record<keyof ConnectionArgs, string>> = {
    serverHost: '--server-host',
    port: '--port',
    socket: '--socket',
    user: '--user',
    defaultsFile: '--defaults-file',
    defaultsExtraFile: '--defaults-extra-file',
  };
  return Object.entries(flags)
    .filter(([key]) => args[key as keyof ConnectionArgs] !== undefined)
    .map(([, flag]) => flag);
}

/** The overrides that `args` holds, for `resolveConnection`. */
export function connectionOverrides(args: ConnectionArgs): ConnectionOverrides {
  return {
    host: args.serverHost,
    port: args.port,
    socket: args.socket,
    user: args.user,
    defaultsFile: expandHome(args.defaultsFile),
    defaultsExtraFile: expandHome(args.defaultsExtraFile),
  };
}

/** `~/x` as the client expands it: the shell leaves `--defaults-file=~/x` alone. */
function expandHome(path: string | undefined): string | undefined {
  return path?.startsWith('~/') === true ? join(homedir(), path.slice(2)) : path;
}
