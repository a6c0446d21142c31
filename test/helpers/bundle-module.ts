/**
 * One module of src/ bundled (with what it imports) into a plain ESM file that a child
 * `node` can import: dist/ holds only the bundled CLI (scripts/bundle.mjs), not a file per
 * module. Written in a temporary directory removed when the test finishes.
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import { createTempDir } from './temp-dir.js';

const ROOT = join(import.meta.dirname, '../..');

/** The path of `source` (relative to the project, e.g. `src/support/lock.ts`) bundled. */
export async function bundleModule(source: string): Promise<string> {
  const outfile = join(await createTempDir('bundle-module'), 'module.mjs');
  await build({
    absWorkingDir: ROOT,
    entryPoints: [source],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    logLevel: 'warning',
    // CommonJS dependencies (proper-lockfile) require Node's built-ins.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
    },
  });
  return outfile;
}
