import { type Db, schema, sqlRows } from '@data-uploader/drizzle';
import { cycleKeyPrefix } from '@data-uploader/shared';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { ListedObject, ProjectBucket, Storage } from '../s3/storage.ts';
import { ledgerByPaths } from './ledgerLookup.ts';

const { files } = schema;

/**
 * - `missing`: completed in the ledger, not in the bucket;
 * - `sizeDiffers`: in both, with another size;
 * - `etagDiffers`: in both with the same size, but the bucket's ETag is not the one recorded at upload;
 * - `extra`: in the bucket under the cycle's prefix, not completed in the ledger.
 */
export type DifferenceKind = 'missing' | 'sizeDiffers' | 'etagDiffers' | 'extra';

export interface Difference {
  kind: DifferenceKind;
  key: string;
  ledger: { size: number; etag: string | null; status: string } | null;
  bucket: { size: number; etag: string } | null;
}

/** Where a cycle's objects live: its project's bucket and key prefix, and its own prefix. */
export interface CyclePlace extends ProjectBucket {
  keyPrefix: string | null;
  cyclePrefix: string;
}

const ledgerPage = 5000;

/** Every difference counted; the first `limit` kept, so a badly broken cycle still answers a bounded reply. */
class Differences {
  readonly listed: Difference[] = [];
  readonly counts: Record<DifferenceKind, number> = { missing: 0, sizeDiffers: 0, etagDiffers: 0, extra: 0 };
  constructor(private readonly limit: number) {}
  add(difference: Difference) {
    this.counts[difference.kind]++;
    if (this.listed.length < this.limit) this.listed.push(difference);
  }
}

interface LedgerRow {
  ordinal: string;
  id: string;
  s3_key: string;
  size: string;
  etag: string | null;
  status: string;
}

// S3 lists ETags in quotes; clients record them as answered, with or without.
const unquoted = (etag: string) => etag.replaceAll('"', '');

/**
 * Compares a cycle's ledger with its bucket, changing neither. The prefix is listed a page (1,000 keys) at a
 * time and each page looked up in the ledger in one query, as finish does; then the completed rows are read
 * in pages of 5,000 by path to find those the listing never showed. Memory: the ids of the rows seen.
 * Checksums are compared through the ETag S3 computed (single PUT: the MD5; multipart: md5 of the part MD5s
 * and the part count), so nothing is downloaded; the SHA-256 in the ledger is the file's, for later reads.
 */
export async function verifyCycle(db: Db, storage: Storage, cycleId: string, place: CyclePlace, limit: number) {
  const prefix = cycleKeyPrefix(place.keyPrefix, place.cyclePrefix);
  const differences = new Differences(limit);
  const seen = new Set<string>();
  let bucketObjects = 0;
  for await (const page of storage.listObjects(place, prefix)) {
    if (page.length === 0) continue;
    bucketObjects += page.length;
    const rows = await sqlRows<LedgerRow>(
      db,
      ledgerByPaths(
        cycleId,
        page.map((object) => object.key.slice(prefix.length)),
        sql`v.ordinal, f.id, f.s3_key, f.size, f.etag, f.status`,
      ),
    );
    const byOrdinal = new Map(rows.map((row) => [Number(row.ordinal), row]));
    page.forEach((object, index) => {
      const row = byOrdinal.get(index + 1);
      const difference = compare(object, row);
      if (row && difference?.kind !== 'extra') seen.add(String(row.id));
      if (difference) differences.add(difference);
    });
  }
  let ledgerFiles = 0;
  let after = '';
  for (;;) {
    const rows = await db
      .select({ id: files.id, path: files.relativePath, key: files.s3Key, size: files.size, etag: files.etag })
      .from(files)
      .where(and(eq(files.cycleId, cycleId), eq(files.status, 'completed'), gt(files.relativePath, after)))
      .orderBy(asc(files.relativePath))
      .limit(ledgerPage);
    ledgerFiles += rows.length;
    for (const row of rows) {
      if (seen.has(String(row.id))) continue;
      differences.add({
        kind: 'missing',
        key: row.key,
        ledger: { size: row.size, etag: row.etag, status: 'completed' },
        bucket: null,
      });
    }
    if (rows.length < ledgerPage) break;
    after = rows.at(-1)?.path ?? after;
  }
  const total = Object.values(differences.counts).reduce((sum, count) => sum + count, 0);
  return { prefix, ledgerFiles, bucketObjects, total, counts: differences.counts, differences: differences.listed };
}

function compare(object: ListedObject, row: LedgerRow | undefined): Difference | null {
  const bucket = { size: object.size, etag: object.etag };
  if (row?.status !== 'completed' || row.s3_key !== object.key) {
    const ledger = row ? { size: Number(row.size), etag: row.etag, status: row.status } : null;
    return { kind: 'extra', key: object.key, ledger, bucket };
  }
  const ledger = { size: Number(row.size), etag: row.etag, status: row.status };
  if (ledger.size !== object.size) return { kind: 'sizeDiffers', key: object.key, ledger, bucket };
  if (row.etag && unquoted(row.etag) !== unquoted(object.etag)) {
    return { kind: 'etagDiffers', key: object.key, ledger, bucket };
  }
  return null;
}
