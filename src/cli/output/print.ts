/** Where command output goes: data to stdout, diagnostics to stderr (through the logger). */

/** Writes a line to stdout. */
export function printLine(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Writes `value` as indented JSON to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
