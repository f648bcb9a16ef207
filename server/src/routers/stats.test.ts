import { schema } from '@data-uploader/drizzle';
import { and, eq } from 'drizzle-orm';
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
import { projectWithCycle, tokenOf } from '../../test/uploadFixtures.ts';

let server: TestServer;
let acme: SeededCompany;
let userApi: ApiClient;
let viewerApi: ApiClient;
let globexApi: ApiClient;
let projectId: string;
let c1: string;
let c2: string;
let otherCycle: string;
let sessionId: string;

const june = (day: number, time = '10:00:00') => Date.parse(`2025-06-0${day}T${time}Z`);

/** Marks a planned file as it would be after its upload: completed at `completedAt`, or failed at `failedAt`. */
async function settle(cycleId: string, relativePath: string, outcome: { completedAt?: string; failedAt?: string }) {
  const { files } = schema;
  const where = and(eq(files.cycleId, cycleId), eq(files.relativePath, relativePath));
  if (outcome.completedAt) {
    await server.db
      .update(files)
      .set({ status: 'completed', completedAt: new Date(outcome.completedAt) })
      .where(where);
  } else if (outcome.failedAt) {
    await server.db
      .update(files)
      .set({ status: 'failed', error: 'disk error', claimedAt: new Date(outcome.failedAt) })
      .where(where);
  }
}

beforeAll(async () => {
  server = await startTestServer();
  acme = await seedCompany(server.db, 'acme');
  const globex = await seedCompany(server.db, 'globex');
  userApi = apiClient(server.url, { token: await tokenOf(server, acme.users.user.id) });
  viewerApi = apiClient(server.url, { token: await tokenOf(server, acme.users.viewer.id) });
  globexApi = apiClient(server.url, { token: await tokenOf(server, globex.users.viewer.id) });
  const { project, cycle } = await projectWithCycle(server, acme, 'acme-insight');
  const other = await projectWithCycle(server, acme, 'acme-insight-other');
  const adminApi = apiClient(server.url, { token: await tokenOf(server, acme.users.admin.id) });
  projectId = project.id;
  c1 = cycle.id;
  c2 = (await adminApi.cycles.create.mutate({ projectId })).id;
  otherCycle = other.cycle.id;

  const session = await userApi.uploads.begin.mutate({ projectId, cycleId: c1, label: 'June card' });
  sessionId = session.id;
  await userApi.uploads.plan.mutate({
    sessionId,
    files: [
      { relativePath: 'AM-01/20250601_000000.WAV', size: 100, lastModified: june(5) },
      { relativePath: 'AM-01/20250601_120000.WAV', size: 100, lastModified: june(5) },
      { relativePath: 'AM-01/20250603_000000.WAV', size: 100, lastModified: june(5) },
      { relativePath: 'AM-02/20250601_000000.WAV', size: 200 },
      { relativePath: 'AM-02/20250602_000000.WAV', size: 200 },
      { relativePath: 'CAM07/IMG_0001.JPG', size: 50, lastModified: june(2, '23:59:59') },
      { relativePath: 'notes.txt', size: 5 },
    ],
  });
  await settle(c1, 'AM-01/20250601_000000.WAV', { completedAt: '2025-07-01T10:00:05Z' });
  await settle(c1, 'AM-01/20250601_120000.WAV', { completedAt: '2025-07-01T10:00:55Z' });
  await settle(c1, 'AM-01/20250603_000000.WAV', { completedAt: '2025-07-01T10:02:00Z' });
  await settle(c1, 'AM-02/20250601_000000.WAV', { completedAt: '2025-07-01T10:02:30Z' });
  await settle(c1, 'CAM07/IMG_0001.JPG', { completedAt: '2025-07-02T08:00:00Z' });
  await settle(c1, 'notes.txt', { completedAt: '2025-07-02T08:00:00Z' });
  await settle(c1, 'AM-02/20250602_000000.WAV', { failedAt: '2025-07-02T09:00:00Z' });

  const later = await userApi.uploads.begin.mutate({ projectId, cycleId: c2, label: 'planned only' });
  await userApi.uploads.plan.mutate({
    sessionId: later.id,
    files: [{ relativePath: 'AM-01/20250610_000000.wav', size: 10 }],
  });
});
afterAll(() => server?.close());

describe('planning', () => {
  it('stores the recording time from the file name on the ledger row, and none for IMG_ names', async () => {
    const rows = await server.db
      .select({ path: schema.files.relativePath, recordedAt: schema.files.recordedAt })
      .from(schema.files)
      .where(eq(schema.files.cycleId, c1))
      .orderBy(schema.files.relativePath);
    expect(rows.map((row) => [row.path, row.recordedAt?.toISOString() ?? null])).toEqual([
      ['AM-01/20250601_000000.WAV', '2025-06-01T00:00:00.000Z'],
      ['AM-01/20250601_120000.WAV', '2025-06-01T12:00:00.000Z'],
      ['AM-01/20250603_000000.WAV', '2025-06-03T00:00:00.000Z'],
      ['AM-02/20250601_000000.WAV', '2025-06-01T00:00:00.000Z'],
      ['AM-02/20250602_000000.WAV', '2025-06-02T00:00:00.000Z'],
      ['CAM07/IMG_0001.JPG', null],
      ['notes.txt', null],
    ]);
  });
});

describe('stats.projectCycles', () => {
  it('counts files and bytes planned and arrived per cycle, in creation order', async () => {
    expect(await viewerApi.stats.projectCycles.query({ projectId })).toEqual([
      {
        cycleId: c1,
        name: 'C1',
        filesPlanned: 7,
        bytesPlanned: 755,
        filesArrived: 6,
        bytesArrived: 555,
        filesFailed: 1,
      },
      { cycleId: c2, name: 'C2', filesPlanned: 1, bytesPlanned: 10, filesArrived: 0, bytesArrived: 0, filesFailed: 0 },
    ]);
  });
});

describe('stats.coverage', () => {
  const expected = [
    { sensor: '(top level)', day: '2025-07-02', files: 1, bytes: 5 },
    { sensor: 'AM-01', day: '2025-06-01', files: 2, bytes: 200 },
    { sensor: 'AM-01', day: '2025-06-03', files: 1, bytes: 100 },
    { sensor: 'AM-02', day: '2025-06-01', files: 1, bytes: 200 },
    { sensor: 'CAM07', day: '2025-06-02', files: 1, bytes: 50 },
  ];

  it('counts arrived files per sensor per recording day (name, else last-modified, else arrival)', async () => {
    expect(await viewerApi.stats.coverage.query({ projectId })).toEqual(expected);
  });

  it('narrows to one cycle of the project', async () => {
    expect(await viewerApi.stats.coverage.query({ projectId, cycleId: c1 })).toEqual(expected);
    expect(await viewerApi.stats.coverage.query({ projectId, cycleId: c2 })).toEqual([]);
  });

  it('answers NOT_FOUND for a cycle of another project', async () => {
    expect(await outcome(viewerApi.stats.coverage.query({ projectId, cycleId: otherCycle }))).toBe('NOT_FOUND');
  });
});

describe('stats.successRate', () => {
  it('counts completed files per completion day and failed ones per last attempt', async () => {
    expect(await viewerApi.stats.successRate.query({ projectId })).toEqual([
      { day: '2025-07-01', completed: 4, failed: 0 },
      { day: '2025-07-02', completed: 2, failed: 1 },
    ]);
  });
});

describe('stats.fileTypes', () => {
  it('groups by lower-case extension across cycles, most files first', async () => {
    expect(await viewerApi.stats.fileTypes.query({ projectId })).toEqual([
      { extension: 'wav', files: 6, bytes: 710, filesArrived: 4, bytesArrived: 500 },
      { extension: 'jpg', files: 1, bytes: 50, filesArrived: 1, bytesArrived: 50 },
      { extension: 'txt', files: 1, bytes: 5, filesArrived: 1, bytesArrived: 5 },
    ]);
  });
});

describe('stats.sessionThroughput', () => {
  it('counts completions per minute from the first to the last, quiet minutes as zero', async () => {
    expect(await viewerApi.stats.sessionThroughput.query({ sessionId })).toHaveLength(
      // 10:00 on 1 July to 08:00 on 2 July, both included.
      22 * 60 + 1,
    );
    const minutes = await viewerApi.stats.sessionThroughput.query({ sessionId });
    expect(minutes.slice(0, 3)).toEqual([
      { minute: '2025-07-01T10:00:00Z', files: 2, bytes: 200 },
      { minute: '2025-07-01T10:01:00Z', files: 0, bytes: 0 },
      { minute: '2025-07-01T10:02:00Z', files: 2, bytes: 300 },
    ]);
    expect(minutes.at(-1)).toEqual({ minute: '2025-07-02T08:00:00Z', files: 2, bytes: 55 });
  });

  it('answers an empty series for a session with nothing completed', async () => {
    const fresh = await userApi.uploads.begin.mutate({ projectId, cycleId: c1, label: 'empty' });
    expect(await viewerApi.stats.sessionThroughput.query({ sessionId: fresh.id })).toEqual([]);
  });
});

describe('tenancy', () => {
  it('answers NOT_FOUND for another company’s project and session', async () => {
    expect(await outcome(globexApi.stats.coverage.query({ projectId }))).toBe('NOT_FOUND');
    expect(await outcome(globexApi.stats.projectCycles.query({ projectId }))).toBe('NOT_FOUND');
    expect(await outcome(globexApi.stats.sessionThroughput.query({ sessionId }))).toBe('NOT_FOUND');
  });
});
