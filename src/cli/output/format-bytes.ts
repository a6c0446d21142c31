/**
 * Byte counts for people: `0 B`, `512 B`, `1.5 KiB`, `12.0 MiB`, `3.2 GiB` (powers of 1024,
 * IEC units). Every command prints sizes with this one function, so KB and KiB never mix.
 */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${String(bytes)} B` : `${value.toFixed(1)} ${units[unit] ?? ''}`;
}
