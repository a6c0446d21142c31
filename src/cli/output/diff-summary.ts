/** Text for diff results: the summary by table and column, then the coloured unified diff. */
import { printable } from '../../support/printable.js';
import type { DiffResult, TableDiff } from '../../diff/diff-snapshots.js';
import type { StructureChange } from '../../diff/compare-tables.js';
import { formatRowChanges } from '../../diff/count-row-changes.js';

/**
 * Whether to colour, as picocolors and most CLIs decide: never with a non-empty `NO_COLOR`
 * (https://no-color.org); always with `FORCE_COLOR` set to anything but `0` (CI logs, a
 * pager); otherwise on a terminal that is not `TERM=dumb`.
 */
export function wantsColor(
  stream: Pick<NodeJS.WriteStream, 'isTTY'>,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0';
  return stream.isTTY && env.TERM !== 'dumb';
}

/** Summary lines, one per table or object, indented details below. */
export function summaryLines(result: DiffResult): string[] {
  const lines: string[] = [];
  for (const table of result.tables) lines.push(...tableLines(table));
  for (const object of result.objects)
    lines.push(`${object.kind} ${object.name}: ${object.change}`);
  if (lines.length === 0) lines.push('no differences');
  return lines;
}

function tableLines(table: TableDiff): string[] {
  if (table.change !== 'changed') return [`table ${table.name}: ${table.change}`];
  const lines = [
    `table ${table.name}: ${[table.structure === undefined ? '' : 'structure changed', table.rows === undefined ? '' : `rows ${formatRowChanges(table.rows)}${table.rows.counted === false ? ' (too many to count by key)' : ''}`].filter(Boolean).join(', ') || 'changed'}`,
  ];
  if (table.structure !== undefined)
    lines.push(...structureLines(table.structure).map((line) => `  ${line}`));
  return lines;
}

function structureLines(change: StructureChange): string[] {
  const lines: string[] = [];
  for (const column of change.columnsAdded)
    lines.push(`column ${column.name} added: ${column.definition}`);
  for (const column of change.columnsRemoved)
    lines.push(`column ${column.name} removed (was ${column.definition})`);
  for (const column of change.columnsChanged)
    lines.push(
      `column ${column.name} changed (${column.aspects.join(', ')}): ${column.from} -> ${column.to}`,
    );
  if (change.columnsReordered) lines.push('columns reordered');
  for (const [what, list] of [
    ['index', change.indexes],
    ['foreign key', change.foreignKeys],
    ['check', change.checks],
  ] as const) {
    for (const item of list) {
      const state =
        item.from === undefined ? 'added' : item.to === undefined ? 'removed' : 'changed';
      // A changed key shows what it was, too: `PRIMARY KEY (`a`) -> PRIMARY KEY (`a`,`b`)`.
      const detail =
        item.to === undefined
          ? ''
          : item.from === undefined
            ? `: ${item.to}`
            : `: ${item.from} -> ${item.to}`;
      lines.push(`${what} ${item.name} ${state}${detail}`);
    }
  }
  if (change.options !== undefined)
    lines.push(`options changed: ${change.options.from} -> ${change.options.to}`);
  for (const hint of change.renameHints)
    lines.push(`hint: ${hint.from} -> ${hint.to} may be a rename (same type)`);
  return lines;
}

/**
 * The unified diffs, coloured when `color`, each line made printable (a name in a file may
 * hold escape sequences): print it with `printPrepared`, which keeps the colours.
 */
export function patchText(result: DiffResult, color: boolean): string {
  const paint = (code: string, line: string): string =>
    color ? `\x1b[${code}m${printable(line)}\x1b[0m` : printable(line);
  const out: string[] = [];
  for (const { file, patch } of result.patches) {
    if (patch === undefined) {
      out.push(paint('1', `${file}: too large to show as a diff`));
      continue;
    }
    // Before a file's first hunk, `---`/`+++` name the files; inside, `---` is a removed
    // `-- comment` line.
    let inHunk = false;
    for (const line of patch.split('\n')) {
      if (line.startsWith('===')) continue;
      if (line.startsWith('@@')) {
        inHunk = true;
        out.push(paint('36', line));
      } else if (
        !inHunk &&
        (line.startsWith('+++') || line.startsWith('---') || line.startsWith('Index:'))
      )
        out.push(paint('1', line));
      else if (line.startsWith('+')) out.push(paint('32', line));
      else if (line.startsWith('-')) out.push(paint('31', line));
      else out.push(printable(line));
    }
  }
  return out.join('\n');
}
