/** Where command output goes: data to stdout, diagnostics to stderr (through the logger). */
import { printableLines } from '../../support/printable.js';

/** Writes a line to stdout; control characters a name may hold are escaped (not newlines). */
export function printLine(line = ''): void {
  process.stdout.write(`${printableLines(line)}\n`);
}

/** Writes text that is printable already (made so line by line, colours added after). */
export function printPrepared(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Writes `value` as indented JSON to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
