/**
 * Text made safe for one line of a terminal, a log or a comment: control characters (C0 but
 * the tab, DEL, C1), line and paragraph separators and the bidirectional overrides that can hide or reorder
 * text are written as escapes. A database name may hold any of them; printed raw, a newline
 * forges a log line and an escape sequence drives the terminal.
 */

/* eslint-disable no-control-regex -- the point is to find control characters. */
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** As above, and the backslash that starts an escape. */
const UNSAFE_OR_BACKSLASH = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\\]/g;
/** As above, but a newline may stay (messages of several lines). */
const UNSAFE_BUT_NEWLINE =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/* eslint-enable no-control-regex */

function escape(char: string): string {
  if (char === '\\') return '\\\\';
  const code = char.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).toUpperCase().padStart(2, '0')}`
    : `\\u{${code.toString(16).toUpperCase()}}`;
}

/** `text` on one line with its control characters escaped (`\x0A`), for display. */
export function printable(text: string): string {
  return text.replace(UNSAFE, escape);
}

/** {@link printable}, but newlines stay: for messages made of several lines. */
export function printableLines(text: string): string {
  return text.replace(UNSAFE_BUT_NEWLINE, escape);
}

/**
 * `text` for a comment line of a file, reversibly: control characters as `\xNN`/`\u{N}` and
 * a backslash as `\\`. {@link unescapeCommentText} gives the text back.
 */
export function escapeCommentText(text: string): string {
  return text.replace(UNSAFE_OR_BACKSLASH, escape);
}

/** The text {@link escapeCommentText} was given. */
export function unescapeCommentText(text: string): string {
  return text.replace(/\\(?:x([0-9A-Fa-f]{2})|u\{([0-9A-Fa-f]{1,6})\}|\\)/g, (match, byte, code) =>
    byte !== undefined
      ? String.fromCharCode(parseInt(byte as string, 16))
      : code !== undefined
        ? String.fromCodePoint(parseInt(code as string, 16))
        : '\\',
  );
}
