/**
 * `schema_backup services stop|start|status`: the consumers by hand. `stop` (listed order)
 * records them as stopped on purpose; `start` (reverse order) starts every consumer and
 * clears the record; `start --resume` starts what a run that did not finish left stopped,
 * even if its pid looks alive (the operator says it is not that run).
 */
import { ServiceError, UsageError } from '../../errors.js';
import { CommandServiceManager } from '../../services/service-manager.js';
import { neverInterrupted } from '../../support/interruption.js';
import { hostNameFor, loadContext, type GlobalArgs } from '../context.js';
import { printJson, printLine } from '../output/print.js';
import { consumerControlFor, stoppedServicesFile } from '../service-control.js';

export interface ServicesArgs extends GlobalArgs {
  readonly action?: string | undefined;
  readonly resume?: boolean | undefined;
  readonly json?: boolean | undefined;
}

export async function servicesHandler(args: ServicesArgs): Promise<number> {
  const { config, logger } = await loadContext(args);
  const host = await hostNameFor(config);
  if (args.resume === true && args.action !== 'start')
    throw new UsageError('--resume goes with services start');
  if (args.action === 'status') return printStatus(args, config, host, logger);

  const control = await consumerControlFor(
    config,
    host,
    `services ${String(args.action)}`,
    logger,
    {
      takeOver: args.resume === true,
    },
  );
  if (args.action === 'stop') {
    try {
      await control.stopConsumers(neverInterrupted());
    } catch (error) {
      const failures = await control.startStopped();
      if (failures.length > 0) logger.error(`${failures.join(', ')} did not start again`);
      throw error;
    }
    const kept = await control.keepStopped();
    printLine(kept.length === 0 ? 'no consumer was running' : `stopped: ${kept.join(', ')}`);
    return 0;
  }
  // `open` has already started what a run that did not finish left stopped.
  if (args.resume === true) {
    printLine('every service recorded as stopped by a run is started');
    return 0;
  }
  const failures = await control.startAll();
  if (failures.length > 0) throw new ServiceError(`${failures.join(', ')} did not start`);
  printLine(
    config.consumers.length === 0
      ? 'no consumers are configured'
      : `started: ${[...config.consumers].reverse().join(', ')}`,
  );
  return 0;
}

async function printStatus(
  args: ServicesArgs,
  config: Parameters<typeof stoppedServicesFile>[0],
  host: string,
  logger: Parameters<typeof consumerControlFor>[3],
): Promise<number> {
  const manager = new CommandServiceManager(config.serviceManager, logger);
  const stateFile = await stoppedServicesFile(config, host);
  const record = await stateFile.read();
  const recorded = [...(record?.stoppedByRun ?? []), ...(record?.keptStopped ?? [])];
  const states = [];
  for (const service of config.consumers) {
    const state = await manager.status(service);
    states.push({
      service,
      state,
      stoppedBySchemaBackup: state === 'stopped' && recorded.includes(service),
    });
  }
  if (args.json === true) {
    printJson({ consumers: states, record: record ?? null });
    return 0;
  }
  if (config.consumers.length === 0) printLine('no consumers are configured');
  for (const { service, state, stoppedBySchemaBackup } of states)
    printLine(`${service}: ${state}${stoppedBySchemaBackup ? ' (stopped by schema_backup)' : ''}`);
  if (record !== undefined)
    printLine(`record: ${stateFile.path} (${record.command}, ${record.started})`);
  return 0;
}
