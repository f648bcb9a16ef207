import { type Db, schema, sqlRows } from '@data-uploader/drizzle';
import { partCount, partRange, relativePathOfKey, type signBatchInput, type signInput } from '@data-uploader/shared';
import { TRPCError } from '@trpc/server';
import { sql } from 'drizzle-orm';
import type { z } from 'zod';
import type { PresignRequest } from '../s3/presigner.ts';
import type { Storage } from '../s3/storage.ts';
import { idIn, ledgerByPaths } from './ledgerLookup.ts';
import type { WritableSession } from './uploadSessions.ts';

const { files } = schema;

type SignRequest = z.infer<typeof signInput>;
type BatchRequest = z.infer<typeof signBatchInput>['requests'][number];

interface PlannedRow {
  id: number;
  s3Key: string;
  size: number;
  status: 'pending' | 'uploading' | 'completed' | 'failed';
  uploadId: string | null;
  partSize: number | null;
}

const refuse = (code: 'BAD_REQUEST' | 'NOT_FOUND' | 'CONFLICT' | 'FORBIDDEN', message: string): never => {
  throw new TRPCError({ code, message });
};

/** The planned files of this session with these keys; a key another session took over is not among them. */
async function plannedRows(
  db: Db,
  { session, place }: WritableSession,
  keys: string[],
): Promise<Map<string, PlannedRow>> {
  const paths = keys.map((key) => relativePathOfKey(key, place.keyPrefix, place.cyclePrefix));
  const rows = await sqlRows<{
    id: string;
    s3_key: string;
    size: string;
    status: PlannedRow['status'];
    upload_id: string | null;
    part_size: number | null;
  }>(
    db,
    sql`${ledgerByPaths(session.cycleId, paths, sql`f.id, f.s3_key, f.size, f.status, f.upload_id, f.part_size`)}
        where f.session_id = ${session.id}`,
  );
  return new Map(
    rows.map((row) => [
      row.s3_key,
      {
        id: Number(row.id),
        s3Key: row.s3_key,
        size: Number(row.size),
        status: row.status,
        uploadId: row.upload_id,
        partSize: row.part_size,
      },
    ]),
  );
}

function plannedOrRefuse(rows: Map<string, PlannedRow>, key: string): PlannedRow {
  const row = rows.get(key);
  if (!row) return refuse('NOT_FOUND', `"${key}" is not a planned file of this upload session`);
  if (row.status === 'completed')
    return refuse('CONFLICT', `"${key}" is already uploaded; plan it again with overwrite to replace it`);
  return row;
}

function checkUploadId(row: PlannedRow, uploadId: string) {
  if (!row.partSize) refuse('BAD_REQUEST', `"${row.s3Key}" is planned as a single PUT, not a multipart upload`);
  if (row.uploadId !== null && row.uploadId !== uploadId) {
    refuse('FORBIDDEN', `Wrong uploadId for "${row.s3Key}": this file's multipart upload is another one`);
  }
}

function checkPartNumber(row: PlannedRow, partNumber: number | undefined): number {
  if (partNumber === undefined) return refuse('BAD_REQUEST', 'partNumber is required for a part');
  const parts = partCount(row.size, row.partSize ?? row.size);
  if (partNumber > parts) refuse('BAD_REQUEST', `"${row.s3Key}" has ${parts} parts; part ${partNumber} does not exist`);
  return partNumber;
}

/**
 * Turns one request as Uppy's `signRequest` passes it into an S3 request to presign, after checking it
 * against the ledger. Deleting objects is never signed.
 */
function s3RequestFor(row: PlannedRow, request: SignRequest): Omit<PresignRequest, 'expiresIn'> {
  const { method, key, uploadId } = request;
  if (request.contentMd5 !== undefined && method !== 'PUT') {
    refuse('BAD_REQUEST', 'contentMd5 is for PUT requests (an object or a part) only');
  }
  // Signed, so the body's MD5 is checked by S3 itself and the header cannot be left out.
  const md5Header: Record<string, string> = request.contentMd5 ? { 'content-md5': request.contentMd5 } : {};
  if (!uploadId) {
    if (method === 'PUT') {
      if (row.partSize) refuse('BAD_REQUEST', `"${key}" is planned as a multipart upload; sign its parts`);
      return {
        method,
        key,
        headers: { ...(request.contentType ? { 'content-type': request.contentType } : {}), ...md5Header },
        contentLength: row.size,
      };
    }
    if (method === 'POST') {
      if (!row.partSize) refuse('BAD_REQUEST', `"${key}" is planned as a single PUT, not a multipart upload`);
      if (row.uploadId) refuse('CONFLICT', `"${key}" already has a multipart upload (${row.uploadId}); resume it`);
      return {
        method,
        key,
        query: { uploads: '' },
        headers: request.contentType ? { 'content-type': request.contentType } : {},
      };
    }
    return refuse(
      'FORBIDDEN',
      method === 'DELETE' ? 'Deleting objects is not allowed' : 'Downloading objects is not signed here',
    );
  }
  checkUploadId(row, uploadId);
  if (method === 'PUT') {
    const partNumber = checkPartNumber(row, request.partNumber);
    const { start, end } = partRange(partNumber, row.size, row.partSize as number);
    return {
      method,
      key,
      query: { partNumber: String(partNumber), uploadId },
      headers: md5Header,
      contentLength: end - start,
    };
  }
  if (method === 'GET' || method === 'POST' || method === 'DELETE') {
    // Listing or aborting an upload the ledger has not heard of yet is fine: the browser creates it itself and the
    // ledger learns its id with the first part, so a run cut off in between resumes by listing it. S3 refuses an
    // id that is not this key's.
    if (method === 'POST' && row.uploadId === null)
      refuse('BAD_REQUEST', `No part of "${key}" has been signed yet, so there is nothing to complete`);
    const query: Record<string, string> = { uploadId };
    if (method === 'GET' && request.partNumberMarker) query['part-number-marker'] = String(request.partNumberMarker);
    return { method, key, query };
  }
  return refuse('BAD_REQUEST', 'Unsupported request');
}

/**
 * Marks signed files as uploading (a failed one stays failed until it is confirmed) and renews their lease; records a
 * file's uploadId the first time one of its parts or its listing is signed, since the browser creates the multipart
 * upload itself.
 */
async function touchSigned(db: Db, rows: Array<{ id: number; uploadId: string | null }>) {
  await db.execute(sql`
    update ${files} set claimed_at = now(), upload_id = coalesce(${files}.upload_id, v.upload_id),
      status = case when ${files}.status = 'pending' then 'uploading'::file_status else ${files}.status end
    from unnest(${sql.param(rows.map((r) => r.id))}::bigint[], ${sql.param(rows.map((r) => r.uploadId))}::text[]) as v(id, upload_id)
    where ${idIn(rows.map((r) => r.id))} and ${files}.id = v.id`);
}

export async function signOne(
  db: Db,
  storage: Storage,
  writable: WritableSession,
  request: SignRequest,
  expiresIn: number,
) {
  const rows = await plannedRows(db, writable, [request.key]);
  const row = plannedOrRefuse(rows, request.key);
  const s3Request = s3RequestFor(row, request);
  // A part or a listing names the upload the file goes on with; an abort ends it.
  const continues = request.method === 'PUT' || request.method === 'GET';
  await touchSigned(db, [{ id: row.id, uploadId: continues ? (request.uploadId ?? null) : null }]);
  return storage.presigner.presign(storage.publicTargetFor(writable.place), {
    ...s3Request,
    expiresIn: Math.min(request.expiresIn ?? expiresIn, expiresIn),
  });
}

/** A presigned request: a URL with the headers to send, or a form upload's URL and its fields (SignedPost). */
export type SignedRequest = { url: string; headers: Record<string, string>; fields?: Record<string, string> };

/**
 * Presigns many PutObject or UploadPart URLs at once (the CLI, the browser's small files); with `form`, whole
 * files get POST Object forms instead of PUT URLs. The whole batch is checked before anything is written or
 * signed: one bad request refuses the batch and changes nothing.
 */
export async function signMany(
  db: Db,
  storage: Storage,
  writable: WritableSession,
  requests: BatchRequest[],
  { expiresIn, form }: { expiresIn: number; form: boolean },
): Promise<SignedRequest[]> {
  const rows = await plannedRows(db, writable, [...new Set(requests.map((r) => r.key))]);
  const touched = new Map<number, string | null>();
  const s3Requests = requests.map((request) => {
    const row = plannedOrRefuse(rows, request.key);
    const earlier = touched.get(row.id);
    if (request.uploadId && earlier && earlier !== request.uploadId) {
      refuse('FORBIDDEN', `Two uploadIds for "${row.s3Key}" in one batch`);
    }
    const s3Request = s3RequestFor(row, { ...request, sessionId: writable.session.id, method: 'PUT' });
    touched.set(row.id, request.uploadId ?? earlier ?? null);
    return s3Request;
  });
  await touchSigned(
    db,
    [...touched].map(([id, uploadId]) => ({ id, uploadId })),
  );
  const target = storage.publicTargetFor(writable.place);
  return Promise.all(
    s3Requests.map(async (request) => {
      // A form carries no Content-MD5 condition; a request that asked for one keeps its checked PUT.
      if (form && !request.query && request.contentLength !== undefined && !request.headers?.['content-md5']) {
        const post = await storage.presigner.presignPost(target, {
          key: request.key,
          size: request.contentLength,
          expiresIn,
        });
        return { url: post.url, headers: {}, fields: post.fields };
      }
      return storage.presigner.presign(target, { ...request, expiresIn });
    }),
  );
}
