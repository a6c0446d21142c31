/**
 * Translates pg and socket errors into {@link EngineError}s: the SQLSTATE, a sentence a user
 * understands and a remedy. Never copies a query, the error's `detail` or `where` (they may
 * hold row values), nor a password.
 */
import { EngineError } from '../../errors.js';
import {
  driverFields,
  missingDatabaseError,
  otherDriverError,
  SESSION_ABORTED,
  sessionAbortedError,
  UNREACHABLE_SOCKET_CODES,
  unreachableError,
} from '../common/driver-error.js';

interface DriverError {
  code?: string;
  message?: string;
  severity?: string;
}

/** The code of the error that `PostgresqlSession.abort()` fails the statements of its session with. */
export { SESSION_ABORTED };

const UNREACHABLE = new Set([...UNREACHABLE_SOCKET_CODES, 'CONNECTION_LOST']);

/** SQLSTATEs by the condition names of the PostgreSQL manual (appendix A), for the ones we name. */
const CONDITION_NAMES: Readonly<Record<string, string>> = {
  '28P01': 'invalid_password',
  '28000': 'invalid_authorization_specification',
  '42501': 'insufficient_privilege',
  '3D000': 'invalid_catalog_name',
  '3F000': 'invalid_schema_name',
  '42P01': 'undefined_table',
  '40001': 'serialization_failure',
  '40P01': 'deadlock_detected',
  '55P03': 'lock_not_available',
  '57P01': 'admin_shutdown',
  '57P03': 'cannot_connect_now',
  '53200': 'out_of_memory',
  '53300': 'too_many_connections',
  '25006': 'read_only_sql_transaction',
  '22023': 'invalid_parameter_value',
  '0A000': 'feature_not_supported',
};

/** The error pg gives for a connection that ended while it waited: no code of its own. */
const LOST_MESSAGES =
  /^(?:Connection terminated|Client has encountered a connection error|Connection closed)/;

/**
 * The EngineError for `error`, raised while doing `action` (e.g. `reading rows of "public"."t"`)
 * on the server described by `target` (`user@host:port/database`).
 */
export function mapDriverError(error: unknown, action: string, target = 'the server'): EngineError {
  if (error instanceof EngineError) return error;
  const driver = driverFields(error) as DriverError;
  const message = driver.message ?? String(error);
  let code = driver.code ?? 'UNKNOWN';
  if (code === 'UNKNOWN' && LOST_MESSAGES.test(message)) code = 'CONNECTION_LOST';
  if (code === 'UNKNOWN' && /timeout expired/i.test(message)) code = 'ETIMEDOUT';
  const sqlState = /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  const details = {
    code: sqlState === undefined ? code : (CONDITION_NAMES[sqlState] ?? sqlState),
    ...(sqlState === undefined ? {} : { sqlState }),
    cause: error,
  };

  if (code === SESSION_ABORTED) return sessionAbortedError(action, details);
  if (UNREACHABLE.has(code)) {
    return unreachableError(
      `the PostgreSQL server ${target}`,
      code,
      action,
      details,
      'Is PostgreSQL running and listening there (`pg_isready -h HOST -p PORT`)? Check database.host/port/socket in the config, $PGHOST/$PGPORT and the service, or start the server (e.g. `pg_ctlcluster 15 main start`).',
    );
  }
  if (/does not support SSL/i.test(message)) {
    return new EngineError(`the PostgreSQL server ${target} does not support TLS`, {
      ...details,
      hint: 'Set sslmode to prefer or disable, or enable ssl on the server.',
    });
  }
  switch (sqlState) {
    case '28P01':
    case '28000':
      return new EngineError(`access denied for ${target}: ${message}`, {
        ...details,
        hint: 'Check database.user and the password (database.password_file, $PGPASSWORD, ~/.pgpass or the service), and pg_hba.conf on the server.',
      });
    case '42501':
      return new EngineError(`the database user lacks a privilege while ${action}: ${message}`, {
        ...details,
        hint: 'A snapshot needs USAGE on every schema it reads, SELECT on its tables and sequences, and a role that row-level security does not filter (the owner, or BYPASSRLS).',
      });
    case '3D000':
      return missingDatabaseError(message, details);
    case '53200':
      // A snapshot's one transaction holds a lock on every table (and index) it has read:
      // the server's lock table has room for max_locks_per_transaction x max_connections.
      return new EngineError(`database error while ${action}: ${message} (${details.code})`, {
        ...details,
        hint: 'The server ran out of lock slots: one snapshot transaction locks every table it reads (as pg_dump does). Raise max_locks_per_transaction on the server (e.g. to 256 for 10,000 tables; needs a restart), or snapshot fewer schemas at a time (database.schemas).',
      });
    default:
      return otherDriverError(action, message, details.code, details);
  }
}
