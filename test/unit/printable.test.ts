import { describe, expect, it } from 'vitest';
import {
  escapeCommentText,
  printable,
  printableLines,
  unescapeCommentText,
} from '../../src/support/printable.js';
import { createMemoryLogger, createStreamLogger } from '../../src/support/logger.js';
import { mariadbDialect } from '../../src/engine/mariadb/mariadb-dialect.js';
import { mariadbScriptFormat } from '../../src/engine/mariadb/script-format.js';

const NASTY = 'x\nDROP DATABASE canary;\r\n-- \x1b[31mred\x1b[0m \u202eevil\\ \u0085 \u2028 tab\t';

describe('printable', () => {
  it('puts a name on one line with its control characters escaped', () => {
    const shown = printable(NASTY);
    for (const char of ['\n', '\r', '\x1b', '\u202e', '\u0085', '\u2028'])
      expect(shown).not.toContain(char);
    expect(shown).toBe(
      'x\\x0ADROP DATABASE canary;\\x0D\\x0A-- \\x1B[31mred\\x1B[0m \\u{202E}evil\\ \\x85 \\u{2028} tab\t',
    );
  });

  it('keeps the newlines of a message of several lines, nothing else', () => {
    expect(printableLines('a\nb\x1b[2J')).toBe('a\nb\\x1B[2J');
  });

  it('escapes comment text reversibly, backslashes included', () => {
    const escaped = escapeCommentText(NASTY);
    expect(escaped).not.toMatch(/[\n\r]/);
    expect(unescapeCommentText(escaped)).toBe(NASTY);
    const line = mariadbDialect.comment(`table \`${NASTY}\``);
    expect(line.startsWith('-- ')).toBe(true);
    expect(line.includes('\n')).toBe(false);
    expect(mariadbScriptFormat.commentText(line)).toBe(`table \`${NASTY}\``);
  });

  it('the stream logger writes a name with escape sequences escaped', () => {
    const lines: string[] = [];
    createStreamLogger('info', (line) => lines.push(line)).warn(`table ${NASTY}`);
    expect(lines.join('')).not.toContain('\x1b');
    expect(lines.join('')).toContain('\\x1B[31m');
    // The memory logger keeps messages as given (they are data for --json).
    const memory = createMemoryLogger();
    memory.warn('a\x1b');
    expect(memory.lines[0]?.message).toBe('a\x1b');
  });
});
