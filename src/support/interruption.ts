/**
 * How a run learns it was asked to stop (SIGINT, SIGTERM, SIGHUP): a flag, never a handler
 * that does the clean-up itself. Workflows check it between steps and pass its AbortSignal
 * to what can be cancelled (a connection, a child process, a wait); their own `finally`
 * blocks then put things back (services, pause hooks) in order, exactly once.
 */
import { constants } from 'node:os';
import { InterruptedError } from '../errors.js';

export class Interruption {
  private readonly controller = new AbortController();
  private by: NodeJS.Signals | undefined;

  /** Aborted when the run is interrupted. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The signal that interrupted the run, if one did. */
  get interruptedBy(): NodeJS.Signals | undefined {
    return this.by;
  }

  interrupt(signal: NodeJS.Signals): void {
    if (this.by !== undefined) return;
    this.by = signal;
    this.controller.abort(this.error());
  }

  /** Throws an {@link InterruptedError} once interrupted; call it between steps. */
  throwIfInterrupted(): void {
    if (this.by !== undefined) throw this.error();
  }

  /** Waits `ms`, or less when interrupted (then throws). */
  async sleep(ms: number): Promise<void> {
    this.throwIfInterrupted();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      const signal = this.signal;
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done);
    });
    this.throwIfInterrupted();
  }

  private error(): InterruptedError {
    const signal = this.by ?? 'SIGTERM';
    return new InterruptedError(signal, constants.signals[signal]);
  }
}

/** For library use and tests: an interruption that never comes. */
export function neverInterrupted(): Interruption {
  return new Interruption();
}
