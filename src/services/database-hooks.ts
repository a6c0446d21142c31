/**
 * What the services workflows ask of the database itself: run the pause hooks' SQL, and wait
 * for the server to answer again after its service restarted.
 */
import type { ConnectionOptions, Engine, Session } from '../engine/engine.js';
import { ServiceError } from '../errors.js';
import type { Interruption } from '../support/interruption.js';
import type { Logger } from '../support/logger.js';

/** Runs `statements` in order on a connection of their own (autocommit), then closes it. */
export async function runHookStatements(
  engine: Engine,
  connection: ConnectionOptions,
  statements: readonly string[],
  label: string,
  logger: Logger,
): Promise<void> {
  if (statements.length === 0) return;
  const session = await engine.openSession(connection);
  try {
    for (const statement of statements) {
      logger.info(`${label}: ${statement}`);
      await session.execute(statement);
    }
  } finally {
    await session.close();
  }
}

/** Polls until the server accepts a connection, for at most `timeoutSeconds`. */
export async function waitForDatabase(
  engine: Engine,
  connection: ConnectionOptions,
  timeoutSeconds: number,
  logger: Logger,
  interruption: Interruption,
): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let lastError: unknown;
  for (let attempt = 1; ; attempt++) {
    interruption.throwIfInterrupted();
    let session: Session | undefined;
    try {
      session = await engine.openSession({ ...connection, connectTimeoutMs: 5_000 });
      logger.info(`the database answers again (attempt ${String(attempt)})`);
      return;
    } catch (error) {
      lastError = error;
    } finally {
      await session?.close();
    }
    if (Date.now() >= deadline)
      throw new ServiceError(
        `the database did not answer within ${String(timeoutSeconds)} s after its service restarted: ${(lastError as Error).message}`,
        {
          hint: 'Raise service_manager.ready_timeout, or check the provider service.',
          cause: lastError,
        },
      );
    await interruption.sleep(1_000);
  }
}
