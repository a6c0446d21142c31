/** PostgreSQL driver errors as EngineErrors: the lock table running out names its setting. */
import { describe, expect, it } from 'vitest';
import { mapDriverError } from '../../src/engine/postgresql/map-error.js';

describe('PostgreSQL mapDriverError', () => {
  it('says which setting to raise when the lock table is full (53200)', () => {
    const error = mapDriverError(
      { code: '53200', message: 'out of shared memory' },
      'reading rows of "public"."t06201"',
      'postgres@127.0.0.1:5432/db',
    );
    expect(error.message).toBe(
      'database error while reading rows of "public"."t06201": out of shared memory (out_of_memory)',
    );
    expect(error.hint).toMatch(/max_locks_per_transaction/);
  });
});
