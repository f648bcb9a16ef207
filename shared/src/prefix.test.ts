import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cyclePrefixFromName, keyPrefixProblem, nextCycleName } from './prefix.ts';

const segmentRule = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

describe('keyPrefixProblem', () => {
  it.each([
    ['campaigns'],
    ['campaigns/2025'],
    ['a/b/c/d'],
    ['site_01/raw-data/v1.2'],
    ['2025'],
    ['a..b'],
    ['a.'],
    ['A'.repeat(64)],
  ])('accepts the prefix %j', (prefix) => {
    expect(keyPrefixProblem(prefix)).toBeNull();
  });

  it.each([['..'], ['a/..'], ['../a'], ['a/../b'], ['.'], ['a/./b'], ['./a'], ['a/.']])(
    'refuses %j: a "." or ".." segment',
    (prefix) => {
      expect(keyPrefixProblem(prefix)).toMatch(/^segment "\.{1,2}" must start with a letter or digit/);
    },
  );

  it.each([[''], ['a//b'], ['a///b']])('refuses %j: an empty segment', (prefix) => {
    expect(keyPrefixProblem(prefix)).toMatch(/^segment "" must start with a letter or digit/);
  });

  it.each([['/'], ['/a'], ['a/'], ['/a/'], ['//a']])('refuses %j: a leading or trailing "/"', (prefix) => {
    expect(keyPrefixProblem(prefix)).toBe('must not begin or end with "/"');
  });

  it.each([['a\u0000b'], ['a\nb'], ['a\tb'], ['a\rb'], ['a\u007fb'], ['a\u0085b'], ['a\u001bb']])(
    'refuses the control character in %j',
    (prefix) => {
      expect(keyPrefixProblem(prefix)).toMatch(/^segment /);
    },
  );

  it.each([['données'], ['é'], ['日本'], ['a/ß'], ['emoji🎉'], ['a b'], ['a\\b'], ['a?b'], ['a#b'], ['a%2F']])(
    'refuses %j: only plain ASCII letters, digits, ".", "_" and "-"',
    (prefix) => {
      expect(keyPrefixProblem(prefix)).toMatch(/^segment /);
    },
  );

  it.each([['-a'], ['_a'], ['.hidden']])('refuses %j: a segment must start with a letter or digit', (prefix) => {
    expect(keyPrefixProblem(prefix)).toMatch(/^segment /);
  });

  it('accepts a segment of 64 characters and refuses one of 65', () => {
    expect(keyPrefixProblem(`x/${'a'.repeat(64)}`)).toBeNull();
    expect(keyPrefixProblem(`x/${'a'.repeat(65)}`)).toMatch(/^segment "a{65}"/);
  });

  it('accepts 256 characters and refuses 257', () => {
    const at256 = ['a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64), 'd'.repeat(61)].join('/');
    expect(at256).toHaveLength(256);
    expect(keyPrefixProblem(at256)).toBeNull();
    const at257 = `${at256.slice(0, -1)}dd`;
    expect(at257).toHaveLength(257);
    expect(keyPrefixProblem(at257)).toBe('must be at most 256 characters');
  });

  it('never accepts a prefix with an empty, "." or ".." segment or a character outside the plain set (property)', () => {
    const piece = fc.oneof(
      fc.constantFrom('', '.', '..', '/', '//', 'a', 'Z', '0', '-', '_', 'é', '\u0000', '\n', ' ', '\\'),
      fc.string({ maxLength: 8 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const prefix = pieces.join('');
        if (keyPrefixProblem(prefix) !== null) return;
        expect(prefix.length).toBeGreaterThan(0);
        expect(prefix.length).toBeLessThanOrEqual(256);
        for (const segment of prefix.split('/')) {
          expect(segment).not.toBe('');
          expect(segment).not.toBe('.');
          expect(segment).not.toBe('..');
          expect(segment).toMatch(segmentRule);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts every prefix built from valid segments within 256 characters (property)', () => {
    const segment = fc.stringMatching(segmentRule);
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), (segments) => {
        const prefix = segments.join('/');
        fc.pre(prefix.length <= 256);
        expect(keyPrefixProblem(prefix)).toBeNull();
      }),
    );
  });
});

describe('cyclePrefixFromName', () => {
  it.each([
    ['C1', 'C1'],
    ['Spring 2025', 'Spring-2025'],
    ['Spring 2025 — C3', 'Spring-2025-C3'],
    ['  lots   of   spaces  ', 'lots-of-spaces'],
    ['Été à Montréal', 'Ete-a-Montreal'],
    ['Çà et là, naïve façade', 'Ca-et-la-naive-facade'],
    ['Ｃ１ full width', 'C1-full-width'],
    ['🎉 launch 🎉', 'launch'],
    ['Site #4 / visit 2', 'Site-4-visit-2'],
    ['v1.2_final-draft', 'v1.2_final-draft'],
    ['...hidden...', 'hidden'],
    ['--dashes--', 'dashes'],
    ['Zürich/Genève', 'Zurich-Geneve'],
  ])('derives from %j the prefix %j', (name, prefix) => {
    expect(cyclePrefixFromName(name)).toBe(prefix);
  });

  it.each([[''], ['   '], ['!!!'], ['—'], ['🎉🎉'], ['...'], ['-_.'], ['日本語'], ['ß'], ['/\\?#']])(
    'gives null for %j, which has no usable characters',
    (name) => {
      expect(cyclePrefixFromName(name)).toBeNull();
    },
  );

  it('caps the prefix at 64 characters and does not end it on a separator', () => {
    expect(cyclePrefixFromName('a'.repeat(100))).toBe('a'.repeat(64));
    expect(cyclePrefixFromName(`${'a'.repeat(63)} b`)).toBe('a'.repeat(63));
    expect(cyclePrefixFromName(`${'a'.repeat(62)} . b`)).toBe('a'.repeat(62));
  });

  it('always gives null or one segment that passes the key segment rule (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 120 }), (name) => {
        const prefix = cyclePrefixFromName(name);
        if (prefix === null) return;
        expect(prefix).toMatch(segmentRule);
        expect(prefix.length).toBeLessThanOrEqual(64);
        expect(keyPrefixProblem(prefix)).toBeNull();
        expect(prefix).not.toMatch(/[-._]$/);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives a name that already is a valid segment ending in a letter or digit back unchanged (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9]([A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$/), (name) => {
        expect(cyclePrefixFromName(name)).toBe(name);
      }),
    );
  });

  it('gives a prefix for any name that contains an ASCII letter or digit (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom('a', 'Q', '7'), fc.string(), (before, usable, after) => {
        expect(cyclePrefixFromName(`${before}${usable}${after}`)).not.toBeNull();
      }),
    );
  });
});

describe('nextCycleName', () => {
  it('starts at C1', () => {
    expect(nextCycleName([])).toBe('C1');
  });

  it('follows the highest existing number', () => {
    expect(nextCycleName(['C1'])).toBe('C2');
    expect(nextCycleName(['C1', 'C2', 'C3'])).toBe('C4');
  });

  it('does not fill gaps: a later number always follows the highest', () => {
    expect(nextCycleName(['C1', 'C3'])).toBe('C4');
    expect(nextCycleName(['C5'])).toBe('C6');
    expect(nextCycleName(['C3', 'C1'])).toBe('C4');
  });

  it('counts numerically, so C10 comes after C9 and C11 after C10', () => {
    expect(nextCycleName(['C1', 'C2', 'C3', 'C4', 'C5', 'C6', 'C7', 'C8', 'C9'])).toBe('C10');
    expect(nextCycleName(['C9', 'C10'])).toBe('C11');
    expect(nextCycleName(['C10', 'C9'])).toBe('C11');
  });

  it('ignores names that are not C followed by digits', () => {
    expect(nextCycleName(['Spring', 'Pilot run'])).toBe('C1');
    expect(nextCycleName(['c5', 'C', 'C-2', 'C2b', 'XC7', 'C 3', 'C1.5', ' C4'])).toBe('C1');
    expect(nextCycleName(['Spring', 'C2', 'Autumn'])).toBe('C3');
  });

  it('reads leading zeros as the number they spell', () => {
    expect(nextCycleName(['C007'])).toBe('C8');
    expect(nextCycleName(['C0'])).toBe('C1');
  });

  it('never proposes a name that exists and always proposes C<n> (property)', () => {
    const name = fc.oneof(
      fc.integer({ min: 0, max: 100_000 }).map((n) => `C${n}`),
      fc.string({ maxLength: 6 }),
    );
    fc.assert(
      fc.property(fc.array(name, { maxLength: 30 }), (existing) => {
        const next = nextCycleName(existing);
        expect(next).toMatch(/^C[1-9]\d*$/);
        expect(existing).not.toContain(next);
      }),
    );
  });
});
