/**
 * `schema_backup verify`: restore a snapshot into a scratch database and compare it with
 * what the snapshot recorded (exit 3 on any difference); `--live` compares the live database.
 */
import { engineFor } from '../engine-for.js';
import { ExitCode } from '../../errors.js';
import { verifySnapshot, type ExpectedLocalRows } from '../../restore/verify-snapshot.js';
import {
  findCopy,
  fingerprintKeyId,
  fingerprintKeyPath,
  readFingerprintKey,
} from '../../snapshot/user-data-copy.js';
import { connectionFor, loadContext, type GlobalArgs } from '../context.js';
import { printable } from '../../support/printable.js';
import { printJson, printLine } from '../output/print.js';
import { progressDisplay } from '../output/progress-bar.js';
import {
  chooseCopy,
  snapshotSourceFor,
  userDataInputFor,
  type SnapshotSelectionArgs,
} from './restore.js';

export interface VerifyArgs extends GlobalArgs, SnapshotSelectionArgs {
  readonly live?: boolean | undefined;
  readonly copy?: string | undefined;
  readonly identity?: string | undefined;
  readonly userData?: boolean | undefined;
  readonly parallel?: number | undefined;
  readonly allowExternalAccess?: boolean | undefined;
  readonly json?: boolean | undefined;
}

export async function verifyHandler(args: VerifyArgs): Promise<number> {
  const context = await loadContext(args);
  const { config, logger } = context;
  const connection = await connectionFor(context, args);
  const { source, host, committed } = await snapshotSourceFor(config, args);
  const live = args.live === true;
  const copyName = await chooseCopy(config, host, args.copy, committed);
  const userData = live
    ? undefined
    : await userDataInputFor(config, host, { ...args, copy: copyName }, logger);
  let userDataRows: Map<string, ExpectedLocalRows> | undefined;
  let fingerprintKey: Buffer | undefined;
  if (userData !== undefined && config.userDataBackupDir !== undefined) {
    const copy = await findCopy(config.userDataBackupDir, host, copyName);
    userDataRows = new Map(Object.entries(copy.manifest.tables));
    // On the host that made the copy its key is at hand: rows are then checked by value too.
    const key = await readFingerprintKey(fingerprintKeyPath(config.backupDir, host));
    if (key !== undefined && fingerprintKeyId(key) === copy.manifest.fingerprintKeyId)
      fingerprintKey = key;
  }
  const quiet = args.quiet === true;
  const restoreDisplay = progressDisplay('verify restore', logger, { quiet });
  const compareDisplay = progressDisplay('verify read', logger, { quiet });
  const result = await verifySnapshot(await engineFor(config), {
    connection,
    source,
    mode: live ? 'live' : 'restore',
    liveDatabase: connection.database,
    fallbackCategories: config.categories,
    schemas: config.database.schemas,
    userData,
    userDataRows,
    fingerprintKey,
    host,
    parallel: args.parallel ?? 2,
    allowExternalAccess: args.allowExternalAccess === true,
    logger,
    onRestoreProgress: restoreDisplay.onProgress,
    onCompareProgress: compareDisplay.onProgress,
  }).finally(() => {
    restoreDisplay.close();
    compareDisplay.close();
  });
  if (args.json === true) {
    printJson(result);
  } else {
    const against = live
      ? `the live database ${result.database}`
      : 'a restore into a scratch database';
    printLine(
      `verified ${result.source} against ${against}: ${String(result.tablesChecked)} tables, ${String(result.objectsChecked)} other objects`,
    );
    if (result.equal) printLine('  no differences');
    for (const difference of result.differences)
      printLine(`  ${difference.kind} ${printable(difference.name)}: ${difference.problem}`);
  }
  return result.equal ? ExitCode.Ok : ExitCode.Differences;
}
