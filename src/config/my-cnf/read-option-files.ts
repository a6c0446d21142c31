/**
 * Reads MySQL/MariaDB option files the way the `mariadb` client does: the standard files in
 * order (or only `--defaults-file`), the client groups, `!include` and `!includedir`, quoted
 * values with escapes, `-`/`_` equivalence and the `loose-` prefix. Later settings override
 * earlier ones, whatever their group. Hand-written: the `ini` parsers on npm know neither the
 * include directives nor the bare `key` form, and this is the whole grammar.
 */
import { readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../../errors.js';

/** The groups the `mariadb` command-line client reads. */
export const CLIENT_GROUPS = [
  'client',
  'client-server',
  'client-mariadb',
  'mysql',
  'mariadb',
  'mariadb-client',
] as const;

/** One option's value and the file it came from (for messages; never print the value of `password`). */
export interface OptionValue {
  readonly value: string;
  readonly file: string;
}

/** Options by normalised name (`ssl_ca`, not `ssl-ca`). A bare `key` has the value `''`. */
export type OptionValues = ReadonlyMap<string, OptionValue>;

export interface ReadOptionFilesOptions {
  /** Read only this file, as `--defaults-file` does. Must exist. */
  readonly defaultsFile?: string | undefined;
  /**
   * Read this file too, as `--defaults-extra-file` does: after the system files, before
   * `~/.my.cnf`. Must exist. Not read with `defaultsFile` (the client ignores it then).
   */
  readonly extraFile?: string | undefined;
  /** Groups to read; default {@link CLIENT_GROUPS}. */
  readonly groups?: readonly string[];
  /** Environment for `$MARIADB_HOME`/`$MYSQL_HOME`; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Home directory for `~/.my.cnf`; default `os.homedir()`. */
  readonly home?: string;
}

/** The files the client reads when no defaults file is named, in order. */
export function standardOptionFiles(
  env: Readonly<Record<string, string | undefined>>,
  home: string,
): string[] {
  const files = ['/etc/my.cnf', '/etc/mysql/my.cnf'];
  const serverHome = env.MARIADB_HOME ?? env.MYSQL_HOME;
  if (serverHome !== undefined && serverHome !== '') files.push(join(serverHome, 'my.cnf'));
  files.push(join(home, '.my.cnf'));
  return files;
}

/**
 * Reads the options of `groups` from the option files. Missing standard files are skipped;
 * a missing `defaultsFile`, an unreadable include, an unknown directive and an option before
 * any `[group]` of its file are a {@link ConfigError} (exit 2) naming the file and line.
 */
export async function readOptionFiles(options: ReadOptionFilesOptions = {}): Promise<OptionValues> {
  const groups = new Set(options.groups ?? CLIENT_GROUPS);
  const values = new Map<string, OptionValue>();
  const reader = new OptionFileReader(groups, values);
  if (options.defaultsFile !== undefined) {
    await reader.readFile(options.defaultsFile, true, 0);
  } else {
    const files = standardOptionFiles(options.env ?? process.env, options.home ?? homedir());
    const userFile = files.pop(); // ~/.my.cnf, always the last
    for (const file of files) await reader.readFile(file, false, 0);
    if (options.extraFile !== undefined) await reader.readFile(options.extraFile, true, 0);
    if (userFile !== undefined) await reader.readFile(userFile, false, 0);
  }
  return values;
}

const MAX_INCLUDE_DEPTH = 10;

class OptionFileReader {
  private readonly groups: ReadonlySet<string>;
  private readonly values: Map<string, OptionValue>;

  constructor(groups: ReadonlySet<string>, values: Map<string, OptionValue>) {
    this.groups = groups;
    this.values = values;
  }

  async readFile(file: string, mustExist: boolean, depth: number): Promise<void> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (!mustExist && (code === 'ENOENT' || code === 'ENOTDIR')) return;
      throw new ConfigError({ file }, `cannot read option file: ${(error as Error).message}`, {
        cause: error,
      });
    }
    // Each file starts outside any group, an included one too (mysys my_default.c).
    let seenGroup = false;
    let inGroup = false;
    const lines = text.split(/\r?\n/);
    for (const [index, raw] of lines.entries()) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
      if (line.startsWith('!')) {
        await this.directive(line, file, index + 1, depth);
        continue;
      }
      const group = /^\[\s*([^\]]+?)\s*\]/.exec(line);
      if (group) {
        seenGroup = true;
        inGroup = this.groups.has((group[1] ?? '').toLowerCase());
        continue;
      }
      const { name, value } = parseOptionLine(line);
      if (!seenGroup)
        // The client refuses the whole file: "Found option without preceding group".
        throw new ConfigError(
          { file, line: index + 1, key: name },
          'this option stands before any [group]; the mariadb client refuses such a file',
          { hint: 'Put a group line such as [client] above it.' },
        );
      if (!inGroup) continue;
      this.values.set(name, { value, file });
    }
  }

  private async directive(
    line: string,
    file: string,
    lineNumber: number,
    depth: number,
  ): Promise<void> {
    const match = /^!(include|includedir)\s+(.+)$/.exec(line);
    if (!match) throw new ConfigError({ file, line: lineNumber }, `unknown directive ${line}`);
    if (depth >= MAX_INCLUDE_DEPTH) {
      throw new ConfigError({ file, line: lineNumber }, 'includes nested too deeply (a loop?)');
    }
    const target = resolve(dirname(file), (match[2] ?? '').trim());
    if (match[1] === 'include') {
      await this.readFile(target, true, depth + 1);
      return;
    }
    let entries: string[];
    try {
      entries = await readdir(target);
    } catch {
      return; // the client skips a missing !includedir silently
    }
    for (const entry of entries.filter((name) => name.endsWith('.cnf')).sort()) {
      await this.readFile(join(target, entry), true, depth + 1);
    }
  }
}

/** Splits `key = value` (or bare `key`) into a normalised name and an unquoted, unescaped value. */
export function parseOptionLine(line: string): { name: string; value: string } {
  const equals = line.indexOf('=');
  let name = (equals === -1 ? line : line.slice(0, equals)).trim().toLowerCase().replace(/-/g, '_');
  if (name.startsWith('loose_')) name = name.slice('loose_'.length);
  if (equals === -1) return { name, value: '' };
  return { name, value: parseOptionValue(line.slice(equals + 1).trim()) };
}

function parseOptionValue(text: string): string {
  const quote = text[0];
  if (quote === '"' || quote === "'") {
    // The closing quote is the first one not escaped by a backslash.
    for (let index = 1; index < text.length; index += 1) {
      if (text[index] === '\\') index += 1;
      else if (text[index] === quote) return unescape(text.slice(1, index));
    }
  }
  // As in the client, an unquoted `#` starts a comment (quote a password that holds one).
  const comment = text.indexOf('#');
  return unescape((comment === -1 ? text : text.slice(0, comment)).trim());
}

const ESCAPES: Readonly<Record<string, string>> = {
  b: '\b',
  t: '\t',
  n: '\n',
  r: '\r',
  s: ' ',
  '\\': '\\',
  '"': '"',
  "'": "'",
};

function unescape(text: string): string {
  return text.replace(/\\(.)/g, (whole, char: string) => ESCAPES[char] ?? whole);
}
