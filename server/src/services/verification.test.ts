import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createApi } from '@data-uploader/scripts/driver/api';
import { UploadDriver } from '@data-uploader/scripts/driver/uploadDriver';
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
import { deleteObject, ledgerRow, MiB, projectWithCycle, tokenOf, writeFolder } from '../../test/uploadFixtures.ts';

let server: TestServer;
let acme: SeededCompany;
let globex: SeededCompany;
let viewerApi: ApiClient;
const folders: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ MULTIPART_THRESHOLD_MIB: '5', PART_SIZE_MIB: '5' });
  acme = await seedCompany(server.db, 'acme');
  globex = await seedCompany(server.db, 'globex');
  viewerApi = apiClient(server.url, { token: await tokenOf(server, acme.users.viewer.id) });
});
afterAll(async () => {
  await server?.close();
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

/** A cycle filled by the CLI's driver: small files and one 3-part file, all completed. */
async function uploadedCycle(bucket: string) {
  const place = await projectWithCycle(server, acme, bucket);
  const { root, files } = await writeFolder([
    ...Array.from({ length: 5 }, (_, i) => ({ relativePath: `950349/rec-${i}.wav`, size: 2000 + i })),
    { relativePath: '950350/long.wav', size: 11 * MiB },
  ]);
  folders.push(root);
  const api = createApi(server.url, { token: await tokenOf(server, acme.users.user.id) });
  const result = await new UploadDriver({ api }).upload({
    projectId: place.project.id,
    cycleId: place.cycle.id,
    files,
  });
  expect(result.failed).toEqual([]);
  return place;
}

/** Writes an object with the server's own credentials, as someone working on the bucket by hand would. */
async function putObject(
  project: { bucket: string; region: string; endpoint: string | null },
  key: string,
  body: Uint8Array,
) {
  const target = server.storage.targetFor(project);
  await server.storage.client(target).send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: body }));
}

describe('cycles.verify', () => {
  it('finds no difference in a cycle the CLI uploaded, and says what it compared', async () => {
    const { cycle } = await uploadedCycle('acme-verify-clean');
    const report = await viewerApi.cycles.verify.query({ id: cycle.id });
    expect(report).toEqual({
      cycleId: cycle.id,
      prefix: 'C1/',
      ledgerFiles: 6,
      bucketObjects: 6,
      total: 0,
      counts: { missing: 0, sizeDiffers: 0, etagDiffers: 0, extra: 0 },
      differences: [],
    });
  });

  it('finds a deleted object, an object replaced by one of the same size, one of another size, and an extra one', async () => {
    const { project, cycle } = await uploadedCycle('acme-verify-broken');
    const other = await viewerApi.cycles.list.query({ projectId: project.id });
    expect(other).toHaveLength(1);
    await deleteObject(server, project, 'C1/950349/rec-0.wav');
    await putObject(project, 'C1/950349/rec-1.wav', randomBytes(2001));
    await putObject(project, 'C1/950349/rec-2.wav', randomBytes(10));
    await putObject(project, 'C1/950351/stray.wav', randomBytes(500));
    // Outside the cycle's prefix: none of this cycle's business.
    await putObject(project, 'C2/950349/rec-0.wav', randomBytes(10));
    const replacedEtag = (await ledgerRow(server, cycle.id, 'C1/950349/rec-1.wav'))?.etag;

    const report = await viewerApi.cycles.verify.query({ id: cycle.id });
    expect(report.counts).toEqual({ missing: 1, sizeDiffers: 1, etagDiffers: 1, extra: 1 });
    expect(report.total).toBe(4);
    expect(report).toMatchObject({ ledgerFiles: 6, bucketObjects: 6 });
    const byKey = new Map(report.differences.map((d) => [d.key, d]));
    expect(byKey.get('C1/950349/rec-0.wav')).toMatchObject({ kind: 'missing', ledger: { size: 2000 }, bucket: null });
    expect(byKey.get('C1/950349/rec-1.wav')).toMatchObject({
      kind: 'etagDiffers',
      ledger: { size: 2001, etag: replacedEtag },
      bucket: { size: 2001 },
    });
    expect(byKey.get('C1/950349/rec-1.wav')?.bucket?.etag).not.toBe(replacedEtag);
    expect(byKey.get('C1/950349/rec-2.wav')).toMatchObject({
      kind: 'sizeDiffers',
      ledger: { size: 2002 },
      bucket: { size: 10 },
    });
    expect(byKey.get('C1/950351/stray.wav')).toMatchObject({ kind: 'extra', ledger: null, bucket: { size: 500 } });
    expect(byKey.size).toBe(4);

    const capped = await viewerApi.cycles.verify.query({ id: cycle.id, limit: 2 });
    expect(capped.differences).toHaveLength(2);
    expect(capped.total).toBe(4);
  });

  it('compares across listing pages: 1,050 objects, one deleted from the second page of 1,000', {
    timeout: 180_000,
  }, async () => {
    const place = await projectWithCycle(server, acme, 'acme-verify-pages');
    const { root, files } = await writeFolder(
      Array.from({ length: 1050 }, (_, i) => ({ relativePath: `S1/r${String(i).padStart(4, '0')}.wav`, size: 8 })),
    );
    folders.push(root);
    const api = createApi(server.url, { token: await tokenOf(server, acme.users.user.id) });
    const result = await new UploadDriver({ api, concurrency: 16 }).upload({
      projectId: place.project.id,
      cycleId: place.cycle.id,
      files,
    });
    expect(result.failed).toEqual([]);
    expect((await viewerApi.cycles.verify.query({ id: place.cycle.id })).total).toBe(0);
    await deleteObject(server, place.project, 'C1/S1/r1024.wav');
    const report = await viewerApi.cycles.verify.query({ id: place.cycle.id });
    expect(report).toMatchObject({ ledgerFiles: 1050, bucketObjects: 1049, total: 1 });
    expect(report.differences).toEqual([
      { kind: 'missing', key: 'C1/S1/r1024.wav', ledger: expect.objectContaining({ size: 8 }), bucket: null },
    ]);
  });

  it('reports an object whose upload was never confirmed as extra, with the ledger status', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-verify-unconfirmed');
    const userApi = apiClient(server.url, { token: await tokenOf(server, acme.users.user.id) });
    const { id: sessionId } = await userApi.uploads.begin.mutate({
      projectId: project.id,
      cycleId: cycle.id,
      source: 'cli',
    });
    await userApi.uploads.plan.mutate({ sessionId, files: [{ relativePath: 'a.wav', size: 100 }] });
    await userApi.uploads.signBatch.mutate({ sessionId, requests: [{ key: 'C1/a.wav' }] });
    await putObject(project, 'C1/a.wav', randomBytes(100));
    const report = await viewerApi.cycles.verify.query({ id: cycle.id });
    expect(report.differences).toEqual([
      {
        kind: 'extra',
        key: 'C1/a.wav',
        ledger: { size: 100, etag: null, status: 'uploading' },
        bucket: expect.anything(),
      },
    ]);
  });

  it('answers NOT_FOUND for another company’s cycle or an unknown id, and BAD_REQUEST for a bad limit', async () => {
    const { cycle } = await projectWithCycle(server, globex, 'globex-verify');
    expect(await outcome(viewerApi.cycles.verify.query({ id: cycle.id }))).toBe('NOT_FOUND');
    expect(await outcome(viewerApi.cycles.verify.query({ id: '00000000-0000-4000-8000-000000000000' }))).toBe(
      'NOT_FOUND',
    );
    const own = await projectWithCycle(server, acme, 'acme-verify-limits');
    for (const limit of [0, 10_001, 1.5]) {
      expect(await outcome(viewerApi.cycles.verify.query({ id: own.cycle.id, limit })), String(limit)).toBe(
        'BAD_REQUEST',
      );
    }
  });
});
