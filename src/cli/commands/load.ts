/** `schema_backup load`: restore a dump file or directory into a database. */
import { readIdentityFile } from '../../crypto/recipients.js';
import { loadDump } from '../../dump/load-dump.js';
import { engineFor } from '../engine-for.js';
import { ExitCode, UsageError } from '../../errors.js';
import { basename } from 'node:path';
import { fetchDump } from '../../offsite/fetch-from-offsite.js';
import {
  connectionFor,
  hostNameFor,
  loadContext,
  type CommandContext,
  type GlobalArgs,
} from '../context.js';
import { requireOffsiteStore } from '../ops-config.js';
import { formatBytes } from '../output/format-bytes.js';
import { progressReporter } from '../output/progress-bar.js';
import { printJson } from '../output/print.js';
import { printable } from '../../support/printable.js';

export interface LoadArgs extends GlobalArgs {
  readonly dump?: string | undefined;
  readonly into?: string | undefined;
  readonly identity?: string | undefined;
  readonly threads?: number | undefined;
  readonly force?: boolean | undefined;
  readonly keepEventsEnabled?: boolean | undefined;
  readonly allowExternalAccess?: boolean | undefined;
  readonly json?: boolean | undefined;
  readonly fromOffsite?: string | undefined;
}

export async function loadHandler(args: LoadArgs): Promise<number> {
  if (args.dump === undefined && args.fromOffsite === undefined)
    throw new UsageError('name the dump to load', {
      hint: 'schema_backup load FILE|DIR, or load --from-offsite [NAME]',
    });
  if (args.dump !== undefined && args.fromOffsite !== undefined)
    throw new UsageError('name a local dump or --from-offsite, not both');
  const context = await loadContext(args);
  const { config, logger } = context;
  if (args.fromOffsite === undefined) return loadFrom(args.dump ?? '', args, context);
  const store = requireOffsiteStore(config, logger, '--from-offsite');
  const fetched = await fetchDump(store, {
    host: await hostNameFor(config),
    name: args.fromOffsite,
    logger,
  });
  try {
    return await loadFrom(fetched.path, args, context);
  } finally {
    await fetched.remove();
  }
}

async function loadFrom(path: string, args: LoadArgs, context: CommandContext): Promise<number> {
  const { config, logger } = context;
  const connection = await connectionFor(context, args);
  const identityFile = args.identity ?? config.encryption.identityFile;
  const identities =
    identityFile === undefined
      ? []
      : await readIdentityFile(identityFile).catch((error: unknown) => {
          // Only an encrypted dump needs it; loadDump says so if it does.
          if (args.identity !== undefined) throw error;
          return [];
        });
  const threads = args.threads ?? config.dump.threads;
  if (!Number.isInteger(threads) || threads < 1 || threads > 64)
    throw new UsageError(`--threads must be a whole number from 1 to 64, not ${String(threads)}`);
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const result = await loadDump(await engineFor(config), {
      connection: { ...connection, database: undefined },
      path,
      into: args.into,
      identities,
      threads,
      force: args.force === true,
      keepEventsEnabled: args.keepEventsEnabled === true,
      allowExternalAccess: args.allowExternalAccess === true,
      logger,
      onProgress: progressReporter('loaded', logger, { quiet: args.quiet === true }),
      signal: controller.signal,
    });
    if (args.json === true) printJson(result);
    else {
      logger.info(
        `loaded ${args.fromOffsite === undefined ? path : basename(path)} into ${result.databases.join(', ')}: ${String(result.rows)} rows, ${formatBytes(result.bytes)} of SQL in ${result.seconds.toFixed(1)} s`,
      );
      if (result.disabledEvents.length > 0)
        logger.info(
          `  events created disabled (--keep-events-enabled keeps their status): ${result.disabledEvents.map(printable).join(', ')}`,
        );
    }
    return ExitCode.Ok;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
