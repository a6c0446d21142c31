/**
 * The PostgreSQL engine put together (#16): a session opened through `postgresqlEngine`
 * lists a database's objects and reads each one's definition, and those definitions, run in
 * a fresh database in the listed order, give it the same objects.
 */
import { describe, expect, it } from 'vitest';
import { namesOfKind, objectsOfKind } from '../../../src/engine/engine.js';
import { postgresqlEngine } from '../../../src/engine/postgresql/postgresql-engine.js';
import { createPgTestDatabase, pgConnectionTo } from '../../helpers/postgres.js';

describe('the PostgreSQL engine', () => {
  it('reads every object through showCreate, and the definitions re-create them', async () => {
    const source = await createPgTestDatabase('sbtest_pgengine');
    await source.exec(`
      CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.v := 1; RETURN NEW; END$$;
      CREATE TABLE public.items (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v int, name text NOT NULL UNIQUE);
      COMMENT ON TABLE public.items IS 'the items';
      CREATE INDEX items_v ON public.items (v);
      CREATE TRIGGER touch BEFORE INSERT ON public.items FOR EACH ROW EXECUTE FUNCTION public.touch();
      CREATE VIEW public.named AS SELECT name FROM public.items;
      CREATE SEQUENCE public.tickets START 100;
    `);
    const { options } = await pgConnectionTo(source.name);
    const session = await postgresqlEngine.openSession({
      ...options,
      user: options.user ?? 'postgres',
    });
    const statements: string[] = [];
    let sourceTableAfter: readonly string[] | undefined;
    try {
      const inventory = await session.listObjects(source.name);
      expect(namesOfKind(inventory, 'table')).toEqual(['public.items']);
      expect(objectsOfKind(inventory, 'trigger')).toEqual([
        { kind: 'trigger', name: 'public.items.touch', table: 'public.items' },
      ]);
      // Functions first (a default or a trigger may call one), then sequences, tables, views, triggers.
      for (const name of namesOfKind(inventory, 'function'))
        statements.push((await session.showCreate(source.name, 'function', name)).sql);
      for (const name of namesOfKind(inventory, 'sequence'))
        statements.push((await session.showCreate(source.name, 'sequence', name)).sql);
      const table = await session.showCreate(source.name, 'table', 'public.items');
      expect(table.sql).toMatch(/^CREATE TABLE "public"."items" \(/);
      expect(table.after?.join('\n')).toMatch(/items_v/);
      expect(table.after?.join('\n')).toMatch(/the items/);
      sourceTableAfter = table.after;
      statements.push(table.sql, ...(table.after ?? []));
      for (const name of namesOfKind(inventory, 'view'))
        statements.push((await session.showCreate(source.name, 'view', name)).sql);
      const trigger = await session.showCreate(source.name, 'trigger', 'public.items.touch');
      expect(trigger.name).toBe('public.items.touch');
      expect(trigger.table).toBe('public.items');
      statements.push(trigger.sql);
    } finally {
      await session.close();
    }

    const target = await createPgTestDatabase('sbtest_pgengine_t');
    for (const statement of statements) await target.exec(statement);
    const { options: targetOptions } = await pgConnectionTo(target.name);
    const again = await postgresqlEngine.openSession({
      ...targetOptions,
      user: targetOptions.user ?? 'postgres',
    });
    try {
      const inventory = await again.listObjects(target.name);
      expect(namesOfKind(inventory, 'table')).toEqual(['public.items']);
      expect(namesOfKind(inventory, 'view')).toEqual(['public.named']);
      expect(namesOfKind(inventory, 'sequence')).toEqual(['public.tickets']);
      expect(namesOfKind(inventory, 'trigger')).toEqual(['public.items.touch']);
      const table = await again.showCreate(target.name, 'table', 'public.items');
      // The same constraints, indexes and comments, in the same order.
      expect(table.after).toEqual(sourceTableAfter);
    } finally {
      await again.close();
    }
  });
});
