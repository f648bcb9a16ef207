import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
} from '@aws-sdk/client-s3';
import { schema } from '@data-uploader/drizzle';
import type { LocalFile } from '@data-uploader/scripts/driver/uploadDriver';
import { and, asc, eq } from 'drizzle-orm';
import { createApiToken } from '../src/auth/apiTokens.ts';
import type { ProjectBucket } from '../src/s3/storage.ts';
import { type ApiClient, apiClient, type SeededCompany, type TestServer } from './harness.ts';

export const MiB = 1024 * 1024;

/** A folder of random files on disk, as an SD-card dump looks: sensor folders with recordings. */
export async function writeFolder(spec: Array<{ relativePath: string; size: number }>) {
  const root = await mkdtemp(path.join(tmpdir(), 'du-folder-'));
  const files: Array<LocalFile & { sha256: string }> = [];
  for (const { relativePath, size } of spec) {
    const absolutePath = path.join(root, relativePath);
    await mkdir(path.dirname(absolutePath), { recursive: true });
    const bytes = randomBytes(size);
    await writeFile(absolutePath, bytes);
    files.push({
      relativePath,
      absolutePath,
      size,
      lastModified: Date.now(),
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
  }
  return { root, files };
}

/** A project (its bucket made on the embedded S3 server) and a cycle, made by the company's admin. */
export async function projectWithCycle(server: TestServer, company: SeededCompany, bucket: string) {
  const { token } = await createApiToken(server.db, company.users.admin.id, 'fixture');
  const admin = apiClient(server.url, { token });
  const project = await admin.projects.create.mutate({ name: `Project ${bucket}`, bucket });
  const cycle = await admin.cycles.create.mutate({ projectId: project.id });
  return { project, cycle };
}

/** An API token of a company person, as the CLI would hold it. */
export async function tokenOf(server: TestServer, userId: string) {
  return (await createApiToken(server.db, userId, 'test')).token;
}

/** SHA-256 of an object as the bucket holds it. */
export async function objectSha256(server: TestServer, project: ProjectBucket, key: string) {
  const target = server.storage.targetFor(project);
  const object = await server.storage.client(target).send(new GetObjectCommand({ Bucket: target.bucket, Key: key }));
  const bytes = await object.Body?.transformToByteArray();
  return createHash('sha256')
    .update(bytes ?? new Uint8Array())
    .digest('hex');
}

/** Every object under a prefix, as key → size. */
export async function bucketListing(server: TestServer, project: ProjectBucket, prefix: string) {
  const objects = new Map<string, number>();
  for await (const page of server.storage.listObjects(project, prefix)) {
    for (const object of page) objects.set(object.key, object.size);
  }
  return objects;
}

/** Every ledger row of a cycle, in id order, all columns. */
export async function ledgerOf(server: TestServer, cycleId: string) {
  return server.db.select().from(schema.files).where(eq(schema.files.cycleId, cycleId)).orderBy(asc(schema.files.id));
}

/** The ledger row of one key of a cycle. */
export async function ledgerRow(server: TestServer, cycleId: string, s3Key: string) {
  const [row] = await server.db
    .select()
    .from(schema.files)
    .where(and(eq(schema.files.cycleId, cycleId), eq(schema.files.s3Key, s3Key)));
  return row;
}

/** The upload_sessions row, all columns. */
export async function sessionRow(server: TestServer, sessionId: string) {
  const [row] = await server.db.select().from(schema.uploadSessions).where(eq(schema.uploadSessions.id, sessionId));
  if (!row) throw new Error(`no upload session ${sessionId}`);
  return row;
}

/** What a session's counters must say according to its ledger rows. */
export async function countersFromLedger(server: TestServer, sessionId: string) {
  const rows = await server.db.select().from(schema.files).where(eq(schema.files.sessionId, sessionId));
  const completed = rows.filter((row) => row.status === 'completed');
  return {
    filesDone: completed.length,
    bytesDone: completed.reduce((sum, row) => sum + row.size, 0),
    filesFailed: rows.filter((row) => row.status === 'failed').length,
  };
}

/** The objects of a bucket under a prefix and its multipart uploads in progress, each with its parts. */
export async function bucketState(server: TestServer, project: ProjectBucket, prefix = '') {
  const target = server.storage.targetFor(project);
  const s3 = server.storage.client(target);
  const { Uploads = [] } = await s3.send(new ListMultipartUploadsCommand({ Bucket: target.bucket, Prefix: prefix }));
  const uploads = [];
  for (const upload of Uploads) {
    const { Parts = [] } = await s3.send(
      new ListPartsCommand({ Bucket: target.bucket, Key: upload.Key, UploadId: upload.UploadId }),
    );
    uploads.push({
      key: upload.Key,
      uploadId: upload.UploadId,
      parts: Parts.map((part) => ({ partNumber: part.PartNumber, size: part.Size, etag: part.ETag })),
    });
  }
  return { objects: [...(await bucketListing(server, project, prefix))].sort(), uploads };
}

/** Deletes an object with the server's own credentials, as someone tidying the bucket by hand would. */
export async function deleteObject(server: TestServer, project: ProjectBucket, key: string) {
  const target = server.storage.targetFor(project);
  await server.storage.client(target).send(new DeleteObjectCommand({ Bucket: target.bucket, Key: key }));
}

/** Sends a request to a presigned URL as a browser or the CLI would; answers the status, ETag and body. */
export async function sendTo(
  signed: { url: string; headers?: Record<string, string> },
  method: string,
  body?: Uint8Array | string,
  extraHeaders: Record<string, string> = {},
) {
  const response = await fetch(signed.url, { method, headers: { ...signed.headers, ...extraHeaders }, body });
  return {
    status: response.status,
    etag: response.headers.get('etag'),
    headers: response.headers,
    body: await response.text(),
  };
}

/** PUTs small files through signBatch URLs and confirms them, as the CLI does; answers each file's ETag. */
export async function putAndConfirm(
  api: ApiClient,
  sessionId: string,
  entries: Array<{ key: string; body: Uint8Array }>,
) {
  const { urls } = await api.uploads.signBatch.mutate({ sessionId, requests: entries.map(({ key }) => ({ key })) });
  const confirmations = [];
  for (const [index, { key, body }] of entries.entries()) {
    const signed = urls[index];
    if (!signed) throw new Error(`no URL for ${key}`);
    const answer = await sendTo(signed, 'PUT', body);
    if (answer.status !== 200) throw new Error(`PUT ${key}: ${answer.status} ${answer.body}`);
    confirmations.push({ key, etag: answer.etag ?? '' });
  }
  return api.uploads.confirm.mutate({ sessionId, files: confirmations });
}
