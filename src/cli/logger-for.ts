/** The logger of a command. Apart from context.ts so that option builders load it cheaply. */
import type { GlobalArgs } from './context.js';
import { createStreamLogger, type Logger } from '../support/logger.js';

/** A logger at the level the flags ask for, writing to stderr. */
export function loggerFor(args: GlobalArgs): Logger {
  return createStreamLogger(
    args.verbose === true ? 'debug' : args.quiet === true ? 'warn' : 'info',
  );
}
