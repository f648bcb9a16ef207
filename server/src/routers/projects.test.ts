import { schema } from '@data-uploader/drizzle';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiClient,
  failure,
  outcome,
  type SeededCompany,
  seedCompany,
  signIn,
  startTestServer,
  type TestServer,
} from '../../test/harness.ts';

let server: TestServer;
let acme: SeededCompany;
let globex: SeededCompany;
let admin: ApiClient;
let viewer: ApiClient;
let globexAdmin: ApiClient;

beforeAll(async () => {
  server = await startTestServer();
  acme = await seedCompany(server.db, 'acme');
  globex = await seedCompany(server.db, 'globex');
  await seedCompany(server.db, 'initech');
  admin = await signIn(server.url, 'acme-admin');
  viewer = await signIn(server.url, 'acme-viewer');
  globexAdmin = await signIn(server.url, 'globex-admin');
});
afterAll(() => server?.close());

const allProjects = () => server.db.select().from(schema.projects).orderBy(asc(schema.projects.id));

async function projectRow(id: string) {
  const [row] = await server.db.select().from(schema.projects).where(eq(schema.projects.id, id));
  return row;
}

describe('projects.create and projects.get', () => {
  it('creates a project of the admin’s company with the default region and no endpoint or prefix', async () => {
    const project = await admin.projects.create.mutate({ name: '  Birds 2025 ', bucket: 'acme-birds' });
    expect(project).toMatchObject({
      name: 'Birds 2025',
      bucket: 'acme-birds',
      region: 'us-east-1',
      endpoint: null,
      keyPrefix: null,
      archivedAt: null,
    });
    expect((await projectRow(project.id))?.companyId).toBe(acme.companyId);
    expect(await viewer.projects.get.query({ id: project.id })).toEqual({ ...project, cycles: [] });
  });

  it('keeps an endpoint, region and key prefix when given, once the store at that endpoint is usable', async () => {
    // A project's own endpoint is a store of its own: here the test's embedded S3 server, reached by address.
    const endpoint = server.storage.embedded?.endpoint as string;
    await server.storage.ensureEmbeddedBucket({ bucket: 'my-bucket.2025', region: 'eu-west-1', endpoint: null });
    const project = await admin.projects.create.mutate({
      name: 'Camera traps',
      bucket: 'my-bucket.2025',
      region: 'eu-west-1',
      endpoint: `${endpoint}/`,
      keyPrefix: 'campaigns/2025',
    });
    expect(await admin.projects.get.query({ id: project.id })).toMatchObject({
      bucket: 'my-bucket.2025',
      region: 'eu-west-1',
      endpoint,
      keyPrefix: 'campaigns/2025',
    });
  });

  it('refuses an endpoint the operator did not allow, so admins cannot make the server call other addresses', async () => {
    const before = await allProjects();
    const refused = await failure(
      admin.projects.create.mutate({ name: 'Far away', bucket: 'far-away', endpoint: 'http://127.0.0.1:9' }),
    );
    expect(refused.code).toBe('BAD_REQUEST');
    expect(refused.message).toMatch(/not one the operator allowed \(S3_ALLOWED_ENDPOINTS\)/);
    expect(await allProjects()).toEqual(before);
  });

  it('refuses another company’s bucket, and overlapping key prefixes within a company, writing nothing', async () => {
    await admin.projects.create.mutate({ name: 'Shared store', bucket: 'acme-shared', keyPrefix: 'birds' });
    const before = await allProjects();
    const foreign = await failure(globexAdmin.projects.create.mutate({ name: 'Mine now', bucket: 'acme-shared' }));
    expect(foreign).toMatchObject({ code: 'CONFLICT', message: 'The bucket "acme-shared" belongs to another company' });
    for (const keyPrefix of [undefined, 'birds', 'birds/2025']) {
      const clash = await failure(
        admin.projects.create.mutate({ name: `Clash ${keyPrefix}`, bucket: 'acme-shared', keyPrefix }),
      );
      expect(clash.code).toBe('CONFLICT');
      expect(clash.message).toContain('Project "Shared store" already writes to "acme-shared" under "birds"');
    }
    expect(await allProjects()).toEqual(before);
    await admin.projects.create.mutate({ name: 'Bats beside', bucket: 'acme-shared', keyPrefix: 'bats' });
  });

  it('answers NOT_FOUND for a project of another company, exactly like a missing one', async () => {
    const project = await admin.projects.create.mutate({ name: 'Secret', bucket: 'acme-secret' });
    const foreign = await failure(globexAdmin.projects.get.query({ id: project.id }));
    const missing = await failure(globexAdmin.projects.get.query({ id: crypto.randomUUID() }));
    expect(foreign.code).toBe('NOT_FOUND');
    expect(foreign).toEqual(missing);
  });

  it('refuses a duplicate name in the same company with CONFLICT, but allows it in another company', async () => {
    await admin.projects.create.mutate({ name: 'Bats', bucket: 'acme-bats' });
    const before = await allProjects();
    const clash = await failure(admin.projects.create.mutate({ name: ' Bats ', bucket: 'acme-bats-2' }));
    expect(clash.code).toBe('CONFLICT');
    expect(clash.message).toMatch(/Bats/);
    expect(await allProjects()).toEqual(before);

    const elsewhere = await globexAdmin.projects.create.mutate({ name: 'Bats', bucket: 'globex-bats' });
    expect((await projectRow(elsewhere.id))?.companyId).toBe(globex.companyId);
  });

  it('records the creation in the audit log', async () => {
    const project = await admin.projects.create.mutate({ name: 'Audited', bucket: 'acme-audited' });
    const entries = (await admin.audit.list.query()).filter((entry) => entry.target === `project:${project.id}`);
    expect(entries).toMatchObject([{ action: 'project.create', username: 'acme-admin', details: { name: 'Audited' } }]);
  });

  it('is for admins only', async () => {
    const user = await signIn(server.url, 'acme-user');
    const before = await allProjects();
    expect(await outcome(user.projects.create.mutate({ name: 'By user', bucket: 'by-user' }))).toBe('FORBIDDEN');
    expect(await outcome(viewer.projects.create.mutate({ name: 'By viewer', bucket: 'by-viewer' }))).toBe('FORBIDDEN');
    expect(await allProjects()).toEqual(before);
  });
});

describe('projects.list', () => {
  it('lists the company’s projects by name with their number of cycles, to viewers too', async () => {
    const zebra = await admin.projects.create.mutate({ name: 'Zebra finches', bucket: 'acme-zebra' });
    await admin.cycles.create.mutate({ projectId: zebra.id });
    await admin.cycles.create.mutate({ projectId: zebra.id });
    const list = await viewer.projects.list.query();
    const names = list.map((project) => project.name);
    expect(names).toEqual([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(list.find((project) => project.id === zebra.id)).toMatchObject({ name: 'Zebra finches', cycles: 2 });
    expect(list.find((project) => project.name === 'Birds 2025')).toMatchObject({ cycles: 0 });
  });

  it('never shows another company’s projects', async () => {
    const mine = await globexAdmin.projects.create.mutate({ name: 'Globex only', bucket: 'globex-only' });
    const acmeList = await admin.projects.list.query({ includeArchived: true });
    expect(acmeList.map((project) => project.id)).not.toContain(mine.id);
    expect(acmeList.map((project) => project.name)).not.toContain('Globex only');
  });
});

describe('projects.update', () => {
  it('renames and changes the bucket, region, endpoint and key prefix, and clears them with null', async () => {
    const project = await admin.projects.create.mutate({ name: 'Before', bucket: 'acme-before' });
    const endpoint = server.storage.embedded?.endpoint as string;
    await server.storage.ensureEmbeddedBucket({ bucket: 'acme-after', region: 'eu-central-1', endpoint: null });
    const updated = await admin.projects.update.mutate({
      id: project.id,
      name: 'After',
      bucket: 'acme-after',
      region: 'eu-central-1',
      endpoint,
      keyPrefix: 'raw/2025',
    });
    expect(updated).toMatchObject({
      id: project.id,
      name: 'After',
      bucket: 'acme-after',
      region: 'eu-central-1',
      endpoint,
      keyPrefix: 'raw/2025',
    });
    expect(await projectRow(project.id)).toMatchObject({ name: 'After', keyPrefix: 'raw/2025' });

    const cleared = await admin.projects.update.mutate({ id: project.id, endpoint: null, keyPrefix: null });
    expect(cleared).toMatchObject({ name: 'After', endpoint: null, keyPrefix: null });
    expect(await projectRow(project.id)).toMatchObject({ endpoint: null, keyPrefix: null, bucket: 'acme-after' });

    const entries = (await admin.audit.list.query()).filter((entry) => entry.target === `project:${project.id}`);
    expect(entries.map((entry) => entry.action)).toEqual(['project.update', 'project.update', 'project.create']);
  });

  it('keeps the bucket, region and key prefix once files were planned, but still renames', async () => {
    const project = await admin.projects.create.mutate({ name: 'Settled', bucket: 'acme-settled' });
    const cycle = await admin.cycles.create.mutate({ projectId: project.id });
    const session = await admin.uploads.begin.mutate({ projectId: project.id, cycleId: cycle.id });
    await admin.uploads.plan.mutate({ sessionId: session.id, files: [{ relativePath: 'S1/a.wav', size: 10 }] });
    const before = await projectRow(project.id);
    for (const change of [{ bucket: 'acme-moved' }, { keyPrefix: 'elsewhere' }, { region: 'eu-west-1' }]) {
      const refused = await failure(admin.projects.update.mutate({ id: project.id, ...change }));
      expect(refused.code).toBe('PRECONDITION_FAILED');
      expect(await projectRow(project.id)).toEqual(before);
    }
    expect(await admin.projects.update.mutate({ id: project.id, name: 'Settled 2025' })).toMatchObject({
      name: 'Settled 2025',
    });
  });

  it('refuses an update that changes nothing', async () => {
    const project = await admin.projects.create.mutate({ name: 'Untouched', bucket: 'acme-untouched' });
    expect((await failure(admin.projects.update.mutate({ id: project.id }))).code).toBe('BAD_REQUEST');
  });

  it('refuses a name taken in the company with CONFLICT and leaves the project unchanged', async () => {
    const first = await admin.projects.create.mutate({ name: 'Owls', bucket: 'acme-owls' });
    const second = await admin.projects.create.mutate({ name: 'Hawks', bucket: 'acme-hawks' });
    const before = await projectRow(second.id);
    expect((await failure(admin.projects.update.mutate({ id: second.id, name: 'Owls', bucket: 'acme-x' }))).code).toBe(
      'CONFLICT',
    );
    expect(await projectRow(second.id)).toEqual(before);
    expect((await projectRow(first.id))?.name).toBe('Owls');
  });

  it('answers NOT_FOUND for another company’s project and leaves it unchanged', async () => {
    const theirs = await globexAdmin.projects.create.mutate({ name: 'Theirs', bucket: 'globex-theirs' });
    const before = await projectRow(theirs.id);
    expect((await failure(admin.projects.update.mutate({ id: theirs.id, name: 'Mine now' }))).code).toBe('NOT_FOUND');
    expect((await failure(admin.projects.archive.mutate({ id: theirs.id }))).code).toBe('NOT_FOUND');
    expect(await projectRow(theirs.id)).toEqual(before);
  });
});

describe('projects.archive and projects.unarchive', () => {
  it('hides an archived project from the list unless includeArchived, and brings it back when unarchived', async () => {
    const project = await admin.projects.create.mutate({ name: 'Seasonal', bucket: 'acme-seasonal' });
    const archived = await admin.projects.archive.mutate({ id: project.id });
    expect(archived.archivedAt).not.toBeNull();
    expect((await projectRow(project.id))?.archivedAt).toBeInstanceOf(Date);

    expect((await viewer.projects.list.query()).map((p) => p.id)).not.toContain(project.id);
    expect((await viewer.projects.list.query({ includeArchived: false })).map((p) => p.id)).not.toContain(project.id);
    const withArchived = await viewer.projects.list.query({ includeArchived: true });
    expect(withArchived.find((p) => p.id === project.id)?.archivedAt).not.toBeNull();
    expect((await viewer.projects.get.query({ id: project.id })).archivedAt).not.toBeNull();

    const unarchived = await admin.projects.unarchive.mutate({ id: project.id });
    expect(unarchived.archivedAt).toBeNull();
    expect((await projectRow(project.id))?.archivedAt).toBeNull();
    expect((await viewer.projects.list.query()).map((p) => p.id)).toContain(project.id);

    const entries = (await admin.audit.list.query()).filter((entry) => entry.target === `project:${project.id}`);
    expect(entries.map((entry) => entry.action)).toEqual(['project.unarchive', 'project.archive', 'project.create']);
  });

  it('keeps the first archiving time when archived twice', async () => {
    const project = await admin.projects.create.mutate({ name: 'Twice', bucket: 'acme-twice' });
    await admin.projects.archive.mutate({ id: project.id });
    const first = (await projectRow(project.id))?.archivedAt;
    await admin.projects.archive.mutate({ id: project.id });
    expect((await projectRow(project.id))?.archivedAt).toEqual(first);
  });

  it('is for admins only', async () => {
    const project = await admin.projects.create.mutate({ name: 'Guarded', bucket: 'acme-guarded' });
    const user = await signIn(server.url, 'acme-user');
    expect(await outcome(user.projects.archive.mutate({ id: project.id }))).toBe('FORBIDDEN');
    expect(await outcome(viewer.projects.update.mutate({ id: project.id, name: 'Renamed' }))).toBe('FORBIDDEN');
    expect((await projectRow(project.id))?.archivedAt).toBeNull();
  });
});

describe('bad project input', () => {
  const valid = { name: 'Valid project', bucket: 'valid-bucket' };
  const long = 'x'.repeat(10_000);
  let initech: ApiClient | undefined;
  let project: { id: string } | undefined;

  const cases: Array<[string, string, Record<string, unknown>]> = [
    ['a bucket of 2 characters', 'bucket', { bucket: 'ab' }],
    ['a bucket of 64 characters', 'bucket', { bucket: 'a'.repeat(64) }],
    ['an uppercase bucket', 'bucket', { bucket: 'My-Bucket' }],
    ['a bucket with an underscore', 'bucket', { bucket: 'my_bucket' }],
    ['a bucket starting with a hyphen', 'bucket', { bucket: '-bucket' }],
    ['a bucket ending with a dot', 'bucket', { bucket: 'bucket.' }],
    ['a bucket with two adjacent dots', 'bucket', { bucket: 'my..bucket' }],
    ['a bucket shaped like an IP address', 'bucket', { bucket: '192.168.5.4' }],
    ['a bucket with a reserved prefix', 'bucket', { bucket: 'xn--bucket' }],
    ['a bucket with a reserved suffix', 'bucket', { bucket: 'bucket-s3alias' }],
    ['an empty bucket', 'bucket', { bucket: '' }],
    ['a missing bucket', 'bucket', { bucket: undefined }],
    ['a numeric bucket', 'bucket', { bucket: 42 }],
    ['an endpoint with credentials', 'endpoint', { endpoint: 'https://AKIA:secret@s3.example.com' }],
    ['an endpoint with a user name', 'endpoint', { endpoint: 'https://AKIA@s3.example.com' }],
    [
      'an endpoint hiding credentials behind a third slash',
      'endpoint',
      { endpoint: 'https:///AKIA:secret@s3.example.com' },
    ],
    ['an endpoint with a query', 'endpoint', { endpoint: 'https://s3.example.com/?X-Amz-Credential=AKIA' }],
    ['an endpoint with a fragment', 'endpoint', { endpoint: 'https://s3.example.com/#x' }],
    ['an ftp endpoint', 'endpoint', { endpoint: 'ftp://s3.example.com' }],
    ['a file endpoint', 'endpoint', { endpoint: 'file:///etc/passwd' }],
    ['a javascript endpoint', 'endpoint', { endpoint: 'javascript:alert(1)' }],
    ['an endpoint that is no URL', 'endpoint', { endpoint: 's3 dot example dot com' }],
    ['a key prefix with ..', 'keyPrefix', { keyPrefix: '../elsewhere' }],
    ['a key prefix with .. inside', 'keyPrefix', { keyPrefix: 'a/../b' }],
    ['a key prefix with a leading /', 'keyPrefix', { keyPrefix: '/campaigns' }],
    ['a key prefix with a trailing /', 'keyPrefix', { keyPrefix: 'campaigns/' }],
    ['a key prefix with an empty segment', 'keyPrefix', { keyPrefix: 'a//b' }],
    ['a key prefix with a control character', 'keyPrefix', { keyPrefix: 'a\u0000b' }],
    ['a key prefix of 300 characters', 'keyPrefix', { keyPrefix: Array(10).fill('a'.repeat(29)).join('/') }],
    ['a name of 10,000 characters', 'name', { name: long }],
    ['an empty name', 'name', { name: '' }],
    ['a blank name', 'name', { name: '   ' }],
    ['a name with a bell character', 'name', { name: 'Birds\u0007' }],
    ['a name with a line break inside', 'name', { name: 'Birds\nand bats' }],
    ['a name with a NUL', 'name', { name: 'Bi\u0000rds' }],
    ['a numeric name', 'name', { name: 42 }],
    ['a null name', 'name', { name: null }],
    ['an array name', 'name', { name: ['Birds'] }],
    ['a region with spaces', 'region', { region: 'eu west 1' }],
    ['a numeric region', 'region', { region: 1 }],
  ];

  it.each(cases)('refuses %s on create with BAD_REQUEST naming %s, writing nothing', async (_what, field, change) => {
    const before = await allProjects();
    const error = await failure(admin.projects.create.mutate({ ...valid, ...change } as never));
    expect(error.code).toBe('BAD_REQUEST');
    expect(Object.keys(error.fieldErrors)).toContain(field);
    expect(await allProjects()).toEqual(before);
  });

  it.each(cases.filter(([, , change]) => !Object.values(change).includes(undefined)))(
    'refuses %s on update with BAD_REQUEST naming %s, leaving the project unchanged',
    async (_what, field, change) => {
      initech ??= await signIn(server.url, 'initech-admin');
      project ??= await initech.projects.create.mutate(valid);
      const before = await allProjects();
      const error = await failure(initech.projects.update.mutate({ id: project.id, ...change } as never));
      expect(error.code).toBe('BAD_REQUEST');
      expect(Object.keys(error.fieldErrors)).toContain(field);
      expect(await allProjects()).toEqual(before);
    },
  );

  it('refuses ids that are not UUIDs and a non-boolean includeArchived', async () => {
    expect((await failure(admin.projects.get.query({ id: 'not-a-uuid' }))).fieldErrors).toHaveProperty('id');
    expect((await failure(admin.projects.archive.mutate({ id: '1; drop table projects' }))).fieldErrors).toHaveProperty(
      'id',
    );
    expect((await failure(admin.projects.list.query({ includeArchived: 'yes' } as never))).fieldErrors).toHaveProperty(
      'includeArchived',
    );
  });

  it('never echoes a stack trace', async () => {
    const response = await fetch(`${server.url}/trpc/projects.create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(await response.text()).not.toMatch(/\bat .+\.(ts|js):\d+/);
  });
});
