/**
 * Tells someone how a run ended: runs the configured command (an argv list, never through a
 * shell) with the run's summary as JSON on stdin, and/or POSTs the same JSON to a URL, each
 * with a timeout. Never throws: a notification that fails is reported in the outcome (and
 * logged), and never hides the run's own error or changes its exit code.
 */
import { spawn } from 'node:child_process';
import type { Logger } from '../support/logger.js';
import { redact } from '../support/redact.js';

export interface NotifyOptions {
  /** argv; empty = no command. */
  readonly command: readonly string[];
  readonly url?: string | undefined;
  readonly timeoutSeconds: number;
}

export interface NotificationOutcome {
  readonly channel: 'command' | 'url';
  readonly ok: boolean;
  /** `exit 0`, `HTTP 204`, or what went wrong. */
  readonly detail: string;
}

/** Sends `message` (serialized as JSON, redacted) to every configured channel, in parallel. */
export async function sendNotifications(
  message: unknown,
  options: NotifyOptions,
  logger: Logger,
): Promise<NotificationOutcome[]> {
  const body = redact(JSON.stringify(message, null, 2));
  const jobs: Promise<NotificationOutcome>[] = [];
  const timeoutMs = options.timeoutSeconds * 1000;
  if (options.command.length > 0) jobs.push(runNotifyCommand(options.command, body, timeoutMs));
  if (options.url !== undefined) jobs.push(postNotification(options.url, body, timeoutMs));
  const outcomes = await Promise.all(jobs);
  for (const outcome of outcomes) {
    if (outcome.ok) logger.debug(`notification by ${outcome.channel}: ${outcome.detail}`);
    else logger.error(`notification by ${outcome.channel} failed: ${outcome.detail}`);
  }
  return outcomes;
}

/** Runs `argv` with `body` on stdin; ok on exit 0 within the timeout (else it is killed). */
export function runNotifyCommand(
  argv: readonly string[],
  body: string,
  timeoutMs: number,
): Promise<NotificationOutcome> {
  const [file, ...args] = argv;
  const name = redact(file ?? '');
  return new Promise((resolve) => {
    const done = (ok: boolean, detail: string): void => {
      clearTimeout(timer);
      resolve({ channel: 'command', ok, detail: `${name}: ${detail}` });
    };
    let stderr = '';
    let timedOut = false;
    const child = spawn(file ?? '', args, { shell: false, stdio: ['pipe', 'ignore', 'pipe'] });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-500);
    });
    // A command that does not read its stdin closes it early: not a failure by itself.
    child.stdin.on('error', () => undefined);
    child.stdin.end(body);
    child.on('error', (error) => {
      done(false, error.message);
    });
    child.on('close', (code, signal) => {
      if (timedOut) done(false, `killed after ${String(timeoutMs / 1000)} s`);
      else if (code === 0) done(true, 'exit 0');
      else
        done(
          false,
          `${code === null ? `killed by ${String(signal)}` : `exit ${String(code)}`}${stderr.trim() === '' ? '' : `: ${redact(stderr.trim())}`}`,
        );
    });
  });
}

/** POSTs `body` as application/json; ok on a 2xx answer within the timeout. */
export async function postNotification(
  url: string,
  body: string,
  timeoutMs: number,
): Promise<NotificationOutcome> {
  // Only the origin goes into messages: a path or query may hold a token.
  let origin = url;
  try {
    origin = new URL(url).origin;
  } catch {
    // The config check already refused anything that is no URL.
  }
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'schema_backup' },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    return {
      channel: 'url',
      ok: response.ok,
      detail: `${origin}: HTTP ${String(response.status)}`,
    };
  } catch (error) {
    const reason =
      (error as Error).name === 'TimeoutError'
        ? `no answer within ${String(timeoutMs / 1000)} s`
        : ((error as Error & { cause?: Error }).cause?.message ?? (error as Error).message);
    return { channel: 'url', ok: false, detail: `${origin}: ${redact(reason)}` };
  }
}
