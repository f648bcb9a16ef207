import { randomBytes } from 'node:crypto';
import { schema } from '@data-uploader/drizzle';
import { eq, sql } from 'drizzle-orm';
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
import { countersFromLedger, projectWithCycle, putAndConfirm, tokenOf } from '../../test/uploadFixtures.ts';

let server: TestServer;
let acme: SeededCompany;
let globex: SeededCompany;
let userApi: ApiClient;
let adminApi: ApiClient;
let viewerApi: ApiClient;
let globexApi: ApiClient;

beforeAll(async () => {
  server = await startTestServer();
  acme = await seedCompany(server.db, 'acme');
  globex = await seedCompany(server.db, 'globex');
  userApi = apiClient(server.url, { token: await tokenOf(server, acme.users.user.id) });
  adminApi = apiClient(server.url, { token: await tokenOf(server, acme.users.admin.id) });
  viewerApi = apiClient(server.url, { token: await tokenOf(server, acme.users.viewer.id) });
  globexApi = apiClient(server.url, { token: await tokenOf(server, globex.users.user.id) });
});
afterAll(() => server?.close());

/** Sets when a session started (and finished, when given), as if it had happened then. */
async function setTimes(id: string, times: { startedAt: string; finishedAt?: string; lastActivityAt?: string }) {
  await server.db
    .update(schema.uploadSessions)
    .set({
      startedAt: new Date(times.startedAt),
      ...(times.finishedAt ? { finishedAt: new Date(times.finishedAt) } : {}),
      ...(times.lastActivityAt ? { lastActivityAt: new Date(times.lastActivityAt) } : {}),
    })
    .where(eq(schema.uploadSessions.id, id));
}

/** The same, in raw SQL, for instants finer than a millisecond (JavaScript dates stop at milliseconds). */
async function setStartedAt(id: string, timestamp: string) {
  const column = sql.identifier(schema.uploadSessions.startedAt.name);
  await server.db.execute(
    sql`update ${schema.uploadSessions} set ${column} = ${timestamp}::timestamptz where id = ${id}`,
  );
}

const ids = (sessions: Array<{ id: string }>) => sessions.map((session) => session.id);

describe('sessions.list', () => {
  let history: { p1: string; p1c1: string; p1c2: string; p2: string; p2c1: string };
  /** Oldest first: s[0] started first. */
  let s: string[];

  beforeAll(async () => {
    const one = await projectWithCycle(server, acme, 'acme-history-one');
    const two = await projectWithCycle(server, acme, 'acme-history-two');
    const c2 = await adminApi.cycles.create.mutate({ projectId: one.project.id });
    history = { p1: one.project.id, p1c1: one.cycle.id, p1c2: c2.id, p2: two.project.id, p2c1: two.cycle.id };
    const places: Array<[ApiClient, string, string]> = [
      [userApi, history.p1, history.p1c1],
      [adminApi, history.p1, history.p1c2],
      [userApi, history.p2, history.p2c1],
      [userApi, history.p1, history.p1c1],
      [adminApi, history.p1, history.p1c1],
    ];
    s = [];
    for (const [index, [api, projectId, cycleId]] of places.entries()) {
      const session = await api.uploads.begin.mutate({ projectId, cycleId, label: `history ${index}` });
      await setTimes(session.id, { startedAt: `2025-01-01T10:0${index}:00Z` });
      s.push(session.id);
    }
  });

  /** The id of the session that started `index`-th. */
  const sid = (index: number) => s[index] as string;

  it('lists the company’s sessions newest first', async () => {
    const listed = await userApi.sessions.list.query({});
    expect(ids(listed)).toEqual([sid(4), sid(3), sid(2), sid(1), sid(0)]);
    expect(listed[0]).toMatchObject({ label: 'history 4', username: 'acme-admin', status: 'active' });
  });

  it('names the project and cycle each session went to', async () => {
    const listed = await viewerApi.sessions.list.query({ projectId: history.p1 });
    expect(listed.map((session) => [session.projectName, session.cycleName])).toEqual([
      ['Project acme-history-one', 'C1'],
      ['Project acme-history-one', 'C1'],
      ['Project acme-history-one', 'C2'],
      ['Project acme-history-one', 'C1'],
    ]);
  });

  it('filters by project and by cycle', async () => {
    expect(ids(await userApi.sessions.list.query({ projectId: history.p1 }))).toEqual([sid(4), sid(3), sid(1), sid(0)]);
    expect(ids(await userApi.sessions.list.query({ cycleId: history.p1c1 }))).toEqual([sid(4), sid(3), sid(0)]);
    expect(ids(await userApi.sessions.list.query({ cycleId: history.p1c2 }))).toEqual([sid(1)]);
    expect(ids(await userApi.sessions.list.query({ projectId: history.p2 }))).toEqual([sid(2)]);
    expect(await userApi.sessions.list.query({ projectId: history.p2, cycleId: history.p1c1 })).toEqual([]);
  });

  it('pages with `before`, the cursor of the last session of the previous page', async () => {
    const first = await userApi.sessions.list.query({ limit: 2 });
    expect(ids(first)).toEqual([sid(4), sid(3)]);
    const second = await userApi.sessions.list.query({ limit: 2, before: first.at(-1)?.cursor });
    expect(ids(second)).toEqual([sid(2), sid(1)]);
    const third = await userApi.sessions.list.query({ limit: 2, before: second.at(-1)?.cursor });
    expect(ids(third)).toEqual([sid(0)]);
    expect(await userApi.sessions.list.query({ limit: 2, before: third.at(-1)?.cursor })).toEqual([]);
    expect(
      ids(await userApi.sessions.list.query({ projectId: history.p1, limit: 1, before: second[0]?.cursor })),
    ).toEqual([sid(1)]);
  });

  it('lets a viewer read the history', async () => {
    expect(await viewerApi.sessions.list.query({ projectId: history.p1 })).toEqual(
      await userApi.sessions.list.query({ projectId: history.p1 }),
    );
  });

  it('answers another company’s project or cycle as NOT_FOUND, and shows it none of this company’s sessions', async () => {
    expect(await outcome(globexApi.sessions.list.query({ projectId: history.p1 }))).toBe('NOT_FOUND');
    expect(await outcome(globexApi.sessions.list.query({ cycleId: history.p1c1 }))).toBe('NOT_FOUND');
    expect(await globexApi.sessions.list.query({})).toEqual([]);
  });
});

describe('sessions.list paging', () => {
  it('loses and repeats no session when several started in the same millisecond or at the same instant', async () => {
    const company = await seedCompany(server.db, 'ticks');
    const api = apiClient(server.url, { token: await tokenOf(server, company.users.user.id) });
    const { project, cycle } = await projectWithCycle(server, company, 'ticks-history');
    const starts = [
      '2025-03-01T00:00:00.000000Z',
      '2025-03-01T00:00:01.000100Z',
      '2025-03-01T00:00:01.000400Z',
      '2025-03-01T00:00:02.000000Z',
      '2025-03-01T00:00:02.000000Z',
      '2025-03-01T00:00:03.000000Z',
    ];
    const made: string[] = [];
    for (const start of starts) {
      const session = await api.uploads.begin.mutate({ projectId: project.id, cycleId: cycle.id });
      await setStartedAt(session.id, start);
      made.push(session.id);
    }

    const seen: string[] = [];
    let before: string | undefined;
    for (let page = 0; page < starts.length + 1; page++) {
      const rows = await api.sessions.list.query({ limit: 1, before });
      if (rows.length === 0) break;
      seen.push(...ids(rows));
      before = rows.at(-1)?.cursor;
    }
    expect([...seen].sort()).toEqual([...made].sort());
  });
});

describe('sessions.list cursors', () => {
  it('refuses a malformed cursor with BAD_REQUEST naming `before`', async () => {
    for (const before of [
      '2025-13-01T00:00:00.000000Z|6f1d3b1e-1111-4c6e-9d6f-0f7c1a2b3c4d',
      '2025-03-01T00:00:00.000000Z|------------------------------------',
      'not a cursor',
    ]) {
      const refused = await userApi.sessions.list
        .query({ before })
        .catch((error: { data?: { code?: string; fieldErrors?: object } }) => error);
      expect(refused).toMatchObject({ data: { code: 'BAD_REQUEST', fieldErrors: { before: expect.any(Array) } } });
    }
  });
});

describe('sessions.get', () => {
  it('answers a finished session with its counters, duration, person and source', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-get');
    const session = await userApi.uploads.begin.mutate({
      projectId: project.id,
      cycleId: cycle.id,
      label: 'SD card 12',
      source: 'cli',
      client: 'data-uploader/1.0 linux',
    });
    const { files } = await userApi.uploads.plan.mutate({
      sessionId: session.id,
      files: [
        { relativePath: '950349/a.WAV', size: 1000 },
        { relativePath: '950349/b.WAV', size: 2000 },
        { relativePath: '950349/c.WAV', size: 3000 },
      ],
    });
    const keys = files.map((file) => ('key' in file ? file.key : ''));
    await putAndConfirm(userApi, session.id, [
      { key: keys[0] as string, body: randomBytes(1000) },
      { key: keys[1] as string, body: randomBytes(2000) },
    ]);
    await userApi.uploads.fail.mutate({
      sessionId: session.id,
      files: [{ key: keys[2] as string, error: 'unreadable' }],
    });
    await userApi.uploads.finish.mutate({ sessionId: session.id });
    await setTimes(session.id, { startedAt: '2025-04-01T08:00:00Z', finishedAt: '2025-04-01T08:02:05Z' });

    const got = await userApi.sessions.get.query({ id: session.id });

    expect(got).toEqual({
      id: session.id,
      projectId: project.id,
      cycleId: cycle.id,
      userId: acme.users.user.id,
      username: 'acme-user',
      source: 'cli',
      label: 'SD card 12',
      client: 'data-uploader/1.0 linux',
      status: 'completed_with_errors',
      filesTotal: 3,
      bytesTotal: 6000,
      filesDone: 2,
      bytesDone: 3000,
      filesSkipped: 0,
      filesFailed: 1,
      startedAt: '2025-04-01T08:00:00.000Z',
      finishedAt: '2025-04-01T08:02:05.000Z',
      lastActivityAt: expect.any(String),
      durationSeconds: 125,
    });
    expect(got).toMatchObject(await countersFromLedger(server, session.id));

    // A later session of the same folder skips what arrived.
    const again = await adminApi.uploads.begin.mutate({ projectId: project.id, cycleId: cycle.id });
    await adminApi.uploads.plan.mutate({
      sessionId: again.id,
      files: [
        { relativePath: '950349/a.WAV', size: 1000 },
        { relativePath: '950349/b.WAV', size: 2000 },
      ],
    });
    expect(await adminApi.sessions.get.query({ id: again.id })).toMatchObject({
      username: 'acme-admin',
      source: 'browser',
      status: 'active',
      filesSkipped: 2,
      filesTotal: 0,
      finishedAt: null,
    });
  });

  it('measures a running session up to its last activity', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-get-running');
    const session = await userApi.uploads.begin.mutate({ projectId: project.id, cycleId: cycle.id });
    await setTimes(session.id, { startedAt: '2025-04-02T08:00:00Z', lastActivityAt: '2025-04-02T08:00:42Z' });
    expect(await userApi.sessions.get.query({ id: session.id })).toMatchObject({
      status: 'active',
      finishedAt: null,
      durationSeconds: 42,
    });
  });

  it('lets a viewer read a session, and answers another company’s session as NOT_FOUND', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-get-tenancy');
    const session = await userApi.uploads.begin.mutate({ projectId: project.id, cycleId: cycle.id });
    expect(await viewerApi.sessions.get.query({ id: session.id })).toEqual(
      await userApi.sessions.get.query({ id: session.id }),
    );
    expect(await outcome(globexApi.sessions.get.query({ id: session.id }))).toBe('NOT_FOUND');
    expect(await outcome(globexApi.sessions.files.query({ id: session.id }))).toBe('NOT_FOUND');
  });
});

describe('sessions.files', () => {
  let sessionId: string;
  let planned: string[];

  beforeAll(async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-files');
    sessionId = (await userApi.uploads.begin.mutate({ projectId: project.id, cycleId: cycle.id })).id;
    planned = Array.from({ length: 7 }, (_, i) => `95035${i % 2}/f${i}.WAV`);
    const { files } = await userApi.uploads.plan.mutate({
      sessionId,
      files: planned.map((relativePath, i) => ({ relativePath, size: 100 + i })),
    });
    const keys = files.map((file) => ('key' in file ? file.key : ''));
    await putAndConfirm(
      userApi,
      sessionId,
      [0, 3, 6].map((i) => ({ key: keys[i] as string, body: randomBytes(100 + i) })),
    );
    await userApi.uploads.fail.mutate({
      sessionId,
      files: [1, 4].map((i) => ({ key: keys[i] as string, error: `disk error ${i}` })),
    });
  });

  it('pages a session’s files in plan order with `after`', async () => {
    const pages: Array<Awaited<ReturnType<ApiClient['sessions']['files']['query']>>> = [];
    let after: number | undefined;
    for (let page = 0; page < 5; page++) {
      const rows = await userApi.sessions.files.query({ id: sessionId, limit: 3, after });
      pages.push(rows);
      if (rows.length === 0) break;
      after = rows.at(-1)?.id;
    }
    expect(pages.map((rows) => rows.length)).toEqual([3, 3, 1, 0]);
    const rows = pages.flat();
    expect(rows.map((row) => row.relativePath)).toEqual(planned);
    expect(rows[1]).toEqual({
      id: expect.any(Number),
      relativePath: planned[1],
      s3Key: `C1/${planned[1]}`,
      size: 101,
      status: 'failed',
      error: 'disk error 1',
      attempts: 1,
      sensorSerial: '950351',
      completedAt: null,
      verifiedAt: null,
    });
    expect(rows[0]).toMatchObject({ status: 'completed', completedAt: expect.any(String), error: null });
  });

  it('filters by status, and pages the filtered list', async () => {
    const paths = async (status: 'pending' | 'uploading' | 'completed' | 'failed') =>
      (await userApi.sessions.files.query({ id: sessionId, status })).map((row) => row.relativePath);
    expect(await paths('completed')).toEqual([planned[0], planned[3], planned[6]]);
    expect(await paths('failed')).toEqual([planned[1], planned[4]]);
    // Signed for a PUT but never confirmed: the two left.
    expect([...(await paths('pending')), ...(await paths('uploading'))].sort()).toEqual(
      [planned[2], planned[5]].sort(),
    );
    const firstFailed = await userApi.sessions.files.query({ id: sessionId, status: 'failed', limit: 1 });
    const nextFailed = await userApi.sessions.files.query({
      id: sessionId,
      status: 'failed',
      limit: 1,
      after: firstFailed[0]?.id,
    });
    expect([...firstFailed, ...nextFailed].map((row) => row.relativePath)).toEqual([planned[1], planned[4]]);
  });

  it('lets a viewer read the files', async () => {
    expect(await viewerApi.sessions.files.query({ id: sessionId })).toEqual(
      await userApi.sessions.files.query({ id: sessionId }),
    );
  });
});
