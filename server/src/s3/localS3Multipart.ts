import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { isPlainName, readBody, requireBucket, S3_XMLNS, S3Error, type S3Target, sendXml } from './localS3Http.ts';
import type { S3rverStore } from './localS3Store.ts';

/*
 * s3rver keeps an in-progress upload as a folder `<dir>/<bucket>/._S3rver_uploads/<uploadId>/` holding `key`
 * (the object key), `metadata` (the initiating request's headers) and, per part, `<N>` (the bytes) and
 * `<N>.md5` (hex MD5, written once the part is stored). It serves CreateMultipartUpload and UploadPart; this
 * module reads the same folder for what s3rver lacks, so uploads survive restarts with no state of our own.
 */

const UPLOAD_ID = /^[0-9a-f]{32}$/; // s3rver's ids: 16 random bytes in hex
const PART_NUMBER = /^[1-9]\d{0,4}$/;
const MAX_PART_NUMBER = 10_000;
const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_PAGE = 1000;
const MAX_COMPLETE_BODY = 4 * 1024 * 1024; // 10,000 <Part> entries fit in well under 1 MiB
const OWNER = { ID: '123456789000', DisplayName: 'S3rver' }; // s3rver's built-in account

export interface Upload {
  bucket: string;
  key: string;
  uploadId: string;
  dir: string;
  initiated: Date;
}

interface StoredPart {
  partNumber: number;
  etag: string;
  size: number;
  lastModified: Date;
}

function uploadsDir(store: S3rverStore, bucket: string): string {
  return store.getResourcePath(bucket, undefined, 'uploads');
}

/**
 * The upload the request names. Also NoSuchUpload when the id belongs to another key, as in S3: s3rver
 * would otherwise complete it under the upload's own key, or create a folder for any id it is sent.
 */
export async function findUpload(store: S3rverStore, target: S3Target): Promise<Upload> {
  const uploadId = target.query.get('uploadId') ?? '';
  if (!UPLOAD_ID.test(uploadId) || !isPlainName(target.bucket)) throw noSuchUpload();
  const upload = await readUpload(uploadsDir(store, target.bucket), target.bucket, uploadId);
  if (upload?.key !== target.key) throw noSuchUpload();
  return upload;
}

async function readUpload(root: string, bucket: string, uploadId: string): Promise<Upload | null> {
  const dir = path.join(root, uploadId);
  try {
    const [key, info] = await Promise.all([readFile(path.join(dir, 'key'), 'utf8'), stat(path.join(dir, 'key'))]);
    return { bucket, key, uploadId, dir, initiated: info.mtime };
  } catch (error) {
    if (isMissing(error)) return null; // aborted or completed meanwhile
    throw error;
  }
}

/** Parts whose MD5 file exists, by part number; a part still being written has none yet. */
async function readParts(upload: Upload): Promise<StoredPart[]> {
  const names = await readdir(upload.dir).catch((error: unknown) => {
    throw isMissing(error) ? noSuchUpload() : error; // aborted or completed meanwhile
  });
  const numbers = names
    .filter((name) => PART_NUMBER.test(name))
    .map(Number)
    .sort((a, b) => a - b);
  const parts = await Promise.all(
    numbers.map(async (partNumber) => {
      const file = path.join(upload.dir, String(partNumber));
      try {
        const [etag, info] = await Promise.all([readFile(`${file}.md5`, 'utf8'), stat(file)]);
        return { partNumber, etag: etag.trim(), size: info.size, lastModified: info.mtime };
      } catch (error) {
        if (isMissing(error)) return null;
        throw error;
      }
    }),
  );
  return parts.filter((part) => part !== null);
}

/** UploadPart goes on to s3rver only for a known upload and a part number S3 accepts (also no `../`). */
export async function checkUploadPart(store: S3rverStore, target: S3Target): Promise<Upload> {
  const partNumber = target.query.get('partNumber') ?? '';
  if (!PART_NUMBER.test(partNumber) || Number(partNumber) > MAX_PART_NUMBER) {
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive');
  }
  return findUpload(store, target);
}

/** ListParts, paged by part-number-marker and max-parts like S3 (at most 1000 per page). */
export async function listParts(res: ServerResponse, upload: Upload, query: Map<string, string>): Promise<void> {
  const marker = intParam(query, 'part-number-marker', 0);
  const maxParts = Math.min(intParam(query, 'max-parts', MAX_PAGE), MAX_PAGE);
  const remaining = (await readParts(upload)).filter((part) => part.partNumber > marker);
  const page = remaining.slice(0, maxParts);
  sendXml(res, 200, {
    ListPartsResult: {
      '@_xmlns': S3_XMLNS,
      Bucket: upload.bucket,
      Key: upload.key,
      UploadId: upload.uploadId,
      Initiator: OWNER,
      Owner: OWNER,
      StorageClass: 'STANDARD',
      PartNumberMarker: marker,
      NextPartNumberMarker: page.at(-1)?.partNumber ?? marker,
      MaxParts: maxParts,
      IsTruncated: remaining.length > page.length,
      Part: page.map((part) => ({
        PartNumber: part.partNumber,
        LastModified: part.lastModified.toISOString(),
        ETag: `"${part.etag}"`,
        Size: part.size,
      })),
    },
  });
}

/**
 * ListMultipartUploads with prefix and key-marker / upload-id-marker paging. Uploads are ordered by key,
 * then by upload id (S3 orders equal keys by initiation time; nothing here depends on that).
 */
export async function listUploads(
  res: ServerResponse,
  store: S3rverStore,
  bucket: string,
  query: Map<string, string>,
): Promise<void> {
  await requireBucket(store, bucket);
  const prefix = query.get('prefix') ?? '';
  const keyMarker = query.get('key-marker') ?? '';
  const idMarker = keyMarker ? (query.get('upload-id-marker') ?? '') : '';
  const maxUploads = Math.min(intParam(query, 'max-uploads', MAX_PAGE), MAX_PAGE);
  const matching = (await readUploads(store, bucket))
    .filter((upload) => upload.key.startsWith(prefix))
    .filter((upload) => upload.key > keyMarker || (upload.key === keyMarker && idMarker && upload.uploadId > idMarker))
    .sort((a, b) => compare(a.key, b.key) || compare(a.uploadId, b.uploadId));
  const page = matching.slice(0, maxUploads);
  const truncated = matching.length > page.length;
  sendXml(res, 200, {
    ListMultipartUploadsResult: {
      '@_xmlns': S3_XMLNS,
      Bucket: bucket,
      KeyMarker: keyMarker,
      UploadIdMarker: idMarker,
      NextKeyMarker: truncated ? page.at(-1)?.key : undefined,
      NextUploadIdMarker: truncated ? page.at(-1)?.uploadId : undefined,
      Prefix: prefix,
      MaxUploads: maxUploads,
      IsTruncated: truncated,
      Upload: page.map((upload) => ({
        Key: upload.key,
        UploadId: upload.uploadId,
        Initiator: OWNER,
        Owner: OWNER,
        StorageClass: 'STANDARD',
        Initiated: upload.initiated.toISOString(),
      })),
    },
  });
}

async function readUploads(store: S3rverStore, bucket: string): Promise<Upload[]> {
  const root = uploadsDir(store, bucket);
  const ids = await readdir(root).catch((error: unknown) => {
    if (isMissing(error)) return []; // no upload was ever started in this bucket
    throw error;
  });
  const uploads = await Promise.all(ids.filter((id) => UPLOAD_ID.test(id)).map((id) => readUpload(root, bucket, id)));
  return uploads.filter((upload) => upload !== null);
}

export async function abortUpload(res: ServerResponse, upload: Upload): Promise<void> {
  await rm(upload.dir, { recursive: true, force: true });
  res.writeHead(204);
  res.end();
}

/**
 * CompleteMultipartUpload, checked as S3 does before s3rver's store assembles the parts (s3rver alone
 * accepts made-up ETags, tiny parts and any order). The object gets S3's multipart ETag, md5(part MD5s)-N.
 */
export async function completeUpload(
  req: IncomingMessage,
  res: ServerResponse,
  store: S3rverStore,
  upload: Upload,
): Promise<void> {
  const requested = parseCompleteRequest(await readBody(req, MAX_COMPLETE_BODY));
  const stored = new Map((await readParts(upload)).map((part) => [part.partNumber, part]));
  const parts = checkPartList(requested, stored);
  await store.putObjectMultipart(
    upload.bucket,
    upload.uploadId,
    parts.map((part) => ({ number: part.partNumber, etag: part.etag })),
  );
  const etag = multipartEtag(parts);
  // s3rver serves an object's ETag from this file; it wrote the whole-object MD5 there.
  await writeFile(store.getResourcePath(upload.bucket, upload.key, 'object.md5'), etag);
  sendXml(res, 200, {
    CompleteMultipartUploadResult: {
      '@_xmlns': S3_XMLNS,
      Location: `http://${req.headers.host}${(req.url ?? '').split('?')[0]}`,
      Bucket: upload.bucket,
      Key: upload.key,
      ETag: `"${etag}"`,
    },
  });
}

interface RequestedPart {
  partNumber: number;
  etag: string;
}

const completeParser = new XMLParser({ parseTagValue: false, isArray: (name) => name === 'Part' });

function parseCompleteRequest(body: Buffer): RequestedPart[] {
  let document: { CompleteMultipartUpload?: { Part?: Array<{ PartNumber?: unknown; ETag?: unknown }> } };
  try {
    document = completeParser.parse(body.toString('utf8'), true);
  } catch {
    throw malformedXml();
  }
  const parts = document.CompleteMultipartUpload?.Part;
  if (!parts?.length) throw malformedXml();
  // S3 compares ETags without their quotes.
  return parts.map((part) => ({
    partNumber: Number(part.PartNumber),
    etag: String(part.ETag ?? '').replaceAll('"', ''),
  }));
}

/** The checks S3 documents: parts listed in ascending order, each uploaded with that ETag, non-last ones >= 5 MiB. */
function checkPartList(requested: RequestedPart[], stored: Map<number, StoredPart>): StoredPart[] {
  const ascending = requested.every(
    (part, index) => index === 0 || part.partNumber > (requested[index - 1]?.partNumber ?? 0),
  );
  if (!ascending) {
    throw new S3Error(
      'InvalidPartOrder',
      'The list of parts was not in ascending order. Parts must be ordered by part number.',
    );
  }
  const parts = requested.map((part) => {
    const found = stored.get(part.partNumber);
    if (!found || found.etag !== part.etag) {
      throw new S3Error(
        'InvalidPart',
        'One or more of the specified parts could not be found. The part may not have been uploaded, ' +
          "or the specified entity tag may not match the part's entity tag.",
      );
    }
    return found;
  });
  if (parts.slice(0, -1).some((part) => part.size < MIN_PART_SIZE)) {
    throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.');
  }
  return parts;
}

function multipartEtag(parts: StoredPart[]): string {
  const digests = parts.map((part) => Buffer.from(part.etag, 'hex'));
  return `${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${parts.length}`;
}

function intParam(query: Map<string, string>, name: string, fallback: number): number {
  const value = query.get(name);
  if (value === undefined || value === '') return fallback;
  if (!/^\d{1,9}$/.test(value)) throw new S3Error('InvalidArgument', `${name} must be a non-negative integer`);
  return Number(value);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

function noSuchUpload(): S3Error {
  return new S3Error(
    'NoSuchUpload',
    'The specified upload does not exist. ' +
      'The upload ID may be invalid, or the upload may have been aborted or completed.',
  );
}

function malformedXml(): S3Error {
  return new S3Error(
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema',
  );
}
