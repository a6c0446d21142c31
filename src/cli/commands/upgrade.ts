/**
 * `schema_backup upgrade -- CMD [ARGS…]`: the before-upgrade workflow in one command. Stops
 * the consumers, commits a snapshot, runs CMD, commits a snapshot again, shows the schema
 * diff, and starts the consumers again whatever happened.
 */
import { engineFor } from '../engine-for.js';
import { ExitCode, UsageError } from '../../errors.js';
import {
  commandLabel,
  runUpgrade,
  upgradePlan,
  type UpgradeResult,
} from '../../upgrade/run-upgrade.js';
import { connectionFor, hostNameFor, loadContext, type GlobalArgs } from '../context.js';
import { withRunJournal } from '../with-run-journal.js';
import { patchText, summaryLines, wantsColor } from '../output/diff-summary.js';
import { printLine, printPrepared } from '../output/print.js';
import { consumerControlFor, failIfNotStarted } from '../service-control.js';
import { snapshotOptionsFrom } from './snapshot.js';

export interface UpgradeArgs extends GlobalArgs {
  readonly dryRun?: boolean | undefined;
  readonly keepStopped?: boolean | undefined;
  readonly shell?: boolean | undefined;
  readonly waitLock?: number | undefined;
}

/** `command`: the words after `--`, as they were given. */
export async function upgradeHandler(
  args: UpgradeArgs,
  command: readonly string[],
): Promise<number> {
  if (command.length === 0)
    throw new UsageError('upgrade needs the command to run after --', {
      hint: 'e.g. schema_backup upgrade -- apt-get install -y mariadb-server',
    });
  if (args.shell === true && command.length > 1)
    throw new UsageError('with --shell, give the command as one quoted string');
  const context = await loadContext(args);
  const { config, logger } = context;
  if (args.dryRun === true) {
    const host = await hostNameFor(config);
    printLine(`upgrade plan for ${host} (dry run: nothing is stopped, run or committed):`);
    upgradePlan(
      { command, shell: args.shell === true, keepStopped: args.keepStopped === true },
      config.consumers,
      host,
    ).forEach((step, index) => printLine(`  ${String(index + 1)}. ${step}`));
    return ExitCode.Ok;
  }
  const connection = await connectionFor(context, args);
  const snapshot = await snapshotOptionsFrom(
    config,
    connection,
    { ...args, dryRun: false },
    logger,
  );
  const label = commandLabel(command, args.shell === true);
  return withRunJournal(context, 'upgrade', async (journal, interruption) => {
    const control = await consumerControlFor(
      config,
      snapshot.host,
      `upgrade -- ${label}`,
      journal.logger,
    );
    const engine = await engineFor(config);
    const result = await journal.phase('upgrade', () =>
      runUpgrade(engine, {
        command,
        shell: args.shell === true,
        keepStopped: args.keepStopped === true,
        snapshot,
        control,
        interruption,
        interactive: process.stdin.isTTY,
      }),
    );
    journal.summarize({
      command: label,
      outcome: result.outcome,
      beforeCommit: result.before.commit,
      ...(result.outcome === 'upgraded'
        ? { commit: result.after.commit }
        : { failure: result.failure }),
      consumersStopped: result.services.stopped,
      consumersNotStarted: result.services.failedToStart,
    });
    printUpgrade(result, label, connection.database);
    interruption.throwIfInterrupted();
    if (failIfNotStarted(result.services, journal.logger) !== ExitCode.Ok) return ExitCode.Failure;
    return result.outcome === 'upgraded' ? ExitCode.Ok : ExitCode.Failure;
  });
}

function printUpgrade(result: UpgradeResult, label: string, database: string): void {
  const short = (id: string): string => id.slice(0, 12);
  printLine(
    `before upgrade: ${short(result.before.commit)}${result.before.created ? '' : ' (no change since the last snapshot)'}`,
  );
  if (result.outcome === 'command-failed') {
    printLine(`UPGRADE FAILED: ${result.failure}`);
    printLine('  no "after upgrade" snapshot was committed');
    printLine(
      `  the state before the upgrade is commit ${short(result.before.commit)}; to restore it:`,
    );
    printLine(
      `    schema_backup restore --rev ${short(result.before.commit)} --target ${database} --force --force-source`,
    );
  } else {
    printLine(
      `after upgrade:  ${short(result.after.commit)}${result.after.created ? '' : ' (the upgrade changed nothing in the snapshot)'}`,
    );
    const lines = summaryLines(result.diff);
    if (lines.length === 0) printLine(`schema diff: none (${label} changed no table or object)`);
    else {
      printLine('schema diff:');
      for (const line of lines) printLine(`  ${line}`);
      if (result.diff.patches.length > 0) {
        printLine();
        printPrepared(patchText(result.diff, wantsColor(process.stdout)));
      }
    }
  }
  const { services } = result;
  if (services.keptStopped.length > 0)
    printLine(
      `consumers left STOPPED (--keep-stopped): ${services.keptStopped.join(', ')}; start them with: schema_backup services start`,
    );
  else if (services.stopped.length > 0)
    printLine(`consumers started again: ${[...services.stopped].reverse().join(', ')}`);
}
