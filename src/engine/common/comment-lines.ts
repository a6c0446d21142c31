/**
 * The comment lines both engines' files hold (`-- text`, text escaped to stay on its line):
 * how they are written and read back, kept together so that the two agree.
 */
import { escapeCommentText, unescapeCommentText } from '../../support/printable.js';

export function commentLine(text: string): string {
  return `-- ${escapeCommentText(text)}`;
}

/** The text of a comment line that {@link commentLine} wrote; undefined for other lines. */
export function commentText(line: string): string | undefined {
  return line.startsWith('-- ') ? unescapeCommentText(line.slice(3)) : undefined;
}
