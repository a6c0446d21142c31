/**
 * The database password's environment variables, taken out of the environment before any
 * child process starts. Apart from context.ts so that main.ts loads it without the config,
 * git and engine modules.
 */
import { PASSWORD_ENV, PG_PASSWORD_ENV } from '../config/resolve-connection.js';

/** Environment variables that may hold the database password (ours, MySQL's, libpq's). */
export const PASSWORD_VARIABLES = [PASSWORD_ENV, 'MYSQL_PWD', PG_PASSWORD_ENV] as const;

/** The password variables {@link withdrawPasswordVariables} took out of the environment. */
let withdrawnVariables: Readonly<Record<string, string>> = {};

/**
 * Takes `$SCHEMA_BACKUP_DB_PASSWORD`, `$MYSQL_PWD` and `$PGPASSWORD` out of `env` (the process's own by
 * default) and keeps their values for `connectionFor` (context.ts). `cli/main.ts` calls it first,
 * before any child process can start: every child (git and its hooks, service commands,
 * notifiers, zstd, the upgrade command) copies the environment it is started with, so none
 * of them ever sees the password. Each call replaces what an earlier call kept.
 */
export function withdrawPasswordVariables(env: NodeJS.ProcessEnv = process.env): void {
  const taken: Record<string, string> = {};
  for (const name of PASSWORD_VARIABLES) {
    const value = env[name];
    if (value !== undefined) taken[name] = value;
    Reflect.deleteProperty(env, name);
  }
  withdrawnVariables = taken;
}

/** What {@link withdrawPasswordVariables} took out of the environment last. */
export function withdrawnPasswordVariables(): Readonly<Record<string, string>> {
  return withdrawnVariables;
}
