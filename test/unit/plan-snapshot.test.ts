import { describe, expect, it } from 'vitest';
import type { Categories } from '../../src/config/schema.js';
import type { SchemaInventory } from '../../src/engine/engine.js';
import { mariadbEngine } from '../../src/engine/mariadb/mariadb-engine.js';
import { planSnapshot } from '../../src/snapshot/plan-snapshot.js';
import { inventoryOf, type InventoryLists } from '../helpers/inventory.js';

function inventory(parts: Partial<InventoryLists>): SchemaInventory {
  return inventoryOf(parts);
}

function categories(parts: Partial<Record<keyof Categories, string[]>>): Categories {
  return { global: [], local: [], ephemeral: [], ignore: [], ...parts };
}

describe('planSnapshot', () => {
  const db = inventory({
    tables: ['auth_user', 'cache', 'csv2_clouds', 'scratch', 'settings', 'stray'],
    views: ['active_users', 'debug_view'],
    sequences: ['seq'],
    procedures: ['cleanup'],
    functions: ['f_age'],
    events: ['nightly'],
    triggers: [
      { name: 'settings_bi', table: 'settings' },
      { name: 'settings_bu', table: 'settings' },
      { name: 'scratch_bi', table: 'scratch' },
      { name: 'stray_ai', table: 'stray' },
      { name: 'auth_user_au', table: 'auth_user' },
    ],
  });
  const config = categories({
    global: ['settings', 'csv2_clouds'],
    local: ['auth_user'],
    ephemeral: ['cache', 'gone_table'],
    ignore: ['scratch', 'debug_view', 'also_gone'],
  });
  const plan = planSnapshot(db, config, mariadbEngine);

  it('sends rows by category: global to git, local to user data, ephemeral and uncategorized nowhere', () => {
    const byName = Object.fromEntries(plan.tables.map((table) => [table.name, table]));
    expect(byName.settings).toMatchObject({
      kind: 'table',
      category: 'global',
      rows: 'git',
      file: 'settings.sql',
    });
    expect(byName.csv2_clouds).toMatchObject({ category: 'global', rows: 'git' });
    expect(byName.auth_user).toMatchObject({ category: 'local', rows: 'user-data' });
    expect(byName.cache).toMatchObject({ category: 'ephemeral', rows: 'none' });
    expect(byName.stray).toMatchObject({
      category: 'uncategorized',
      rows: 'none',
      file: 'stray.sql',
    });
  });

  it('leaves ignored tables out of the tables, listing them as ignored', () => {
    expect(plan.tables.map((table) => table.name)).toEqual([
      'auth_user',
      'cache',
      'csv2_clouds',
      'settings',
      'stray',
    ]);
    expect(plan.tables.some((table) => table.name === 'scratch')).toBe(false);
    expect(plan.ignored).toEqual(['debug_view', 'scratch']);
  });

  it('lists uncategorized tables', () => {
    expect(plan.uncategorized).toEqual(['stray']);
  });

  it('lists configured names the database lacks, with their category', () => {
    expect(plan.missing).toHaveLength(2);
    expect(plan.missing).toContainEqual({ name: 'gone_table', category: 'ephemeral' });
    expect(plan.missing).toContainEqual({ name: 'also_gone', category: 'ignore' });
  });

  it('plans views, sequences, routines, triggers and events in restore order, skipping ignored ones', () => {
    // Triggers come after every table (and its user data) in their own files, in the
    // server's order; those of an ignored table (scratch_bi) are skipped.
    expect(plan.objects).toEqual([
      { kind: 'sequence', name: 'seq', file: 'seq.sequence.sql' },
      { kind: 'view', name: 'active_users', file: 'active_users.view.sql' },
      { kind: 'function', name: 'f_age', file: 'f_age.function.sql' },
      { kind: 'procedure', name: 'cleanup', file: 'cleanup.procedure.sql' },
      { kind: 'trigger', name: 'settings_bi', file: 'settings_bi.trigger.sql', table: 'settings' },
      { kind: 'trigger', name: 'settings_bu', file: 'settings_bu.trigger.sql', table: 'settings' },
      { kind: 'trigger', name: 'stray_ai', file: 'stray_ai.trigger.sql', table: 'stray' },
      {
        kind: 'trigger',
        name: 'auth_user_au',
        file: 'auth_user_au.trigger.sql',
        table: 'auth_user',
      },
      { kind: 'event', name: 'nightly', file: 'nightly.event.sql' },
    ]);
  });

  it('does not report a configured view or sequence as missing', () => {
    const result = planSnapshot(
      inventory({ tables: ['t'], views: ['v'], sequences: ['s'] }),
      categories({ global: ['t'], ephemeral: ['s'], ignore: ['v'] }),
      mariadbEngine,
    );
    expect(result.missing).toEqual([]);
    expect(result.ignored).toEqual(['v']);
    expect(result.objects).toEqual([{ kind: 'sequence', name: 's', file: 's.sequence.sql' }]);
  });

  it('encodes awkward table names in file names', () => {
    const result = planSnapshot(
      inventory({ tables: ['a.view'], views: ['a'] }),
      categories({ global: ['a.view'] }),
      mariadbEngine,
    );
    expect(result.tables[0]?.file).toBe('a%2Eview.sql');
    expect(result.objects[0]?.file).toBe('a.view.sql');
  });

  it('plans an empty database', () => {
    expect(planSnapshot(inventory({}), categories({ global: ['x'] }), mariadbEngine)).toEqual({
      tables: [],
      objects: [],
      ignored: [],
      uncategorized: [],
      missing: [{ name: 'x', category: 'global' }],
    });
  });

  it('is pure: the same inputs give the same plan, inputs untouched', () => {
    const before = JSON.stringify([db, config]);
    expect(planSnapshot(db, config, mariadbEngine)).toEqual(plan);
    expect(JSON.stringify([db, config])).toBe(before);
  });
});
