import { describe, expect, it } from 'vitest';
import { configTableName, tablePatterns } from '../../src/cli/table-patterns.js';
import { mariadbEngine } from '../../src/engine/mariadb/mariadb-engine.js';
import { postgresqlEngine } from '../../src/engine/postgresql/postgresql-engine.js';
import { isSelected } from '../../src/support/glob.js';

// Issue 16: `dump --only notes` dumped no table of PostgreSQL, whose tables are all named
// with their schema (`public.notes`), and `restore --only notes` exited 2.
describe('tablePatterns', () => {
  it('adds the reading of each pattern as a category entry (PostgreSQL: in public)', () => {
    expect(tablePatterns(postgresqlEngine, ['notes', 'app.*', '*_log'])).toEqual([
      'notes',
      'public.notes',
      'app.*',
      '*_log',
      'public.*_log',
    ]);
    expect(tablePatterns(postgresqlEngine, undefined)).toEqual([]);
    expect(tablePatterns(mariadbEngine, ['notes', 'def_*'])).toEqual(['notes', 'def_*']);
  });

  it('selects as the config names tables, and a pattern without a schema still matches in every schema', () => {
    const only = (patterns: string[], name: string): boolean =>
      isSelected(name, tablePatterns(postgresqlEngine, patterns), []);
    expect(only(['notes'], 'public.notes')).toBe(true);
    expect(only(['notes'], 'app.notes')).toBe(false);
    expect(only(['app.*'], 'app.users')).toBe(true);
    expect(only(['*'], 'app.users')).toBe(true);
    expect(only(['*_log'], 'app.audit_log')).toBe(true);
    expect(isSelected('public.sessions', [], tablePatterns(postgresqlEngine, ['sessions']))).toBe(
      false,
    );
  });

  it('keeps a pattern the engine cannot read as a name', () => {
    expect(tablePatterns(postgresqlEngine, ['"unterminated'])).toEqual(['"unterminated']);
    expect(configTableName(postgresqlEngine, '"unterminated')).toBe('"unterminated');
    expect(configTableName(postgresqlEngine, 'users')).toBe('public.users');
  });
});
