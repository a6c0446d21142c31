/** Character tests and number scanning that both engines' SQL lexers read the same way. */

export function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/** Where the run of decimal digits starting at `from` in `sql` ends (`from` if none). */
export function digitsEnd(sql: string, from: number): number {
  let stop = from;
  while (stop < sql.length && isDigit(sql.charCodeAt(stop))) stop += 1;
  return stop;
}

/** Where an exponent (`e5`, `E+5`, `e-5`) starting at `at` ends; `at` when there is none. */
export function exponentEnd(sql: string, at: number): number {
  if ((sql.charCodeAt(at) | 0x20) !== 0x65) return at;
  let exponent = at + 1;
  const sign = sql.charCodeAt(exponent);
  if (sign === 0x2b || sign === 0x2d) exponent += 1;
  return isDigit(sql.charCodeAt(exponent)) ? digitsEnd(sql, exponent) : at;
}
