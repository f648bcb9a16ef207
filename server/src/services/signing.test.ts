import { createHash, randomBytes } from 'node:crypto';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApi } from '@data-uploader/scripts/driver/api';
import { type DriverEvent, UploadDriver } from '@data-uploader/scripts/driver/uploadDriver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  ledgerOf,
  MiB,
  objectSha256,
  projectWithCycle,
  sendTo,
  tokenOf,
  writeFolder,
} from '../../test/uploadFixtures.ts';

/**
 * A proxy between the clients and the S3 server that flips one byte in the middle of the body of the first
 * PUT to each object or part `corrupts` picks, as a faulty link or NIC would; everything else passes as is.
 * The Host header is kept, so presigned signatures still verify. `onCorrupt` runs before the damaged body
 * is sent on.
 */
async function startCorruptingProxy(corrupts: (url: URL) => boolean, onCorrupt: (url: URL) => Promise<void>) {
  let target: URL | null = null;
  const damaged = new Set<string>();
  const answers: Array<{ url: string; status: number; corrupted: boolean }> = [];
  const server = http.createServer(async (incoming, outgoing) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(incoming.url ?? '/', 'http://proxy');
    const resource = `${url.pathname}?part=${url.searchParams.get('partNumber') ?? ''}`;
    const corrupted = incoming.method === 'PUT' && body.length > 0 && corrupts(url) && !damaged.has(resource);
    if (corrupted) {
      damaged.add(resource);
      body[body.length >> 1] = (body[body.length >> 1] ?? 0) ^ 0x01;
      await onCorrupt(url);
    }
    if (!target) throw new Error('the proxy has no target yet');
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (response) => {
        answers.push({ url: url.pathname, status: response.statusCode ?? 0, corrupted });
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    upstream.on('error', () => outgoing.destroy());
    upstream.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    answers,
    forwardTo(url: string) {
      target = new URL(url);
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let server: TestServer;
let proxy: Awaited<ReturnType<typeof startCorruptingProxy>>;
let acme: SeededCompany;
let userApi: ApiClient;
const folders: string[] = [];
/** Local files the proxy's hook rewrites when their first PUT is damaged: absolute path by key suffix. */
const rewriteOnCorruption = new Map<string, string>();
const corruptedKeys = new Set<string>();

const md5Base64 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('base64');
const quick = { retries: 4, minTimeoutMs: 10, maxTimeoutMs: 100 };

beforeAll(async () => {
  proxy = await startCorruptingProxy(
    (url) => [...corruptedKeys].some((key) => decodeURIComponent(url.pathname).endsWith(key)),
    async (url) => {
      const path = decodeURIComponent(url.pathname);
      for (const [suffix, file] of rewriteOnCorruption) {
        if (path.endsWith(suffix)) await writeFile(file, randomBytes((await stat(file)).size));
      }
    },
  );
  // Small parts, so a 12 MiB file is a 3-part multipart upload.
  server = await startTestServer({
    MULTIPART_THRESHOLD_MIB: '5',
    PART_SIZE_MIB: '5',
    S3_PUBLIC_ENDPOINT: proxy.endpoint,
  });
  proxy.forwardTo(server.storage.embedded?.endpoint ?? '');
  acme = await seedCompany(server.db, 'acme');
  userApi = apiClient(server.url, { token: await tokenOf(server, acme.users.user.id) });
});
afterAll(async () => {
  await server?.close();
  await proxy?.close();
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

async function plannedSession(bucket: string, sizes: Record<string, number>) {
  const { project, cycle } = await projectWithCycle(server, acme, bucket);
  const { id: sessionId } = await userApi.uploads.begin.mutate({
    projectId: project.id,
    cycleId: cycle.id,
    source: 'cli',
  });
  const { files } = await userApi.uploads.plan.mutate({
    sessionId,
    files: Object.entries(sizes).map(([relativePath, size]) => ({ relativePath, size })),
  });
  const keys = files.map((file) => (file.decision === 'upload' ? file.key : ''));
  return { project, cycle, sessionId, keys };
}

describe('a URL signed with the body’s Content-MD5', () => {
  it('stores that body, and refuses another body of the same size (BadDigest) or a request without the header', async () => {
    const { project, sessionId, keys } = await plannedSession('acme-md5', { 'a.wav': 4000, 'big.wav': 6 * MiB });
    const [key = '', bigKey = ''] = keys;
    const bytes = randomBytes(4000);
    const { urls } = await userApi.uploads.signBatch.mutate({
      sessionId,
      requests: [{ key, contentMd5: md5Base64(bytes) }],
    });
    const signed = urls[0] as { url: string; headers: Record<string, string> };
    expect(signed.headers).toEqual({ 'content-md5': md5Base64(bytes) });
    expect(new URL(signed.url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-md5;host');

    const other = randomBytes(4000);
    const damaged = await sendTo(signed, 'PUT', other);
    expect(damaged.status).toBe(400);
    expect(damaged.body).toContain('<Code>BadDigest</Code>');
    const withoutHeader = await sendTo({ url: signed.url }, 'PUT', bytes);
    expect(withoutHeader.status).toBe(403);
    expect(withoutHeader.body).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect(await bucketListing(server, project, '')).toEqual(new Map());

    const stored = await sendTo(signed, 'PUT', bytes);
    expect(stored.status).toBe(200);
    expect(stored.etag).toBe(`"${createHash('md5').update(bytes).digest('hex')}"`);

    // A part, signed singly through `sign` as a client other than the CLI may do.
    const create = await userApi.uploads.sign.mutate({ sessionId, method: 'POST', key: bigKey });
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec((await sendTo(create, 'POST')).body)?.[1] ?? '';
    const part = randomBytes(5 * MiB);
    const partUrl = await userApi.uploads.sign.mutate({
      sessionId,
      method: 'PUT',
      key: bigKey,
      uploadId,
      partNumber: 1,
      contentMd5: md5Base64(part),
    });
    const flipped = Buffer.from(part);
    flipped[0] = (flipped[0] ?? 0) ^ 0xff;
    expect((await sendTo(partUrl, 'PUT', flipped)).status).toBe(400);
    expect((await sendTo({ url: partUrl.url }, 'PUT', part)).status).toBe(403);
    expect((await bucketState(server, project)).uploads).toEqual([{ key: bigKey, uploadId, parts: [] }]);
    expect((await sendTo(partUrl, 'PUT', part)).status).toBe(200);
  });

  it('is refused for anything but a PUT, and when it is not the base64 of 16 bytes (BAD_REQUEST)', async () => {
    const { sessionId, keys } = await plannedSession('acme-md5-refused', { 'a.wav': 10, 'big.wav': 6 * MiB });
    const [key = '', bigKey = ''] = keys;
    const md5 = md5Base64(randomBytes(10));
    expect(
      await outcome(userApi.uploads.sign.mutate({ sessionId, method: 'POST', key: bigKey, contentMd5: md5 })),
    ).toBe('BAD_REQUEST');
    for (const contentMd5 of [
      '',
      'abc',
      md5.slice(0, -2),
      `${md5.slice(0, 21)}B==`,
      Buffer.alloc(20).toString('base64'),
    ]) {
      expect(
        await outcome(userApi.uploads.signBatch.mutate({ sessionId, requests: [{ key, contentMd5 }] })),
        contentMd5,
      ).toBe('BAD_REQUEST');
    }
  });
});

describe('the protocol driver', () => {
  it('re-sends a small file and a part whose body was damaged on the way, and records every file’s SHA-256', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-resend');
    const { root, files } = await writeFolder([
      ...Array.from({ length: 6 }, (_, i) => ({ relativePath: `950349/small-${i}.wav`, size: 3000 + i })),
      { relativePath: '950349/damaged.wav', size: 20_000 },
      { relativePath: '950350/long.wav', size: 12 * MiB },
    ]);
    folders.push(root);
    corruptedKeys.add('950349/damaged.wav').add('950350/long.wav');
    const events: DriverEvent[] = [];
    const api = createApi(server.url, { token: await tokenOf(server, acme.users.user.id) });
    const result = await new UploadDriver({ api, concurrency: 4, retry: quick, onEvent: (e) => events.push(e) }).upload(
      {
        projectId: project.id,
        cycleId: cycle.id,
        files,
      },
    );

    expect(result.failed).toEqual([]);
    expect(result.session).toMatchObject({ status: 'completed', filesDone: files.length, filesFailed: 0 });
    const refused = proxy.answers.filter((answer) => answer.corrupted);
    // The small file and each of the three parts were damaged once, refused by S3, and sent again.
    expect(refused.map((answer) => answer.status)).toEqual([400, 400, 400, 400]);
    expect(events.filter((e) => e.type === 'retry' && e.error.includes('BadDigest'))).toHaveLength(4);
    for (const file of files) {
      expect(await objectSha256(server, project, `C1/${file.relativePath}`), file.relativePath).toBe(file.sha256);
    }
    const ledger = await ledgerOf(server, cycle.id);
    expect(new Map(ledger.map((row) => [row.relativePath, row.checksum]))).toEqual(
      new Map(files.map((file) => [file.relativePath, file.sha256])),
    );
    const listed = await bucketState(server, project);
    const long = ledger.find((row) => row.relativePath === '950350/long.wav');
    // S3's multipart ETag: the MD5 of the parts' MD5s, and their count.
    const bytes = await readFile(files.find((file) => file.relativePath === '950350/long.wav')?.absolutePath ?? '');
    const partMd5s = [0, 1, 2].map((i) =>
      createHash('md5')
        .update(bytes.subarray(i * 5 * MiB, (i + 1) * 5 * MiB))
        .digest(),
    );
    expect(long?.etag).toBe(`"${createHash('md5').update(Buffer.concat(partMd5s)).digest('hex')}-3"`);
    expect(listed.uploads).toEqual([]);
  });

  it('fails a file that changed on disk after S3 refused its body, instead of sending other bytes', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-changed');
    const { root, files } = await writeFolder([
      { relativePath: 'ok.wav', size: 1000 },
      { relativePath: 'changing.wav', size: 2000 },
    ]);
    folders.push(root);
    const changing = files.find((file) => file.relativePath === 'changing.wav');
    corruptedKeys.add('/C1/changing.wav');
    rewriteOnCorruption.set('/C1/changing.wav', changing?.absolutePath ?? '');
    const api = createApi(server.url, { token: await tokenOf(server, acme.users.user.id) });
    const result = await new UploadDriver({ api, retry: quick }).upload({
      projectId: project.id,
      cycleId: cycle.id,
      files,
    });

    expect(result.failed).toEqual([
      { relativePath: 'changing.wav', error: expect.stringContaining('changed on disk while it was being uploaded') },
    ]);
    expect(await bucketListing(server, project, '')).toEqual(new Map([['C1/ok.wav', 1000]]));
  });
});
