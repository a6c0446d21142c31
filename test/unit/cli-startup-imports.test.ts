import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Every module src/cli/main.ts loads before a command runs: the static imports and
 * re-exports that stay in the built JavaScript (not `import type`), followed through the
 * project's own files. `import()` inside a handler is not followed: that is the point.
 */
function startupModules(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    const key = relative(root, file);
    if (seen.has(key)) return;
    seen.add(key);
    const source = readFileSync(file, 'utf8');
    const statements = /^(?:import|export)\s+(type\s+)?(?:[^;'"]*?\s+from\s+)?'([^']+)';/gm;
    for (const match of source.matchAll(statements)) {
      if (match[1] !== undefined) continue;
      const specifier = match[2] ?? '';
      if (!specifier.startsWith('.')) {
        seen.add(specifier);
        continue;
      }
      visit(join(dirname(file), specifier.replace(/\.js$/, '.ts')));
    }
  };
  visit(join(root, entry));
  return seen;
}

describe('CLI start-up', () => {
  it('loads no command handler, driver, git, age or diff module before a command runs', () => {
    const loaded = [...startupModules('src/cli/main.ts')];
    expect(loaded).toContain('src/cli/commands/snapshot-options.ts');
    const handlers = loaded.filter(
      (name) => name.startsWith('src/cli/commands/') && !name.endsWith('-options.ts'),
    );
    expect(handlers).toEqual([]);
    const heavy = ['mysql2', 'pg', 'pg-cursor', 'age-encryption', 'simple-git', 'diff'];
    expect(loaded.filter((name) => heavy.includes(name.split('/')[0] ?? ''))).toEqual([]);
    expect(loaded).not.toContain('src/cli/context.ts');
  });

  it('loads neither database driver before a session opens, nor age, diff or simple-git, for a snapshot', () => {
    // The snapshot command's handler: what a MariaDB snapshot loads before connecting. Each
    // engine's driver is loaded by its `open-session.ts`, on its first connection.
    const loaded = [...startupModules('src/cli/commands/snapshot.ts')];
    expect(loaded).toContain('src/engine/registry.ts');
    const drivers = ['mysql2', 'pg', 'pg-cursor', 'age-encryption', 'diff'];
    // git runs as child processes (runGit): simple-git is not loaded at all.
    drivers.push('simple-git');
    expect(loaded.filter((name) => drivers.includes(name.split('/')[0] ?? ''))).toEqual([]);
    expect(loaded).not.toContain('src/engine/mariadb/open-session.ts');
    expect(loaded).not.toContain('src/engine/postgresql/open-session.ts');
    // Each engine is loaded by the registry when a command asks for it: neither before.
    expect(loaded.filter((name) => /^src\/engine\/(mariadb|postgresql)\//.test(name))).toEqual([]);
  });
});
