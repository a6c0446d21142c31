/**
 * Splits a command template into argv the way a POSIX shell splits words: blanks separate,
 * single quotes keep everything literally, double quotes keep blanks (with `\"`, `\\`, `\$`
 * and `` \` `` escapes), a backslash outside quotes escapes the next character. Nothing is
 * expanded and nothing runs through a shell, so shell syntax (pipes, redirections,
 * variables, `;`, `&&`) is refused rather than silently passed on as a literal argument.
 *
 * Hand-written rather than `shell-quote`/`string-argv`: those expand `$VAR` from the
 * environment or pass operators through, both wrong for a command run without a shell.
 */

const SHELL_SYNTAX = new Set(['|', '&', ';', '<', '>', '(', ')', '$', '`']);

/** Throws an Error whose message says what is wrong with `template`. */
export function splitCommandLine(template: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let index = 0; index < template.length; index++) {
    const char = template.charAt(index);
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else word += char;
      continue;
    }
    if (quote === '"') {
      if (char === '"') quote = undefined;
      else if (char === '\\' && '"\\$`'.includes(template.charAt(index + 1))) {
        word += template.charAt(index + 1);
        index++;
      } else if (char === '$' || char === '`') {
        throw new Error(`${char} inside double quotes would need a shell; quote it with '…'`);
      } else word += char;
      continue;
    }
    if (char === "'" || char === '"') {
      quote = char;
      inWord = true;
    } else if (char === '\\') {
      if (index + 1 >= template.length) throw new Error('a trailing backslash escapes nothing');
      word += template.charAt(index + 1);
      inWord = true;
      index++;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (SHELL_SYNTAX.has(char)) {
      throw new Error(
        `${char} is shell syntax, but commands run without a shell; put the pipeline in a script and name the script`,
      );
    } else {
      word += char;
      inWord = true;
    }
  }
  if (quote !== undefined) throw new Error(`unterminated ${quote} quote`);
  if (inWord) words.push(word);
  if (words.length === 0) throw new Error('the command is empty');
  return words;
}

/** Replaces `{service}` in every word of `argv`; a word stays one argument whatever the name holds. */
export function fillTemplate(argv: readonly string[], service: string): string[] {
  return argv.map((word) => word.replaceAll('{service}', service));
}
