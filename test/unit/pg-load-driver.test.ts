/**
 * pg is loaded with Node's `Response` out of sight on a Node without `navigator` (20), so
 * that its Cloudflare check does not load Node's fetch: `Response` must be back afterwards.
 */
import { describe, expect, it } from 'vitest';
import { loadOpenSession } from '../../src/engine/postgresql/load-driver.js';

describe('loading the PostgreSQL driver', () => {
  it('loads the connection module once and leaves Response as it was', async () => {
    const before = Object.getOwnPropertyDescriptor(globalThis, 'Response');
    const [first, second] = await Promise.all([loadOpenSession(), loadOpenSession()]);
    expect(first).toBe(second);
    expect(typeof first.openPostgresqlSession).toBe('function');
    expect(Object.getOwnPropertyDescriptor(globalThis, 'Response')).toEqual(before);
    expect(new Response('x').status).toBe(200);
  });
});
