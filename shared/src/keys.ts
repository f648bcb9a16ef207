import { keyPrefixProblem } from './prefix.ts';

/**
 * S3 refuses keys longer than 1024 bytes of UTF-8, and the relative path alone may not exceed it either.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html
 */
export const maxKeyBytes = 1024;

export type RelativePathResult =
  | { ok: true; path: string; sensorSerial: string | null }
  | { ok: false; reason: string };
export type ObjectKeyResult = { ok: true; key: string } | { ok: false; reason: string };

// `shared/` compiles without DOM or Node typings, yet every runtime it runs on (browsers, Node, Deno, Bun)
// has TextEncoder globally; this module-local declaration types just the part used here.
declare const TextEncoder: new () => {
  encode(input: string): Uint8Array;
  encodeInto(input: string, destination: Uint8Array): { written: number };
};
const utf8 = new TextEncoder();
// Reused for every name of a 300k-file plan: `encode` would allocate a fresh array per call, five times slower.
// A UTF-16 unit never takes more than 3 bytes, so text up to a third of its size always fits.
const scratch = new Uint8Array(3 * 4 * maxKeyBytes);

/** The number of bytes a string takes in UTF-8, the unit S3 measures keys in. */
export function utf8ByteLength(text: string): number {
  if (3 * text.length > scratch.length) return utf8.encode(text).length;
  return utf8.encodeInto(text, scratch).written;
}

/** `U+0007`: how a reason names a character that cannot (or must not) be printed. */
function codePointLabel(character: string): string {
  const codePoint = character.codePointAt(0) ?? 0;
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Characters refused anywhere in a path, each with the reason a field technician reads. Order matters only
 * for which reason a name with several problems gets. Patterns run on the NFC-normalised path.
 */
const refusedCharacters: readonly { pattern: RegExp; reason: (character: string) => string }[] = [
  // A lone surrogate or U+FFFD means the name was decoded with the wrong encoding somewhere along the way;
  // noncharacters (U+FFFE, U+FFFF…) cannot even be written in the XML that ListObjectsV2 answers with.
  {
    pattern: /\p{Cs}/u,
    reason: (c) => `contains a broken character (${codePointLabel(c)}); the name is not valid Unicode text`,
  },
  {
    pattern: /\uFFFD/u,
    reason: (c) => `contains ${codePointLabel(c)} "\uFFFD", the mark of a name read with the wrong text encoding`,
  },
  { pattern: /\p{Noncharacter_Code_Point}/u, reason: (c) => `contains a non-character (${codePointLabel(c)})` },
  // C0 (NUL included), DEL and C1: invisible, and they break logs, terminals and XML listings.
  { pattern: /\p{Cc}/u, reason: (c) => `contains a control character (${codePointLabel(c)})` },
  { pattern: /[\u2028\u2029]/u, reason: (c) => `contains a line-break character (${codePointLabel(c)})` },
  // Bidi overrides and isolates make a name display as something it is not (`a\u202Egpj.exe` shows as `aexe.jpg`).
  {
    pattern: /[\u202A-\u202E\u2066-\u2069]/u,
    reason: (c) => `contains an invisible text-direction character (${codePointLabel(c)})`,
  },
  // Characters drawn like a slash or backslash: a key holding one could be read back, or shown, as a deeper path.
  {
    pattern: /[\u2044\u2215\u29F8\uFF0F\u2216\u29F5\u29F9\uFE68\uFF3C]/u,
    reason: (c) => `contains "${c}" (${codePointLabel(c)}), which looks like a slash`,
  },
];

function refusedCharacterProblem(path: string): string | null {
  for (const { pattern, reason } of refusedCharacters) {
    const found = pattern.exec(path);
    if (found) return reason(found[0]);
  }
  return null;
}

/** Absolute and Windows-rooted paths: the browser and CLI must send the path inside the chosen folder. */
function rootProblem(path: string): string | null {
  if (path.startsWith('//')) return 'is a network path ("\\\\server\\…"); use the path inside the chosen folder';
  if (path.startsWith('/')) return 'starts with "/" (an absolute path); use the path inside the chosen folder';
  if (/^[A-Za-z]:/.test(path)) return 'starts with a Windows drive ("C:"); use the path inside the chosen folder';
  return null;
}

/** Names the character that NFKC turns into a slash (`℀` → `a/c`, fullwidth `／`): it would split the segment. */
function hiddenSlashReason(segment: string): string {
  const character = [...segment].find((candidate) => /[/\\]/.test(candidate.normalize('NFKC'))) ?? segment;
  return `contains "${character}" (${codePointLabel(character)}), which looks like a slash`;
}

/**
 * A segment must name something: not empty, not `.` or `..`, and not something that reads as those once
 * compatibility forms are folded (`．．`, `‥`) and invisible characters dropped (`.\u200B.`), nor only dots and
 * spaces, which Windows trims to nothing.
 */
function segmentProblem(segment: string): string | null {
  if (segment === '') return 'has an empty folder name ("//")';
  if (segment === '.') return 'has a "." segment';
  if (segment === '..') return 'has a ".." segment';
  // Printable ASCII (controls are refused before) has no compatibility forms or invisible characters, so most
  // names skip the costly folding.
  const compatible = /^[\x20-\x7E]*$/.test(segment) ? segment : segment.normalize('NFKC');
  if (/[/\\]/.test(compatible)) return hiddenSlashReason(segment);
  const folded = compatible.replace(/\p{Default_Ignorable_Code_Point}/gu, '');
  if (folded === '.' || folded === '..') return `has a name "${segment}" that reads as "${folded}"`;
  if (folded === '') return 'has a name made only of invisible characters';
  if (/^[.\s]+$/u.test(folded)) return `has a name "${segment}" made only of dots and spaces`;
  return null;
}

function segmentsProblem(path: string): string | null {
  if (path.endsWith('/')) return 'ends with "/"';
  for (const segment of path.split('/')) {
    const problem = segmentProblem(segment);
    if (problem) return problem;
  }
  return null;
}

function tooLongReason(bytes: number): string {
  return `is too long: ${bytes} bytes in UTF-8, at most ${maxKeyBytes}`;
}

/**
 * The usual field name, accepted in one pass: printable ASCII without `\\` (so nothing to normalise, fold or
 * refuse), no drive, not rooted, and every segment holding something besides dots and spaces. Each segment is
 * `[ .]*` then one character that is neither, so the pattern never backtracks. Anything else, good or bad, takes
 * the full checks, which also give the reason.
 */
const plainAsciiPath = /^(?![A-Za-z]:)[ .]*[!-\-0-[\]-~][ -.0-[\]-~]*(?:\/[ .]*[!-\-0-[\]-~][ -.0-[\]-~]*)*$/;

/**
 * Normalises and checks the path of a file inside the folder the person chose (`950349/20250909_092000.WAV`):
 * Unicode NFC (macOS hands out NFD names), `\` → `/`. Refuses, with a reason a field technician can act on,
 * anything that could make its S3 key escape the cycle's prefix, look like something it is not, or break S3.
 * The first segment is the sensor serial when there is a folder at all.
 */
export function normaliseRelativePath(raw: string): RelativePathResult {
  // A plan checks 300k names, nearly all of them plain: the full checks below cost five times as much.
  if (raw.length <= maxKeyBytes && plainAsciiPath.test(raw)) {
    const slash = raw.indexOf('/');
    return { ok: true, path: raw, sensorSerial: slash === -1 ? null : raw.slice(0, slash) };
  }
  return checkedRelativePath(raw);
}

/** `normaliseRelativePath` without its shortcut for plain names; exported for the test that both agree. */
export function checkedRelativePath(raw: string): RelativePathResult {
  if (raw === '') return { ok: false, reason: 'is empty' };
  // Every UTF-16 unit costs at least 2/3 of a UTF-8 byte even after NFC composes, so this is surely too long;
  // refusing it here keeps a hostile megabyte-long name from being normalised at all.
  if (raw.length > 4 * maxKeyBytes) return { ok: false, reason: tooLongReason(utf8ByteLength(raw)) };
  const path = raw.normalize('NFC').replaceAll('\\', '/');
  const problem = refusedCharacterProblem(path) ?? rootProblem(path) ?? segmentsProblem(path);
  if (problem) return { ok: false, reason: problem };
  const bytes = utf8ByteLength(path);
  if (bytes > maxKeyBytes) return { ok: false, reason: tooLongReason(bytes) };
  const segments = path.split('/');
  return { ok: true, path, sensorSerial: segments.length >= 2 ? (segments[0] ?? null) : null };
}

/**
 * `campaigns/2025/C2/`: where every key of a cycle starts, also the ListObjectsV2 prefix that reconciles it.
 * The prefixes come from the database, where they were checked on the way in; a bad one here is a bug, not a
 * bad file, so it throws instead of marking 300k files invalid.
 */
export function cycleKeyPrefix(keyPrefix: string | null | undefined, cyclePrefix: string): string {
  const projectProblem = keyPrefix ? keyPrefixProblem(keyPrefix) : null;
  if (projectProblem) throw new Error(`The project key prefix "${keyPrefix}" ${projectProblem}`);
  const cycleProblem = keyPrefixProblem(cyclePrefix);
  if (cycleProblem) throw new Error(`The cycle prefix "${cyclePrefix}" ${cycleProblem}`);
  return keyPrefix ? `${keyPrefix}/${cyclePrefix}/` : `${cyclePrefix}/`;
}

/** The S3 key of a file: `[keyPrefix?, cyclePrefix, relativePath].join('/')`, computed only on the server. */
export function objectKey(input: {
  keyPrefix?: string | null;
  cyclePrefix: string;
  relativePath: string;
}): ObjectKeyResult {
  const normalised = normaliseRelativePath(input.relativePath);
  if (!normalised.ok) return normalised;
  const key = cycleKeyPrefix(input.keyPrefix, input.cyclePrefix) + normalised.path;
  const bytes = utf8ByteLength(key);
  if (bytes > maxKeyBytes) {
    return { ok: false, reason: `makes an S3 key that is too long: ${bytes} bytes in UTF-8, at most ${maxKeyBytes}` };
  }
  return { ok: true, key };
}

/**
 * Whether a key is one `objectKey` could have produced for this cycle: right prefix, and the rest an accepted,
 * already-normalised relative path (so `C2/../C3/x` does not belong to C2).
 */
export function keyBelongsToCycle(key: string, keyPrefix: string | null | undefined, cyclePrefix: string): boolean {
  const prefix = cycleKeyPrefix(keyPrefix, cyclePrefix);
  if (!key.startsWith(prefix) || utf8ByteLength(key) > maxKeyBytes) return false;
  const inside = key.slice(prefix.length);
  const normalised = normaliseRelativePath(inside);
  return normalised.ok && normalised.path === inside;
}

/**
 * The relative path a key of this cycle was built from, or null for a key outside the cycle's prefix. The
 * ledger is found by (cycle, path) through its unique index, so keys need no index of their own.
 */
export function relativePathOfKey(
  key: string,
  keyPrefix: string | null | undefined,
  cyclePrefix: string,
): string | null {
  const prefix = cycleKeyPrefix(keyPrefix, cyclePrefix);
  return key.startsWith(prefix) && key.length > prefix.length ? key.slice(prefix.length) : null;
}
