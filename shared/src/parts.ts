/**
 * S3 multipart arithmetic. The limits are S3's own:
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html
 */

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const TiB = 1024 ** 4;

/** Every part but the last must be at least this large (S3 answers EntityTooSmall otherwise). */
export const minPartSize = 5 * MiB;
export const maxPartSize = 5 * GiB;
export const maxSinglePutSize = 5 * GiB;
export const maxPartCount = 10_000;
export const maxObjectSize = 5 * TiB;

/**
 * Files larger than this go multipart, so a lost connection costs at most one part, not the whole file.
 * Files up to it are one PUT: cheaper in requests, and the loss on failure is small. Stays below
 * `maxSinglePutSize`, so a single PUT is always allowed.
 */
export const multipartThreshold = 64 * MiB;

/** Small enough that a retried part is cheap, large enough that files up to 156 GiB stay within 10,000 parts. */
export const defaultPartSize = 16 * MiB;

export type UploadMethod = 'single' | 'multipart';

/** Why S3 cannot store a file of this size, or null when it can. */
export function sizeProblem(size: number): string | null {
  if (!Number.isSafeInteger(size)) return 'has a size that is not a whole number of bytes';
  if (size < 0) return 'has a negative size';
  if (size > maxObjectSize) return `is larger than 5 TiB (${size} bytes), the largest file S3 stores`;
  return null;
}

function assertStorableSize(size: number): void {
  const problem = sizeProblem(size);
  if (problem) throw new RangeError(`A file that ${problem} cannot be uploaded`);
}

/** How a deployment splits files: the defaults above, or its own (tests use small parts to exercise resume). */
export interface PartPolicy {
  multipartThreshold: number;
  partSize: number;
}

export const defaultPartPolicy: PartPolicy = { multipartThreshold, partSize: defaultPartSize };

/** One PUT up to the threshold (zero-byte files included), multipart above it. */
export function uploadMethodFor(size: number, policy: PartPolicy = defaultPartPolicy): UploadMethod {
  assertStorableSize(size);
  return size > Math.min(policy.multipartThreshold, maxSinglePutSize) ? 'multipart' : 'single';
}

/**
 * The part size for a new multipart upload: 16 MiB, or, for files over 156 GiB, the smallest whole number of
 * MiB that keeps the file within 10,000 parts (525 MiB at 5 TiB, well under the 5 GiB part limit).
 * A resume must reuse the part size recorded when the upload began, never recompute it: Uppy and S3 identify
 * the parts already sent by number, and the numbers only line up with the same part size.
 */
export function partSizeFor(size: number, policy: PartPolicy = defaultPartPolicy): number {
  assertStorableSize(size);
  const smallestFitting = Math.ceil(Math.ceil(size / maxPartCount) / MiB) * MiB;
  return Math.min(maxPartSize, Math.max(policy.partSize, minPartSize, smallestFitting));
}

function assertPartSize(partSize: number): void {
  if (!Number.isSafeInteger(partSize) || partSize <= 0) {
    throw new RangeError(`A part size must be a positive whole number of bytes, not ${partSize}`);
  }
}

/** How many parts a multipart upload of `size` bytes has; an empty file still needs one (empty) part. */
export function partCount(size: number, partSize: number): number {
  assertStorableSize(size);
  assertPartSize(partSize);
  return Math.max(1, Math.ceil(size / partSize));
}

/**
 * The bytes of part `partNumber` (1-based, as S3 numbers them). `end` is exclusive, as `Blob.slice(start, end)`
 * takes it; Node's `createReadStream` wants `end - 1`.
 */
export function partRange(partNumber: number, size: number, partSize: number): { start: number; end: number } {
  const count = partCount(size, partSize);
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > count) {
    throw new RangeError(`Part ${partNumber} does not exist: this file has parts 1 to ${count}`);
  }
  const start = (partNumber - 1) * partSize;
  return { start, end: Math.min(start + partSize, size) };
}
