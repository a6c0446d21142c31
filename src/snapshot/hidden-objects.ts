/**
 * The warning for objects the server hides from the snapshot account: without it, a snapshot
 * made by an account lacking TRIGGER (say) has no triggers, and nothing says so.
 */
import type { HiddenObjects, ObjectKind } from '../engine/engine.js';
import { printable } from '../support/printable.js';

const PLURAL: Readonly<Record<ObjectKind, string>> = {
  table: 'tables',
  sequence: 'sequences',
  view: 'views',
  function: 'functions',
  procedure: 'procedures',
  trigger: 'triggers',
  event: 'events',
  extension: 'extensions',
  schema: 'schemas',
  type: 'types',
  domain: 'domains',
  'foreign-keys': 'foreign keys',
  'row-security': 'row-level security settings',
  'materialized-view': 'materialized views',
  policy: 'policies',
};

/** One warning line per group of `hidden`, e.g. `the account cannot see the events of …`. */
export function hiddenObjectsWarnings(
  hidden: readonly HiddenObjects[],
  database: string,
): string[] {
  return hidden.map((group) => {
    const kinds = group.kinds.map((kind) => PLURAL[kind]).join(' and ');
    const routinesNote =
      group.kinds.includes('function') || group.kinds.includes('procedure')
        ? ' it did not define'
        : '';
    return `the account cannot see the ${kinds}${routinesNote} of ${printable(database)} (it lacks ${group.privilege}): they are not saved; an administrator can run: ${group.grant}`;
  });
}
