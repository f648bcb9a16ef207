const count = new Intl.NumberFormat('en');
const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** 12,340 */
export function formatCount(n: number): string {
  return count.format(n);
}

/** Decimal units, as S3 consoles and operating systems show sizes: 41.2 GB. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/** 1 h 02 min, 4 min 05 s, 12 s */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  if (m > 0) return `${m} min ${String(s).padStart(2, '0')} s`;
  return `${s} s`;
}

/** A timestamp in the person's own locale and time zone. */
export function formatTime(value: string | Date | null | undefined): string {
  if (!value) return '–';
  const date = typeof value === 'string' ? new Date(value) : value;
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/**
 * A file path as it can be shown: control, format (text-direction, zero-width) and line-break characters written
 * as `\u202E`, so a name can neither hide in the page nor reorder what is shown beside it (`a\u202Egpj.wav`
 * would read `avw.jpg`, and the reason after it backwards), and `\` as `\\`, so such an escape is unambiguous.
 */
export function printablePath(path: string): string {
  return path.replace(/[\\\p{Cc}\p{Cf}\p{Cs}\u2028\u2029]/gu, (character) =>
    character === '\\' ? '\\\\' : `\\u${(character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`,
  );
}
