import { schema } from '@data-uploader/drizzle';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiClient,
  failure,
  outcome,
  seedCompany,
  signIn,
  startTestServer,
  type TestServer,
} from '../../test/harness.ts';

let server: TestServer;
let admin: ApiClient;
let viewer: ApiClient;
let globexAdmin: ApiClient;
let projectCount = 0;

beforeAll(async () => {
  server = await startTestServer();
  await seedCompany(server.db, 'acme');
  await seedCompany(server.db, 'globex');
  admin = await signIn(server.url, 'acme-admin');
  viewer = await signIn(server.url, 'acme-viewer');
  globexAdmin = await signIn(server.url, 'globex-admin');
});
afterAll(() => server?.close());

/** A fresh project of acme (or of the given admin's company), so every test starts without cycles. */
async function newProject(by: ApiClient = admin) {
  projectCount += 1;
  return by.projects.create.mutate({ name: `Project ${projectCount}`, bucket: `bucket-${projectCount}` });
}

const allCycles = () => server.db.select().from(schema.cycles).orderBy(asc(schema.cycles.id));

async function cycleRow(id: string) {
  const [row] = await server.db.select().from(schema.cycles).where(eq(schema.cycles.id, id));
  return row;
}

describe('cycles.create', () => {
  it('names cycles C1, C2, C3… by default, with the same S3 prefix, open and without notes', async () => {
    const project = await newProject();
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await admin.cycles.create.mutate({ projectId: project.id }));
    expect(made.map((cycle) => [cycle.name, cycle.s3Prefix])).toEqual([
      ['C1', 'C1'],
      ['C2', 'C2'],
      ['C3', 'C3'],
    ]);
    expect(made[0]).toMatchObject({ projectId: project.id, status: 'open', notes: '', closedAt: null });
  });

  it('continues after the highest C number, counting C10 after C9', async () => {
    const project = await newProject();
    await admin.cycles.create.mutate({ projectId: project.id, name: 'C9' });
    await admin.cycles.create.mutate({ projectId: project.id, name: 'Pilot' });
    expect((await admin.cycles.create.mutate({ projectId: project.id })).name).toBe('C10');
    expect((await admin.cycles.create.mutate({ projectId: project.id })).name).toBe('C11');
  });

  it('numbers each project on its own', async () => {
    const first = await newProject();
    const second = await newProject();
    await admin.cycles.create.mutate({ projectId: first.id });
    await admin.cycles.create.mutate({ projectId: first.id });
    expect((await admin.cycles.create.mutate({ projectId: second.id })).name).toBe('C1');
  });

  it('derives the S3 prefix from a given name and keeps the name as typed', async () => {
    const project = await newProject();
    const cycle = await admin.cycles.create.mutate({
      projectId: project.id,
      name: '  Été 2025 — visite #2 ',
      notes: 'Batteries swapped on\nsensor 950349',
    });
    expect(cycle).toMatchObject({
      name: 'Été 2025 — visite #2',
      s3Prefix: 'Ete-2025-visite-2',
      notes: 'Batteries swapped on\nsensor 950349',
    });
    expect((await cycleRow(cycle.id))?.s3Prefix).toBe('Ete-2025-visite-2');
  });

  it.each([['🎉🎉'], ['!!!'], ['— —'], ['日本語']])(
    'refuses the name %j, which gives no usable S3 prefix, with BAD_REQUEST and writes nothing',
    async (name) => {
      const project = await newProject();
      const before = await allCycles();
      const error = await failure(admin.cycles.create.mutate({ projectId: project.id, name }));
      expect(error.code).toBe('BAD_REQUEST');
      expect(error.message).toMatch(/prefix/);
      expect(await allCycles()).toEqual(before);
    },
  );

  it('refuses a duplicate name, or a name whose prefix is taken, with CONFLICT and writes nothing', async () => {
    const project = await newProject();
    await admin.cycles.create.mutate({ projectId: project.id, name: 'Spring 2025' });
    await admin.cycles.create.mutate({ projectId: project.id });
    const before = await allCycles();
    expect((await failure(admin.cycles.create.mutate({ projectId: project.id, name: 'Spring 2025' }))).code).toBe(
      'CONFLICT',
    );
    expect((await failure(admin.cycles.create.mutate({ projectId: project.id, name: 'Spring-2025' }))).code).toBe(
      'CONFLICT',
    );
    expect((await failure(admin.cycles.create.mutate({ projectId: project.id, name: 'C1' }))).code).toBe('CONFLICT');
    expect(await allCycles()).toEqual(before);

    const other = await newProject();
    expect((await admin.cycles.create.mutate({ projectId: other.id, name: 'Spring 2025' })).s3Prefix).toBe(
      'Spring-2025',
    );
  });

  it('gives the next default cycle a free prefix even after a renamed cycle kept C2 as its prefix', async () => {
    const project = await newProject();
    await admin.cycles.create.mutate({ projectId: project.id });
    const second = await admin.cycles.create.mutate({ projectId: project.id });
    await admin.cycles.update.mutate({ id: second.id, name: 'Pilot' });
    const next = await admin.cycles.create.mutate({ projectId: project.id });
    expect(next.s3Prefix).not.toBe('C2');
    expect(next).toMatchObject({ name: 'C3', s3Prefix: 'C3' });
  });

  it('refuses a cycle in an archived project with PRECONDITION_FAILED, and allows it once unarchived', async () => {
    const project = await newProject();
    await admin.projects.archive.mutate({ id: project.id });
    const before = await allCycles();
    expect((await failure(admin.cycles.create.mutate({ projectId: project.id }))).code).toBe('PRECONDITION_FAILED');
    expect((await failure(admin.cycles.create.mutate({ projectId: project.id, name: 'Late' }))).code).toBe(
      'PRECONDITION_FAILED',
    );
    expect(await allCycles()).toEqual(before);

    await admin.projects.unarchive.mutate({ id: project.id });
    expect((await admin.cycles.create.mutate({ projectId: project.id })).name).toBe('C1');
  });

  it('answers NOT_FOUND for a project of another company and writes nothing', async () => {
    const theirs = await newProject(globexAdmin);
    const before = await allCycles();
    expect((await failure(admin.cycles.create.mutate({ projectId: theirs.id }))).code).toBe('NOT_FOUND');
    expect((await failure(admin.cycles.create.mutate({ projectId: crypto.randomUUID() }))).code).toBe('NOT_FOUND');
    expect(await allCycles()).toEqual(before);
  });

  it('refuses bad input with the field named', async () => {
    const project = await newProject();
    const before = await allCycles();
    const cases: Array<[string, Record<string, unknown>]> = [
      ['projectId', { projectId: 'not-a-uuid' }],
      ['name', { projectId: project.id, name: 'x'.repeat(65) }],
      ['name', { projectId: project.id, name: 'x'.repeat(10_000) }],
      ['name', { projectId: project.id, name: 'C\u00001' }],
      ['name', { projectId: project.id, name: '   ' }],
      ['name', { projectId: project.id, name: 7 }],
      ['notes', { projectId: project.id, notes: 'n'.repeat(10_001) }],
    ];
    for (const [field, input] of cases) {
      const error = await failure(admin.cycles.create.mutate(input as never));
      expect(error.code).toBe('BAD_REQUEST');
      expect(Object.keys(error.fieldErrors)).toContain(field);
    }
    expect(await allCycles()).toEqual(before);
  });

  it('is for admins only', async () => {
    const project = await newProject();
    const user = await signIn(server.url, 'acme-user');
    expect(await outcome(user.cycles.create.mutate({ projectId: project.id }))).toBe('FORBIDDEN');
    expect(await outcome(viewer.cycles.create.mutate({ projectId: project.id }))).toBe('FORBIDDEN');
    expect(await admin.cycles.list.query({ projectId: project.id })).toEqual([]);
  });

  it('records the creation in the audit log', async () => {
    const project = await newProject();
    const cycle = await admin.cycles.create.mutate({ projectId: project.id, name: 'Audited cycle' });
    const entries = (await admin.audit.list.query()).filter((entry) => entry.target === `cycle:${cycle.id}`);
    expect(entries).toMatchObject([
      { action: 'cycle.create', details: { name: 'Audited cycle', s3Prefix: 'Audited-cycle', projectId: project.id } },
    ]);
  });
});

describe('cycles.update', () => {
  it('renames a cycle but keeps its S3 prefix, and changes its notes', async () => {
    const project = await newProject();
    const cycle = await admin.cycles.create.mutate({ projectId: project.id });
    const renamed = await admin.cycles.update.mutate({ id: cycle.id, name: 'Spring deployment' });
    expect(renamed).toMatchObject({ id: cycle.id, name: 'Spring deployment', s3Prefix: 'C1' });
    expect(await cycleRow(cycle.id)).toMatchObject({ name: 'Spring deployment', s3Prefix: 'C1' });

    const noted = await admin.cycles.update.mutate({ id: cycle.id, notes: 'Two sensors lost' });
    expect(noted).toMatchObject({ name: 'Spring deployment', s3Prefix: 'C1', notes: 'Two sensors lost' });

    // Even a name that would give no prefix of its own is fine: the prefix is already fixed.
    expect((await admin.cycles.update.mutate({ id: cycle.id, name: '🌸' })).s3Prefix).toBe('C1');

    const entries = (await admin.audit.list.query()).filter((entry) => entry.target === `cycle:${cycle.id}`);
    expect(entries.map((entry) => entry.action)).toEqual([
      'cycle.update',
      'cycle.update',
      'cycle.update',
      'cycle.create',
    ]);
  });

  it('refuses an update that changes nothing, and a name taken in the project', async () => {
    const project = await newProject();
    await admin.cycles.create.mutate({ projectId: project.id });
    const second = await admin.cycles.create.mutate({ projectId: project.id });
    const before = await cycleRow(second.id);
    expect((await failure(admin.cycles.update.mutate({ id: second.id }))).code).toBe('BAD_REQUEST');
    expect((await failure(admin.cycles.update.mutate({ id: second.id, name: 'C1' }))).code).toBe('CONFLICT');
    expect(await cycleRow(second.id)).toEqual(before);
  });

  it('answers NOT_FOUND for a cycle of another company and leaves it unchanged', async () => {
    const theirs = await newProject(globexAdmin);
    const cycle = await globexAdmin.cycles.create.mutate({ projectId: theirs.id });
    const before = await cycleRow(cycle.id);
    expect((await failure(admin.cycles.update.mutate({ id: cycle.id, name: 'Mine' }))).code).toBe('NOT_FOUND');
    expect((await failure(admin.cycles.close.mutate({ id: cycle.id }))).code).toBe('NOT_FOUND');
    expect((await failure(admin.cycles.reopen.mutate({ id: cycle.id }))).code).toBe('NOT_FOUND');
    expect(await cycleRow(cycle.id)).toEqual(before);
  });
});

describe('cycles.close and cycles.reopen', () => {
  it('close sets the status and the closing time, reopen clears them', async () => {
    const project = await newProject();
    const cycle = await admin.cycles.create.mutate({ projectId: project.id });

    const closed = await admin.cycles.close.mutate({ id: cycle.id });
    expect(closed.status).toBe('closed');
    expect(closed.closedAt).not.toBeNull();
    const closedRow = await cycleRow(cycle.id);
    expect(closedRow?.status).toBe('closed');
    expect(closedRow?.closedAt).toBeInstanceOf(Date);
    expect(await viewer.cycles.get.query({ id: cycle.id })).toMatchObject({ status: 'closed' });

    await admin.cycles.close.mutate({ id: cycle.id });
    expect((await cycleRow(cycle.id))?.closedAt).toEqual(closedRow?.closedAt);

    const reopened = await admin.cycles.reopen.mutate({ id: cycle.id });
    expect(reopened).toMatchObject({ status: 'open', closedAt: null });
    expect(await cycleRow(cycle.id)).toMatchObject({ status: 'open', closedAt: null });

    const entries = (await admin.audit.list.query()).filter((entry) => entry.target === `cycle:${cycle.id}`);
    expect(entries.map((entry) => entry.action)).toEqual([
      'cycle.reopen',
      'cycle.close',
      'cycle.close',
      'cycle.create',
    ]);
  });

  it('is for admins only', async () => {
    const project = await newProject();
    const cycle = await admin.cycles.create.mutate({ projectId: project.id });
    expect(await outcome(viewer.cycles.close.mutate({ id: cycle.id }))).toBe('FORBIDDEN');
    expect(await outcome((await signIn(server.url, 'acme-user')).cycles.close.mutate({ id: cycle.id }))).toBe(
      'FORBIDDEN',
    );
    expect((await cycleRow(cycle.id))?.status).toBe('open');
  });
});

describe('cycles.list and cycles.get', () => {
  it('lists a project’s cycles in creation order, to viewers too', async () => {
    const project = await newProject();
    const made = [];
    for (const name of ['Zeta', undefined, 'Alpha']) {
      made.push(await admin.cycles.create.mutate({ projectId: project.id, ...(name ? { name } : {}) }));
    }
    const list = await viewer.cycles.list.query({ projectId: project.id });
    expect(list.map((cycle) => cycle.name)).toEqual(['Zeta', 'C1', 'Alpha']);
    expect(list).toEqual(made);
    expect(await viewer.cycles.get.query({ id: made[1]?.id ?? '' })).toEqual(made[1]);
    expect((await viewer.projects.get.query({ id: project.id })).cycles).toEqual(made);
  });

  it('answers NOT_FOUND for another company’s project or cycle, exactly like a missing one', async () => {
    const theirs = await newProject(globexAdmin);
    const cycle = await globexAdmin.cycles.create.mutate({ projectId: theirs.id });
    const foreignList = await failure(viewer.cycles.list.query({ projectId: theirs.id }));
    const missingList = await failure(viewer.cycles.list.query({ projectId: crypto.randomUUID() }));
    expect(foreignList.code).toBe('NOT_FOUND');
    expect(foreignList).toEqual(missingList);
    const foreignGet = await failure(viewer.cycles.get.query({ id: cycle.id }));
    const missingGet = await failure(viewer.cycles.get.query({ id: crypto.randomUUID() }));
    expect(foreignGet.code).toBe('NOT_FOUND');
    expect(foreignGet).toEqual(missingGet);
  });

  it('lists the cycles of an archived project', async () => {
    const project = await newProject();
    await admin.cycles.create.mutate({ projectId: project.id });
    await admin.projects.archive.mutate({ id: project.id });
    expect((await viewer.cycles.list.query({ projectId: project.id })).map((cycle) => cycle.name)).toEqual(['C1']);
  });
});

describe('cycles.totals', () => {
  /** Marks one planned file of a cycle as the ledger would after an upload arrived or failed. */
  async function setFileStatus(cycleId: string, relativePath: string, status: 'completed' | 'failed') {
    await server.db
      .update(schema.files)
      .set({ status })
      .where(and(eq(schema.files.cycleId, cycleId), eq(schema.files.relativePath, relativePath)));
  }

  it('counts each cycle’s ledger: files and bytes planned and arrived, files failed; zeros for an empty cycle', async () => {
    const project = await newProject();
    const first = await admin.cycles.create.mutate({ projectId: project.id });
    const empty = await admin.cycles.create.mutate({ projectId: project.id });
    const session = await admin.uploads.begin.mutate({ projectId: project.id, cycleId: first.id });
    await admin.uploads.plan.mutate({
      sessionId: session.id,
      files: [
        { relativePath: '950349/a.wav', size: 1000 },
        { relativePath: '950349/b.wav', size: 2000 },
        { relativePath: '950350/c.wav', size: 4000 },
      ],
    });
    await setFileStatus(first.id, '950349/a.wav', 'completed');
    await setFileStatus(first.id, '950349/b.wav', 'failed');

    expect(await viewer.cycles.totals.query({ projectId: project.id })).toEqual([
      { cycleId: first.id, filesTotal: 3, filesCompleted: 1, filesFailed: 1, bytesTotal: 7000, bytesCompleted: 1000 },
      { cycleId: empty.id, filesTotal: 0, filesCompleted: 0, filesFailed: 0, bytesTotal: 0, bytesCompleted: 0 },
    ]);
  });

  it('answers NOT_FOUND for another company’s project, exactly like a missing one', async () => {
    const theirs = await newProject(globexAdmin);
    await globexAdmin.cycles.create.mutate({ projectId: theirs.id });
    const foreign = await failure(viewer.cycles.totals.query({ projectId: theirs.id }));
    expect(foreign.code).toBe('NOT_FOUND');
    expect(foreign).toEqual(await failure(viewer.cycles.totals.query({ projectId: crypto.randomUUID() })));
  });
});
