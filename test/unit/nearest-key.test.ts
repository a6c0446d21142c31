import { describe, expect, it } from 'vitest';
import { editDistance, nearestKey } from '../../src/config/nearest-key.js';
import { DATABASE_KEYS, GIT_KEYS, TOP_LEVEL_KEYS } from '../../src/config/schema.js';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'abc', 3],
    ['abc', 'abc', 0],
    ['kitten', 'sitting', 3],
    ['flaw', 'lawn', 2],
    ['globl', 'global', 1],
    ['hots', 'host', 2],
    ['databse', 'database', 1],
    ['abc', 'xyz', 3],
  ] as const)('%j -> %j is %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});

describe('nearestKey', () => {
  it('suggests the closest known key for typos', () => {
    expect(nearestKey('globl', TOP_LEVEL_KEYS)).toBe('global');
    expect(nearestKey('databse', TOP_LEVEL_KEYS)).toBe('database');
    expect(nearestKey('ephemral', TOP_LEVEL_KEYS)).toBe('ephemeral');
    expect(nearestKey('pause_intervall', TOP_LEVEL_KEYS)).toBe('pause_interval');
    expect(nearestKey('hots', DATABASE_KEYS)).toBe('host');
    expect(nearestKey('passwordfile', DATABASE_KEYS)).toBe('password_file');
    expect(nearestKey('autor', GIT_KEYS)).toBe('author');
  });

  it('ignores case in the unknown key', () => {
    expect(nearestKey('GLOBAL', TOP_LEVEL_KEYS)).toBe('global');
    expect(nearestKey('Strict', TOP_LEVEL_KEYS)).toBe('strict');
  });

  it('suggests nothing when no key is close', () => {
    expect(nearestKey('colour', TOP_LEVEL_KEYS)).toBeUndefined();
    expect(nearestKey('abcdef', ['ghijkl'])).toBeUndefined();
    expect(nearestKey('anything', [])).toBeUndefined();
  });

  it('allows a distance of a third of the longer name, and at least 2', () => {
    // 2 edits on a short name: allowed (the minimum).
    expect(nearestKey('xy', ['ab'])).toBe('ab');
    expect(nearestKey('xyz', ['abc'])).toBeUndefined();
    // 12 characters: 4 edits allowed, 5 not.
    expect(nearestKey('abcdefghWXYZ', ['abcdefghijkl'])).toBe('abcdefghijkl');
    expect(nearestKey('abcdefgVWXYZ', ['abcdefghijkl'])).toBeUndefined();
  });

  it('returns an exact match', () => {
    expect(nearestKey('git', TOP_LEVEL_KEYS)).toBe('git');
  });
});
