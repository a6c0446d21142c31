/**
 * Line numbers for config keys. js-yaml gives positions only for syntax errors, so this maps
 * block-style YAML (the only style the config documents) from key paths to lines, for error
 * messages that name `file:line: key`. Flow-style lists map every item to the key's line.
 */

/** A key path: mapping keys and sequence indexes, e.g. `['global', 3]`. */
export type KeyPath = readonly (string | number)[];

export interface YamlSourceMap {
  /** 1-based line of the key or list item, or of its nearest mapped ancestor; undefined if none. */
  lineOf(path: KeyPath): number | undefined;
}

interface OpenBlock {
  readonly indent: number;
  readonly path: KeyPath;
  items: number;
}

const KEY_LINE = /^(\s*)([^\s#'"][^:#]*?|'[^']*'|"[^"]*")\s*:(?:\s|$)/;
const ITEM_LINE = /^(\s*)-(?:\s|$)/;

/** Scans `text` once; the result answers any number of look-ups. */
export function mapYamlSource(text: string): YamlSourceMap {
  const lines = new Map<string, number>();
  const stack: OpenBlock[] = [{ indent: -1, path: [], items: 0 }];
  text.split(/\r?\n/).forEach((raw, index) => {
    const lineNumber = index + 1;
    if (/^\s*(#.*)?$/.test(raw) || raw.startsWith('---')) return;
    const item = ITEM_LINE.exec(raw);
    if (item) {
      const indent = item[1]?.length ?? 0;
      // A sequence may sit at its key's own indent (`global:\n- a`), so keep blocks with indent <= ours.
      while (stack.length > 1 && (stack.at(-1)?.indent ?? -1) > indent) stack.pop();
      const owner = stack.at(-1);
      if (!owner) return;
      const path = [...owner.path, owner.items];
      owner.items += 1;
      lines.set(JSON.stringify(path), lineNumber);
      return;
    }
    const key = KEY_LINE.exec(raw);
    if (!key) return;
    const indent = key[1]?.length ?? 0;
    while (stack.length > 1 && (stack.at(-1)?.indent ?? -1) >= indent) stack.pop();
    const parent = stack.at(-1);
    if (!parent) return;
    const name = (key[2] ?? '').replace(/^['"]|['"]$/g, '');
    const path = [...parent.path, name];
    lines.set(JSON.stringify(path), lineNumber);
    stack.push({ indent, path, items: 0 });
  });
  return {
    lineOf(path) {
      for (let length = path.length; length > 0; length -= 1) {
        const line = lines.get(JSON.stringify(path.slice(0, length)));
        if (line !== undefined) return line;
      }
      return undefined;
    },
  };
}
