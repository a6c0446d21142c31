/** `schema_backup check`: validate the config, connect, and report every table's category. */
import { engineFor } from '../engine-for.js';
import { namesOfKind, sessionDatabase } from '../../engine/engine.js';
import { UsageError } from '../../errors.js';
import {
  listNonTransactionalTables,
  nonTransactionalWarning,
} from '../../snapshot/non-transactional-tables.js';
import { hiddenObjectsWarnings } from '../../snapshot/hidden-objects.js';
import { checkCoveredSchemas, planSnapshot } from '../../snapshot/plan-snapshot.js';
import { connectionFor, hostNameFor, loadContext, type GlobalArgs } from '../context.js';
import { printable } from '../../support/printable.js';
import { printJson, printLine } from '../output/print.js';

export interface CheckArgs extends GlobalArgs {
  readonly json?: boolean | undefined;
}

export async function checkHandler(args: CheckArgs): Promise<number> {
  const context = await loadContext(args);
  const { config } = context;
  const connection = await connectionFor(context, args);
  const host = await hostNameFor(config);
  const engine = await engineFor(config);
  const session = await engine.openSession(connection);
  let report;
  try {
    // A connection that named no database (PostgreSQL: $PGDATABASE, a service) reads its own.
    const database = sessionDatabase(session, connection.database);
    const filter = { schemas: config.database.schemas };
    const inventory = await session.listObjects(database, filter);
    checkCoveredSchemas(inventory, config.categories, engine, {
      file: config.file,
      lines: config.categoryLines,
    });
    const plan = planSnapshot(inventory, config.categories, engine);
    const tableNames = new Set(namesOfKind(inventory, 'table'));
    const nonTransactional = listNonTransactionalTables(
      plan,
      await session.estimateTableSizes(database, filter),
    );
    if (nonTransactional.length > 0) context.logger.warn(nonTransactionalWarning(nonTransactional));
    const hiddenObjects = await session.findHiddenObjects(database);
    for (const warning of hiddenObjectsWarnings(hiddenObjects, database))
      context.logger.warn(warning);
    report = {
      config: config.file,
      server: session.server.version,
      connection: connection.description,
      passwordSource: connection.passwordSource,
      database: database,
      hostDir: `${config.backupDir}/${host}`,
      userDataDir: config.userDataBackupDir ?? null,
      warnings: context.configWarnings,
      tables: [
        ...plan.tables.map((table) => ({ name: table.name, category: table.category })),
        ...plan.ignored
          .filter((name) => tableNames.has(name))
          .map((name) => ({ name, category: 'ignore' })),
      ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
      uncategorized: plan.uncategorized,
      missing: plan.missing,
      nonTransactional,
      hiddenObjects,
      objects: plan.objects.map((object) => ({ kind: object.kind, name: object.name })),
    };
  } finally {
    await session.close();
  }
  if (args.json === true) {
    printJson(report);
  } else {
    printLine(`config:     ${report.config}`);
    printLine(
      `server:     ${report.connection} (${report.server}), password from ${report.passwordSource}`,
    );
    printLine(`database:   ${report.database}`);
    printLine(`host dir:   ${report.hostDir}`);
    printLine(`user data:  ${report.userDataDir ?? 'not saved (user_data_backup_dir is not set)'}`);
    printLine();
    // One column width for tables and other objects, measured as printed (issue 21: a long
    // view or trigger name pushed its kind out of line).
    const rows = [
      ...report.tables.map((table) => [printable(table.name), table.category] as const),
      ...report.objects.map((object) => [printable(object.name), object.kind] as const),
    ];
    const width = Math.max(5, ...rows.map(([name]) => Array.from(name).length));
    for (const [name, what] of rows)
      printLine(`  ${name.padEnd(width + name.length - Array.from(name).length)}  ${what}`);
    printLine();
    printLine(
      `${String(report.tables.length)} tables, ${String(report.uncategorized.length)} uncategorized, ${String(report.missing.length)} in the config but missing`,
    );
    for (const name of report.uncategorized) printLine(`  uncategorized: ${printable(name)}`);
    for (const missing of report.missing)
      printLine(`  missing: ${printable(missing.name)} (${missing.category})`);
  }
  if (config.strict && report.uncategorized.length > 0) {
    throw new UsageError(
      `strict: ${String(report.uncategorized.length)} table(s) are in no category: ${report.uncategorized.join(', ')}`,
    );
  }
  return 0;
}
