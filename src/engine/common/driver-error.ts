/**
 * What both engines' translations of driver errors into {@link EngineError}s share: the socket
 * errors that mean the server cannot be reached, the error of an aborted session, a missing
 * database, and the catch-all. Each engine's map-error.ts keeps its driver's codes and hints.
 */
import { EngineError } from '../../errors.js';

/** The details an EngineError made from a driver error carries. */
export type DriverErrorDetails = ConstructorParameters<typeof EngineError>[1] & { code: string };

/** The code of the error a session's `abort()` fails the statements of its session with. */
export const SESSION_ABORTED = 'SESSION_ABORTED';

/** Socket errors that mean the server cannot be reached (a driver adds its own lost-connection code). */
export const UNREACHABLE_SOCKET_CODES: readonly string[] = [
  'ECONNREFUSED',
  'ENOENT',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
  'EPIPE',
];

/** `error` as an object to read a driver's fields from; a thrown non-object becomes its message. */
export function driverFields(error: unknown): object {
  return typeof error === 'object' && error !== null ? error : { message: String(error) };
}

export function sessionAbortedError(action: string, details: DriverErrorDetails): EngineError {
  return new EngineError(`stopped while ${action}: the connection was dropped`, details);
}

/** `server` names it with its address, e.g. "the database server root@localhost:3306". */
export function unreachableError(
  server: string,
  code: string,
  action: string,
  details: DriverErrorDetails,
  hint: string,
): EngineError {
  return new EngineError(`cannot reach ${server} (${code}) while ${action}`, { ...details, hint });
}

export function missingDatabaseError(message: string, details: DriverErrorDetails): EngineError {
  return new EngineError(`the database does not exist (${message})`, {
    ...details,
    hint: 'Check database.name in the config; `schema_backup check` lists what it sees.',
  });
}

/** Any other error: the driver's message and code. */
export function otherDriverError(
  action: string,
  message: string,
  code: string,
  details: DriverErrorDetails,
): EngineError {
  return new EngineError(`database error while ${action}: ${message} (${code})`, details);
}
