import { createHmac } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, symlink } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateMultipartUploadCommand } from '@aws-sdk/client-s3';
import { cycleKeyPrefix } from '@data-uploader/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, failure, seedCompany, startTestServer, type TestServer } from '../../test/harness.ts';
import { type S3Proxy, startS3Proxy } from '../../test/s3Proxy.ts';
import {
  bucketListing,
  ledgerOf,
  MiB,
  objectSha256,
  projectWithCycle,
  putAndConfirm,
  sendTo,
  tokenOf,
  writeFolder,
} from '../../test/uploadFixtures.ts';
import { Jobs } from './jobs.ts';
import { cleanStaleUploads } from './staleUploads.ts';
import { signatureHeader } from './webhooks.ts';

let server: TestServer;
let proxy: S3Proxy;
let importRoot: string;
let company: Awaited<ReturnType<typeof seedCompany>>;
let admin: ReturnType<typeof apiClient>;

beforeAll(async () => {
  importRoot = await mkdtemp(path.join(tmpdir(), 'du-import-root-'));
  proxy = await startS3Proxy();
  server = await startTestServer(
    { IMPORT_ROOTS: importRoot, MULTIPART_THRESHOLD_MIB: '5', PART_SIZE_MIB: '5', S3_PUBLIC_ENDPOINT: proxy.endpoint },
    'default',
    { jobs: true },
  );
  if (!server.storage.embedded) throw new Error('the test needs the embedded S3 server');
  proxy.forwardTo(server.storage.embedded.endpoint);
  company = await seedCompany(server.db, 'jobs');
  admin = apiClient(server.url, { token: await tokenOf(server, company.users.admin.id) });
});

afterAll(async () => {
  await server?.close();
  await proxy?.close();
  await rm(importRoot, { recursive: true, force: true });
});

/** A field folder written inside the import root. */
async function folderInRoot(name: string, spec: Array<{ relativePath: string; size: number }>) {
  const written = await writeFolder(spec);
  const target = path.join(importRoot, name);
  await rename(written.root, target);
  return { ...written, path: target };
}

async function jobState(id: string) {
  const jobs = await admin.jobs.list.query({});
  const job = jobs.find((candidate) => candidate.id === id);
  if (!job) throw new Error('job not listed');
  return job;
}

const partNumberOf = (url: string) => Number(new URL(url, 'http://x').searchParams.get('partNumber') ?? 0);

describe('server-side imports', () => {
  it('imports a folder from the server’s disk into the cycle; it appears in the history as a job', async () => {
    const { project, cycle } = await projectWithCycle(server, company, 'import-bucket');
    const folder = await folderInRoot('card-a', [
      ...Array.from({ length: 30 }, (_, i) => ({
        relativePath: `S1/20250909_${String(i).padStart(6, '0')}.WAV`,
        size: 1000 + i,
      })),
      { relativePath: 'S2/20250909_120000.WAV', size: 12 * MiB + 3 },
    ]);
    const job = await admin.jobs.startImport.mutate({
      projectId: project.id,
      cycleId: cycle.id,
      path: folder.path,
      label: 'card A',
    });
    await expect
      .poll(async () => (await jobState(job.id)).status, { timeout: 60_000, interval: 250 })
      .toBe('completed');
    const done = await jobState(job.id);
    expect(done).toMatchObject({ filesFound: 31, filesDone: 31, filesFailed: 0, error: null });

    const [session] = await admin.sessions.list.query({ cycleId: cycle.id });
    expect(session).toMatchObject({ id: done.sessionId, source: 'job', status: 'completed', label: 'card A' });
    const prefix = cycleKeyPrefix(project.keyPrefix, cycle.s3Prefix);
    const listing = await bucketListing(server, project, prefix);
    expect(listing.size).toBe(31);
    for (const file of folder.files)
      expect(await objectSha256(server, project, prefix + file.relativePath)).toBe(file.sha256);
  });

  it('refuses a path outside IMPORT_ROOTS, also through a symlink, and records nothing', async () => {
    const { project, cycle } = await projectWithCycle(server, company, 'import-refused');
    const outside = await mkdtemp(path.join(tmpdir(), 'du-outside-'));
    await mkdir(path.join(importRoot, 'links'), { recursive: true });
    await symlink(outside, path.join(importRoot, 'links', 'out'));
    const before = (await admin.jobs.list.query({})).length;
    for (const attempt of [outside, path.join(importRoot, 'links', 'out'), `${importRoot}/../`, 'relative/path']) {
      const refused = await failure(
        admin.jobs.startImport.mutate({ projectId: project.id, cycleId: cycle.id, path: attempt }),
      );
      expect(refused.code).toBe('BAD_REQUEST');
    }
    expect((await admin.jobs.list.query({})).length).toBe(before);
    await rm(outside, { recursive: true, force: true });
  });
});

describe('stale multipart clean-up', () => {
  it('aborts an orphaned multipart upload and leaves one a live session may still resume', async () => {
    const { project, cycle } = await projectWithCycle(server, company, 'stale-bucket');
    const prefix = cycleKeyPrefix(project.keyPrefix, cycle.s3Prefix);
    const target = server.storage.targetFor(project);
    const orphan = await server.storage
      .client(target)
      .send(new CreateMultipartUploadCommand({ Bucket: target.bucket, Key: `${prefix}orphan.wav` }));

    const user = apiClient(server.url, { token: await tokenOf(server, company.users.user.id) });
    const session = await user.uploads.begin.mutate({ projectId: project.id, cycleId: cycle.id, source: 'cli' });
    const [planned] = (
      await user.uploads.plan.mutate({
        sessionId: session.id,
        files: [{ relativePath: 'S1/live.wav', size: 12 * MiB }],
      })
    ).files;
    if (planned?.decision !== 'upload') throw new Error('not planned');
    const created = await sendTo(
      await user.uploads.sign.mutate({ sessionId: session.id, method: 'POST', key: planned.key }),
      'POST',
    );
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body)?.[1] ?? '';
    await user.uploads.signBatch.mutate({
      sessionId: session.id,
      requests: [{ key: planned.key, uploadId, partNumber: 1 }],
    });

    const result = await cleanStaleUploads(server.db, server.storage, 0);
    expect(result.aborted).toBeGreaterThanOrEqual(1);
    expect(await server.storage.multipartUploadExists(project, `${prefix}orphan.wav`, orphan.UploadId ?? '')).toBe(
      false,
    );
    expect(await server.storage.multipartUploadExists(project, planned.key, uploadId)).toBe(true);
  });
});

describe('webhooks', () => {
  it('calls the project’s webhook with the finished session, signed with its secret', async () => {
    const { project, cycle } = await projectWithCycle(server, company, 'hook-bucket');
    const received: Array<{ signature: string; body: string }> = [];
    const receiver = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on('end', () => {
        received.push({ signature: String(request.headers[signatureHeader]), body });
        response.writeHead(received.length === 1 ? 503 : 204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const { secret } = await admin.projects.setWebhook.mutate({ id: project.id, url });
      if (!secret) throw new Error('no secret');
      const user = apiClient(server.url, { token: await tokenOf(server, company.users.user.id) });
      const session = await user.uploads.begin.mutate({ projectId: project.id, cycleId: cycle.id, source: 'cli' });
      const [planned] = (
        await user.uploads.plan.mutate({ sessionId: session.id, files: [{ relativePath: 'S1/a.wav', size: 3 }] })
      ).files;
      if (planned?.decision !== 'upload') throw new Error('not planned');
      await putAndConfirm(user, session.id, [{ key: planned.key, body: new Uint8Array([1, 2, 3]) }]);
      await user.uploads.finish.mutate({ sessionId: session.id });

      // The first delivery is answered 503; the queue tries again.
      await expect.poll(() => received.length, { timeout: 60_000, interval: 250 }).toBe(2);
      const delivery = received[1] as { signature: string; body: string };
      expect(delivery.signature).toBe(`sha256=${createHmac('sha256', secret).update(delivery.body).digest('hex')}`);
      expect(JSON.parse(delivery.body)).toMatchObject({
        event: 'session.finished',
        session: { id: session.id, status: 'completed', filesDone: 1, projectId: project.id },
      });
    } finally {
      receiver.close();
    }
  }, 90_000);
});

// Last: it stops the server's own workers, as a crash would.
describe('a worker that dies', () => {
  it('survives its worker dying mid-job: another worker continues, and nothing already verified is sent again', async () => {
    const { project, cycle } = await projectWithCycle(server, company, 'import-restart');
    const big = { relativePath: 'S9/20250909_000000.WAV', size: 31 * MiB };
    const folder = await folderInRoot('card-restart', [
      ...Array.from({ length: 40 }, (_, i) => ({
        relativePath: `S8/20250909_${String(i).padStart(6, '0')}.WAV`,
        size: 2000 + i,
      })),
      big,
    ]);
    // Hold the big file's later parts so the worker is surely mid-file when it dies.
    proxy.hold(({ method, url }) => method === 'PUT' && partNumberOf(url) >= 3);
    const seenBefore = proxy.requests.length;
    const job = await admin.jobs.startImport.mutate({ projectId: project.id, cycleId: cycle.id, path: folder.path });
    const completedKeys = async () =>
      (await ledgerOf(server, cycle.id)).filter((row) => row.status === 'completed').map((row) => row.s3Key);
    await expect.poll(async () => (await completedKeys()).length, { timeout: 30_000 }).toBe(40);
    const partsDone = () =>
      proxy.requests.slice(seenBefore).filter((r) => partNumberOf(r.url) > 0 && r.status === 200).length;
    await expect.poll(partsDone, { timeout: 30_000 }).toBe(2);
    const verifiedBefore = await completedKeys();

    await server.jobs?.stop({ abandon: true });
    proxy.hold(null);
    const replacement = await Jobs.start(
      { config: server.config, database: server.database, storage: server.storage },
      { work: true, superviseIntervalSeconds: 1 },
    );
    try {
      await expect
        .poll(async () => (await jobState(job.id)).status, { timeout: 90_000, interval: 500 })
        .toBe('completed');
    } finally {
      await replacement.stop();
    }
    const puts = proxy.requests.slice(seenBefore).filter((r) => r.method === 'PUT');
    for (const key of verifiedBefore) {
      expect(puts.filter((r) => decodeURIComponent(new URL(r.url, 'http://x').pathname).endsWith(key))).toHaveLength(1);
    }
    const bigParts = puts.filter((r) => partNumberOf(r.url) > 0 && r.status === 200).map((r) => partNumberOf(r.url));
    expect(bigParts.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const prefix = cycleKeyPrefix(project.keyPrefix, cycle.s3Prefix);
    expect(await objectSha256(server, project, prefix + big.relativePath)).toBe(folder.files.at(-1)?.sha256);
    expect((await bucketListing(server, project, prefix)).size).toBe(41);
  }, 150_000);
});
