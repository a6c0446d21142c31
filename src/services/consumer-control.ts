/**
 * Stops the consumers of the database around a piece of work and brings them back on every
 * exit path: consumers stop in the listed order and start in reverse; one that fails to stop
 * aborts the work and the ones already stopped are started again; a signal or a failure of
 * the work still starts them; a record on disk lets the next run start them after a crash.
 */
import { ServiceError } from '../errors.js';
import type { Logger } from '../support/logger.js';
import type { ServiceManager } from './service-manager.js';
import {
  isProcessAlive,
  type StoppedServicesFile,
  type StoppedServicesRecord,
} from './stopped-services.js';

/** Where a process learns it was interrupted; the CLI connects it to SIGINT/SIGTERM. */
export interface Interrupts {
  /**
   * Runs `cleanup` when the process is interrupted, before it exits. Returns the function
   * that removes the handler.
   */
  onInterrupt(cleanup: (signal: NodeJS.Signals) => Promise<void>): () => void;
}

export const NO_INTERRUPTS: Interrupts = { onInterrupt: () => () => undefined };

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
  private readonly options: ConsumerControlOptions;
  /** Consumers this run stopped, in the order it stopped them. */
  private readonly stopped: string[] = [];
  private keptStopped: string[] = [];
  private readonly started = new Date().toISOString();

  private constructor(options: ConsumerControlOptions, keptStopped: readonly string[]) {
    this.options = options;
    this.keptStopped = [...keptStopped];
  }

  /**
   * Reads the record of earlier runs: services a dead run stopped are started now; a run
   * still alive with services stopped is an error (two runs must not juggle one service).
   */
  static async open(options: ConsumerControlOptions): Promise<ConsumerControl> {
    const { logger, stateFile } = options;
    const record = await stateFile.read();
    if (record === undefined) return new ConsumerControl(options, []);
    if (record.stoppedByRun.length > 0 && record.pid !== process.pid) {
      if (isProcessAlive(record.pid))
        throw new ServiceError(
          `another run (pid ${String(record.pid)}, ${record.command}) has stopped ${record.stoppedByRun.join(', ')} and is still running`,
          {
            hint: `Wait for it to finish. If that process is not schema_backup, remove ${stateFile.path}.`,
          },
        );
      logger.warn(
        `a run that ended without starting them again (pid ${String(record.pid)}, ${record.command}, ${record.started}) had stopped ${record.stoppedByRun.join(', ')}: starting them now`,
      );
      const control = new ConsumerControl(options, record.keptStopped);
      control.stopped.push(...record.stoppedByRun);
      await control.startStopped();
      return control;
    }
    if (record.keptStopped.length > 0)
      logger.warn(
        `${record.keptStopped.join(', ')} left stopped on purpose by ${record.command} (${record.started}); start them with: schema_backup services start`,
      );
    return new ConsumerControl(options, record.keptStopped);
  }

  /** Consumers this run stopped and has not started again. */
  get stoppedServices(): readonly string[] {
    return [...this.stopped];
  }

  /**
   * Stops every consumer in the listed order. One that is not running is left alone (and not
   * started afterwards). One that fails to stop: the ones stopped so far are started again
   * and a ServiceError is thrown.
   */
  async stopConsumers(): Promise<void> {
    const { manager, logger } = this.options;
    for (const service of this.options.consumers) {
      if ((await manager.status(service)) === 'stopped') {
        logger.info(`${service} is not running: left as it is`);
        continue;
      }
      // Recorded before the stop: a crash during it still leaves a trace to resume from.
      this.stopped.push(service);
      await this.save();
      try {
        await manager.run('stop', service);
      } catch (error) {
        logger.error(`${(error as Error).message}; starting again what was stopped`);
        const failures = await this.startStopped();
        throw new ServiceError(
          `${service} failed to stop: nothing was done${failures.length > 0 ? `, and ${failures.join(', ')} did not start again` : ''}`,
          { cause: error },
        );
      }
      logger.info(`stopped ${service}`);
    }
  }

  /** Restarts every provider, then waits until `ready` resolves (the database answers). */
  async restartProviders(ready: () => Promise<void>): Promise<void> {
    for (const service of this.options.providers) {
      await this.options.manager.run('restart', service);
      this.options.logger.info(`restarted ${service}`);
    }
    if (this.options.providers.length > 0) await ready();
  }

  /**
   * Starts, in reverse order, the consumers this run stopped. Every one is tried; returns
   * the ones that failed to start (they stay in the record for `services start --resume`).
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
    await this.save();
    return failures;
  }

  /** Leaves the consumers this run stopped stopped, on purpose (`--target`, `--keep-stopped`). */
  async keepStopped(): Promise<readonly string[]> {
    const kept = [...this.stopped];
    this.keptStopped = [...new Set([...this.keptStopped, ...kept])];
    this.stopped.length = 0;
    await this.save();
    return kept;
  }

  private async save(): Promise<void> {
    const record: StoppedServicesRecord = {
      format: 1,
      pid: process.pid,
      started: this.started,
      command: this.options.command,
      stoppedByRun: [...this.stopped],
      keptStopped: this.keptStopped.filter((service) => !this.stopped.includes(service)),
    };
    await this.options.stateFile.write(record);
  }
}

export interface WithConsumersStoppedOptions {
  /** Leave the consumers stopped at the end (the work succeeded or not). */
  readonly keepStopped: boolean;
  readonly interrupts: Interrupts;
  /** Also restart the providers (and wait for the database) once the consumers are down. */
  readonly restartProviders?: (() => Promise<void>) | undefined;
}

export interface ServicesOutcome {
  /** Consumers this run stopped. */
  readonly stopped: readonly string[];
  /** Consumers left stopped on purpose. */
  readonly keptStopped: readonly string[];
}

/**
 * Stops the consumers, runs `work`, and starts them again, on success, on failure and on
 * SIGINT/SIGTERM. A consumer that fails to start again makes the run fail (after `work`'s
 * own error, if any, which is the one reported).
 */
export async function withConsumersStopped<T>(
  control: ConsumerControl,
  options: WithConsumersStoppedOptions,
  work: (services: { readonly stopped: readonly string[] }) => Promise<T>,
): Promise<{ result: T; services: ServicesOutcome }> {
  let finished = false;
  const finish = async (): Promise<{ failures: string[]; kept: readonly string[] }> => {
    if (finished) return { failures: [], kept: [] };
    finished = true;
    if (options.keepStopped) return { failures: [], kept: await control.keepStopped() };
    return { failures: await control.startStopped(), kept: [] };
  };
  const removeHandler = options.interrupts.onInterrupt(async () => {
    await finish();
  });
  try {
    await control.stopConsumers();
    const stopped = control.stoppedServices;
    let result: T;
    try {
      await options.restartProviders?.();
      result = await work({ stopped });
    } catch (error) {
      await finish();
      throw error;
    }
    const { failures, kept } = await finish();
    if (failures.length > 0)
      throw new ServiceError(`the work succeeded, but ${failures.join(', ')} did not start again`, {
        hint: 'Fix the service, then run: schema_backup services start --resume',
      });
    return { result, services: { stopped, keptStopped: kept } };
  } finally {
    removeHandler();
  }
}
