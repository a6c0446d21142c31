/**
 * Stops the consumers of the database around a piece of work and brings them back on every
 * exit path: consumers stop in the listed order and start in reverse; one that fails to
 * stop aborts the work and every one stopped is started again; a failure or an interruption
 * of the work still starts them; a record on disk lets the next run start them after a
 * crash. Interruptions (SIGINT/SIGTERM) are only checked between steps: the clean-up is
 * this module's own `finally` path, never a signal handler running beside it.
 */
import { ServiceError } from '../errors.js';
import type { Interruption } from '../support/interruption.js';
import type { Logger } from '../support/logger.js';
import type { ServiceManager } from './service-manager.js';
import type { StoppedServicesFile, StoppedServicesRecord } from './stopped-services.js';
import { currentProcess, isStillRunning } from '../support/process-identity.js';

export interface ConsumerControlOptions {
  readonly manager: ServiceManager;
  readonly consumers: readonly string[];
  readonly providers: readonly string[];
  readonly stateFile: StoppedServicesFile;
  /** What this run is, for the record, e.g. `snapshot --model`. */
  readonly command: string;
  readonly logger: Logger;
}

export class ConsumerControl {
  readonly options: ConsumerControlOptions;
  /** Consumers this run stopped (or found stopped by a dead run), in stop order. */
  private readonly stopped: string[] = [];
  private keptStopped: string[];
  private readonly started = new Date().toISOString();

  private constructor(options: ConsumerControlOptions, keptStopped: readonly string[]) {
    this.options = options;
    this.keptStopped = [...keptStopped];
  }

  /**
   * Reads the record of earlier runs. Services a dead run stopped are started now; a run
   * still going with services stopped is an error (two runs must not juggle one service),
   * unless `takeOver` (`services start --resume`: the operator says so).
   */
  static async open(
    options: ConsumerControlOptions,
    { takeOver = false }: { takeOver?: boolean } = {},
  ): Promise<ConsumerControl> {
    const { logger, stateFile } = options;
    const record = await stateFile.read();
    if (record === undefined) return new ConsumerControl(options, []);
    const control = new ConsumerControl(options, record.keptStopped);
    if (record.stoppedByRun.length > 0) {
      const owner = `pid ${String(record.owner.pid)}, ${record.command}, ${record.started}`;
      if (isStillRunning(record.owner) && !takeOver)
        throw new ServiceError(
          `another run (${owner}) has stopped ${record.stoppedByRun.join(', ')} and is still going`,
          {
            hint: `Wait for it to finish; it starts them again. If that process is not schema_backup, run: schema_backup services start --resume`,
          },
        );
      logger.warn(
        `a run that did not finish (${owner}) had stopped ${record.stoppedByRun.join(', ')}: starting them now`,
      );
      control.stopped.push(...record.stoppedByRun);
      const failures = await control.startStopped();
      if (failures.length > 0)
        throw new ServiceError(`${failures.join(', ')} did not start again`, {
          hint: 'Fix the service, then run: schema_backup services start --resume',
        });
    }
    if (control.keptStopped.length > 0)
      logger.warn(
        `${control.keptStopped.join(', ')} left stopped on purpose by ${record.command} (${record.started}); start them with: schema_backup services start`,
      );
    return control;
  }

  /** Consumers this run stopped and has not started again. */
  get stoppedServices(): readonly string[] {
    return [...this.stopped];
  }

  /** Consumers recorded as left stopped on purpose. */
  get keptStoppedServices(): readonly string[] {
    return [...this.keptStopped];
  }

  /**
   * Stops every consumer in the listed order; a consumer that is not running is left alone
   * (and not started afterwards). Throws on the first failure or interruption, having
   * started nothing: the caller starts what {@link stoppedServices} names.
   */
  async stopConsumers(interruption: Interruption): Promise<void> {
    const { manager, logger } = this.options;
    for (const service of this.options.consumers) {
      interruption.throwIfInterrupted();
      if ((await manager.status(service, interruption.signal)) === 'stopped') {
        logger.warn(
          `${service} is not running: left as it is (not stopped now, not started afterwards)`,
        );
        continue;
      }
      // Recorded before the stop: a crash during it still leaves a trace to resume from.
      // A failed stop may leave the service half down, so it stays in the list to start.
      this.stopped.push(service);
      await this.save();
      try {
        await manager.run('stop', service, interruption.signal);
      } catch (error) {
        interruption.throwIfInterrupted();
        throw new ServiceError(`${service} failed to stop, so nothing else was done`, {
          cause: error,
          hint: (error as Error).message,
        });
      }
      logger.info(`stopped ${service}`);
    }
  }

  /** Restarts every provider, then waits until `ready` resolves (the database answers). */
  async restartProviders(ready: () => Promise<void>, interruption: Interruption): Promise<void> {
    for (const service of this.options.providers) {
      interruption.throwIfInterrupted();
      try {
        await this.options.manager.run('restart', service, interruption.signal);
      } catch (error) {
        interruption.throwIfInterrupted();
        throw error;
      }
      this.options.logger.info(`restarted ${service}`);
    }
    if (this.options.providers.length > 0) await ready();
  }

  /**
   * Starts, in reverse order, the consumers this run stopped. Every one is tried, whatever
   * happened before; returns the ones that failed (they stay in the record for
   * `services start --resume`). Never interrupted: this is the clean-up.
   */
  async startStopped(): Promise<string[]> {
    const failures: string[] = [];
    for (const service of [...this.stopped].reverse()) {
      try {
        await this.options.manager.run('start', service);
        this.stopped.splice(this.stopped.indexOf(service), 1);
        this.options.logger.info(`started ${service}`);
      } catch (error) {
        this.options.logger.error((error as Error).message);
        failures.push(service);
      }
    }
    await this.saveQuietly();
    return failures;
  }

  /** Leaves the consumers this run stopped stopped, on purpose (`--target`, `--keep-stopped`). */
  async keepStopped(): Promise<readonly string[]> {
    const kept = [...this.stopped];
    this.keptStopped = [...new Set([...this.keptStopped, ...kept])];
    this.stopped.length = 0;
    await this.saveQuietly();
    return kept;
  }

  /** Starts every consumer (reverse order), stopped by anyone, and clears the record. */
  async startAll(): Promise<string[]> {
    for (const service of this.options.consumers)
      if (!this.stopped.includes(service)) this.stopped.push(service);
    this.keptStopped = [];
    return this.startStopped();
  }

  private async save(): Promise<void> {
    const record: StoppedServicesRecord = {
      format: 1,
      owner: currentProcess(),
      started: this.started,
      command: this.options.command,
      stoppedByRun: [...this.stopped],
      keptStopped: this.keptStopped.filter((service) => !this.stopped.includes(service)),
    };
    await this.options.stateFile.write(record);
  }

  /** On the clean-up path a record that cannot be written is reported, not thrown. */
  private async saveQuietly(): Promise<void> {
    try {
      await this.save();
    } catch (error) {
      this.options.logger.error(
        `cannot update ${this.options.stateFile.path}: ${(error as Error).message}`,
      );
    }
  }
}

/** `on-success`: `--target`, stopped only when the snapshot succeeded. */
export type KeepStopped = 'never' | 'on-success' | 'always';

export interface WithConsumersStoppedOptions {
  readonly keepStopped: KeepStopped;
  readonly interruption: Interruption;
  /** Also restart the providers (and wait for the database) once the consumers are down. */
  readonly restartProviders?: (() => Promise<void>) | undefined;
}

export interface ServicesOutcome {
  /** Consumers this run stopped. */
  readonly stopped: readonly string[];
  /** Consumers left stopped on purpose. */
  readonly keptStopped: readonly string[];
  /** Consumers that did not start again (the run must fail, after reporting its work). */
  readonly failedToStart: readonly string[];
}

/**
 * Stops the consumers, runs `work`, and starts them again: on success, on failure and on
 * interruption, each once. A consumer that fails to stop means every one stopped starts
 * again, `keepStopped` or not. When `work` fails, its error is rethrown after the clean-up,
 * which logs what it could not start or left stopped.
 */
export async function withConsumersStopped<T>(
  control: ConsumerControl,
  options: WithConsumersStoppedOptions,
  work: () => Promise<T>,
): Promise<{ result: T; services: ServicesOutcome }> {
  const { logger } = control.options;
  const finish = async (succeeded: boolean, stopFailed: boolean): Promise<ServicesOutcome> => {
    const stopped = control.stoppedServices;
    const keep =
      !stopFailed &&
      (options.keepStopped === 'always' || (options.keepStopped === 'on-success' && succeeded));
    if (keep) return { stopped, keptStopped: await control.keepStopped(), failedToStart: [] };
    return { stopped, keptStopped: [], failedToStart: await control.startStopped() };
  };
  let stopFailed = false;
  let result: T;
  try {
    try {
      await control.stopConsumers(options.interruption);
    } catch (error) {
      stopFailed = true;
      throw error;
    }
    await options.restartProviders?.();
    options.interruption.throwIfInterrupted();
    result = await work();
  } catch (error) {
    const services = await finish(false, stopFailed);
    if (services.failedToStart.length > 0)
      logger.error(
        `${services.failedToStart.join(', ')} did not start again; fix them, then run: schema_backup services start --resume`,
      );
    if (services.keptStopped.length > 0)
      logger.warn(
        `consumers left STOPPED: ${services.keptStopped.join(', ')}; start them with: schema_backup services start`,
      );
    throw error;
  }
  return { result, services: await finish(true, false) };
}
