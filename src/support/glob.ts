/** Shell-style name patterns (`def_*`, `t?`, `[ab]*`) for --only/--exclude. */

/** A matcher for `pattern`: `*` any run, `?` one character, `[...]` a class; the rest literal. */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let index = 0; index < pattern.length; index += 1) {
    const char = pattern[index] ?? '';
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else if (char === '[') {
      const end = pattern.indexOf(']', index + 1);
      if (end === -1) source += '\\[';
      else {
        const body = pattern
          .slice(index + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        source += `[${body}]`;
        index = end;
      }
    } else source += char.replace(/[.+^${}()|\\/\]]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'u');
}

/** True when `name` passes the filters: it matches one of `only` (if any) and none of `exclude`. */
export function isSelected(
  name: string,
  only: readonly string[],
  exclude: readonly string[],
): boolean {
  if (only.length > 0 && !only.some((pattern) => globToRegExp(pattern).test(name))) return false;
  return !exclude.some((pattern) => globToRegExp(pattern).test(name));
}
