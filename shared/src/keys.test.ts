import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkedRelativePath,
  cycleKeyPrefix,
  keyBelongsToCycle,
  normaliseRelativePath,
  objectKey,
  utf8ByteLength,
} from './keys.ts';

/** UTF-8 length counted by hand, so the byte limit is checked against something other than the code under test. */
function utf8Bytes(text: string): number {
  let bytes = 0;
  for (const character of text) {
    const codePoint = character.codePointAt(0) ?? 0;
    bytes += codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
  }
  return bytes;
}

function accepted(raw: string): { path: string; sensorSerial: string | null } {
  const result = normaliseRelativePath(raw);
  if (!result.ok) throw new Error(`expected ${JSON.stringify(raw)} to be accepted, got: ${result.reason}`);
  return { path: result.path, sensorSerial: result.sensorSerial };
}

function refusal(raw: string): string {
  const result = normaliseRelativePath(raw);
  if (result.ok) throw new Error(`expected ${JSON.stringify(raw)} to be refused, got ${JSON.stringify(result.path)}`);
  return result.reason;
}

describe('normaliseRelativePath: real field names', () => {
  it.each([
    ['950349/20250909_092000.WAV', '950349'],
    ['CAM 07/DCIM/100MEDIA/IMG_0001.JPG', 'CAM 07'],
    ['Estación Norte/2025-09-09/REC_0001.wav', 'Estación Norte'],
    ['Station Nord – Forêt/S4A12345_20250909_092000.wav', 'Station Nord – Forêt'],
    ['北海道 センサー/録音 01.wav', '北海道 センサー'],
    ['Güímar (Tenerife)/a b c.wav', 'Güímar (Tenerife)'],
    ['plot+7 & plot 8/100% gain/#3 take.wav', 'plot+7 & plot 8'],
    ['🦜 parrots/👨‍👩‍👧 family.jpg', '🦜 parrots'],
    ['SD card: 2/file.wav', 'SD card: 2'],
    ['a/b/c/d/e/f/g/h/i/j.txt', 'a'],
    ['.hidden/file', '.hidden'],
    ['site/..file.wav', 'site'],
    ['site/file..wav', 'site'],
    ['site/ leading and trailing spaces .wav', 'site'],
  ])('accepts %j with sensor serial %j', (raw, sensorSerial) => {
    expect(accepted(raw)).toEqual({ path: raw, sensorSerial });
  });

  it('gives no sensor serial to a file directly in the chosen folder', () => {
    expect(accepted('20250909_092000.WAV')).toEqual({ path: '20250909_092000.WAV', sensorSerial: null });
  });

  it('turns Windows backslashes into slashes', () => {
    expect(accepted('CAM 07\\DCIM\\100MEDIA\\IMG_0001.JPG')).toEqual({
      path: 'CAM 07/DCIM/100MEDIA/IMG_0001.JPG',
      sensorSerial: 'CAM 07',
    });
  });

  it('composes macOS decomposed (NFD) names to NFC, so the same name gives the same key on every system', () => {
    const nfd = 'Estacio\u0301n Norte/Me\u0301xico.wav';
    expect(nfd).not.toBe(nfd.normalize('NFC'));
    expect(accepted(nfd)).toEqual({ path: 'Estación Norte/México.wav', sensorSerial: 'Estación Norte' });
  });

  it('keeps compatibility characters such as fullwidth letters and ligatures as they are (NFC, not NFKC)', () => {
    expect(accepted('ＣＡＭ/ﬁle.jpg').path).toBe('ＣＡＭ/ﬁle.jpg');
  });

  it('accepts a path of exactly 1024 UTF-8 bytes and refuses one of 1025', () => {
    expect(accepted(`a/${'x'.repeat(1022)}`).path).toHaveLength(1024);
    expect(refusal(`a/${'x'.repeat(1023)}`)).toBe('is too long: 1025 bytes in UTF-8, at most 1024');
  });

  it('counts bytes, not characters: 512 × "é" is 1024 bytes, one more ASCII letter is too many', () => {
    expect(accepted('é'.repeat(512)).path).toHaveLength(512);
    expect(refusal(`${'é'.repeat(512)}x`)).toBe('is too long: 1025 bytes in UTF-8, at most 1024');
    expect(refusal('🦜'.repeat(257))).toBe('is too long: 1028 bytes in UTF-8, at most 1024');
  });

  it('measures the length after NFC composition', () => {
    const decomposed = 'e\u0301'.repeat(512);
    expect(utf8Bytes(decomposed)).toBe(1536);
    expect(accepted(decomposed).path).toBe('é'.repeat(512));
  });

  it('refuses a very long name before normalising it', () => {
    expect(refusal('x'.repeat(1_000_000))).toBe('is too long: 1000000 bytes in UTF-8, at most 1024');
  });
});

describe('normaliseRelativePath: refusals', () => {
  it.each([
    ['', 'is empty'],
    ['/950349/a.wav', 'starts with "/" (an absolute path); use the path inside the chosen folder'],
    ['/', 'starts with "/" (an absolute path); use the path inside the chosen folder'],
    ['\\950349\\a.wav', 'starts with "/" (an absolute path); use the path inside the chosen folder'],
    ['C:', 'starts with a Windows drive ("C:"); use the path inside the chosen folder'],
    ['C:\\Users\\field\\a.wav', 'starts with a Windows drive ("C:"); use the path inside the chosen folder'],
    ['d:/card/a.wav', 'starts with a Windows drive ("C:"); use the path inside the chosen folder'],
    ['\\\\server\\share\\a.wav', 'is a network path ("\\\\server\\…"); use the path inside the chosen folder'],
    ['//server/share/a.wav', 'is a network path ("\\\\server\\…"); use the path inside the chosen folder'],
    ['.', 'has a "." segment'],
    ['./a.wav', 'has a "." segment'],
    ['a/./b.wav', 'has a "." segment'],
    ['..', 'has a ".." segment'],
    ['../a.wav', 'has a ".." segment'],
    ['a/../../b.wav', 'has a ".." segment'],
    ['a\\..\\b.wav', 'has a ".." segment'],
    ['a//b.wav', 'has an empty folder name ("//")'],
    ['a\\\\b.wav', 'has an empty folder name ("//")'],
    ['a/b/', 'ends with "/"'],
    ['a/b\\', 'ends with "/"'],
  ])('refuses %j: %s', (raw, reason) => {
    expect(refusal(raw)).toBe(reason);
  });

  it.each([
    ['a\u0000b.wav', 'U+0000'],
    ['a/b.wav\u0000.jpg', 'U+0000'],
    ['a\u0007.wav', 'U+0007'],
    ['a\tb.wav', 'U+0009'],
    ['a\nb.wav', 'U+000A'],
    ['a\rb.wav', 'U+000D'],
    ['a\u001Bb.wav', 'U+001B'],
    ['a\u001Fb.wav', 'U+001F'],
    ['a\u007Fb.wav', 'U+007F'],
    ['a\u0080b.wav', 'U+0080'],
    ['a\u0085b.wav', 'U+0085'],
    ['a\u009Fb.wav', 'U+009F'],
  ])('refuses the control character in %j, naming %s', (raw, codePoint) => {
    expect(refusal(raw)).toBe(`contains a control character (${codePoint})`);
  });

  it.each([
    ['a\u2028b.wav', 'U+2028'],
    ['a\u2029b.wav', 'U+2029'],
  ])('refuses the line separator in %j, naming %s', (raw, codePoint) => {
    expect(refusal(raw)).toBe(`contains a line-break character (${codePoint})`);
  });

  it.each([
    ['a\uD800b.wav', 'U+D800'],
    ['a\uDBFFb.wav', 'U+DBFF'],
    ['a\uDC00b.wav', 'U+DC00'],
    ['a/b.wav\uD83D', 'U+D83D'],
    ['\uDE9C.wav', 'U+DE9C'],
  ])('refuses the lone surrogate (broken encoding) in %j, naming %s', (raw, codePoint) => {
    expect(refusal(raw)).toBe(`contains a broken character (${codePoint}); the name is not valid Unicode text`);
  });

  it('refuses the replacement character U+FFFD that a wrong decoding leaves behind', () => {
    expect(refusal('Estaci\uFFFDn/a.wav')).toBe(
      'contains U+FFFD "\uFFFD", the mark of a name read with the wrong text encoding',
    );
  });

  it.each([
    ['a\uFFFEb', 'U+FFFE'],
    ['a\uFFFFb', 'U+FFFF'],
    ['a\uFDD0b', 'U+FDD0'],
    ['a\u{1FFFF}b', 'U+1FFFF'],
  ])('refuses the non-character in %j, naming %s', (raw, codePoint) => {
    expect(refusal(raw)).toBe(`contains a non-character (${codePoint})`);
  });

  it.each([
    ['a\u202Ab', 'U+202A'],
    ['a\u202Bb', 'U+202B'],
    ['a\u202Cb', 'U+202C'],
    ['a\u202Db', 'U+202D'],
    ['invoice\u202Egpj.exe', 'U+202E'],
    ['a\u2066b', 'U+2066'],
    ['a\u2067b', 'U+2067'],
    ['a\u2068b', 'U+2068'],
    ['a\u2069b', 'U+2069'],
  ])('refuses the text-direction control in %j, naming %s', (raw, codePoint) => {
    expect(refusal(raw)).toBe(`contains an invisible text-direction character (${codePoint})`);
  });

  it.each([
    ['a\u2215..\u2215b', '∕', 'U+2215'],
    ['a\u2044b', '⁄', 'U+2044'],
    ['a\uFF0Fb', '／', 'U+FF0F'],
    ['a\u29F8b', '⧸', 'U+29F8'],
    ['a\uFF3Cb', '＼', 'U+FF3C'],
    ['a\uFE68b', '﹨', 'U+FE68'],
    ['a\u2216b', '∖', 'U+2216'],
    ['site\u2100b.wav', '℀', 'U+2100'],
    ['c\u2105o', '℅', 'U+2105'],
  ])('refuses %j: %s (%s) looks like a slash', (raw, character, codePoint) => {
    expect(refusal(raw)).toBe(`contains "${character}" (${codePoint}), which looks like a slash`);
  });

  it.each([
    ['\uFF0E\uFF0E/a.wav', '\uFF0E\uFF0E', '..'],
    ['a/\uFF0E/b', '\uFF0E', '.'],
    ['a/\u2024\u2024/b', '\u2024\u2024', '..'],
    ['a/\u2025/b', '\u2025', '..'],
    ['a/\uFE52\uFE52/b', '\uFE52\uFE52', '..'],
    ['a/.\uFF0E/b', '.\uFF0E', '..'],
    ['a/.\u200B./b', '.\u200B.', '..'],
    ['a/\u00AD../b', '\u00AD..', '..'],
    ['a/.\uFEFF/b', '.\uFEFF', '.'],
  ])('refuses %j: the name %j reads as %j', (raw, segment, folded) => {
    expect(refusal(raw)).toBe(`has a name "${segment}" that reads as "${folded}"`);
  });

  it.each([['a/.../b'], ['a/. ./b'], ['a/ /b'], ['a/..  /b'], ['a/\u3000/b'], ['a/\u00A0./b']])(
    'refuses %j: a name of only dots and spaces, which Windows trims to nothing',
    (raw) => {
      expect(refusal(raw)).toMatch(/^has a name ".+" made only of dots and spaces$/);
    },
  );

  it.each([['a/\u200B/b'], ['\u200D\u200C/b'], ['a/\u2060']])(
    'refuses %j: a name of only invisible characters',
    (raw) => {
      expect(refusal(raw)).toBe('has a name made only of invisible characters');
    },
  );
});

describe('objectKey', () => {
  it('joins project key prefix, cycle prefix and relative path', () => {
    expect(
      objectKey({ keyPrefix: 'campaigns/2025', cyclePrefix: 'C2', relativePath: '950349/20250909_092000.WAV' }),
    ).toEqual({ ok: true, key: 'campaigns/2025/C2/950349/20250909_092000.WAV' });
  });

  it.each([[null], [undefined], ['']])('leaves out a missing project key prefix (%j)', (keyPrefix) => {
    expect(objectKey({ keyPrefix, cyclePrefix: 'C2', relativePath: '950349/a.wav' })).toEqual({
      ok: true,
      key: 'C2/950349/a.wav',
    });
  });

  it('puts the normalised path in the key', () => {
    expect(objectKey({ cyclePrefix: 'C1', relativePath: 'Estacio\u0301n\\a.wav' })).toEqual({
      ok: true,
      key: 'C1/Estación/a.wav',
    });
  });

  it('passes the path refusal on unchanged', () => {
    expect(objectKey({ cyclePrefix: 'C1', relativePath: 'a/../../etc/passwd' })).toEqual({
      ok: false,
      reason: 'has a ".." segment',
    });
  });

  it('accepts a whole key of exactly 1024 bytes and refuses 1025, though the path alone would fit', () => {
    const head = 'campaigns/2025/C2/';
    const pathOfKeyLength = (bytes: number) => `950349/${'x'.repeat(bytes - head.length - '950349/'.length)}`;
    const fits = objectKey({ keyPrefix: 'campaigns/2025', cyclePrefix: 'C2', relativePath: pathOfKeyLength(1024) });
    expect(fits.ok && utf8Bytes(fits.key)).toBe(1024);
    expect(objectKey({ keyPrefix: 'campaigns/2025', cyclePrefix: 'C2', relativePath: pathOfKeyLength(1025) })).toEqual({
      ok: false,
      reason: 'makes an S3 key that is too long: 1025 bytes in UTF-8, at most 1024',
    });
  });

  it.each([
    [{ keyPrefix: '../other', cyclePrefix: 'C1' }, /^The project key prefix "\.\.\/other" segment "\.\."/],
    [{ keyPrefix: 'a/', cyclePrefix: 'C1' }, /^The project key prefix "a\/" must not begin or end with "\/"$/],
    [{ keyPrefix: null, cyclePrefix: '' }, /^The cycle prefix "" segment ""/],
    [{ keyPrefix: null, cyclePrefix: '..' }, /^The cycle prefix "\.\." segment "\.\."/],
  ])('throws for a corrupt prefix from the database (%j), a bug rather than a bad file', (prefixes, message) => {
    expect(() => objectKey({ ...prefixes, relativePath: 'a.wav' })).toThrow(message);
  });
});

describe('cycleKeyPrefix and keyBelongsToCycle', () => {
  it('gives the prefix every key of the cycle starts with, ending in "/"', () => {
    expect(cycleKeyPrefix('campaigns/2025', 'C2')).toBe('campaigns/2025/C2/');
    expect(cycleKeyPrefix(null, 'C2')).toBe('C2/');
  });

  it('recognises a key it made', () => {
    const made = objectKey({ keyPrefix: 'p', cyclePrefix: 'C2', relativePath: 'Estación/🦜 #1.wav' });
    expect(made.ok && keyBelongsToCycle(made.key, 'p', 'C2')).toBe(true);
  });

  it.each([
    ['p/C3/950349/a.wav', 'another cycle'],
    ['p/C20/950349/a.wav', 'a cycle whose prefix only starts the same'],
    ['C2/950349/a.wav', 'no project key prefix'],
    ['q/p/C2/950349/a.wav', 'another project key prefix in front'],
    ['p/C2/', 'nothing after the prefix'],
    ['p/C2/../C3/a.wav', 'a ".." segment'],
    ['p/C2/a//b.wav', 'an empty segment'],
    ['p/C2/a/\uFF0E\uFF0E/b.wav', 'a segment that reads as ".."'],
    ['p/C2/Estacio\u0301n/a.wav', 'a path that is not in NFC'],
    ['p/C2/a\\b.wav', 'a backslash'],
    ['p/C2/a\u0000.wav', 'a NUL'],
    [`p/C2/${'x'.repeat(1020)}`, 'more than 1024 bytes'],
  ])('refuses %j: %s', (key) => {
    expect(keyBelongsToCycle(key, 'p', 'C2')).toBe(false);
  });
});

describe('utf8ByteLength', () => {
  it.each([
    ['nothing', '', 0],
    ['ASCII', 'abc', 3],
    ['é', 'é', 2],
    ['€', '€', 3],
    ['an emoji', '🦜', 4],
    ['a family emoji (three emoji, two joiners)', '👨‍👩‍👧', 18],
    ['20,000 × é, beyond the reused buffer', 'é'.repeat(20_000), 40_000],
    ['a lone surrogate, which encodes as U+FFFD', '\uD800', 3],
  ])('counts %s as %i bytes', (_label, text, bytes) => {
    expect(utf8ByteLength(text)).toBe(bytes);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Properties. Hostile paths through objectKey: 6,000 + 2,000 + 1,000 + 1,000 = 10,000 runs. Besides: 1,000
// well-formed paths (round trip), 2,000 plain and hostile paths (the shortcut for plain names), 1,000 hostile paths
// in other spellings (equivalence) and 1,000 hostile keys (keyBelongsToCycle): 15,000 fast-check runs in this file.

const prefixes = fc.constantFrom(
  { keyPrefix: null, cyclePrefix: 'C1' },
  { keyPrefix: 'campaigns/2025', cyclePrefix: 'Spring-2025-C3' },
  { keyPrefix: 'a', cyclePrefix: 'b' },
  // The longest prefixes the product allows leave the least room for the path.
  { keyPrefix: ['a', 'b', 'c', 'd'].map((letter) => letter.repeat(63)).join('/'), cyclePrefix: 'z'.repeat(64) },
);

/** Names as they come off SD cards and field laptops. */
const fieldSegment = fc.oneof(
  fc.constantFrom('950349', 'CAM 07', 'DCIM', '100MEDIA', 'IMG_0001.JPG', '20250909_092000.WAV', 'Estación Norte'),
  fc.constantFrom('北海道', '🦜 parrots', '👨‍👩‍👧', 'plot+7 & 8', '100% gain', '#3', '.hidden', 'a..b', 'e\u0301'),
  fc.stringMatching(/^[A-Za-z0-9 _.-]{1,20}$/).filter((segment) => !/^[. ]+$/.test(segment)),
);

/** Every trick the refusals are there for, and a few harmless oddities, to be spliced anywhere into a path. */
const hostilePiece = fc.oneof(
  fc.constantFrom('.', '..', '', '/', '\\', '//', '\\\\', 'C:', 'C:\\', 'z:/', '\\\\server\\share\\', '/./', '/../'),
  fc.constantFrom('\u0000', '\u0001', '\u0007', '\t', '\n', '\r', '\u001F', '\u007F', '\u0080', '\u0085', '\u009F'),
  fc.constantFrom('\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uFFFD', '\uFFFE', '\uFFFF', '\u2028', '\u2029'),
  fc.constantFrom('\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069'),
  fc.constantFrom('\uFF0E', '\uFF0E\uFF0E', '\u2024', '\u2025', '\uFE52', '.\u200B.', '\u00AD..', ' ', '\u3000'),
  fc.constantFrom('\u2215', '\u2044', '\uFF0F', '\u29F8', '\uFF3C', '\uFE68', '\u2216', '\u2100', '\u2105'),
  fc.constantFrom('\u200B', '\u200D', '\uFEFF', '\u0301', 'e\u0301', 'é', '🦜', 'ﬁ', '%2e%2e', '%2F'),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)), maxLength: 4 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
  fc.nat({ max: 1100 }).map((length) => 'x'.repeat(length)),
);

const separator = fc.constantFrom('/', '\\');

/** A field path with up to three hostile pieces spliced in at any UTF-16 position (even inside an emoji). */
const hostilePath = fc
  .tuple(
    fc.array(fc.tuple(fieldSegment, separator), { minLength: 1, maxLength: 8 }),
    fc.array(fc.tuple(fc.nat(), hostilePiece), { maxLength: 3 }),
  )
  .map(([segments, splices]) => {
    let path = segments
      .map(([segment, sep]) => segment + sep)
      .join('')
      .slice(0, -1);
    for (const [at, piece] of splices) {
      const position = at % (path.length + 1);
      path = path.slice(0, position) + piece + path.slice(position);
    }
    return path;
  });

type Prefixes = { keyPrefix: string | null; cyclePrefix: string };

/** Checks the promises an accepted key keeps, without trusting the code under test. */
function expectSafeKey(key: string, { keyPrefix, cyclePrefix }: Prefixes): void {
  const prefix = keyPrefix ? `${keyPrefix}/${cyclePrefix}/` : `${cyclePrefix}/`;
  expect(key.startsWith(prefix)).toBe(true);
  const inside = key.slice(prefix.length);
  for (const reading of [inside, inside.normalize('NFKC'), inside.normalize('NFKD')]) {
    // A character that folds into a slash would add a segment when the key is read back.
    expect(reading.split('/')).toHaveLength(inside.split('/').length);
    for (const segment of reading.split('/')) {
      expect(['', '.', '..']).not.toContain(segment);
      expect(segment.replace(/\p{Default_Ignorable_Code_Point}/gu, '').trim()).not.toMatch(/^\.{0,2}$/);
    }
  }
  expect(key).not.toMatch(/\p{Cc}/u);
  expect(key).not.toMatch(/\p{Cs}/u);
  expect(key).not.toMatch(/[\u202A-\u202E\u2066-\u2069\uFFFD\\]/u);
  expect(utf8Bytes(key)).toBeLessThanOrEqual(1024);
  expect(key.normalize('NFC')).toBe(key);
}

/** Runs one path through objectKey and checks whichever outcome it got; tells which it was. */
function checkPath(raw: string, prefixes: Prefixes): 'accepted' | 'refused' {
  const result = objectKey({ ...prefixes, relativePath: raw });
  if (!result.ok) {
    expect(result.reason.trim()).not.toBe('');
    return 'refused';
  }
  expectSafeKey(result.key, prefixes);
  const normalised = accepted(raw);
  expect(normaliseRelativePath(normalised.path)).toEqual({ ok: true, ...normalised });
  expect(keyBelongsToCycle(result.key, prefixes.keyPrefix, prefixes.cyclePrefix)).toBe(true);
  return 'accepted';
}

/** Runs a property and checks both outcomes happened, so the accepted-key checks were really exercised. */
function assertBothOutcomes(paths: fc.Arbitrary<string>, numRuns: number, minimumAccepted = 1): void {
  const seen = { accepted: 0, refused: 0 };
  fc.assert(
    fc.property(paths, prefixes, (raw, chosen) => {
      seen[checkPath(raw, chosen)] += 1;
    }),
    { numRuns },
  );
  expect(seen.accepted).toBeGreaterThanOrEqual(minimumAccepted);
  expect(seen.refused).toBeGreaterThan(0);
}

describe('objectKey and normaliseRelativePath (properties)', () => {
  it('never makes an unsafe key from a field path with hostile pieces spliced in (6,000 paths)', () => {
    assertBothOutcomes(hostilePath, 6000, 500);
  });

  it('never makes an unsafe key from random text, with or without broken surrogates (2,000 paths)', () => {
    const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit));
    const randomText = fc.oneof(
      fc.string({ unit: anyUnit, maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.array(fc.string({ unit: 'grapheme', maxLength: 8 }), { minLength: 1, maxLength: 6 }).map((s) => s.join('/')),
    );
    assertBothOutcomes(randomText, 2000);
  });

  it('never makes a key over 1024 bytes from paths around the limit (1,000 paths)', () => {
    const wide = fc.constantFrom('x', 'é', '€', '🦜', 'e\u0301');
    const longPath = fc
      .tuple(fc.array(fc.tuple(wide, fc.integer({ min: 1, max: 300 })), { minLength: 1, maxLength: 6 }), separator)
      .map(([runs, sep]) => runs.map(([unit, count]) => unit.repeat(count)).join(sep));
    assertBothOutcomes(longPath, 1000);
  });

  it('never accepts a name that reads as "." or ".." or hides a slash (1,000 paths of look-alikes)', () => {
    const lookAlike = fc.constantFrom(
      '.',
      '\uFF0E',
      '\u2024',
      '\u2025',
      '\u2026',
      '\uFE52',
      '\u200B',
      '\u00AD',
      '\uFEFF',
      ' ',
      '\u00A0',
      '\u3000',
      '\u2215',
      '\uFF0F',
      '\u2100',
      'a',
    );
    const segment = fc.array(lookAlike, { minLength: 1, maxLength: 4 }).map((units) => units.join(''));
    const path = fc.array(segment, { minLength: 1, maxLength: 4 }).map((segments) => segments.join('/'));
    assertBothOutcomes(path, 1000);
  });

  it('accepts every well-formed field path unchanged, with its first folder as sensor serial (1,000 paths)', () => {
    fc.assert(
      fc.property(fc.array(fieldSegment, { minLength: 1, maxLength: 8 }), (segments) => {
        const raw = segments.join('/');
        const result = accepted(raw);
        expect(result.path).toBe(raw.normalize('NFC'));
        expect(result.sensorSerial).toBe(segments.length >= 2 ? segments[0]?.normalize('NFC') : null);
        expect(normaliseRelativePath(result.path)).toEqual({ ok: true, ...result });
      }),
      { numRuns: 1000 },
    );
  });

  it('answers plain names through its shortcut exactly as the full checks do (2,000 paths)', () => {
    const plainUnit = fc.oneof(
      fc.integer({ min: 0x20, max: 0x7e }).map((unit) => String.fromCharCode(unit)),
      fc.constantFrom('.', ' ', '/', '\\', ':', 'C:', '\t', 'é', 'x'.repeat(1020)),
    );
    const plainPath = fc.oneof(
      fc.string({ unit: plainUnit, maxLength: 30 }),
      fc.array(fieldSegment, { minLength: 1, maxLength: 8 }).map((segments) => segments.join('/')),
      hostilePath,
    );
    fc.assert(
      fc.property(plainPath, (raw) => {
        expect(normaliseRelativePath(raw)).toEqual(checkedRelativePath(raw));
      }),
      { numRuns: 2000 },
    );
  });

  it('gives the same answer for a path and its backslash and NFD spellings (1,000 paths)', () => {
    fc.assert(
      fc.property(hostilePath, (raw) => {
        const forward = normaliseRelativePath(raw.normalize('NFC').replaceAll('\\', '/'));
        expect(normaliseRelativePath(raw.replaceAll('/', '\\'))).toEqual(forward);
        if (!/\p{Cs}/u.test(raw)) expect(normaliseRelativePath(raw.normalize('NFD'))).toEqual(forward);
      }),
      { numRuns: 1000 },
    );
  });

  it('recognises as its own only keys that objectKey could have made (1,000 hostile keys)', () => {
    let belonging = 0;
    fc.assert(
      fc.property(hostilePath, prefixes, (inside, chosen) => {
        const key = cycleKeyPrefix(chosen.keyPrefix, chosen.cyclePrefix) + inside;
        if (!keyBelongsToCycle(key, chosen.keyPrefix, chosen.cyclePrefix)) return;
        belonging += 1;
        expect(objectKey({ ...chosen, relativePath: inside })).toEqual({ ok: true, key });
      }),
      { numRuns: 1000 },
    );
    expect(belonging).toBeGreaterThan(0);
  });
});
