/**
 * An account that lacks TRIGGER, EVENT or SELECT on mysql.proc is shown no triggers, events or
 * routines (it did not define), with no error: the engine must say which kinds it cannot see,
 * so that check and snapshot warn instead of committing a snapshot without them.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { grantsCover } from '../../../src/engine/mariadb/hidden-objects.js';
import { connectionTo, createTestDatabase } from '../../helpers/database.js';
import { listsOf } from '../../helpers/inventory.js';
import { serverQuery } from '../../helpers/restore.js';

/** A user with `grants` on `database` (each `PRIVILEGES ON scope`), dropped after the test. */
async function userWith(
  database: string,
  grants: readonly string[],
): Promise<{ user: string; password: string }> {
  const user = `sbtest_u_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(8).toString('hex');
  await serverQuery(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
  onTestFinished(async () => {
    await serverQuery(`DROP USER IF EXISTS '${user}'@'%'`);
  });
  for (const grant of grants)
    await serverQuery(`GRANT ${grant.replace('DB', `\`${database}\``)} TO '${user}'@'%'`);
  return { user, password };
}

async function objectsDatabase(): Promise<string> {
  const database = await createTestDatabase('hidden');
  await database.exec(
    'CREATE TABLE t (id INT PRIMARY KEY, v INT); CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.v = 1; CREATE EVENT e ON SCHEDULE EVERY 1 DAY DISABLE DO SET @x = 1; CREATE PROCEDURE p() SET @x = 1',
  );
  return database.name;
}

async function hiddenFor(database: string, account: { user: string; password: string }) {
  const session = await mariadbEngine.openSession({
    ...connectionTo(database),
    user: account.user,
    password: account.password,
  });
  try {
    const hidden = await session.findHiddenObjects(database);
    const inventory = await session.listObjects(database);
    return { hidden, inventory };
  } finally {
    await session.close();
  }
}

describe('objects the server hides from the snapshot account', () => {
  it('names triggers, events and routines for an account with SELECT only, with the grant to run', async () => {
    const database = await objectsDatabase();
    const account = await userWith(database, ['SELECT ON DB.*']);
    const { hidden, inventory: found } = await hiddenFor(database, account);
    const inventory = listsOf(found);
    // What the server shows such an account: nothing, and no error.
    expect(inventory.triggers).toEqual([]);
    expect(inventory.events).toEqual([]);
    expect(inventory.procedures).toEqual([]);
    expect(hidden.map((group) => group.kinds)).toEqual([
      ['trigger'],
      ['event'],
      ['function', 'procedure'],
    ]);
    expect(hidden[0]?.grant).toBe(`GRANT TRIGGER ON \`${database}\`.* TO '${account.user}'@'%'`);
    expect(hidden[2]?.grant).toBe(`GRANT SELECT ON mysql.proc TO '${account.user}'@'%'`);
  });

  it('sees everything once the privileges come through a default role', async () => {
    const database = await objectsDatabase();
    const account = await userWith(database, ['SELECT ON DB.*']);
    const role = `sbtest_r_${randomBytes(4).toString('hex')}`;
    await serverQuery(`CREATE ROLE ${role}`);
    onTestFinished(async () => {
      await serverQuery(`DROP ROLE IF EXISTS ${role}`);
    });
    await serverQuery(`GRANT TRIGGER, EVENT ON \`${database}\`.* TO ${role}`);
    await serverQuery(`GRANT SELECT ON mysql.proc TO ${role}`);
    await serverQuery(`GRANT ${role} TO '${account.user}'@'%'`);
    await serverQuery(`SET DEFAULT ROLE ${role} FOR '${account.user}'@'%'`);
    const { hidden, inventory: found } = await hiddenFor(database, account);
    const inventory = listsOf(found);
    expect(hidden).toEqual([]);
    expect(inventory.triggers.map((trigger) => trigger.name)).toEqual(['tr']);
    expect(inventory.events).toEqual(['e']);
    expect(inventory.procedures).toEqual(['p']);
  });

  it('sees nothing hidden as the test server account', async () => {
    const database = await objectsDatabase();
    const session = await mariadbEngine.openSession(connectionTo(database));
    try {
      expect(await session.findHiddenObjects(database)).toEqual([]);
    } finally {
      await session.close();
    }
  });
});

describe('grantsCover', () => {
  it('reads ALL PRIVILEGES, global, database and wildcard grants, not single tables', () => {
    const to = ' TO `u`@`%`';
    expect(grantsCover([`GRANT ALL PRIVILEGES ON *.*${to}`], 'TRIGGER', 'db')).toBe(true);
    expect(grantsCover([`GRANT SELECT, TRIGGER ON \`db\`.*${to}`], 'TRIGGER', 'db')).toBe(true);
    expect(grantsCover([`GRANT TRIGGER ON \`app\\_%\`.*${to}`], 'TRIGGER', 'app_x')).toBe(true);
    expect(grantsCover([`GRANT TRIGGER ON \`app\\_%\`.*${to}`], 'TRIGGER', 'appxx')).toBe(false);
    expect(grantsCover([`GRANT TRIGGER ON \`d_b\`.*${to}`], 'TRIGGER', 'dxb')).toBe(true);
    expect(grantsCover([`GRANT TRIGGER ON \`db\`.\`t\`${to}`], 'TRIGGER', 'db')).toBe(false);
    expect(grantsCover([`GRANT SELECT ON \`db\`.*${to}`], 'TRIGGER', 'db')).toBe(false);
    expect(grantsCover([`GRANT TRIGGER ON \`other\`.*${to}`], 'TRIGGER', 'db')).toBe(false);
    expect(grantsCover([`GRANT SELECT (TRIGGER) ON \`db\`.*${to}`], 'TRIGGER', 'db')).toBe(false);
  });
});
