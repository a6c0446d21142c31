/**
 * SIGINT, SIGTERM and SIGHUP while a run is going: they only raise the run's
 * {@link Interruption} flag; the workflow stops at its next step and its own `finally`
 * blocks put things back (services, pause hooks), then the run fails with
 * InterruptedError (exit 128 + the signal's number). A second signal only says so: SIGKILL
 * abandons the clean-up, and the next run starts the services from their record.
 */
import { Interruption } from '../support/interruption.js';
import type { Logger } from '../support/logger.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Runs `body` with an Interruption that the process's signals raise. */
export async function withSignalsHandled<T>(
  logger: Logger,
  body: (interruption: Interruption) => Promise<T>,
): Promise<T> {
  const interruption = new Interruption();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interruption.interruptedBy !== undefined) {
      logger.warn(
        `${signal} again: still putting things back (services, pause hooks); SIGKILL abandons that, and the next run starts the services`,
      );
      return;
    }
    logger.warn(`interrupted by ${signal}: stopping, and putting back what this run changed`);
    interruption.interrupt(signal);
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  try {
    return await body(interruption);
  } finally {
    for (const signal of SIGNALS) process.off(signal, onSignal);
  }
}
