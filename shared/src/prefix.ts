/** One segment of a key prefix the product writes itself: plain, URL-safe, never `.` or `..`. */
const segmentPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Checks a project's optional key prefix (`campaigns/2025`): slash-separated plain segments, no leading or
 * trailing slash, at most 256 characters.
 */
export function keyPrefixProblem(prefix: string): string | null {
  if (prefix.length > 256) return 'must be at most 256 characters';
  if (prefix.startsWith('/') || prefix.endsWith('/')) return 'must not begin or end with "/"';
  for (const segment of prefix.split('/')) {
    if (!segmentPattern.test(segment)) {
      return `segment "${segment}" must start with a letter or digit and use only letters, digits, ".", "_" and "-" (at most 64)`;
    }
  }
  return null;
}

/**
 * Derives a cycle's S3 prefix from its name (`Spring 2025 — C3` → `Spring-2025-C3`): accents dropped,
 * every run of other characters turned into one hyphen. Null when nothing usable is left.
 */
export function cyclePrefixFromName(name: string): string | null {
  const ascii = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  const prefix = ascii
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-._]+|[-._]+$/g, '')
    .slice(0, 64)
    .replace(/[-._]+$/, '');
  return prefix && segmentPattern.test(prefix) ? prefix : null;
}

/** The next default cycle name after the existing ones: C1, C2, … */
export function nextCycleName(existing: readonly string[]): string {
  const numbers = existing
    .map((name) => /^C(\d+)$/.exec(name)?.[1])
    .map(Number)
    .filter(Number.isInteger);
  return `C${Math.max(0, ...numbers) + 1}`;
}
