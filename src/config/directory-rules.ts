/**
 * What the file system says about the paths a config names, read when the config is loaded:
 * a path inside a git directory, a path that is (or lies below) a file, and whether one
 * directory is another or inside it, through symbolic links. Imports only `node:` modules.
 */
import { realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, parse, relative, resolve, sep } from 'node:path';

/**
 * `path` (made absolute) with the symbolic links of its existing part resolved and the rest
 * appended as written. Never throws: a part that cannot be read is taken as written.
 */
export function realPathOf(path: string): string {
  const absolute = resolve(path);
  const missing: string[] = [];
  let existing = absolute;
  for (;;) {
    try {
      return join(realpathSync.native(existing), ...missing.reverse());
    } catch {
      const parent = dirname(existing);
      if (parent === existing) return absolute;
      missing.push(basename(existing));
      existing = parent;
    }
  }
}

/**
 * The git directory that `path` is, or is inside, or undefined: a `.git` directory (any
 * case, as git on a case-insensitive file system reads it) or an existing directory laid out
 * as one (`HEAD`, `objects/` and `refs/`: a bare repository, or a link to a `.git`). Both the
 * path as written and its real path count, so a symbolic link into `.git` is found too.
 */
export function gitDirectoryContaining(path: string): string | undefined {
  for (const candidate of [resolve(path), realPathOf(path)]) {
    let current = candidate;
    const chain: string[] = [];
    while (current !== parse(current).root) {
      chain.push(current);
      current = dirname(current);
    }
    // From the top down, so that `<repo>/.git/modules/x` names `<repo>/.git`.
    for (const directory of chain.reverse()) {
      if (basename(directory).toLowerCase() === '.git' || isGitDirectory(directory))
        return directory;
    }
  }
  return undefined;
}

/**
 * The first existing part of `path` (from the root down, `path` included) that is not a
 * directory, or undefined when every existing part is one. Symbolic links are followed.
 */
export function fileInTheWay(path: string): string | undefined {
  const absolute = resolve(path);
  const root = parse(absolute).root;
  const parts = absolute
    .slice(root.length)
    .split(sep)
    .filter((part) => part !== '');
  let current = root;
  for (const part of parts) {
    current = join(current, part);
    const stats = statOrUndefined(current);
    // Missing (or unreadable): nothing below it can be checked, and mkdir will say why.
    if (stats === undefined) return undefined;
    if (!stats.isDirectory()) return current;
  }
  return undefined;
}

/** True when `inner` is `outer` or inside it, as written or through symbolic links. */
export function isSameOrInside(inner: string, outer: string): boolean {
  return (
    isLexicallyInside(resolve(inner), resolve(outer)) ||
    isLexicallyInside(realPathOf(inner), realPathOf(outer))
  );
}

function isLexicallyInside(inner: string, outer: string): boolean {
  const path = relative(outer, inner);
  return path === '' || (path !== '..' && !path.startsWith(`..${sep}`) && !isAbsolutePath(path));
}

function isAbsolutePath(path: string): boolean {
  return parse(path).root !== '';
}

function isGitDirectory(directory: string): boolean {
  const isA = (name: string, kind: 'file' | 'directory'): boolean => {
    const stats = statOrUndefined(join(directory, name));
    return kind === 'file' ? stats?.isFile() === true : stats?.isDirectory() === true;
  };
  return isA('HEAD', 'file') && isA('objects', 'directory') && isA('refs', 'directory');
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
