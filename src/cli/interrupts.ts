/**
 * SIGINT and SIGTERM while services are stopped or a pause hook is in effect: run the
 * registered clean-ups (newest first: forward the signal to a running upgrade command, then
 * start the services), then exit with 128 + the signal's number, as a shell would.
 */
import { constants } from 'node:os';
import type { Interrupts } from '../services/consumer-control.js';
import type { Logger } from '../support/logger.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export function processInterrupts(logger: Logger): Interrupts {
  const cleanups: ((signal: NodeJS.Signals) => Promise<void>)[] = [];
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted !== undefined) {
      logger.warn(
        `${signal} again: still putting things back (services, pause hooks); SIGKILL abandons that, and the next run starts the services`,
      );
      return;
    }
    interrupted = signal;
    logger.warn(`interrupted by ${signal}: putting things back before exiting`);
    void (async () => {
      for (const cleanup of [...cleanups].reverse()) {
        try {
          await cleanup(signal);
        } catch (error) {
          logger.error(`while cleaning up: ${(error as Error).message}`);
        }
      }
      process.exit(128 + constants.signals[signal]);
    })();
  };
  return {
    onInterrupt(cleanup) {
      cleanups.push(cleanup);
      if (cleanups.length === 1) for (const signal of SIGNALS) process.on(signal, onSignal);
      return () => {
        const index = cleanups.indexOf(cleanup);
        if (index >= 0) cleanups.splice(index, 1);
        if (cleanups.length === 0 && interrupted === undefined)
          for (const signal of SIGNALS) process.off(signal, onSignal);
      };
    },
  };
}
