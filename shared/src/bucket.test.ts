import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketNameProblem, regionProblem } from './bucket.ts';

describe('bucketNameProblem', () => {
  it.each([
    ['my-bucket.2025'],
    ['abc'],
    ['a1b'],
    ['1ab'],
    ['bioacoustics-field-data'],
    ['camera.traps.eu-west-1'],
    ['docexamplebucket1'],
    ['log-delivery-march-2020'],
    ['my-hosted-content'],
    ['a'.repeat(63)],
    ['a-b'],
    ['a.b'],
    ['123'],
    ['1.2.3'],
    ['1.2.3.4.5'],
    ['192.168.5.4x'],
  ])('accepts the valid bucket name %j', (name) => {
    expect(bucketNameProblem(name)).toBeNull();
  });

  describe('length', () => {
    it('refuses the empty name', () => {
      expect(bucketNameProblem('')).toBe('must be 3 to 63 characters long');
    });

    it('refuses 2 characters and accepts 3', () => {
      expect(bucketNameProblem('ab')).toBe('must be 3 to 63 characters long');
      expect(bucketNameProblem('abc')).toBeNull();
    });

    it('accepts 63 characters and refuses 64', () => {
      expect(bucketNameProblem('a'.repeat(63))).toBeNull();
      expect(bucketNameProblem('a'.repeat(64))).toBe('must be 3 to 63 characters long');
      expect(bucketNameProblem(`my-${'b'.repeat(60)}`)).toBeNull();
      expect(bucketNameProblem(`my-${'b'.repeat(61)}`)).toBe('must be 3 to 63 characters long');
    });
  });

  describe('characters', () => {
    it.each([
      ['My-bucket'],
      ['MYBUCKET'],
      ['my_bucket'],
      ['my bucket'],
      ['my/bucket'],
      ['my:bucket'],
      ['mybücket'],
      ['my-bucket\n'],
      ['my\u0000bucket'],
    ])('refuses %j: only lowercase letters, digits, dots and hyphens', (name) => {
      expect(bucketNameProblem(name)).toBe('may contain only lowercase letters, digits, dots and hyphens');
    });
  });

  describe('first and last character', () => {
    it.each([['-mybucket'], ['mybucket-'], ['.mybucket'], ['mybucket.'], ['-a-'], ['.a.']])(
      'refuses %j: must begin and end with a letter or digit',
      (name) => {
        expect(bucketNameProblem(name)).toBe('must begin and end with a letter or digit');
      },
    );
  });

  it.each([['my..bucket'], ['a..b'], ['my-bucket..2025']])('refuses %j: two adjacent dots', (name) => {
    expect(bucketNameProblem(name)).toBe('must not contain two adjacent dots');
  });

  it.each([['192.168.5.4'], ['10.0.0.1'], ['1.2.3.4'], ['255.255.255.255'], ['999.999.999.999']])(
    'refuses %j: formatted as an IP address',
    (name) => {
      expect(bucketNameProblem(name)).toBe('must not look like an IP address');
    },
  );

  it.each([
    ['xn--bucket', 'xn--'],
    ['sthree-bucket', 'sthree-'],
    ['sthree-configurator', 'sthree-'],
    ['amzn-s3-demo-bucket', 'amzn-s3-demo-'],
  ])('refuses %j: begins with the reserved prefix %j', (name, prefix) => {
    expect(bucketNameProblem(name)).toBe(`must not begin with "${prefix}"`);
  });

  it.each([['xn-bucket'], ['sthree'], ['sthreebucket'], ['amzn-s3-demo'], ['my-xn--bucket'], ['bucket-sthree-x']])(
    'accepts %j, which only resembles a reserved prefix',
    (name) => {
      expect(bucketNameProblem(name)).toBeNull();
    },
  );

  it.each([
    ['mybucket-s3alias', '-s3alias'],
    ['mybucket--ol-s3', '--ol-s3'],
    ['mybucket.mrap', '.mrap'],
    ['mybucket--x-s3', '--x-s3'],
    ['mybucket--table-s3', '--table-s3'],
  ])('refuses %j: ends with the reserved suffix %j', (name, suffix) => {
    expect(bucketNameProblem(name)).toBe(`must not end with "${suffix}"`);
  });

  it.each([['mybucket-s3aliasx'], ['mybucket-ol-s3'], ['mybucket-mrap'], ['mybucket-x-s3'], ['s3alias-bucket']])(
    'accepts %j, which only resembles a reserved suffix',
    (name) => {
      expect(bucketNameProblem(name)).toBeNull();
    },
  );

  it('accepts exactly the names that follow every rule (property)', () => {
    const character = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789.-'.split(''));
    fc.assert(
      fc.property(fc.string({ unit: character, minLength: 0, maxLength: 70 }), (name) => {
        const valid =
          name.length >= 3 &&
          name.length <= 63 &&
          /^[a-z0-9]/.test(name) &&
          /[a-z0-9]$/.test(name) &&
          !name.includes('..') &&
          !/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name) &&
          !['xn--', 'sthree-', 'amzn-s3-demo-'].some((prefix) => name.startsWith(prefix)) &&
          !['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'].some((suffix) => name.endsWith(suffix));
        expect(bucketNameProblem(name) === null).toBe(valid);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses every name with a character outside a-z, 0-9, "." and "-" (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }).filter((c) => !/^[a-z0-9.-]$/.test(c)),
        (rest, bad) => {
          const name = `ab${bad}${rest.replace(/[^a-z0-9]/g, 'x')}z`.slice(0, 63);
          expect(bucketNameProblem(name)).not.toBeNull();
        },
      ),
    );
  });
});

describe('regionProblem', () => {
  it.each([['eu-west-1'], ['us-east-1'], ['ap-southeast-2'], ['garage'], ['us-gov-west-1'], ['a'.repeat(32)]])(
    'accepts the region %j',
    (region) => {
      expect(regionProblem(region)).toBeNull();
    },
  );

  it.each([[''], ['EU-WEST-1'], ['-eu-west-1'], ['eu west 1'], ['eu_west_1'], ['a'.repeat(33)]])(
    'refuses the region %j',
    (region) => {
      expect(regionProblem(region)).toBe('must be a region code such as eu-west-1');
    },
  );
});
