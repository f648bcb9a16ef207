import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  defaultPartSize,
  maxObjectSize,
  maxPartCount,
  maxPartSize,
  maxSinglePutSize,
  minPartSize,
  multipartThreshold,
  partCount,
  partRange,
  partSizeFor,
  sizeProblem,
  uploadMethodFor,
} from './parts.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

/** Every range of a multipart upload, in order. */
function allRanges(size: number, partSize: number): { start: number; end: number }[] {
  return Array.from({ length: partCount(size, partSize) }, (_, index) => partRange(index + 1, size, partSize));
}

/** The first way the ranges fail to tile the file exactly, or null; plain code, as 10,000 `expect`s per run crawl. */
function tilingProblem(size: number, partSize: number): string | null {
  const ranges = allRanges(size, partSize);
  let expectedStart = 0;
  for (const [index, { start, end }] of ranges.entries()) {
    const isLast = index === ranges.length - 1;
    if (start !== expectedStart) return `part ${index + 1} starts at ${start}, not ${expectedStart}`;
    if (end - start > partSize) return `part ${index + 1} is larger than the part size`;
    if (!isLast && end - start < minPartSize) return `part ${index + 1} is smaller than 5 MiB`;
    if (size > 0 && end === start) return `part ${index + 1} is empty`;
    expectedStart = end;
  }
  return expectedStart === size ? null : `the parts end at ${expectedStart}, not ${size}`;
}

/** The promises S3 holds a multipart upload to, checked on the plan `partSizeFor` makes for `size`. */
function expectValidPlan(size: number): void {
  const partSize = partSizeFor(size);
  const count = partCount(size, partSize);
  expect(partSize).toBeGreaterThanOrEqual(minPartSize);
  expect(partSize).toBeLessThanOrEqual(maxPartSize);
  expect(partSize % MiB).toBe(0);
  expect(count).toBeLessThanOrEqual(maxPartCount);
  expect(count).toBeGreaterThanOrEqual(1);
  // Arithmetic instead of listing every range, which would be 10,000 objects per run.
  expect((count - 1) * partSize).toBeLessThan(Math.max(size, 1));
  expect(count * partSize).toBeGreaterThanOrEqual(size);
  const middle = Math.ceil(count / 2);
  expect(partRange(middle, size, partSize)).toEqual({
    start: (middle - 1) * partSize,
    end: Math.min(middle * partSize, size),
  });
  const last = partRange(count, size, partSize);
  expect(last.end).toBe(size);
  expect(last.end - last.start).toBeLessThanOrEqual(partSize);
}

describe('S3 limits', () => {
  it('match the documented S3 quotas', () => {
    expect(minPartSize).toBe(5 * MiB);
    expect(maxPartSize).toBe(5 * GiB);
    expect(maxSinglePutSize).toBe(5 * GiB);
    expect(maxPartCount).toBe(10_000);
    expect(maxObjectSize).toBe(5 * TiB);
    expect(multipartThreshold).toBe(64 * MiB);
    expect(defaultPartSize).toBe(16 * MiB);
  });

  it('keep every file up to the multipart threshold within a single PUT', () => {
    expect(multipartThreshold).toBeLessThanOrEqual(maxSinglePutSize);
  });
});

describe('sizeProblem', () => {
  it.each([[0], [1], [multipartThreshold], [maxObjectSize]])('accepts %i bytes', (size) => {
    expect(sizeProblem(size)).toBeNull();
  });

  it.each([
    [-1, 'has a negative size'],
    [1.5, 'has a size that is not a whole number of bytes'],
    [Number.NaN, 'has a size that is not a whole number of bytes'],
    [Number.POSITIVE_INFINITY, 'has a size that is not a whole number of bytes'],
    [2 ** 53, 'has a size that is not a whole number of bytes'],
    [maxObjectSize + 1, 'is larger than 5 TiB (5497558138881 bytes), the largest file S3 stores'],
  ])('refuses %d bytes: %s', (size, reason) => {
    expect(sizeProblem(size)).toBe(reason);
  });
});

describe('uploadMethodFor', () => {
  it.each([
    [0, 'single'],
    [1, 'single'],
    [5 * MiB, 'single'],
    [multipartThreshold - 1, 'single'],
    [multipartThreshold, 'single'],
    [multipartThreshold + 1, 'multipart'],
    [5 * GiB, 'multipart'],
    [maxObjectSize, 'multipart'],
  ])('sends %i bytes as %s', (size, method) => {
    expect(uploadMethodFor(size)).toBe(method);
  });

  it.each([[-1], [0.5], [maxObjectSize + 1]])('throws for %d bytes, which sizeProblem refuses', (size) => {
    expect(() => uploadMethodFor(size)).toThrow(RangeError);
  });
});

describe('partSizeFor, partCount and partRange at the edges', () => {
  it('treats a zero-byte file as one empty part, should it ever go multipart', () => {
    expect(partSizeFor(0)).toBe(defaultPartSize);
    expect(partCount(0, defaultPartSize)).toBe(1);
    expect(partRange(1, 0, defaultPartSize)).toEqual({ start: 0, end: 0 });
  });

  it('gives a 1-byte file one part of one byte', () => {
    expect(partCount(1, partSizeFor(1))).toBe(1);
    expect(partRange(1, 1, partSizeFor(1))).toEqual({ start: 0, end: 1 });
  });

  it('splits a 5 MiB file into one part', () => {
    expect(partCount(5 * MiB, partSizeFor(5 * MiB))).toBe(1);
    expect(partRange(1, 5 * MiB, partSizeFor(5 * MiB))).toEqual({ start: 0, end: 5 * MiB });
  });

  it('splits the threshold into 4 parts of 16 MiB, and one byte over into a fifth part of one byte', () => {
    expect(allRanges(multipartThreshold, partSizeFor(multipartThreshold))).toEqual([
      { start: 0, end: 16 * MiB },
      { start: 16 * MiB, end: 32 * MiB },
      { start: 32 * MiB, end: 48 * MiB },
      { start: 48 * MiB, end: 64 * MiB },
    ]);
    const overBy1 = multipartThreshold + 1;
    expect(partSizeFor(overBy1)).toBe(16 * MiB);
    expect(partCount(overBy1, 16 * MiB)).toBe(5);
    expect(partRange(5, overBy1, 16 * MiB)).toEqual({ start: 64 * MiB, end: 64 * MiB + 1 });
  });

  it('keeps 16 MiB up to exactly 10,000 parts of it', () => {
    const size = 16 * MiB * 10_000;
    expect(partSizeFor(size)).toBe(16 * MiB);
    expect(partCount(size, 16 * MiB)).toBe(10_000);
    expect(partRange(10_000, size, 16 * MiB)).toEqual({ start: size - 16 * MiB, end: size });
  });

  it('grows the part size to the next whole MiB one byte later, which needs fewer parts', () => {
    const size = 16 * MiB * 10_000 + 1;
    expect(partSizeFor(size)).toBe(17 * MiB);
    expect(partCount(size, 17 * MiB)).toBe(9412);
    expectValidPlan(size);
  });

  it('plans 5 TiB in 9,987 parts of 525 MiB, within every S3 limit', () => {
    expect(partSizeFor(maxObjectSize)).toBe(525 * MiB);
    expect(partCount(maxObjectSize, 525 * MiB)).toBe(9987);
    expectValidPlan(maxObjectSize);
    expect(tilingProblem(maxObjectSize, 525 * MiB)).toBeNull();
    expect(partRange(9987, maxObjectSize, 525 * MiB)).toEqual({ start: 9986 * 525 * MiB, end: maxObjectSize });
  });

  it('refuses 5 TiB + 1 byte', () => {
    expect(sizeProblem(maxObjectSize + 1)).not.toBeNull();
    expect(() => partSizeFor(maxObjectSize + 1)).toThrow(/larger than 5 TiB/);
  });

  it.each([[0], [-1], [0.5], [Number.NaN]])('throws for the part size %d', (partSize) => {
    expect(() => partCount(100, partSize)).toThrow(RangeError);
  });

  it.each([[0], [5], [1.5]])('throws for part %d of a 4-part file', (partNumber) => {
    expect(() => partRange(partNumber, 4 * MiB, MiB)).toThrow(/Part .+ does not exist: this file has parts 1 to 4/);
  });
});

describe('multipart plans (properties)', () => {
  it('cover any file up to 5 TiB in ≤ 10,000 parts of 5 MiB–5 GiB (2,000 sizes)', () => {
    const size = fc.oneof(
      fc.integer({ min: 0, max: maxObjectSize }),
      fc.integer({ min: 0, max: 200 * GiB }),
      fc.integer({ min: -2, max: 2 }).map((offset) => 16 * MiB * 10_000 + offset),
      fc.integer({ min: 0, max: 10_000 }).map((offset) => maxObjectSize - offset),
    );
    fc.assert(fc.property(size, expectValidPlan), { numRuns: 2000 });
  });

  it('tile the file exactly, every part but the last at least 5 MiB (1,000 plans, listing every range)', () => {
    // Part sizes from 5 MiB up, as a resume may reuse any size S3 accepted; files up to 16 GiB keep the listing cheap.
    const plan = fc.record({
      size: fc.oneof(fc.integer({ min: 0, max: 16 * GiB }), fc.integer({ min: 0, max: 64 * MiB })),
      partSize: fc.integer({ min: minPartSize, max: 64 * MiB }),
    });
    fc.assert(
      fc.property(plan, ({ size, partSize }) => {
        fc.pre(Math.ceil(size / partSize) <= maxPartCount);
        expect(tilingProblem(size, partSize)).toBeNull();
      }),
      { numRuns: 1000 },
    );
  });
});
