/**
 * Which objects of a database the server hides from the connected account. MariaDB lists in
 * information_schema only the triggers, events and routines an account may see: one that
 * lacks TRIGGER, EVENT or SELECT on mysql.proc gets an empty list, with no error, and a
 * snapshot would silently leave those objects out.
 */
import type { HiddenObjects, ServerFlavor } from '../engine.js';
import { quoteIdentifier, quoteString } from './sql-literal.js';

/** What the probes need of a session: a query that throws the driver's error. */
export interface GrantProbe {
  /** Runs `sql`; resolves to its rows, rejects with an error that has the server's `errno`. */
  query(sql: string): Promise<readonly Record<string, unknown>[]>;
  readonly flavor: ServerFlavor;
}

/** ER_DBACCESS_DENIED_ERROR, ER_TABLEACCESS_DENIED_ERROR. */
const ACCESS_DENIED = new Set([1044, 1142]);

export async function findHiddenObjects(
  probe: GrantProbe,
  database: string,
): Promise<HiddenObjects[]> {
  const hidden: HiddenObjects[] = [];
  const account = await currentAccount(probe);
  const grantTo = (privilege: string, on: string): string =>
    `GRANT ${privilege} ON ${on} TO ${account}`;

  // Triggers: no statement fails for want of TRIGGER (SHOW TRIGGERS lists none), so the
  // account's grants are read, its enabled role's included.
  const grants = await probe.query('SHOW GRANTS').then(
    (rows) => rows.flatMap((row) => Object.values(row).map(String)),
    () => undefined,
  );
  if (grants !== undefined && !grantsCover(grants, 'TRIGGER', database)) {
    hidden.push({
      kinds: ['trigger'],
      privilege: 'TRIGGER',
      grant: grantTo('TRIGGER', `${quoteIdentifier(database)}.*`),
    });
  }
  // Events: SHOW EVENTS fails outright without EVENT, where information_schema lists none.
  if (!(await allowed(probe, `SHOW EVENTS FROM ${quoteIdentifier(database)}`))) {
    hidden.push({
      kinds: ['event'],
      privilege: 'EVENT',
      grant: grantTo('EVENT', `${quoteIdentifier(database)}.*`),
    });
  }
  // Routines: MariaDB shows an account only those it defined, unless it may read
  // mysql.proc. (MySQL 8 keeps them in its data dictionary, behind SHOW_ROUTINE or a global
  // SELECT, with no table to probe: not checked there.)
  if (probe.flavor === 'mariadb' && !(await allowed(probe, 'SELECT 1 FROM mysql.proc LIMIT 0'))) {
    hidden.push({
      kinds: ['function', 'procedure'],
      privilege: 'SELECT on mysql.proc',
      grant: grantTo('SELECT', 'mysql.proc'),
    });
  }
  return hidden;
}

async function allowed(probe: GrantProbe, sql: string): Promise<boolean> {
  try {
    await probe.query(sql);
    return true;
  } catch (error) {
    const errno = (error as { errno?: unknown }).errno;
    if (typeof errno === 'number' && ACCESS_DENIED.has(errno)) return false;
    throw error;
  }
}

/** `'user'@'host'` of the session, for the GRANT a hint shows. */
async function currentAccount(probe: GrantProbe): Promise<string> {
  const rows = await probe.query('SELECT CURRENT_USER() AS account');
  const account = rows[0]?.account;
  const text = typeof account === 'string' ? account : '';
  const at = text.lastIndexOf('@');
  return at < 0
    ? quoteString(text)
    : `${quoteString(text.slice(0, at))}@${quoteString(text.slice(at + 1))}`;
}

/**
 * True when one of the `SHOW GRANTS` lines gives `privilege` (or ALL PRIVILEGES) on every
 * table of `database`: on `*.*`, on the database, or on a database pattern that matches it.
 * Grants on single tables do not count: they show only those tables' objects.
 */
export function grantsCover(
  lines: readonly string[],
  privilege: string,
  database: string,
): boolean {
  return lines.some((line) => {
    const match =
      /^GRANT (.+?) ON (?:(?:FUNCTION|PROCEDURE|PACKAGE(?: BODY)?) )?(\*|`(?:[^`]|``)*`)\.\*(?: TO |$)/.exec(
        line,
      );
    if (match === null) return false;
    const [, list = '', scope = ''] = match;
    const privileges = list.split(',').map((item) => item.trim().toUpperCase());
    if (!privileges.includes(privilege) && !privileges.includes('ALL PRIVILEGES')) return false;
    if (scope === '*') return true;
    return likeMatches(scope.slice(1, -1).replace(/``/g, '`'), database);
  });
}

/** `pattern` as GRANT reads a database name: `%` and `_` are wildcards unless escaped with `\`. */
function likeMatches(pattern: string, text: string): boolean {
  let source = '';
  let escaped = false;
  for (const char of pattern) {
    if (escaped) {
      source += escapeRegExp(char);
      escaped = false;
    } else if (char === '\\') escaped = true;
    else if (char === '%') source += '.*';
    else if (char === '_') source += '.';
    else source += escapeRegExp(char);
  }
  return new RegExp(`^${source}$`, 'su').test(text);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
