/**
 * Loads `open-session.ts`, and with it pg, the first time a PostgreSQL connection opens.
 *
 * pg asks, as it loads, whether it runs in a Cloudflare Worker: by `navigator.userAgent`
 * where there is a `navigator` (Node 21 and later), else by building a `Response`. On Node 20
 * that first touch of `Response` loads Node's whole fetch implementation (undici): 20-30 ms
 * of every PostgreSQL command, for an answer that is always no. So on a Node without
 * `navigator`, `Response` is out of sight while the module loads, and put back right after
 * (nothing here uses fetch; the property is restored as it was, lazy getter and all).
 */
import type { openPostgresqlSession } from './open-session.js';

type OpenSessionModule = { openPostgresqlSession: typeof openPostgresqlSession };

let loading: Promise<OpenSessionModule> | undefined;

export function loadOpenSession(): Promise<OpenSessionModule> {
  loading ??= withoutResponse(() => import('./open-session.js'));
  return loading;
}

async function withoutResponse<T>(load: () => Promise<T>): Promise<T> {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'Response');
  if ('navigator' in globalThis || descriptor?.configurable !== true) return load();
  Reflect.deleteProperty(globalThis, 'Response');
  try {
    return await load();
  } finally {
    Object.defineProperty(globalThis, 'Response', descriptor);
  }
}
