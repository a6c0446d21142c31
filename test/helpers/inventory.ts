/**
 * Inventories in the shape tests find easy to write and read: lists by kind, as a MariaDB
 * database has them.
 */
import { mariadbEngine } from '../../src/engine/mariadb/mariadb-engine.js';
import {
  namesOfKind,
  objectsOfKind,
  type ObjectRef,
  type SchemaInventory,
} from '../../src/engine/engine.js';

export interface InventoryLists {
  tables: readonly string[];
  views: readonly string[];
  sequences: readonly string[];
  procedures: readonly string[];
  functions: readonly string[];
  events: readonly string[];
  triggers: readonly { name: string; table: string }[];
}

/** An inventory from lists by kind (absent lists are empty), in the MariaDB engine's kind order. */
export function inventoryOf(parts: Partial<InventoryLists>): SchemaInventory {
  const objects: ObjectRef[] = [];
  for (const kind of mariadbEngine.objectKinds) {
    if (kind === 'trigger') {
      for (const trigger of parts.triggers ?? [])
        objects.push({ kind, name: trigger.name, table: trigger.table });
      continue;
    }
    const key = `${kind}s` as Exclude<keyof InventoryLists, 'triggers'>;
    for (const name of parts[key] ?? []) objects.push({ kind, name });
  }
  return { objects };
}

/** The lists by kind of `inventory`. */
export function listsOf(inventory: SchemaInventory): InventoryLists {
  return {
    tables: namesOfKind(inventory, 'table'),
    views: namesOfKind(inventory, 'view'),
    sequences: namesOfKind(inventory, 'sequence'),
    procedures: namesOfKind(inventory, 'procedure'),
    functions: namesOfKind(inventory, 'function'),
    events: namesOfKind(inventory, 'event'),
    triggers: objectsOfKind(inventory, 'trigger').map((trigger) => ({
      name: trigger.name,
      table: trigger.table ?? '',
    })),
  };
}
