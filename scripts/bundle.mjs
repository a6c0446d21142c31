#!/usr/bin/env node
/**
 * Bundles the CLI into one ESM file, dist/cli/main.js (the package's `bin`), with esbuild.
 * `npm run build` runs it after tsc has type-checked src/ (tsconfig.build.json, no output).
 *
 * Why: unbundled, a snapshot run loads ~190 modules of its own and of its dependencies
 * before the first table, and Node's ESM loader resolves, reads, compiles and links each
 * one (~0.2 s of a 1,000-table run on 2 cores; bench/README.md, "Start-up"). One file is
 * one resolve and one read; V8 compiles a function when it first runs, so what a command
 * never calls costs only a pre-parse.
 *
 * - Everything is bundled, the drivers too (mysql2, pg): the engine code reaches into
 *   their objects (a connection's socket and parser), not into their files, so a bundled
 *   copy behaves the same; and mysql2 alone is ~70 CommonJS files.
 * - `import()` of our own modules stays lazy: esbuild wraps each such module in an init
 *   function that runs on the first import, so `--version` evaluates no driver, no git and
 *   no age code (test/unit/cli-startup-imports.test.ts checks the sources; the bundle's
 *   start-up is checked by test/e2e/bundle.test.ts).
 * - CommonJS dependencies call `require` for Node's built-ins: the banner gives the ESM
 *   file a real `require` (createRequire) for them.
 * - A source map beside the bundle: `NODE_OPTIONS=--enable-source-maps` maps a stack
 *   trace to src/. Names are kept (no minification), so stacks read well without it.
 * - `pg-native` (pg's optional libpq binding, loaded only on `pg.native`) is not
 *   installed and never used: left external.
 */
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outfile = join(root, 'dist/cli/main.js');

// What tsc emitted before the bundle (one file per module) would ship in the package and
// shadow nothing, but it would be stale: start from an empty dist/.
await rm(join(root, 'dist'), { recursive: true, force: true });

await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'linked',
  external: ['pg-native'],
  banner: {
    js: "import { createRequire as __schemaBackupCreateRequire } from 'node:module';\nconst require = __schemaBackupCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
