/**
 * Stops, starts, restarts and queries services through command templates: `systemctl` by
 * default, or whatever the config's `service_manager:` block names (OpenRC, supervisord,
 * docker compose, a script). Commands run without a shell, with a timeout; what they print
 * goes to the log.
 */
import { fillTemplate } from '../config/split-command.js';
import type { ServiceManagerConfig } from '../config/schema.js';
import { ServiceError } from '../errors.js';
import type { Logger } from '../support/logger.js';
import { describeOutcome, runCommand } from '../support/run-command.js';

export type ServiceAction = 'stop' | 'start' | 'restart';
export type ServiceState = 'running' | 'stopped';

export interface ServiceManager {
  /**
   * Throws a ServiceError when the command fails. `abortSignal` (an interruption) is passed
   * on to the command: a stop or restart in progress ends, a start (the clean-up) is not given one.
   */
  run(action: ServiceAction, service: string, abortSignal?: AbortSignal): Promise<void>;
  /** `running` when the status command exits 0, else `stopped`. */
  status(service: string, abortSignal?: AbortSignal): Promise<ServiceState>;
}

export class CommandServiceManager implements ServiceManager {
  private readonly config: ServiceManagerConfig;
  private readonly logger: Logger;

  constructor(config: ServiceManagerConfig, logger: Logger) {
    this.config = config;
    this.logger = logger;
  }

  async run(action: ServiceAction, service: string, abortSignal?: AbortSignal): Promise<void> {
    const argv = fillTemplate(this.config[action], service);
    this.logger.info(`${action} ${service}: ${argv.join(' ')}`);
    const outcome = await this.execute(argv, service, abortSignal);
    if (outcome.exitCode === 0) return;
    const output = outcome.tail.length > 0 ? `: ${outcome.tail.slice(-3).join(' / ')}` : '';
    throw new ServiceError(
      `could not ${action} ${service}: ${argv.join(' ')} ${describeOutcome(outcome, this.timeoutMs)}${output}`,
    );
  }

  async status(service: string, abortSignal?: AbortSignal): Promise<ServiceState> {
    const argv = fillTemplate(this.config.status, service);
    const outcome = await this.execute(argv, service, abortSignal);
    if (outcome.timedOut)
      throw new ServiceError(
        `could not query ${service}: ${argv.join(' ')} ${describeOutcome(outcome, this.timeoutMs)}`,
      );
    return outcome.exitCode === 0 ? 'running' : 'stopped';
  }

  private get timeoutMs(): number {
    return this.config.timeoutSeconds * 1000;
  }

  private async execute(
    argv: readonly string[],
    service: string,
    abortSignal: AbortSignal | undefined,
  ): ReturnType<typeof runCommand> {
    try {
      return await runCommand(argv, {
        timeoutMs: this.timeoutMs,
        abortSignal,
        onLine: (line) => this.logger.info(`  ${service}: ${line}`),
      });
    } catch (error) {
      throw new ServiceError(`cannot run ${argv[0] ?? ''}: ${(error as Error).message}`, {
        hint: 'Set service_manager: stop/start/restart/status in the config to the commands that manage services on this host.',
        cause: error,
      });
    }
  }
}
