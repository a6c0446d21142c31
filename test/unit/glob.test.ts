/** Shell-style table name patterns of `restore --only/--exclude`. */
import { describe, expect, it } from 'vitest';
import { globToRegExp, isSelected } from '../../src/support/glob.js';

const matches = (pattern: string, name: string): boolean => globToRegExp(pattern).test(name);

describe('globToRegExp', () => {
  it('`*` is any run of characters, `_` is literal (not SQL LIKE)', () => {
    expect(matches('def_*', 'def_')).toBe(true);
    expect(matches('def_*', 'def_users')).toBe(true);
    expect(matches('def_*', 'def_a.b c')).toBe(true);
    expect(matches('def_*', 'defXusers')).toBe(false);
    expect(matches('def_*', 'xdef_users')).toBe(false);
    expect(matches('*_log', 'auth_log')).toBe(true);
    expect(matches('*_log', 'auth_logs')).toBe(false);
    expect(matches('*', '')).toBe(true);
    expect(matches('a*b*c', 'aXXbYYc')).toBe(true);
    expect(matches('a*b*c', 'aXXcYYb')).toBe(false);
  });

  it('`?` is exactly one character (a whole code point)', () => {
    expect(matches('t?', 't1')).toBe(true);
    expect(matches('t?', 't')).toBe(false);
    expect(matches('t?', 't12')).toBe(false);
    expect(matches('t?', 't😀')).toBe(true);
    expect(matches('??', 'ab')).toBe(true);
  });

  it('`[ab]` is a class, `[!a]` its complement, `[a-c]` a range', () => {
    expect(matches('[ab]*', 'apple')).toBe(true);
    expect(matches('[ab]*', 'banana')).toBe(true);
    expect(matches('[ab]*', 'cherry')).toBe(false);
    expect(matches('[!a]*', 'banana')).toBe(true);
    expect(matches('[!a]*', 'apple')).toBe(false);
    expect(matches('x[a-c]', 'xb')).toBe(true);
    expect(matches('x[a-c]', 'xd')).toBe(false);
    // `!` only negates in the first place.
    expect(matches('[a!]', '!')).toBe(true);
  });

  it('an unclosed `[` is a literal bracket', () => {
    expect(matches('a[b', 'a[b')).toBe(true);
    expect(matches('a[b', 'ab')).toBe(false);
  });

  it('dots and regular-expression metacharacters are literal', () => {
    expect(matches('odd.name', 'odd.name')).toBe(true);
    expect(matches('odd.name', 'oddXname')).toBe(false);
    expect(matches('a+b', 'a+b')).toBe(true);
    expect(matches('a+b', 'aab')).toBe(false);
    expect(matches('(x)', '(x)')).toBe(true);
    expect(matches('(x)', 'x')).toBe(false);
    expect(matches('a|b', 'a|b')).toBe(true);
    expect(matches('a|b', 'a')).toBe(false);
    expect(matches('$x^', '$x^')).toBe(true);
    expect(matches('x{2}', 'x{2}')).toBe(true);
    expect(matches('x{2}', 'xx')).toBe(false);
    expect(matches('a\\b', 'a\\b')).toBe(true);
    expect(matches('a/b', 'a/b')).toBe(true);
    expect(matches('sp ace', 'sp ace')).toBe(true);
    expect(matches('back`tick', 'back`tick')).toBe(true);
  });

  it('the whole name must match, not a part of it', () => {
    expect(matches('user', 'users')).toBe(false);
    expect(matches('user', 'auser')).toBe(false);
    expect(matches('user', 'user')).toBe(true);
  });

  // BUG: src/support/glob.ts escapes `.+^${}()|\/` but not `]`; with the `u` flag a lone `]`
  // is a syntax error, so `--only 'a]b'` throws a raw SyntaxError (reported as "a bug in
  // schema_backup") instead of matching the table `a]b`.
  it('a lone `]` is literal', () => {
    expect(() => globToRegExp('a]b')).not.toThrow();
    expect(matches('a]b', 'a]b')).toBe(true);
  });
});

describe('isSelected', () => {
  const tables = ['auth_user', 'auth_group', 'csv2_configuration', 'def_a', 'def_b', 'odd.name'];
  const select = (only: string[], exclude: string[]): string[] =>
    tables.filter((name) => isSelected(name, only, exclude));

  it('no patterns: everything', () => {
    expect(select([], [])).toEqual(tables);
  });

  it('--only: names matching any of the patterns', () => {
    expect(select(['auth_*'], [])).toEqual(['auth_user', 'auth_group']);
    expect(select(['auth_*', 'odd.name'], [])).toEqual(['auth_user', 'auth_group', 'odd.name']);
    expect(select(['nothing'], [])).toEqual([]);
  });

  it('--exclude: names matching none of the patterns; exclude wins over only', () => {
    expect(select([], ['def_?'])).toEqual([
      'auth_user',
      'auth_group',
      'csv2_configuration',
      'odd.name',
    ]);
    expect(select(['auth_*', 'def_*'], ['*_group', 'def_b'])).toEqual(['auth_user', 'def_a']);
    expect(select(['def_a'], ['def_a'])).toEqual([]);
  });
});
