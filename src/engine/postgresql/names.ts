/**
 * How a PostgreSQL object's name is carried through the engine interface, as one string:
 * `schema.name`, e.g. `app.settings`. The schema is the text before the first dot, written
 * in double quotes (`"my.schema".t`, with `""` for a quote) only when it holds a dot or starts
 * with a quote; the rest is the name, verbatim, dots and all. So every pair of names has
 * exactly one string, and the string is what a user writes in a config (`app.settings`; a
 * name without a schema is in `public`).
 *
 * Routines and triggers need more than a name to be told apart:
 * - a function or procedure is `schema.name(argument types)`, its identity arguments as
 *   `pg_get_function_identity_arguments` gives them (`app.add(integer, integer)`), so that
 *   overloads are separate objects;
 * - a trigger is `schema.table.trigger` (trigger names are unique per table only), its table
 *   `schema.table` in its {@link ObjectRef}; a policy likewise.
 */
import { InternalError } from '../../errors.js';

export const DEFAULT_SCHEMA = 'public';

export interface SplitName {
  readonly schema: string;
  readonly name: string;
}

/** The carried form of `name` in `schema`. */
export function qualifiedName(schema: string, name: string): string {
  const schemaText =
    schema.includes('.') || schema.startsWith('"') || schema === ''
      ? `"${schema.replace(/"/g, '""')}"`
      : schema;
  return `${schemaText}.${name}`;
}

/** The schema and name of a carried name; without a schema, `public`. */
export function splitQualifiedName(text: string): SplitName {
  if (text.startsWith('"')) {
    let index = 1;
    let schema = '';
    for (;;) {
      const quote = text.indexOf('"', index);
      if (quote === -1) throw new InternalError(`unterminated quoted schema in name ${text}`);
      schema += text.slice(index, quote);
      if (text[quote + 1] === '"') {
        schema += '"';
        index = quote + 2;
        continue;
      }
      if (text[quote + 1] !== '.') throw new InternalError(`no name after the schema in ${text}`);
      return { schema, name: text.slice(quote + 2) };
    }
  }
  const dot = text.indexOf('.');
  if (dot === -1) return { schema: DEFAULT_SCHEMA, name: text };
  return { schema: text.slice(0, dot), name: text.slice(dot + 1) };
}

/** `"name"`: one identifier, always quoted (so case and keywords never matter), `"` doubled. */
export function quoteName(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `"schema"."name"` for a carried name (of a table, view or sequence). */
export function quoteQualified(text: string): string {
  const { schema, name } = splitQualifiedName(text);
  return `${quoteName(schema)}.${quoteName(name)}`;
}
