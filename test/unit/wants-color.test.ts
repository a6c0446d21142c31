/** Colour follows NO_COLOR, FORCE_COLOR and the terminal (issue 21 item 8). */
import { describe, expect, it } from 'vitest';
import { wantsColor } from '../../src/cli/output/diff-summary.js';

const tty = { isTTY: true };
const pipe = { isTTY: false };

describe('wantsColor', () => {
  it('colours a terminal, not a pipe or a dumb terminal', () => {
    expect(wantsColor(tty, {})).toBe(true);
    expect(wantsColor(pipe, {})).toBe(false);
    expect(wantsColor(tty, { TERM: 'dumb' })).toBe(false);
  });

  it('FORCE_COLOR colours a pipe, except FORCE_COLOR=0; NO_COLOR wins over both', () => {
    expect(wantsColor(pipe, { FORCE_COLOR: '1' })).toBe(true);
    expect(wantsColor(pipe, { FORCE_COLOR: '' })).toBe(true);
    expect(wantsColor(tty, { FORCE_COLOR: '0' })).toBe(false);
    expect(wantsColor(tty, { NO_COLOR: '1' })).toBe(false);
    expect(wantsColor(pipe, { NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(false);
    expect(wantsColor(tty, { NO_COLOR: '' })).toBe(true);
  });
});
