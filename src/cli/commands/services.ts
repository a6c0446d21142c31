/**
 * `schema_backup services stop|start|status`: the consumers by hand. `stop` records what it
 * stopped as left stopped on purpose; `start` starts every consumer (reverse order) and
 * clears the record; `start --resume` starts only what the record names (after a crash).
 */
import type { Argv } from 'yargs';
import { ServiceError, UsageError } from '../../errors.js';
import { CommandServiceManager } from '../../services/service-manager.js';
import { isProcessAlive } from '../../services/stopped-services.js';
import { hostNameFor, loadContext, type GlobalArgs } from '../context.js';
import { printJson, printLine } from '../output/print.js';
import { stoppedServicesFile } from '../service-control.js';

export interface ServicesArgs extends GlobalArgs {
  readonly action?: string | undefined;
  readonly resume?: boolean | undefined;
  readonly json?: boolean | undefined;
}

const ACTIONS = ['stop', 'start', 'status'] as const;

export function servicesBuilder(yargs: Argv): Argv<ServicesArgs> {
  return yargs
    .positional('action', { type: 'string', choices: ACTIONS, describe: 'what to do' })
    .option('resume', {
      type: 'boolean',
      describe: 'start: only the services an earlier run stopped and did not start again',
    })
    .option('json', { type: 'boolean', describe: 'status: print as JSON' })
    .demandOption('action');
}

export async function servicesHandler(args: ServicesArgs): Promise<number> {
  const { config, logger } = await loadContext(args);
  const host = await hostNameFor(config);
  const manager = new CommandServiceManager(config.serviceManager, logger);
  const stateFile = await stoppedServicesFile(config, host);
  const record = await stateFile.read();
  const recorded = [...(record?.stoppedByRun ?? []), ...(record?.keptStopped ?? [])];
  const consumers = config.consumers;
  if (args.resume === true && args.action !== 'start')
    throw new UsageError('--resume goes with services start');

  switch (args.action) {
    case 'status': {
      const states = [];
      for (const service of consumers)
        states.push({
          service,
          state: await manager.status(service),
          recorded: recorded.includes(service),
        });
      if (args.json === true) printJson({ consumers: states, record: record ?? null });
      else {
        if (consumers.length === 0) printLine('no consumers are configured');
        for (const { service, state, recorded: isRecorded } of states)
          printLine(`${service}: ${state}${isRecorded ? ' (stopped by schema_backup)' : ''}`);
        if (record !== undefined)
          printLine(`record: ${stateFile.path} (${record.command}, ${record.started})`);
      }
      return 0;
    }
    case 'stop': {
      const stopped: string[] = [];
      for (const service of consumers) {
        if ((await manager.status(service)) === 'stopped') {
          printLine(`${service}: not running`);
          continue;
        }
        await stateFile.write({
          format: 1,
          pid: process.pid,
          started: new Date().toISOString(),
          command: 'services stop',
          stoppedByRun: [],
          keptStopped: [...new Set([...recorded, ...stopped, service])],
        });
        await manager.run('stop', service);
        stopped.push(service);
        printLine(`${service}: stopped`);
      }
      return 0;
    }
    case 'start': {
      if (
        record !== undefined &&
        record.stoppedByRun.length > 0 &&
        record.pid !== process.pid &&
        isProcessAlive(record.pid)
      )
        throw new ServiceError(
          `a run (pid ${String(record.pid)}, ${record.command}) is still going and has stopped ${record.stoppedByRun.join(', ')}; it starts them when it ends`,
        );
      const wanted: string[] =
        args.resume === true ? consumers.filter((s) => recorded.includes(s)) : [...consumers];
      // Services recorded but no longer configured are still started: the record is the truth.
      if (args.resume === true)
        for (const service of recorded) if (!wanted.includes(service)) wanted.push(service);
      if (wanted.length === 0) {
        printLine(
          args.resume === true
            ? 'nothing to resume: no service is recorded as stopped'
            : 'no consumers are configured',
        );
        return 0;
      }
      const failures: string[] = [];
      for (const service of [...wanted].reverse()) {
        try {
          await manager.run('start', service);
          printLine(`${service}: started`);
        } catch (error) {
          logger.error((error as Error).message);
          failures.push(service);
        }
      }
      const remaining = recorded.filter((service) => failures.includes(service));
      await stateFile.write({
        format: 1,
        pid: process.pid,
        started: new Date().toISOString(),
        command: 'services start',
        stoppedByRun: [],
        keptStopped: remaining,
      });
      if (failures.length > 0) throw new ServiceError(`${failures.join(', ')} did not start`);
      return 0;
    }
    default:
      throw new UsageError(`unknown action ${String(args.action)}`);
  }
}
