/**
 * The table patterns of `--only`, `--exclude` and `--table` as the config's category entries
 * name tables: a pattern selects a table whose name it matches as written, or as the engine
 * reads a config entry (PostgreSQL: `users` and `def_*` are `public.users` and
 * `public.def_*`, while `*` and `*_log` still match in every schema).
 */
import type { Engine } from '../engine/engine.js';

/**
 * `patterns`, each followed by its reading as a config entry (`engine.tableNamed`) when that
 * differs; empty stays empty (no filter). A pattern the engine cannot read as a name (an
 * unterminated quoted schema) stays as written.
 */
export function tablePatterns(
  engine: Pick<Engine, 'tableNamed'>,
  patterns: readonly string[] | undefined,
): string[] {
  const result: string[] = [];
  for (const pattern of patterns ?? []) {
    result.push(pattern);
    const named = configTableName(engine, pattern);
    if (named !== pattern && !result.includes(named)) result.push(named);
  }
  return result;
}

/**
 * The table `text` means as a category entry (`engine.tableNamed`); `text` itself when the
 * engine cannot read it as a name (an unterminated quoted schema).
 */
export function configTableName(engine: Pick<Engine, 'tableNamed'>, text: string): string {
  try {
    return engine.tableNamed(text);
  } catch {
    return text;
  }
}
