/**
 * Makes `SHOW CREATE ...` output deterministic and portable: the `AUTO_INCREMENT=` counter
 * of a table (it moves with every insert), and the `DEFINER=` clause of views, triggers,
 * routines and events (it names an account that may not exist where the file is loaded, and
 * setting another account as definer needs SUPER). The definer is returned so the caller can
 * keep it as a comment.
 */

const DEFINER =
  /\bDEFINER\s*=\s*((?:`(?:[^`]|``)*`|'(?:[^']|'')*'|[^\s@]+)(?:@(?:`(?:[^`]|``)*`|'(?:[^']|'')*'|[^\s]+))?)\s+/;

/** Removes the table option `AUTO_INCREMENT=n` from a `CREATE TABLE` statement. */
export function normalizeCreateTable(sql: string): string {
  // Table options follow the closing parenthesis of the column list, on the last line that
  // starts with `)`; only there, so a column COMMENT mentioning AUTO_INCREMENT= is kept.
  const optionsStart = sql.lastIndexOf('\n)');
  if (optionsStart === -1) return sql;
  // The counter comes before COMMENT= (the server's order), so only that part is searched:
  // a COMMENT='... AUTO_INCREMENT=5 ...' stays as it is.
  const options = sql.slice(optionsStart);
  const commentAt = options.indexOf(" COMMENT='");
  const beforeComment = commentAt === -1 ? options : options.slice(0, commentAt);
  const rest = commentAt === -1 ? '' : options.slice(commentAt);
  return (
    sql.slice(0, optionsStart) + beforeComment.replace(/ AUTO_INCREMENT=\d+(?= |$|\n)/, '') + rest
  );
}

/** Splits the first `DEFINER=...` clause off a CREATE statement. */
export function splitDefiner(sql: string): { sql: string; definer?: string } {
  const match = DEFINER.exec(sql);
  if (!match) return { sql };
  return {
    sql: sql.slice(0, match.index) + sql.slice(match.index + match[0].length),
    definer: match[1],
  };
}
