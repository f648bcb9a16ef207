import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createApi } from '@data-uploader/scripts/driver/api';
import { UploadDriver } from '@data-uploader/scripts/driver/uploadDriver';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FaultProxy, noFaults, startFaultProxy } from './faultProxy.ts';
import {
  type ApiClient,
  apiClient,
  type SeededCompany,
  seedCompany,
  startTestServer,
  type TestServer,
} from './harness.ts';
import type { ProxiedRequest } from './s3Proxy.ts';
import {
  bucketState,
  ledgerOf,
  ledgerRow,
  MiB,
  objectSha256,
  putAndConfirm,
  sendTo,
  sessionRow,
  tokenOf,
  writeFolder,
} from './uploadFixtures.ts';

let proxy: FaultProxy;
let server: TestServer;
let company: SeededCompany;
let userToken: string;
/** The uploader who starts the first session, and a second uploader (the admin) who takes files over. */
let userApi: ApiClient;
let adminApi: ApiClient;
const folders: string[] = [];

beforeAll(async () => {
  proxy = await startFaultProxy({ seed: 'orphans', rates: noFaults });
  server = await startTestServer({
    MULTIPART_THRESHOLD_MIB: '5',
    PART_SIZE_MIB: '5',
    S3_ALLOWED_ENDPOINTS: proxy.endpoint,
  });
  if (!server.storage.embedded) throw new Error('the test needs the embedded S3 server');
  proxy.forwardTo(server.storage.embedded.endpoint);
  company = await seedCompany(server.db, 'orphans');
  userToken = await tokenOf(server, company.users.user.id);
  userApi = apiClient(server.url, { token: userToken });
  adminApi = apiClient(server.url, { token: await tokenOf(server, company.users.admin.id) });
});

afterEach(() => {
  proxy.script(null);
  vi.restoreAllMocks();
});

afterAll(async () => {
  await server?.close();
  await proxy?.close();
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

/**
 * A project whose own endpoint is the proxy, so the server's S3 requests (the finish's listing and aborts) pass
 * it as the clients' do, where a test can see and refuse them.
 */
async function projectBehindProxy(bucket: string) {
  await server.storage.ensureEmbeddedBucket({ bucket, region: 'us-east-1', endpoint: null });
  const project = await adminApi.projects.create.mutate({
    name: `Project ${bucket}`,
    bucket,
    endpoint: proxy.endpoint,
  });
  const cycle = await adminApi.cycles.create.mutate({ projectId: project.id });
  return { project, cycle, prefix: `${cycle.s3Prefix}/` };
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const query = (request: Pick<ProxiedRequest, 'url'>) => new URL(request.url, 'http://proxy').searchParams;
const isCreate = (request: Pick<ProxiedRequest, 'method' | 'url'>) =>
  request.method === 'POST' && query(request).has('uploads');
const isUploadListing = (request: ProxiedRequest) => request.method === 'GET' && query(request).has('uploads');
const isAbort = (request: ProxiedRequest) => request.method === 'DELETE' && query(request).has('uploadId');

async function folderOf(spec: Array<{ relativePath: string; size: number }>) {
  const folder = await writeFolder(spec);
  folders.push(folder.root);
  return folder;
}

/** The answer to the first CreateMultipartUpload of each file is cut after S3 made the upload. */
const loseFirstCreateAnswer = () =>
  proxy.script((request, attempt) => (isCreate(request) && attempt === 0 ? { kind: 'reset-response' } : null));

async function createUpload(api: ApiClient, sessionId: string, key: string) {
  const answer = await sendTo(await api.uploads.sign.mutate({ sessionId, method: 'POST', key }), 'POST');
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(answer.body)?.[1];
  if (!uploadId) throw new Error(`no upload made for ${key}: ${answer.status} ${answer.body}`);
  return uploadId;
}

async function sendPart(
  api: ApiClient,
  sessionId: string,
  { key, uploadId }: { key: string; uploadId: string },
  partNumber: number,
  body: Uint8Array,
) {
  const { urls } = await api.uploads.signBatch.mutate({ sessionId, requests: [{ key, uploadId, partNumber }] });
  const answer = await sendTo(urls[0] as { url: string }, 'PUT', body);
  if (answer.status !== 200) throw new Error(`part ${partNumber} of ${key}: ${answer.status} ${answer.body}`);
  return { partNumber, etag: answer.etag ?? '' };
}

async function completeUpload(
  api: ApiClient,
  sessionId: string,
  { key, uploadId }: { key: string; uploadId: string },
  parts: Array<{ partNumber: number; etag: string }>,
) {
  const body = `<CompleteMultipartUpload>${parts
    .map((part) => `<Part><PartNumber>${part.partNumber}</PartNumber><ETag>${part.etag}</ETag></Part>`)
    .join('')}</CompleteMultipartUpload>`;
  const signed = await api.uploads.sign.mutate({ sessionId, method: 'POST', key, uploadId });
  const answer = await sendTo(signed, 'POST', body, { 'content-type': 'application/xml' });
  if (answer.status !== 200 || answer.body.includes('<Error>')) throw new Error(`complete ${key}: ${answer.body}`);
}

describe('a finish aborts the multipart uploads nobody can use', { timeout: 120_000 }, () => {
  it('aborts the upload a lost CreateMultipartUpload answer left behind, and the file arrives whole', async () => {
    const place = await projectBehindProxy('orphans-lost-create');
    const folder = await folderOf([
      { relativePath: 'CAM01/20250912_080000.MP4', size: 6 * MiB },
      { relativePath: 'S4A01/20250912_080000.WAV', size: 2000 },
    ]);
    const seen = proxy.requests.length;
    loseFirstCreateAnswer();
    const driver = new UploadDriver({ api: createApi(server.url, { token: userToken }) });
    const result = await driver.upload({ projectId: place.project.id, cycleId: place.cycle.id, files: folder.files });

    expect(result.failed).toEqual([]);
    const traffic = proxy.requests.slice(seen);
    // S3 made two uploads for the large file: the first answer was lost, so the driver asked again.
    expect(traffic.filter(isCreate).map((request) => [request.fault, request.status])).toEqual([
      ['reset-response', null],
      [null, 200],
    ]);
    expect(traffic.filter(isUploadListing)).toHaveLength(1);
    expect(traffic.filter(isAbort).map((request) => request.status)).toEqual([204]);
    expect((await bucketState(server, place.project, place.prefix)).uploads).toEqual([]);

    const ledger = await ledgerOf(server, place.cycle.id);
    expect(ledger.map((row) => [row.relativePath, row.status]).sort()).toEqual(
      folder.files.map((file) => [file.relativePath, 'completed']).sort(),
    );
    for (const file of folder.files) {
      expect(await objectSha256(server, place.project, `${place.prefix}${file.relativePath}`)).toBe(file.sha256);
    }
    expect(await sessionRow(server, result.sessionId)).toMatchObject({ status: 'completed', filesDone: 2 });
  });

  it('costs one listing request and no abort when no upload is left open', async () => {
    const place = await projectBehindProxy('orphans-none-open');
    const folder = await folderOf([
      { relativePath: 'CAM01/20250913_080000.MP4', size: 6 * MiB },
      { relativePath: 'S4A01/20250913_080000.WAV', size: 1500 },
    ]);
    const seen = proxy.requests.length;
    const driver = new UploadDriver({ api: createApi(server.url, { token: userToken }) });
    const result = await driver.upload({ projectId: place.project.id, cycleId: place.cycle.id, files: folder.files });

    expect(result.session).toMatchObject({ status: 'completed', filesDone: 2 });
    const traffic = proxy.requests.slice(seen);
    expect(traffic.filter(isUploadListing).map((request) => request.status)).toEqual([200]);
    expect(traffic.filter(isAbort)).toEqual([]);
  });

  it('keeps the uploads another live session took over, and aborts only the first session’s own orphan', async () => {
    const { project, cycle, prefix } = await projectBehindProxy('orphans-taken-over');
    const first = await userApi.uploads.begin.mutate({
      projectId: project.id,
      cycleId: cycle.id,
      label: 'first',
      source: 'cli',
    });
    const paths = { small: 'CAM01/20250914_080000.MP4', resumed: 'CAM02/20250914_080000.MP4', lost: 'CAM03/x.MP4' };
    const key = (path: string) => `${prefix}${path}`;
    await userApi.uploads.plan.mutate({
      sessionId: first.id,
      files: [
        { relativePath: paths.small, size: 1000 },
        { relativePath: paths.resumed, size: 6 * MiB },
        { relativePath: paths.lost, size: 6 * MiB },
      ],
    });
    await putAndConfirm(userApi, first.id, [{ key: key(paths.small), body: randomBytes(1000) }]);
    const resumedBytes = randomBytes(6 * MiB);
    const resumed = { key: key(paths.resumed), uploadId: await createUpload(userApi, first.id, key(paths.resumed)) };
    const firstPart = await sendPart(userApi, first.id, resumed, 1, resumedBytes.subarray(0, 5 * MiB));
    // Made at S3 but recorded nowhere, as when its answer is lost: the first session's own orphan.
    const lostUploadId = await createUpload(userApi, first.id, key(paths.lost));

    // The first session goes quiet past its lease; another session takes both of its other files over: the
    // small one to replace it with a larger file (overwrite), the multipart one to resume its upload.
    await server.db.execute(sql`
      update files set claimed_at = now() - make_interval(mins => ${server.config.UPLOAD_LEASE_MINUTES + 1})
      where cycle_id = ${cycle.id}`);
    const other = await adminApi.uploads.begin.mutate({
      projectId: project.id,
      cycleId: cycle.id,
      label: 'other',
      source: 'cli',
    });
    const { files: takenOver } = await adminApi.uploads.plan.mutate({
      sessionId: other.id,
      overwrite: true,
      files: [
        { relativePath: paths.small, size: 6 * MiB },
        { relativePath: paths.resumed, size: 6 * MiB },
      ],
    });
    expect(takenOver.map((answer) => answer.decision)).toEqual(['upload', 'resume']);
    const replacement = { key: key(paths.small), uploadId: await createUpload(adminApi, other.id, key(paths.small)) };
    // Created but no part signed yet: the ledger row does not name it, exactly like the first session's orphan.
    expect(await ledgerRow(server, cycle.id, replacement.key)).toMatchObject({
      sessionId: other.id,
      status: 'uploading',
      uploadId: null,
    });

    await userApi.uploads.finish.mutate({ sessionId: first.id });
    const open = (await bucketState(server, project, prefix)).uploads;
    expect(open.map((upload) => [upload.key, upload.uploadId]).sort()).toEqual(
      [
        [replacement.key, replacement.uploadId],
        [resumed.key, resumed.uploadId],
      ].sort(),
    );
    expect(open.map((upload) => upload.uploadId)).not.toContain(lostUploadId);
    expect(await sessionRow(server, first.id)).toMatchObject({ status: 'completed_with_errors', filesFailed: 1 });

    // The other session carries on with both uploads and finishes with every byte in place.
    const replacementBytes = randomBytes(6 * MiB);
    const replacementParts = [
      await sendPart(adminApi, other.id, replacement, 1, replacementBytes.subarray(0, 5 * MiB)),
      await sendPart(adminApi, other.id, replacement, 2, replacementBytes.subarray(5 * MiB)),
    ];
    await completeUpload(adminApi, other.id, replacement, replacementParts);
    const secondPart = await sendPart(adminApi, other.id, resumed, 2, resumedBytes.subarray(5 * MiB));
    await completeUpload(adminApi, other.id, resumed, [firstPart, secondPart]);
    await adminApi.uploads.confirm.mutate({
      sessionId: other.id,
      files: [{ key: replacement.key }, { key: resumed.key }],
    });
    expect(await adminApi.uploads.finish.mutate({ sessionId: other.id })).toMatchObject({
      status: 'completed',
      filesDone: 2,
    });
    expect(await objectSha256(server, project, replacement.key)).toBe(sha256(replacementBytes));
    expect(await objectSha256(server, project, resumed.key)).toBe(sha256(resumedBytes));
    expect((await bucketState(server, project, prefix)).uploads).toEqual([]);
  });

  it('still completes the finish when S3 refuses the abort, and says which upload it left', async () => {
    const place = await projectBehindProxy('orphans-abort-refused');
    const folder = await folderOf([{ relativePath: 'CAM01/20250915_080000.MP4', size: 6 * MiB }]);
    const warnings = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const seen = proxy.requests.length;
    // As a least-privilege key without s3:AbortMultipartUpload would be answered.
    proxy.script((request, attempt) => {
      if (isCreate(request) && attempt === 0) return { kind: 'reset-response' };
      if (request.method === 'DELETE') {
        return { kind: 'answer', status: 403, code: 'AccessDenied', message: 'Access Denied' };
      }
      return null;
    });
    const driver = new UploadDriver({ api: createApi(server.url, { token: userToken }) });
    const result = await driver.upload({ projectId: place.project.id, cycleId: place.cycle.id, files: folder.files });

    expect(result.failed).toEqual([]);
    expect(result.session).toMatchObject({ status: 'completed', filesDone: 1, filesFailed: 0 });
    expect(
      proxy.requests
        .slice(seen)
        .filter(isAbort)
        .map((request) => request.status),
    ).toEqual([403]);
    const [file] = folder.files;
    expect(await objectSha256(server, place.project, `${place.prefix}${file?.relativePath}`)).toBe(file?.sha256);
    // The orphan stays for the stale-upload clean-up, and the log names it.
    const { uploads } = await bucketState(server, place.project, place.prefix);
    expect(uploads).toHaveLength(1);
    expect(warnings.mock.calls.flat().join('\n')).toContain(uploads[0]?.uploadId);
  });
});
