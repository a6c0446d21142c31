/** Builds the services side of a command from the config: the manager and the consumer control. */
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { ExitCode } from '../errors.js';
import { ConsumerControl, type ServicesOutcome } from '../services/consumer-control.js';
import { CommandServiceManager } from '../services/service-manager.js';
import { StoppedServicesFile } from '../services/stopped-services.js';
import { ensureWorkDir, workDirOf } from '../snapshot/work-dir.js';
import type { Logger } from '../support/logger.js';

/** `<backup dir>/.schema_backup/<host>.stopped-services.json`: beside the host's lock. */
export async function stoppedServicesFile(
  config: Config,
  host: string,
): Promise<StoppedServicesFile> {
  const workDir = workDirOf(config.backupDir);
  await ensureWorkDir(workDir);
  return new StoppedServicesFile(join(workDir, `${host}.stopped-services.json`));
}

export async function consumerControlFor(
  config: Config,
  host: string,
  command: string,
  logger: Logger,
  options: { takeOver?: boolean } = {},
): Promise<ConsumerControl> {
  return ConsumerControl.open(
    {
      manager: new CommandServiceManager(config.serviceManager, logger),
      consumers: config.consumers,
      providers: config.providers,
      stateFile: await stoppedServicesFile(config, host),
      command,
      logger,
    },
    options,
  );
}

/** A run whose work succeeded still fails when a consumer did not start again. */
export function failIfNotStarted(services: ServicesOutcome, logger: Logger): number {
  if (services.failedToStart.length === 0) return ExitCode.Ok;
  logger.error(
    `${services.failedToStart.join(', ')} did not start again; fix them, then run: schema_backup services start --resume`,
  );
  return ExitCode.Failure;
}
