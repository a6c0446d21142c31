/**
 * Translates mysql2 and socket errors into {@link EngineError}s with the server's error name,
 * a sentence a user understands and a remedy. Never copies `err.sql`, which may hold values.
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
  errno?: number;
  sqlState?: string;
  sqlMessage?: string;
  message?: string;
  fatal?: boolean;
}

/** The code of the error that `MariadbSession.abort()` fails the statements of its session with. */
export { SESSION_ABORTED };

const UNREACHABLE = new Set([...UNREACHABLE_SOCKET_CODES, 'PROTOCOL_CONNECTION_LOST']);

/**
 * The EngineError for `error`, raised while doing `action` (e.g. "reading rows of `t`") on
 * the server described by `target` (`user@host:port`).
 */
export function mapDriverError(error: unknown, action: string, target = 'the server'): EngineError {
  if (error instanceof EngineError) return error;
  const driver = driverFields(error) as DriverError;
  const code = driver.code ?? 'UNKNOWN';
  const details = {
    code,
    ...(driver.errno === undefined ? {} : { errno: driver.errno }),
    ...(driver.sqlState === undefined ? {} : { sqlState: driver.sqlState }),
    cause: error,
  };

  if (UNREACHABLE.has(code)) {
    return unreachableError(
      `the database server ${target}`,
      code,
      action,
      details,
      'Is MariaDB running and listening there? Check database.host/port/socket in the config, or start the server (e.g. `systemctl start mariadb`).',
    );
  }
  switch (code) {
    case SESSION_ABORTED:
      return sessionAbortedError(action, details);
    case 'ER_ACCESS_DENIED_ERROR':
    case 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR':
      return new EngineError(`access denied for ${target}`, {
        ...details,
        hint: 'Check database.user and the password (database.password_file, $SCHEMA_BACKUP_DB_PASSWORD or an option file such as ~/.my.cnf).',
      });
    case 'ER_DBACCESS_DENIED_ERROR':
    case 'ER_TABLEACCESS_DENIED_ERROR':
    case 'ER_SPECIFIC_ACCESS_DENIED_ERROR':
    case 'ER_PROCACCESS_DENIED_ERROR':
      return new EngineError(
        `the database user lacks a privilege while ${action}: ${driver.sqlMessage ?? code}`,
        {
          ...details,
          hint: 'A snapshot needs SELECT, SHOW VIEW, TRIGGER, EVENT and (for routines) SELECT on mysql.proc or SHOW CREATE ROUTINE.',
        },
      );
    case 'ER_BAD_DB_ERROR':
      return missingDatabaseError(driver.sqlMessage ?? code, details);
    default:
      return otherDriverError(action, driver.sqlMessage ?? driver.message ?? code, code, details);
  }
}
