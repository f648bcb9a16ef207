import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { DeleteBucketCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { schema } from '@data-uploader/drizzle';
import { createApi } from '@data-uploader/scripts/driver/api';
import { type DriverEvent, UploadDriver } from '@data-uploader/scripts/driver/uploadDriver';
import { and, asc, eq, like, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type ApiClient,
  apiClient,
  outcome,
  type SeededCompany,
  seedCompany,
  startTestServer,
  type TestServer,
} from '../../test/harness.ts';
import {
  bucketListing,
  bucketState,
  countersFromLedger,
  deleteObject,
  ledgerOf,
  ledgerRow,
  MiB,
  objectSha256,
  projectWithCycle,
  putAndConfirm,
  sendTo,
  sessionRow,
  tokenOf,
  writeFolder,
} from '../../test/uploadFixtures.ts';

let server: TestServer;
let acme: SeededCompany;
let globex: SeededCompany;
/** Acme's uploader, a second uploader of Acme (its admin), Acme's viewer, and Globex's uploader. */
let userApi: ApiClient;
let adminApi: ApiClient;
let viewerApi: ApiClient;
let globexApi: ApiClient;
const folders: string[] = [];

beforeAll(async () => {
  // Small parts so a 30 MiB file is a 5-part multipart upload.
  server = await startTestServer({ MULTIPART_THRESHOLD_MIB: '8', PART_SIZE_MIB: '6' });
  acme = await seedCompany(server.db, 'acme');
  globex = await seedCompany(server.db, 'globex');
  userApi = apiClient(server.url, { token: await tokenOf(server, acme.users.user.id) });
  adminApi = apiClient(server.url, { token: await tokenOf(server, acme.users.admin.id) });
  viewerApi = apiClient(server.url, { token: await tokenOf(server, acme.users.viewer.id) });
  globexApi = apiClient(server.url, { token: await tokenOf(server, globex.users.user.id) });
});
afterAll(async () => {
  await server?.close();
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

type Project = Awaited<ReturnType<typeof projectWithCycle>>['project'];
type Planned = Awaited<ReturnType<ApiClient['uploads']['plan']['mutate']>>['files'][number];

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The key the server gave a planned file (upload or resume). */
function keyOf(answer: Planned | undefined): string {
  if (answer?.decision !== 'upload' && answer?.decision !== 'resume') {
    throw new Error(`expected an upload or resume, got ${JSON.stringify(answer)}`);
  }
  return answer.key;
}

async function beginSession(api: ApiClient, project: { id: string }, cycle: { id: string }, label = '') {
  return api.uploads.begin.mutate({ projectId: project.id, cycleId: cycle.id, label, source: 'cli' });
}

/** Plans files of the given sizes (bytes) and answers the plan in order. */
async function planSizes(api: ApiClient, sessionId: string, files: Record<string, number>, overwrite = false) {
  const { files: planned } = await api.uploads.plan.mutate({
    sessionId,
    overwrite,
    files: Object.entries(files).map(([relativePath, size]) => ({ relativePath, size })),
  });
  return planned;
}

/** Uploads these paths (10 bytes each) in a session of their own, finished: the ledger holds them completed. */
async function uploadInFinishedSession(project: { id: string }, cycle: { id: string }, paths: string[]) {
  const session = await beginSession(userApi, project, cycle, 'earlier');
  const planned = await planSizes(userApi, session.id, Object.fromEntries(paths.map((path) => [path, 10])));
  await putAndConfirm(
    userApi,
    session.id,
    planned.map(keyOf).map((key) => ({ key, body: randomBytes(10) })),
  );
  await userApi.uploads.finish.mutate({ sessionId: session.id });
}

/** A fetch that never answers until its signal aborts: a request stuck on a dead network. */
function stalledUntilAborted(signal: AbortSignal | null | undefined): Promise<Response> {
  return new Promise((_, reject) => {
    if (!signal) return;
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** The answer of a call, or its tRPC error code. */
async function outcomeOr<T>(call: Promise<T>): Promise<T | string> {
  let answer: T | undefined;
  const code = await outcome(
    call.then((value) => {
      answer = value;
    }),
  );
  return code === 'OK' ? (answer as T) : code;
}

const urlOf = (input: string | URL | Request) => new URL(input instanceof Request ? input.url : String(input));

describe('an upload from start to finish', () => {
  it('puts small and multipart files in the bucket under their keys with their bytes, and a second plan skips them all', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-e2e');
    const spec = [
      ...Array.from({ length: 12 }, (_, i) => ({
        relativePath: `950349/20250909_0920${String(i).padStart(2, '0')}.WAV`,
        size: 1000 + i,
      })),
      ...Array.from({ length: 8 }, (_, i) => ({
        relativePath: `950350/20250909_1000${String(i).padStart(2, '0')}.WAV`,
        size: 20_000,
      })),
      { relativePath: '950350/long.WAV', size: 30 * MiB },
      { relativePath: 'empty.txt', size: 0 },
    ];
    const { root, files } = await writeFolder(spec);
    folders.push(root);
    const api = createApi(server.url, { token: await tokenOf(server, acme.users.user.id) });
    const result = await new UploadDriver({ api, concurrency: 4 }).upload({
      projectId: project.id,
      cycleId: cycle.id,
      files,
    });

    expect(result.failed).toEqual([]);
    expect(result.planned).toMatchObject({ upload: spec.length, skip: 0, invalid: 0 });
    expect(result.session).toMatchObject({ status: 'completed', filesDone: spec.length, filesFailed: 0 });
    expect(result.session?.bytesDone).toBe(spec.reduce((sum, file) => sum + file.size, 0));

    const listing = await bucketListing(server, project, 'C1/');
    expect(new Map([...listing].sort())).toEqual(
      new Map(spec.map((f) => [`C1/${f.relativePath}`, f.size] as const).sort()),
    );
    for (const file of [files[0], files[20]]) {
      expect(await objectSha256(server, project, `C1/${file?.relativePath}`)).toBe(file?.sha256);
    }

    const again = await new UploadDriver({ api }).upload({ projectId: project.id, cycleId: cycle.id, files });
    expect(again.planned).toMatchObject({ skip: spec.length, upload: 0, resume: 0 });
    expect(again.bytesSent).toBe(0);
  });
});

describe('an upload killed half-way', () => {
  it('resumes from the recorded multipart upload with only its missing parts, skips the confirmed small files and sends exactly the bytes not sent before', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-resume');
    const bigPath = '950351/long.WAV';
    const spec = [
      { relativePath: bigPath, size: 30 * MiB },
      ...Array.from({ length: 200 }, (_, i) => ({
        relativePath: `950352/20250910_${String(i).padStart(4, '0')}.WAV`,
        size: 1024 + 13 * i,
      })),
    ];
    const { root, files } = await writeFolder(spec);
    folders.push(root);
    const bigKey = `C1/${bigPath}`;
    const partSize = 6 * MiB;
    const api = createApi(server.url, { token: await tokenOf(server, acme.users.user.id) });
    // The CLI keeps its session id, so a restarted run continues the same session.
    const session = await api.uploads.begin.mutate({ projectId: project.id, cycleId: cycle.id, source: 'cli' });
    const request = { projectId: project.id, cycleId: cycle.id, files, sessionId: session.id };
    const realFetch = globalThis.fetch;

    // First run. The driver runs its transfers first come, first served, so the small files' URLs are held back
    // until the five parts are queued. Parts 3–5 then hang on the network and hold three of the four lanes;
    // parts 1–2 arrive, the last lane carries small files one at a time, and the run is killed once 100 are done.
    // (With concurrency 1 the queue order would send all parts or all small files first.)
    const controller = new AbortController();
    const firstRun = { parts: [] as number[], small: new Set<string>() };
    let partsQueued = () => {};
    const partsAreQueued = new Promise<void>((resolve) => {
      partsQueued = resolve;
    });
    const network = vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
      const url = urlOf(input);
      if (url.pathname.endsWith('/trpc/uploads.signBatch') && !String(init?.body).includes('uploadId')) {
        await partsAreQueued;
      }
      const partNumber = Number(url.searchParams.get('partNumber') ?? 0);
      if (partNumber > 0 && decodeURIComponent(url.pathname).endsWith(`/${bigKey}`)) {
        partsQueued();
        if (partNumber >= 3) return stalledUntilAborted(init?.signal);
      }
      return realFetch(input, init);
    });
    try {
      const killed = new UploadDriver({
        api,
        concurrency: 4,
        signal: controller.signal,
        onEvent: (event) => {
          if (event.type === 'part-done' && event.key === bigKey) firstRun.parts.push(event.partNumber);
          if (event.type === 'file-done' && event.key !== bigKey) {
            firstRun.small.add(event.key);
            if (firstRun.small.size === 100) controller.abort(new Error('killed'));
          }
        },
      });
      await expect(killed.upload(request)).rejects.toThrow();
    } finally {
      network.mockRestore();
    }
    expect(firstRun.parts.sort()).toEqual([1, 2]);
    expect(firstRun.small.size).toBe(100);

    // What the ledger and the bucket say between the runs.
    const between = await ledgerOf(server, cycle.id);
    const bigRow = between.find((row) => row.s3Key === bigKey);
    expect(bigRow).toMatchObject({ status: 'uploading', partSize });
    const uploadId = bigRow?.uploadId;
    expect(uploadId).toEqual(expect.any(String));
    const completedKeys = between.filter((row) => row.status === 'completed').map((row) => row.s3Key);
    expect(new Set(completedKeys), 'every small file finished before the kill is confirmed').toEqual(firstRun.small);
    const inBucket = await bucketState(server, project, 'C1/');
    expect(inBucket.uploads).toEqual([
      {
        key: bigKey,
        uploadId,
        parts: [
          { partNumber: 1, size: partSize, etag: expect.any(String) },
          { partNumber: 2, size: partSize, etag: expect.any(String) },
        ],
      },
    ]);

    // Second run: a fresh driver on the same folder.
    const calls: Array<{ method: string; url: URL; body: string }> = [];
    const recorder = vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
      calls.push({ method: init?.method ?? 'GET', url: urlOf(input), body: String(init?.body ?? '') });
      return realFetch(input, init);
    });
    const events: DriverEvent[] = [];
    let result: Awaited<ReturnType<UploadDriver['upload']>>;
    try {
      result = await new UploadDriver({ api, concurrency: 4, onEvent: (event) => events.push(event) }).upload(request);
    } finally {
      recorder.mockRestore();
    }

    expect(result.planned).toEqual({ upload: 100, resume: 1, skip: 100, conflict: 0, invalid: 0 });
    expect(result.failed).toEqual([]);
    const listRequests = calls
      .filter((call) => call.url.pathname.endsWith('/trpc/uploads.sign'))
      .map((call) => JSON.parse(call.body) as { method: string; key: string; uploadId?: string })
      .filter((body) => body.method === 'GET');
    expect(listRequests).toEqual([expect.objectContaining({ key: bigKey, uploadId })]);
    const bigPuts = calls.filter(
      (call) => call.method === 'PUT' && decodeURIComponent(call.url.pathname).endsWith(`/${bigKey}`),
    );
    expect(bigPuts.map((call) => Number(call.url.searchParams.get('partNumber'))).sort()).toEqual([3, 4, 5]);
    expect(new Set(bigPuts.map((call) => call.url.searchParams.get('uploadId')))).toEqual(new Set([uploadId]));
    const smallPuts = calls.filter(
      (call) => call.method === 'PUT' && !decodeURIComponent(call.url.pathname).endsWith(`/${bigKey}`),
    );
    expect(smallPuts).toHaveLength(100);
    for (const call of smallPuts) {
      expect(firstRun.small.has(decodeURIComponent(call.url.pathname).replace(/^\/acme-resume\//, ''))).toBe(false);
    }
    const unsentSmall = spec
      .filter((file) => file.relativePath !== bigPath && !firstRun.small.has(`C1/${file.relativePath}`))
      .reduce((sum, file) => sum + file.size, 0);
    expect(result.bytesSent).toBe(3 * partSize + unsentSmall);

    const total = spec.reduce((sum, file) => sum + file.size, 0);
    expect(result.session).toMatchObject({
      status: 'completed',
      filesTotal: 201,
      filesDone: 201,
      bytesDone: total,
      filesFailed: 0,
    });
    expect((await bucketState(server, project, 'C1/')).uploads).toEqual([]);
    for (const file of files) {
      expect(await objectSha256(server, project, `C1/${file.relativePath}`), file.relativePath).toBe(file.sha256);
    }
  });
});

describe('finish reconciles the ledger with the bucket', () => {
  it('fails a confirmed file whose object was deleted and a confirmed file never PUT, and counts only what is there', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-reconcile');
    const session = await beginSession(userApi, project, cycle);
    const bodies = { 'S/a.wav': randomBytes(1500), 'S/b.wav': randomBytes(2500), 'S/c.wav': randomBytes(3500) };
    const planned = await planSizes(userApi, session.id, {
      ...Object.fromEntries(Object.entries(bodies).map(([path, body]) => [path, body.length])),
      'S/never-put.wav': 4500,
    });
    const [aKey, bKey, cKey, neverKey] = planned.map(keyOf) as [string, string, string, string];
    await putAndConfirm(
      userApi,
      session.id,
      Object.values(bodies).map((body, index) => ({ key: [aKey, bKey, cKey][index] as string, body })),
    );
    // The client claims a file arrived that it never sent.
    await userApi.uploads.confirm.mutate({ sessionId: session.id, files: [{ key: neverKey }] });
    expect(await sessionRow(server, session.id)).toMatchObject({ filesDone: 4 });
    await deleteObject(server, project, bKey);

    const finished = await userApi.uploads.finish.mutate({ sessionId: session.id });

    expect(finished.status).toBe('completed_with_errors');
    const byKey = new Map((await ledgerOf(server, cycle.id)).map((row) => [row.s3Key, row]));
    expect(byKey.get(aKey)).toMatchObject({ status: 'completed', verifiedAt: expect.any(Date) });
    expect(byKey.get(cKey)).toMatchObject({ status: 'completed', verifiedAt: expect.any(Date) });
    expect(byKey.get(bKey)).toMatchObject({ status: 'failed', error: expect.stringMatching(/bucket/) });
    expect(byKey.get(neverKey)).toMatchObject({ status: 'failed', error: expect.stringMatching(/bucket/) });
    expect(finished).toMatchObject({ filesDone: 2, bytesDone: 1500 + 3500, filesFailed: 2 });
    expect(finished).toMatchObject(await countersFromLedger(server, session.id));
  });

  it('refuses a body of another size than planned at S3, and fails the file if it is confirmed anyway', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-reconcile-size');
    const session = await beginSession(userApi, project, cycle);
    const [key] = (await planSizes(userApi, session.id, { 'S/short.wav': 4000 })).map(keyOf) as [string];
    // The presigned PUT pins Content-Length: 1,000 bytes instead of 4,000 are refused and nothing is stored.
    const { urls } = await userApi.uploads.signBatch.mutate({ sessionId: session.id, requests: [{ key }] });
    expect((await sendTo(urls[0] as { url: string }, 'PUT', randomBytes(1000))).status).toBe(403);
    expect(await bucketListing(server, project, 'C1/')).toEqual(new Map());
    await userApi.uploads.confirm.mutate({ sessionId: session.id, files: [{ key }] });

    const finished = await userApi.uploads.finish.mutate({ sessionId: session.id });

    expect(finished).toMatchObject({ status: 'completed_with_errors', filesDone: 0, bytesDone: 0, filesFailed: 1 });
    expect(await ledgerRow(server, cycle.id, key)).toMatchObject({ status: 'failed' });
  });

  it('fails, at a later session’s finish, a file an earlier session completed whose object has since gone', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-reconcile-later');
    const first = await beginSession(userApi, project, cycle, 'first');
    const [goneKey, keptKey] = (await planSizes(userApi, first.id, { 'S/gone.wav': 1200, 'S/kept.wav': 1300 })).map(
      keyOf,
    );
    await putAndConfirm(userApi, first.id, [
      { key: goneKey as string, body: randomBytes(1200) },
      { key: keptKey as string, body: randomBytes(1300) },
    ]);
    expect(await userApi.uploads.finish.mutate({ sessionId: first.id })).toMatchObject({
      status: 'completed',
      filesDone: 2,
    });
    await deleteObject(server, project, goneKey as string);

    const second = await beginSession(adminApi, project, cycle, 'second');
    const [newKey] = (await planSizes(adminApi, second.id, { 'S/new.wav': 1400 })).map(keyOf);
    await putAndConfirm(adminApi, second.id, [{ key: newKey as string, body: randomBytes(1400) }]);
    const finished = await adminApi.uploads.finish.mutate({ sessionId: second.id });

    expect(finished).toMatchObject({ status: 'completed', filesDone: 1, bytesDone: 1400, filesFailed: 0 });
    expect(finished).toMatchObject(await countersFromLedger(server, second.id));
    expect(await ledgerRow(server, cycle.id, goneKey as string)).toMatchObject({
      status: 'failed',
      sessionId: first.id,
      error: expect.stringMatching(/missing/),
    });
    expect(await ledgerRow(server, cycle.id, keptKey as string)).toMatchObject({ status: 'completed' });
  });

  it('keeps an earlier session’s counters equal to its ledger rows when a later finish fails one of its files', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-reconcile-recount');
    const first = await beginSession(userApi, project, cycle, 'first');
    const [goneKey, keptKey] = (await planSizes(userApi, first.id, { 'S/gone.wav': 1200, 'S/kept.wav': 1300 })).map(
      keyOf,
    );
    await putAndConfirm(userApi, first.id, [
      { key: goneKey as string, body: randomBytes(1200) },
      { key: keptKey as string, body: randomBytes(1300) },
    ]);
    await userApi.uploads.finish.mutate({ sessionId: first.id });
    await deleteObject(server, project, goneKey as string);
    const second = await beginSession(userApi, project, cycle, 'second');
    await planSizes(userApi, second.id, { 'S/other.wav': 10 });
    await userApi.uploads.finish.mutate({ sessionId: second.id });

    const reported = await userApi.sessions.get.query({ id: first.id });
    expect(await countersFromLedger(server, first.id)).toEqual({ filesDone: 1, bytesDone: 1300, filesFailed: 1 });
    expect(
      { filesDone: reported.filesDone, bytesDone: reported.bytesDone, filesFailed: reported.filesFailed },
      'sessions.get still reports the vanished file as uploaded',
    ).toEqual(await countersFromLedger(server, first.id));
  });
});

describe('a session whose cycle closes or project is archived', () => {
  it('may send no more files, but still records and finishes what was sent', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-closing');
    const session = await beginSession(userApi, project, cycle);
    const [sent, unsent] = (await planSizes(userApi, session.id, { 'Z/sent.wav': 100, 'Z/unsent.wav': 100 })).map(
      keyOf,
    ) as [string, string];
    const { urls } = await userApi.uploads.signBatch.mutate({ sessionId: session.id, requests: [{ key: sent }] });
    const put = await sendTo(urls[0] as { url: string }, 'PUT', randomBytes(100));
    await adminApi.cycles.close.mutate({ id: cycle.id });

    for (const call of [
      () => planSizes(userApi, session.id, { 'Z/more.wav': 10 }),
      () => userApi.uploads.signBatch.mutate({ sessionId: session.id, requests: [{ key: unsent }] }),
    ]) {
      expect(await outcome(call())).toBe('PRECONDITION_FAILED');
    }
    await userApi.uploads.confirm.mutate({ sessionId: session.id, files: [{ key: sent, etag: put.etag ?? '' }] });
    const finished = await userApi.uploads.finish.mutate({ sessionId: session.id });
    expect(finished).toMatchObject({ status: 'completed_with_errors', filesDone: 1, filesFailed: 1 });
  });
});

describe('form uploads (signBatch with form: true), as the browser sends its small files', () => {
  const postForm = (url: string, fields: Record<string, string>, bytes: Uint8Array) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append('file', new Blob([bytes]));
    return fetch(url, { method: 'POST', body: form });
  };

  it('answers POST Object forms for whole files, bound to the key and size; a Content-MD5 request keeps its PUT', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-forms');
    const session = await beginSession(userApi, project, cycle);
    const [formKey, md5Key] = (await planSizes(userApi, session.id, { 'F/a.wav': 3000, 'F/b.wav': 200 })).map(
      keyOf,
    ) as [string, string];
    const bytes = randomBytes(3000);
    const md5Bytes = randomBytes(200);
    const contentMd5 = createHash('md5').update(md5Bytes).digest('base64');
    const { urls } = await userApi.uploads.signBatch.mutate({
      sessionId: session.id,
      form: true,
      requests: [{ key: formKey }, { key: md5Key, contentMd5 }],
    });
    const [form, put] = urls as [(typeof urls)[number], (typeof urls)[number]];
    expect(form.fields).toMatchObject({ key: formKey, 'x-amz-algorithm': 'AWS4-HMAC-SHA256' });
    expect(put.fields).toBeUndefined();
    expect(put.url).toContain(encodeURI(md5Key));
    const fields = form.fields as Record<string, string>;
    expect((await postForm(form.url, { ...fields, key: md5Key }, bytes)).status).toBe(403);
    expect((await postForm(form.url, fields, randomBytes(2999))).status).toBe(400);
    expect((await postForm(form.url, fields, bytes)).status).toBe(204);
    expect((await sendTo(put, 'PUT', md5Bytes)).status).toBe(200);
    await userApi.uploads.confirm.mutate({ sessionId: session.id, files: [{ key: formKey }, { key: md5Key }] });
    expect(await userApi.uploads.finish.mutate({ sessionId: session.id })).toMatchObject({
      status: 'completed',
      filesDone: 2,
    });
    expect(await objectSha256(server, project, formKey)).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('answers PUT URLs instead when the store has form uploads turned off (S3_FORM_UPLOADS=false)', async () => {
    const putOnly = await startTestServer({ S3_FORM_UPLOADS: 'false' });
    try {
      const company = await seedCompany(putOnly.db, 'put-only');
      const api = apiClient(putOnly.url, { token: await tokenOf(putOnly, company.users.user.id) });
      const { project, cycle } = await projectWithCycle(putOnly, company, 'put-only-forms');
      const session = await beginSession(api, project, cycle);
      const [key] = (await planSizes(api, session.id, { 'F/a.wav': 10 })).map(keyOf) as [string];
      const { urls } = await api.uploads.signBatch.mutate({ sessionId: session.id, form: true, requests: [{ key }] });
      expect(urls[0]).not.toHaveProperty('fields');
      expect((await sendTo(urls[0] as { url: string }, 'PUT', randomBytes(10))).status).toBe(200);
    } finally {
      await putOnly.close();
    }
  });
});

describe('a file skipped as uploaded that has since vanished', () => {
  it('counts as failed for the session that skipped it', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-lost-skip');
    const first = await beginSession(userApi, project, cycle, 'first');
    const [key] = (await planSizes(userApi, first.id, { 'L/a.wav': 500 })).map(keyOf) as [string];
    await putAndConfirm(userApi, first.id, [{ key, body: randomBytes(500) }]);
    await userApi.uploads.finish.mutate({ sessionId: first.id });
    await deleteObject(server, project, key);

    const second = await beginSession(userApi, project, cycle, 'second');
    expect(await planSizes(userApi, second.id, { 'L/a.wav': 500 })).toMatchObject([{ decision: 'skip' }]);
    const finished = await userApi.uploads.finish.mutate({ sessionId: second.id });
    expect(finished).toMatchObject({ status: 'completed_with_errors', filesSkipped: 1, filesFailed: 1 });
    expect(await userApi.sessions.get.query({ id: first.id })).toMatchObject({
      status: 'completed_with_errors',
      filesDone: 0,
      filesFailed: 1,
    });
  });
});

describe('listing the parts of a large multipart upload', () => {
  it('lists an upload created before the run was cut off, no part signed yet, and records its id', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-part-none');
    const session = await beginSession(userApi, project, cycle);
    const [key] = (await planSizes(userApi, session.id, { 'P/cut.wav': 10 * MiB })).map(keyOf) as [string];
    const create = await userApi.uploads.sign.mutate({ sessionId: session.id, method: 'POST', key });
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec((await sendTo(create, 'POST')).body)?.[1] as string;
    expect(await outcome(userApi.uploads.sign.mutate({ sessionId: session.id, method: 'POST', key, uploadId }))).toBe(
      'BAD_REQUEST',
    );
    const listing = await userApi.uploads.sign.mutate({ sessionId: session.id, method: 'GET', key, uploadId });
    const listed = await sendTo(listing, 'GET');
    expect(listed.status).toBe(200);
    expect(listed.body).not.toMatch(/<PartNumber>/);
    expect(await ledgerRow(server, cycle.id, key)).toMatchObject({ uploadId, status: 'uploading' });
    const other = userApi.uploads.sign.mutate({ sessionId: session.id, method: 'GET', key, uploadId: 'f'.repeat(32) });
    expect(await outcome(other)).toBe('FORBIDDEN');
  });

  it('signs later pages of ListParts with partNumberMarker, as files with over 1,000 parts need', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-part-pages');
    const session = await beginSession(userApi, project, cycle);
    const [key] = (await planSizes(userApi, session.id, { 'P/big.wav': 10 * MiB })).map(keyOf) as [string];
    const create = await userApi.uploads.sign.mutate({ sessionId: session.id, method: 'POST', key });
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec((await sendTo(create, 'POST')).body)?.[1] as string;
    for (const [partNumber, size] of [
      [1, 6 * MiB],
      [2, 4 * MiB],
    ] as const) {
      const part = await userApi.uploads.sign.mutate({
        sessionId: session.id,
        method: 'PUT',
        key,
        uploadId,
        partNumber,
      });
      expect((await sendTo(part, 'PUT', randomBytes(size))).status).toBe(200);
    }
    const partsIn = (body: string) => [...body.matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) => Number(m[1]));
    const all = await userApi.uploads.sign.mutate({ sessionId: session.id, method: 'GET', key, uploadId });
    expect(partsIn((await sendTo(all, 'GET')).body)).toEqual([1, 2]);
    const after = await userApi.uploads.sign.mutate({
      sessionId: session.id,
      method: 'GET',
      key,
      uploadId,
      partNumberMarker: 1,
    });
    expect(after.url).toContain('part-number-marker=1');
    expect(partsIn((await sendTo(after, 'GET')).body)).toEqual([2]);
  });
});

describe('a multipart upload S3 no longer holds', () => {
  it('is resumed while S3 has it, and started afresh once a failure shows S3 dropped it', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-vanished');
    const session = await beginSession(userApi, project, cycle);
    const size = 10 * MiB; // two parts of 6 MiB and 4 MiB
    const [key] = (await planSizes(userApi, session.id, { 'V/big.wav': size })).map(keyOf) as [string];
    const create = await userApi.uploads.sign.mutate({ sessionId: session.id, method: 'POST', key });
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec((await sendTo(create, 'POST')).body)?.[1] as string;
    const part = await userApi.uploads.sign.mutate({
      sessionId: session.id,
      method: 'PUT',
      key,
      uploadId,
      partNumber: 1,
    });
    expect((await sendTo(part, 'PUT', randomBytes(6 * MiB))).status).toBe(200);
    expect(await planSizes(userApi, session.id, { 'V/big.wav': size })).toMatchObject([
      { decision: 'resume', uploadId },
    ]);

    // A failure while S3 still holds the upload keeps it resumable.
    await userApi.uploads.fail.mutate({ sessionId: session.id, files: [{ key, error: 'network lost' }] });
    expect(await planSizes(userApi, session.id, { 'V/big.wav': size })).toMatchObject([
      { decision: 'resume', uploadId },
    ]);

    // Gone behind the app's back (a lifecycle rule): the client's ListParts fails and it reports the file.
    await server.storage.abortMultipartUpload(project, key, uploadId);
    await userApi.uploads.fail.mutate({ sessionId: session.id, files: [{ key, error: '404 NoSuchUpload' }] });
    expect(await planSizes(userApi, session.id, { 'V/big.wav': size })).toMatchObject([
      { decision: 'upload', method: 'multipart', key },
    ]);
  });
});

describe('session counters', () => {
  it('count a file once in filesFailed however often it fails, and no longer once it arrives, while the session runs', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-counters-fail');
    const session = await beginSession(userApi, project, cycle);
    const [flaky, other] = (await planSizes(userApi, session.id, { 'K/flaky.wav': 1000, 'K/other.wav': 2000 })).map(
      keyOf,
    ) as [string, string];
    const countersOf = async () => {
      const reported = await userApi.sessions.get.query({ id: session.id });
      return { filesDone: reported.filesDone, bytesDone: reported.bytesDone, filesFailed: reported.filesFailed };
    };
    for (const error of ['timeout', 'timeout again']) {
      await userApi.uploads.fail.mutate({ sessionId: session.id, files: [{ key: flaky, error }] });
    }
    expect(await ledgerRow(server, cycle.id, flaky)).toMatchObject({ status: 'failed', attempts: 2 });
    expect(await countersOf(), 'after two failures of one file').toEqual(await countersFromLedger(server, session.id));

    await putAndConfirm(userApi, session.id, [{ key: flaky, body: randomBytes(1000) }]);
    expect(await countersOf(), 'after the retry succeeded').toEqual({ filesDone: 1, bytesDone: 1000, filesFailed: 0 });
    await userApi.uploads.finish.mutate({ sessionId: session.id });
    expect(await ledgerRow(server, cycle.id, other)).toMatchObject({ status: 'failed' });
  });

  it('count a file skipped by a session once, however often that session plans it', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-counters-skip');
    const first = await beginSession(userApi, project, cycle, 'first');
    const [key] = (await planSizes(userApi, first.id, { 'K/done.wav': 1000 })).map(keyOf);
    await putAndConfirm(userApi, first.id, [{ key: key as string, body: randomBytes(1000) }]);
    await userApi.uploads.finish.mutate({ sessionId: first.id });

    // A CLI run of the same folder, killed and restarted on the same session, plans the folder twice.
    const second = await beginSession(userApi, project, cycle, 'second');
    for (let run = 0; run < 2; run++) {
      expect(await planSizes(userApi, second.id, { 'K/done.wav': 1000, 'K/new.wav': 10 })).toMatchObject([
        { decision: 'skip' },
        { decision: 'upload' },
      ]);
    }
    const finished = await userApi.uploads.finish.mutate({ sessionId: second.id });
    expect({ filesTotal: finished.filesTotal, filesSkipped: finished.filesSkipped }).toEqual({
      filesTotal: 1,
      filesSkipped: 1,
    });
  });
  it('count a skipped file once when the session plans it again in other batches, some at the same time', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-counters-rebatch');
    const names = ['a', 'b', 'c', 'd'].map((name) => `S/${name}.wav`);
    await uploadInFinishedSession(project, cycle, names);

    const second = await beginSession(userApi, project, cycle, 'second');
    const batch = (...picked: number[]) => Object.fromEntries(picked.map((place) => [names[place] as string, 10]));
    await planSizes(userApi, second.id, batch(0, 1));
    await planSizes(userApi, second.id, batch(3, 1));
    await Promise.all(
      [batch(1, 2), batch(2, 3), batch(0, 1, 2, 3)].map((files) => planSizes(userApi, second.id, files)),
    );
    const finished = await userApi.uploads.finish.mutate({ sessionId: second.id });
    expect({ filesTotal: finished.filesTotal, filesSkipped: finished.filesSkipped }).toEqual({
      filesTotal: 0,
      filesSkipped: 4,
    });
  });
});

describe('planning a large batch', () => {
  it('finds the one file already in the ledger that is not among the paths looked up first, and plans the rest as new', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-sampled-plan');
    const names = Array.from({ length: 200 }, (_, i) => `S/${String(i).padStart(3, '0')}.wav`);
    // The first batch looks up a sample of its paths; the second and the 200th are not in it for 200 paths.
    const existing = [names[1], names[199]] as string[];
    await uploadInFinishedSession(project, cycle, existing);

    const second = await beginSession(userApi, project, cycle, 'second');
    const planned = await planSizes(userApi, second.id, Object.fromEntries(names.map((name) => [name, 10])));
    expect(planned.filter((file) => file.decision === 'skip').map((file) => file.relativePath)).toEqual(existing);
    expect(planned.filter((file) => file.decision === 'upload')).toHaveLength(198);
    const session = await userApi.sessions.get.query({ id: second.id });
    expect({ filesTotal: session.filesTotal, filesSkipped: session.filesSkipped }).toEqual({
      filesTotal: 198,
      filesSkipped: 2,
    });
  });
});

describe('refusals change nothing', () => {
  let project: Project;
  let cycleId: string;
  let sessionId: string;
  let otherSessionId: string;
  let uploadId: string;
  const keys = {
    one: 'C1/R/one.wav',
    two: 'C1/R/two.wav',
    three: 'C1/R/three.wav',
    big: 'C1/R/big.wav',
    fresh: 'C1/R/fresh.wav',
    other: 'C1/R/other.wav',
    nowhere: 'C1/R/never-planned.wav',
  };

  beforeAll(async () => {
    const made = await projectWithCycle(server, acme, 'acme-refusals');
    project = made.project;
    cycleId = made.cycle.id;
    sessionId = (await beginSession(userApi, project, made.cycle, 'refusals')).id;
    const planned = await planSizes(userApi, sessionId, {
      'R/one.wav': 2000,
      'R/two.wav': 2000,
      'R/three.wav': 2000,
      'R/big.wav': 20 * MiB,
      'R/fresh.wav': 20 * MiB,
    });
    expect(planned.map(keyOf)).toEqual([keys.one, keys.two, keys.three, keys.big, keys.fresh]);
    expect(planned[3]).toMatchObject({ method: 'multipart', partSize: 6 * MiB });
    // The browser creates the multipart upload itself; signing its first part records the uploadId.
    const created = await sendTo(
      await userApi.uploads.sign.mutate({ sessionId, method: 'POST', key: keys.big }),
      'POST',
    );
    uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body)?.[1] ?? '';
    expect(uploadId).not.toBe('');
    await userApi.uploads.sign.mutate({ sessionId, method: 'PUT', key: keys.big, uploadId, partNumber: 1 });
    expect(await ledgerRow(server, cycleId, keys.big)).toMatchObject({ uploadId });
    otherSessionId = (await beginSession(adminApi, project, made.cycle, 'admin')).id;
    await planSizes(adminApi, otherSessionId, { 'R/other.wav': 2000 });
  });

  /** The ledger of the cycle, every upload session (but its activity stamp) and the bucket. */
  async function world() {
    const sessions = await server.db.select().from(schema.uploadSessions).orderBy(asc(schema.uploadSessions.id));
    return {
      ledger: await ledgerOf(server, cycleId),
      // `loadWritableSession` stamps activity before the request is checked; see the report.
      sessions: sessions.map(({ lastActivityAt: _, ...rest }) => rest),
      bucket: await bucketState(server, project),
    };
  }

  async function expectRefused(code: string, call: () => Promise<unknown>) {
    const before = await world();
    expect(await outcome(call())).toBe(code);
    expect(await world()).toEqual(before);
  }

  /** One call of every upload procedure that names a session, with inputs that would work for its owner. */
  const sessionCalls = (api: ApiClient, id: string): Record<string, () => Promise<unknown>> => ({
    plan: () => api.uploads.plan.mutate({ sessionId: id, files: [{ relativePath: 'R/new.wav', size: 10 }] }),
    sign: () => api.uploads.sign.mutate({ sessionId: id, method: 'PUT', key: keys.one }),
    signBatch: () => api.uploads.signBatch.mutate({ sessionId: id, requests: [{ key: keys.one }] }),
    confirm: () => api.uploads.confirm.mutate({ sessionId: id, files: [{ key: keys.one }] }),
    fail: () => api.uploads.fail.mutate({ sessionId: id, files: [{ key: keys.one, error: 'disk gone' }] }),
    finish: () => api.uploads.finish.mutate({ sessionId: id }),
    abort: () => api.uploads.abort.mutate({ sessionId: id }),
  });

  it('refuses to sign a key that is not a planned file of the session, singly or in a batch (NOT_FOUND)', async () => {
    for (const key of [keys.nowhere, keys.other, 'C2/R/one.wav', 'R/one.wav']) {
      await expectRefused('NOT_FOUND', () => userApi.uploads.sign.mutate({ sessionId, method: 'PUT', key }));
      await expectRefused('NOT_FOUND', () => userApi.uploads.signBatch.mutate({ sessionId, requests: [{ key }] }));
    }
  });

  it('answers another company’s session id as NOT_FOUND, for every upload procedure', async () => {
    for (const [name, call] of Object.entries(sessionCalls(globexApi, sessionId))) {
      const before = await world();
      expect(await outcome(call()), name).toBe('NOT_FOUND');
      expect(await world(), name).toEqual(before);
    }
  });

  it('refuses another person’s session of the same company (FORBIDDEN), for every upload procedure', async () => {
    for (const [name, call] of Object.entries(sessionCalls(adminApi, sessionId))) {
      const before = await world();
      expect(await outcome(call()), name).toBe('FORBIDDEN');
      expect(await world(), name).toEqual(before);
    }
  });

  it('refuses a part, ListParts, Complete or Abort with another uploadId than the one recorded (FORBIDDEN)', async () => {
    const wrong = 'f'.repeat(32);
    const base = { sessionId, key: keys.big, uploadId: wrong };
    await expectRefused('FORBIDDEN', () => userApi.uploads.sign.mutate({ ...base, method: 'PUT', partNumber: 2 }));
    await expectRefused('FORBIDDEN', () => userApi.uploads.sign.mutate({ ...base, method: 'GET' }));
    await expectRefused('FORBIDDEN', () => userApi.uploads.sign.mutate({ ...base, method: 'POST' }));
    await expectRefused('FORBIDDEN', () => userApi.uploads.sign.mutate({ ...base, method: 'DELETE' }));
    await expectRefused('FORBIDDEN', () =>
      userApi.uploads.signBatch.mutate({ sessionId, requests: [{ key: keys.big, uploadId: wrong, partNumber: 2 }] }),
    );
  });

  it('refuses part numbers 0 and 10,001, and a part the file does not have (BAD_REQUEST)', async () => {
    const base = { sessionId, key: keys.big, uploadId, method: 'PUT' as const };
    for (const partNumber of [0, 10_001, 5, 10_000]) {
      await expectRefused('BAD_REQUEST', () => userApi.uploads.sign.mutate({ ...base, partNumber }));
      await expectRefused('BAD_REQUEST', () =>
        userApi.uploads.signBatch.mutate({ sessionId, requests: [{ key: keys.big, uploadId, partNumber }] }),
      );
    }
    await expectRefused('BAD_REQUEST', () => userApi.uploads.sign.mutate(base));
  });

  it('never signs deleting or downloading an object (FORBIDDEN)', async () => {
    await expectRefused('FORBIDDEN', () => userApi.uploads.sign.mutate({ sessionId, method: 'DELETE', key: keys.one }));
    await expectRefused('FORBIDDEN', () => userApi.uploads.sign.mutate({ sessionId, method: 'GET', key: keys.one }));
  });

  it('refuses a single PUT for a multipart file and multipart requests for a single-PUT file (BAD_REQUEST)', async () => {
    await expectRefused('BAD_REQUEST', () =>
      userApi.uploads.sign.mutate({ sessionId, method: 'PUT', key: keys.fresh }),
    );
    await expectRefused('BAD_REQUEST', () =>
      userApi.uploads.signBatch.mutate({ sessionId, requests: [{ key: keys.fresh }] }),
    );
    await expectRefused('BAD_REQUEST', () => userApi.uploads.sign.mutate({ sessionId, method: 'POST', key: keys.one }));
    await expectRefused('BAD_REQUEST', () =>
      userApi.uploads.sign.mutate({ sessionId, method: 'PUT', key: keys.one, uploadId, partNumber: 1 }),
    );
    await expectRefused('BAD_REQUEST', () =>
      userApi.uploads.signBatch.mutate({ sessionId, requests: [{ key: keys.one, uploadId, partNumber: 1 }] }),
    );
  });

  it('refuses a whole signBatch for one bad request among good ones, recording no uploadId', async () => {
    const good = [
      { key: keys.one },
      { key: keys.two },
      { key: keys.fresh, uploadId: 'a'.repeat(32), partNumber: 1 },
      { key: keys.big, uploadId, partNumber: 2 },
    ];
    for (const [bad, code] of [
      [{ key: keys.nowhere }, 'NOT_FOUND'],
      [{ key: keys.big, uploadId, partNumber: 9 }, 'BAD_REQUEST'],
      [{ key: keys.big, uploadId: 'b'.repeat(32), partNumber: 3 }, 'FORBIDDEN'],
      [{ key: keys.fresh, uploadId: 'c'.repeat(32), partNumber: 2 }, 'FORBIDDEN'],
    ] as const) {
      await expectRefused(code, () => userApi.uploads.signBatch.mutate({ sessionId, requests: [...good, bad] }));
    }
    expect(await ledgerRow(server, cycleId, keys.fresh)).toMatchObject({ uploadId: null, status: 'pending' });
  });

  it('refuses every upload procedure to a viewer (FORBIDDEN)', async () => {
    const calls = {
      ...sessionCalls(viewerApi, sessionId),
      begin: () => viewerApi.uploads.begin.mutate({ projectId: project.id, cycleId }),
    };
    for (const [name, call] of Object.entries(calls)) {
      const before = await world();
      expect(await outcome(call()), name).toBe('FORBIDDEN');
      expect(await world(), name).toEqual(before);
    }
  });

  it('refuses a plan batch of 5,001 files and writes nothing (BAD_REQUEST)', async () => {
    const files = Array.from({ length: 5001 }, (_, i) => ({ relativePath: `R/many/${i}.wav`, size: 1 }));
    await expectRefused('BAD_REQUEST', () => userApi.uploads.plan.mutate({ sessionId, files }));
  });

  it('answers path tricks as invalid with a reason, and plans the rest of the batch as usual', async () => {
    const tricks = [
      '../x',
      'R/../../x',
      '/abs/x.wav',
      'a//b.wav',
      'C:\\x.wav',
      'C:x.wav',
      '\\\\server\\share\\x.wav',
      'R/nul\u0000.wav',
      'R/bell\u0007.wav',
      'R/del\u007F.wav',
      'R/nl\n.wav',
      '．．/x.wav',
      'R/./x.wav',
      'R/dir/',
      'R/rtl\u202Egpj.exe',
      `R/${'x'.repeat(2000)}.wav`,
      `R/${'é'.repeat(1000)}.wav`,
      '',
    ];
    const session = await beginSession(userApi, project, { id: cycleId }, 'tricks');
    const before = await ledgerOf(server, cycleId);
    const files = [
      { relativePath: 'T/first.wav', size: 10 },
      ...tricks.map((relativePath) => ({ relativePath, size: 10 })),
      { relativePath: 'T/last.wav', size: 20 },
    ];

    const { files: answers } = await userApi.uploads.plan.mutate({ sessionId: session.id, files });

    expect(answers).toHaveLength(files.length);
    expect(answers[0]).toMatchObject({ decision: 'upload', key: 'C1/T/first.wav', method: 'single' });
    expect(answers.at(-1)).toMatchObject({ decision: 'upload', key: 'C1/T/last.wav', method: 'single' });
    for (const [index, trick] of tricks.entries()) {
      expect(answers[index + 1], JSON.stringify(trick)).toEqual({
        relativePath: trick,
        decision: 'invalid',
        reason: expect.stringMatching(/\w{3}/),
      });
    }
    const after = await ledgerOf(server, cycleId);
    expect(after.slice(before.length).map((row) => row.relativePath)).toEqual(['T/first.wav', 'T/last.wav']);
    expect(await sessionRow(server, session.id)).toMatchObject({ filesTotal: 2, bytesTotal: 30 });
  });

  it('answers the second of two paths that are the same once normalised as invalid, and plans the first', async () => {
    const session = await beginSession(userApi, project, { id: cycleId }, 'duplicates');
    const { files: answers } = await userApi.uploads.plan.mutate({
      sessionId: session.id,
      files: [
        { relativePath: 'D/dup.wav', size: 10 },
        { relativePath: 'D/dup.wav', size: 11 },
        { relativePath: 'D/caf\u00e9.wav', size: 12 },
        { relativePath: 'D/cafe\u0301.wav', size: 13 },
        { relativePath: 'D\\back.wav', size: 14 },
        { relativePath: 'D/back.wav', size: 15 },
      ],
    });
    expect(answers.map((answer) => answer.decision)).toEqual([
      'upload',
      'invalid',
      'upload',
      'invalid',
      'upload',
      'invalid',
    ]);
    expect(answers[1]).toMatchObject({ reason: expect.stringMatching(/twice/) });
    const rows = (await ledgerOf(server, cycleId)).filter((row) => row.sessionId === session.id);
    expect(rows.map((row) => [row.relativePath, row.size])).toEqual([
      ['D/dup.wav', 10],
      ['D/caf\u00e9.wav', 12],
      ['D/back.wav', 14],
    ]);
  });

  it('has S3 refuse an expired presigned URL with 403 and store nothing', async () => {
    const signed = await userApi.uploads.sign.mutate({ sessionId, method: 'PUT', key: keys.two, expiresIn: 1 });
    expect(new URL(signed.url).searchParams.get('X-Amz-Expires')).toBe('1');
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const before = await bucketState(server, project);
    const answer = await sendTo(signed, 'PUT', randomBytes(2000));
    expect(answer.status).toBe(403);
    expect(answer.body).toMatch(/expired/i);
    expect(await bucketState(server, project)).toEqual(before);
  });

  it('has S3 refuse a presigned URL with a changed signature, key or part number with 403 and store nothing', async () => {
    const signed = await userApi.uploads.sign.mutate({ sessionId, method: 'PUT', key: keys.three });
    const url = new URL(signed.url);
    const signature = url.searchParams.get('X-Amz-Signature') ?? '';
    const flipped = `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`;
    const part = await userApi.uploads.sign.mutate({
      sessionId,
      method: 'PUT',
      key: keys.big,
      uploadId,
      partNumber: 2,
    });
    const altered = [
      signed.url.replace(signature, flipped),
      signed.url.replace('/three.wav', '/thre3.wav'),
      signed.url.replace('/three.wav', '/one.wav'),
      part.url.replace('partNumber=2', 'partNumber=3'),
    ];
    const before = await bucketState(server, project);
    for (const alteredUrl of altered) {
      const answer = await sendTo({ url: alteredUrl, headers: signed.headers }, 'PUT', randomBytes(2000));
      expect(answer.status, alteredUrl).toBe(403);
      expect(answer.body, alteredUrl).toMatch(/SignatureDoesNotMatch/);
    }
    expect(await bucketState(server, project)).toEqual(before);
    // The unaltered URL works: the refusals were the alterations.
    expect((await sendTo(signed, 'PUT', randomBytes(2000))).status).toBe(200);
  });

  it('refuses to begin a session in a closed cycle or an archived project (PRECONDITION_FAILED)', async () => {
    const closed = await adminApi.cycles.create.mutate({ projectId: project.id, name: 'Closed' });
    await adminApi.cycles.close.mutate({ id: closed.id });
    const archived = await projectWithCycle(server, acme, 'acme-archived');
    await adminApi.projects.archive.mutate({ id: archived.project.id });
    await expectRefused('PRECONDITION_FAILED', () => beginSession(userApi, project, closed));
    await expectRefused('PRECONDITION_FAILED', () => beginSession(userApi, archived.project, archived.cycle));
  });

  it('refuses every upload procedure on a finished session (PRECONDITION_FAILED)', async () => {
    const finished = await beginSession(userApi, project, { id: cycleId }, 'finished');
    await planSizes(userApi, finished.id, { 'F/late.wav': 100 });
    await userApi.uploads.finish.mutate({ sessionId: finished.id });
    const calls = sessionCalls(userApi, finished.id);
    calls.sign = () => userApi.uploads.sign.mutate({ sessionId: finished.id, method: 'PUT', key: 'C1/F/late.wav' });
    calls.signBatch = () =>
      userApi.uploads.signBatch.mutate({ sessionId: finished.id, requests: [{ key: 'C1/F/late.wav' }] });
    for (const [name, call] of Object.entries(calls)) {
      const before = await world();
      expect(await outcome(call()), name).toBe('PRECONDITION_FAILED');
      expect(await world(), name).toEqual(before);
    }
  });
});

describe('one writer per file', () => {
  it('answers a file completed with another size as a conflict, and uploads it again with overwrite', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-conflicts');
    const first = await beginSession(userApi, project, cycle, 'first');
    const [key] = (await planSizes(userApi, first.id, { 'W/a.wav': 1000 })).map(keyOf);
    await putAndConfirm(userApi, first.id, [{ key: key as string, body: randomBytes(1000) }]);
    await userApi.uploads.finish.mutate({ sessionId: first.id });

    const second = await beginSession(userApi, project, cycle, 'second');
    const rowBefore = await ledgerRow(server, cycle.id, key as string);
    expect(await planSizes(userApi, second.id, { 'W/a.wav': 1500 })).toEqual([
      {
        relativePath: 'W/a.wav',
        decision: 'conflict',
        size: 1500,
        existingSize: 1000,
        reason: expect.stringMatching(/1000/),
      },
    ]);
    expect(await ledgerRow(server, cycle.id, key as string)).toEqual(rowBefore);

    expect(await planSizes(userApi, second.id, { 'W/a.wav': 1500 }, true)).toEqual([
      { relativePath: 'W/a.wav', decision: 'upload', key, size: 1500, method: 'single', partSize: null },
    ]);
    const body = randomBytes(1500);
    await putAndConfirm(userApi, second.id, [{ key: key as string, body }]);
    expect(await userApi.uploads.finish.mutate({ sessionId: second.id })).toMatchObject({
      status: 'completed',
      filesDone: 1,
      bytesDone: 1500,
    });
    expect(await ledgerRow(server, cycle.id, key as string)).toMatchObject({
      size: 1500,
      status: 'completed',
      sessionId: second.id,
    });
    expect(await objectSha256(server, project, key as string)).toBe(sha256(body));
  });

  it('gives a path planned by two people at once to exactly one of them, and to the other once the first finished', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-writers');
    const mine = await beginSession(userApi, project, cycle, 'mine');
    const theirs = await beginSession(adminApi, project, cycle, 'theirs');

    const [a, b] = await Promise.all([
      planSizes(userApi, mine.id, { 'W/b.wav': 1000 }),
      planSizes(adminApi, theirs.id, { 'W/b.wav': 1000 }),
    ]);

    const decisions = [a[0]?.decision, b[0]?.decision];
    expect([...decisions].sort()).toEqual(['conflict', 'upload']);
    const [winner, loser] = decisions[0] === 'upload' ? [userApi, adminApi] : [adminApi, userApi];
    const [winnerSession, loserSession] = decisions[0] === 'upload' ? [mine, theirs] : [theirs, mine];
    expect((decisions[0] === 'upload' ? b : a)[0]).toMatchObject({
      decision: 'conflict',
      reason: expect.stringMatching(/another upload session/),
    });
    expect(await planSizes(loser, loserSession.id, { 'W/b.wav': 1000 })).toEqual([
      expect.objectContaining({ decision: 'conflict' }),
    ]);

    // The first one ends without sending it: the file is free again.
    await winner.uploads.finish.mutate({ sessionId: winnerSession.id });
    expect(await planSizes(loser, loserSession.id, { 'W/b.wav': 1000 })).toEqual([
      expect.objectContaining({ decision: 'upload', key: 'C1/W/b.wav' }),
    ]);
    expect(await ledgerRow(server, cycle.id, 'C1/W/b.wav')).toMatchObject({ sessionId: loserSession.id });
  });

  it('hands each path of overlapping batches planned at once, in different orders, to exactly one session, failing no call', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-writers-batch');
    // Several rounds on PostgreSQL, where the batches only collide when their transactions overlap; PGlite
    // runs one transaction at a time, so one round says all there is.
    const rounds = server.database.kind === 'postgres' ? 10 : 1;
    for (let round = 0; round < rounds; round++) {
      const sessions = [
        await beginSession(userApi, project, cycle, `forward ${round}`),
        await beginSession(adminApi, project, cycle, `backward ${round}`),
        await beginSession(userApi, project, cycle, `rotated ${round}`),
        await beginSession(adminApi, project, cycle, `rotated back ${round}`),
      ];
      const paths = Array.from({ length: 2000 }, (_, i) => `W${round}/${String(i).padStart(4, '0')}.wav`);
      const orders = [
        paths,
        [...paths].reverse(),
        [...paths.slice(1000), ...paths.slice(0, 1000)],
        [...paths.slice(500), ...paths.slice(0, 500)].reverse(),
      ];
      const apis = [userApi, adminApi, userApi, adminApi];
      const answers = await Promise.all(
        sessions.map((session, index) =>
          outcomeOr(
            (apis[index] as ApiClient).uploads.plan.mutate({
              sessionId: session.id,
              files: (orders[index] as string[]).map((relativePath) => ({ relativePath, size: 100 })),
            }),
          ),
        ),
      );
      expect(
        answers.map((answer) => (typeof answer === 'string' ? answer : 'OK')),
        `round ${round}`,
      ).toEqual(['OK', 'OK', 'OK', 'OK']);
      const owners = new Map<string, string>();
      for (const [index, answer] of answers.entries()) {
        if (typeof answer === 'string') continue;
        for (const file of answer.files) {
          expect(['upload', 'conflict']).toContain(file.decision);
          if (file.decision !== 'upload') continue;
          expect(owners.has(file.relativePath), file.relativePath).toBe(false);
          owners.set(file.relativePath, (sessions[index] as { id: string }).id);
        }
      }
      expect(owners.size).toBe(paths.length);
      const rows = await server.db
        .select({ relativePath: schema.files.relativePath, sessionId: schema.files.sessionId })
        .from(schema.files)
        .where(and(eq(schema.files.cycleId, cycle.id), like(schema.files.relativePath, `W${round}/%`)));
      expect(new Map(rows.map((row) => [row.relativePath, row.sessionId]))).toEqual(owners);
      for (const session of sessions) {
        const owned = [...owners.values()].filter((owner) => owner === session.id).length;
        expect(await sessionRow(server, session.id)).toMatchObject({ filesTotal: owned, bytesTotal: owned * 100 });
      }
    }
  });

  it('keeps a batch planned while the session finishes either wholly in the finish or wholly out of the ledger', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-plan-finish-race');
    const rounds = server.database.kind === 'postgres' ? 6 : 1;
    for (let round = 0; round < rounds; round++) {
      const session = await beginSession(userApi, project, cycle, `race ${round}`);
      const batch = (part: number) =>
        Array.from({ length: 2000 }, (_, i) => ({ relativePath: `R${round}/${part}/${i}.wav`, size: 10 }));
      const [first, second, finish] = await Promise.all([
        outcome(userApi.uploads.plan.mutate({ sessionId: session.id, files: batch(1) })),
        outcome(userApi.uploads.plan.mutate({ sessionId: session.id, files: batch(2) })),
        outcome(userApi.uploads.finish.mutate({ sessionId: session.id })),
      ]);
      expect(finish, `round ${round}`).toBe('OK');
      const planned = [first, second].filter((answer) => answer === 'OK').length;
      for (const answer of [first, second]) expect(['OK', 'PRECONDITION_FAILED']).toContain(answer);
      const rows = await server.db.select().from(schema.files).where(eq(schema.files.sessionId, session.id));
      // Nothing was uploaded, so every file a batch wrote before the finish is failed by the reconcile.
      expect(rows.length, `round ${round}`).toBe(planned * 2000);
      expect(rows.every((row) => row.status === 'failed')).toBe(true);
      expect(await sessionRow(server, session.id)).toMatchObject({
        filesTotal: planned * 2000,
        filesFailed: planned * 2000,
        status: planned > 0 ? 'completed_with_errors' : 'completed',
      });
    }
  });

  it('lets another session take a file over once its lease has run out, and then refuses the first session’s requests for it', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-lease');
    const mine = await beginSession(userApi, project, cycle, 'mine');
    const theirs = await beginSession(adminApi, project, cycle, 'theirs');
    const [key] = (await planSizes(userApi, mine.id, { 'W/c.wav': 1000 })).map(keyOf);
    await userApi.uploads.sign.mutate({ sessionId: mine.id, method: 'PUT', key: key as string });
    expect(await planSizes(adminApi, theirs.id, { 'W/c.wav': 1000 })).toEqual([
      expect.objectContaining({ decision: 'conflict' }),
    ]);

    // Time passes: the first session went quiet for longer than the lease.
    await server.db.execute(sql`
      update files set claimed_at = now() - make_interval(mins => ${server.config.UPLOAD_LEASE_MINUTES + 1})
      where cycle_id = ${cycle.id} and s3_key = ${key}`);
    expect(await planSizes(adminApi, theirs.id, { 'W/c.wav': 1000 })).toEqual([
      expect.objectContaining({ decision: 'upload', key }),
    ]);
    const taken = await ledgerRow(server, cycle.id, key as string);
    expect(taken).toMatchObject({ sessionId: theirs.id, status: 'pending' });

    const before = {
      row: await ledgerRow(server, cycle.id, key as string),
      bucket: await bucketState(server, project),
    };
    expect(await outcome(userApi.uploads.sign.mutate({ sessionId: mine.id, method: 'PUT', key: key as string }))).toBe(
      'NOT_FOUND',
    );
    expect(
      await outcome(userApi.uploads.signBatch.mutate({ sessionId: mine.id, requests: [{ key: key as string }] })),
    ).toBe('NOT_FOUND');
    expect(await userApi.uploads.confirm.mutate({ sessionId: mine.id, files: [{ key: key as string }] })).toEqual({
      confirmed: 0,
      alreadyCompleted: 0,
      unknown: [key],
    });
    expect(await planSizes(userApi, mine.id, { 'W/c.wav': 1000 })).toEqual([
      expect.objectContaining({ decision: 'conflict' }),
    ]);
    expect({
      row: await ledgerRow(server, cycle.id, key as string),
      bucket: await bucketState(server, project),
    }).toEqual(before);
  });
});

describe('the browser’s way through Uppy', () => {
  const origin = 'http://localhost:5173';
  const browserSend = (
    signed: { url: string },
    method: string,
    body?: Uint8Array | string,
    headers: Record<string, string> = {},
  ) => sendTo({ url: signed.url }, method, body, { origin, ...headers });
  const exposed = (headers: Headers) =>
    (headers.get('access-control-expose-headers') ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean);

  it('signs exactly what @uppy/aws-s3 signRequest passes, and raw browser requests upload, list, complete and abort with those URLs', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-uppy');
    const session = await userApi.uploads.begin.mutate({ projectId: project.id, cycleId: cycle.id });
    expect(session.source).toBe('browser');
    const small = randomBytes(3000);
    const big = randomBytes(13 * MiB);
    const planned = await planSizes(userApi, session.id, {
      'U/small.wav': small.length,
      'U/big.wav': big.length,
      'U/dropped.wav': 9 * MiB,
    });
    const [smallKey, bigKey, droppedKey] = planned.map(keyOf) as [string, string, string];
    expect(planned[1]).toMatchObject({ method: 'multipart', partSize: 6 * MiB });
    const signRequest = (request: {
      method: 'PUT' | 'POST' | 'GET' | 'DELETE';
      key: string;
      uploadId?: string;
      partNumber?: number;
      contentType?: string;
    }) => userApi.uploads.sign.mutate({ sessionId: session.id, ...request });

    // A small file: one PUT, preflighted as a browser would.
    const put = await signRequest({ method: 'PUT', key: smallKey, contentType: 'audio/wav' });
    const preflight = await fetch(put.url, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-methods')).toMatch(/PUT/);
    const putAnswer = await browserSend(put, 'PUT', small, { 'content-type': 'audio/wav' });
    expect(putAnswer.status).toBe(200);
    expect(putAnswer.etag).toBe(`"${createHash('md5').update(small).digest('hex')}"`);
    expect(exposed(putAnswer.headers)).toContain('etag');

    // A multipart file: create, three parts, list, complete.
    const create = await signRequest({ method: 'POST', key: bigKey });
    const created = await browserSend(create, 'POST');
    expect(created.status).toBe(200);
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body)?.[1] ?? '';
    expect(uploadId).not.toBe('');
    const parts: Array<{ partNumber: number; etag: string }> = [];
    for (const partNumber of [1, 2, 3]) {
      const signed = await signRequest({ method: 'PUT', key: bigKey, uploadId, partNumber });
      const answer = await browserSend(signed, 'PUT', big.subarray((partNumber - 1) * 6 * MiB, partNumber * 6 * MiB));
      expect(answer.status).toBe(200);
      expect(exposed(answer.headers), 'the browser must be allowed to read the ETag').toContain('etag');
      expect(answer.headers.get('access-control-allow-origin')).toMatch(/^(\*|http:\/\/localhost:5173)$/);
      parts.push({ partNumber, etag: answer.etag ?? '' });
    }
    expect(await ledgerRow(server, cycle.id, bigKey)).toMatchObject({ uploadId, status: 'uploading' });
    const listed = await browserSend(await signRequest({ method: 'GET', key: bigKey, uploadId }), 'GET');
    expect(listed.status).toBe(200);
    expect([...listed.body.matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((match) => Number(match[1]))).toEqual([
      1, 2, 3,
    ]);
    const completeBody = `<CompleteMultipartUpload>${parts
      .map((part) => `<Part><PartNumber>${part.partNumber}</PartNumber><ETag>${part.etag}</ETag></Part>`)
      .join('')}</CompleteMultipartUpload>`;
    const completed = await browserSend(
      await signRequest({ method: 'POST', key: bigKey, uploadId }),
      'POST',
      completeBody,
      {
        'content-type': 'application/xml',
      },
    );
    expect(completed.status).toBe(200);
    expect(completed.body).not.toMatch(/<Error>/);
    expect(exposed(completed.headers)).toContain('etag');

    // A multipart file the person removes half-way: Uppy aborts it.
    const dropCreate = await browserSend(await signRequest({ method: 'POST', key: droppedKey }), 'POST');
    const dropId = /<UploadId>([^<]+)<\/UploadId>/.exec(dropCreate.body)?.[1] ?? '';
    const dropPart = await signRequest({ method: 'PUT', key: droppedKey, uploadId: dropId, partNumber: 1 });
    expect((await browserSend(dropPart, 'PUT', randomBytes(6 * MiB))).status).toBe(200);
    const aborted = await browserSend(
      await signRequest({ method: 'DELETE', key: droppedKey, uploadId: dropId }),
      'DELETE',
    );
    expect(aborted.status).toBe(204);
    const afterAbort = await browserSend(
      await signRequest({ method: 'GET', key: droppedKey, uploadId: dropId }),
      'GET',
    );
    expect(afterAbort.status).toBe(404);
    expect(afterAbort.body).toMatch(/NoSuchUpload/);

    await userApi.uploads.confirm.mutate({
      sessionId: session.id,
      files: [
        { key: smallKey, etag: putAnswer.etag ?? undefined },
        { key: bigKey, etag: /<ETag>([^<]+)<\/ETag>/.exec(completed.body)?.[1] },
      ],
    });
    await userApi.uploads.fail.mutate({ sessionId: session.id, files: [{ key: droppedKey, error: 'removed' }] });
    const finished = await userApi.uploads.finish.mutate({ sessionId: session.id });
    expect(finished).toMatchObject({
      status: 'completed_with_errors',
      filesDone: 2,
      bytesDone: small.length + big.length,
      filesFailed: 1,
    });
    expect(await objectSha256(server, project, bigKey)).toBe(sha256(big));
    expect(await objectSha256(server, project, smallKey)).toBe(sha256(small));
    const target = server.storage.targetFor(project);
    const head = await server.storage
      .client(target)
      .send(new HeadObjectCommand({ Bucket: target.bucket, Key: smallKey }));
    expect(head.ContentType).toBe('audio/wav');
    expect((await bucketState(server, project)).uploads).toEqual([]);
    expect(await ledgerRow(server, cycle.id, droppedKey)).toMatchObject({ status: 'failed' });
  });
});

describe('the ledger rows a session writes', () => {
  it('belong to its cycle only, with the keys the server computed', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-keys');
    const session = await beginSession(userApi, project, cycle);
    await planSizes(userApi, session.id, { '950349/x.WAV': 1, 'x.WAV': 2 });
    const rows = await server.db
      .select({ key: schema.files.s3Key, serial: schema.files.sensorSerial })
      .from(schema.files)
      .where(eq(schema.files.sessionId, session.id))
      .orderBy(asc(schema.files.id));
    expect(rows).toEqual([
      { key: 'C1/950349/x.WAV', serial: '950349' },
      { key: 'C1/x.WAV', serial: null },
    ]);
  });
});

describe('a finish that cannot reach S3', () => {
  it('leaves the session active so the finish can be tried again, and a second finish at once is refused', async () => {
    // A server of its own: its embedded S3 server is stopped mid-test, a real outage rather than a mock.
    const lonely = await startTestServer();
    try {
      const company = await seedCompany(lonely.db, 'lonely');
      const api = apiClient(lonely.url, { token: await tokenOf(lonely, company.users.user.id) });
      const { project, cycle } = await projectWithCycle(lonely, company, 'lonely-outage');
      const session = await beginSession(api, project, cycle);
      await planSizes(api, session.id, { 'O/a.wav': 10 });

      const [first, second] = await Promise.all([
        outcome(api.uploads.finish.mutate({ sessionId: session.id })),
        (async () => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          return outcome(api.uploads.finish.mutate({ sessionId: session.id }));
        })(),
      ]);
      expect([first, second].sort()).toEqual(['OK', 'PRECONDITION_FAILED']);

      const retry = await beginSession(api, project, cycle, 'after an outage');
      await planSizes(api, retry.id, { 'O/b.wav': 10 });
      await lonely.storage.embedded?.stop();
      const refused = await api.uploads.finish.mutate({ sessionId: retry.id }).catch((error: unknown) => error);
      expect(refused).toMatchObject({
        data: { code: 'SERVICE_UNAVAILABLE' },
        message: expect.stringContaining('S3 storage cannot be reached'),
      });
      expect(await sessionRow(lonely, retry.id)).toMatchObject({ status: 'active', finishedAt: null });
    } finally {
      await lonely.close();
    }
  });

  it('says the bucket is gone when it was deleted behind the app’s back, and leaves the session active', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-bucket-gone');
    const session = await beginSession(userApi, project, cycle);
    await planSizes(userApi, session.id, { 'G/a.wav': 10 });
    const target = server.storage.targetFor(project);
    await server.storage.client(target).send(new DeleteBucketCommand({ Bucket: target.bucket }));

    const refused = await userApi.uploads.finish.mutate({ sessionId: session.id }).catch((error: unknown) => error);
    expect(refused).toMatchObject({
      data: { code: 'PRECONDITION_FAILED' },
      message: expect.stringContaining('bucket does not exist'),
    });
    expect(await sessionRow(server, session.id)).toMatchObject({ status: 'active', finishedAt: null });
  });
});
