/** Durations as operators write them: `26h`, `90m`, `2d`, `1w`, `45s`, or plain seconds. */

const UNIT_SECONDS: Readonly<Record<string, number>> = {
  s: 1,
  m: 60,
  h: 3600,
  d: 86_400,
  w: 604_800,
};

/**
 * Seconds in `text`: a number with an optional unit (s, m, h, d, w), or several such parts
 * (`1d12h`). Undefined when `text` is not a duration or is negative.
 */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text : undefined;
  const trimmed = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) return Number(trimmed);
  if (!/^(?:\d+(?:\.\d+)?[smhdw])+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const match of trimmed.matchAll(/(\d+(?:\.\d+)?)([smhdw])/g))
    total += Number(match[1]) * (UNIT_SECONDS[match[2] ?? 's'] ?? 1);
  return total;
}

/** `93600` → `26h`; `90061` → `1d1h1m1s`: the shortest exact form. */
export function formatDuration(seconds: number): string {
  let rest = Math.round(seconds);
  if (rest === 0) return '0s';
  let text = '';
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) text += `${String(count)}${unit}`;
    rest -= count * size;
  }
  return text;
}
