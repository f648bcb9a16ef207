import { schema } from '@data-uploader/drizzle';
import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiClient,
  outcome,
  type SeededCompany,
  seedCompany,
  signIn,
  startTestServer,
  type TestServer,
} from '../../test/harness.ts';

let server: TestServer;
let home: SeededCompany;
let operator: ApiClient;

beforeAll(async () => {
  server = await startTestServer();
  home = await seedCompany(server.db, 'home', { operator: true });
  await seedCompany(server.db, 'globex');
  operator = await signIn(server.url, 'home-admin');
  await operator.projects.create.mutate({ name: 'Operator’s own project', bucket: 'home-bucket' });
});
afterAll(() => server?.close());

async function counts() {
  const [companies] = await server.db.select({ n: count() }).from(schema.companies);
  const [users] = await server.db.select({ n: count() }).from(schema.users);
  return { companies: companies?.n, users: users?.n };
}

async function companyBySlug(slug: string) {
  const [row] = await server.db.select().from(schema.companies).where(eq(schema.companies.slug, slug));
  return row;
}

describe('companies.create', () => {
  it('creates a company whose first admin signs in with the temporary password, changes it and sees only their company', async () => {
    const created = await operator.companies.create.mutate({ name: 'Northwind Traders', adminUsername: 'NW-Boss' });
    expect(created.company).toMatchObject({ name: 'Northwind Traders', slug: 'northwind-traders' });
    expect(created.admin.username).toBe('nw-boss');
    expect(created.admin.temporaryPassword).toMatch(/^[a-z2-7]{5}(-[a-z2-7]{5}){3}$/);

    const admin = await signIn(server.url, 'nw-boss', created.admin.temporaryPassword);
    expect(await admin.auth.me.query()).toMatchObject({
      username: 'nw-boss',
      role: 'admin',
      isOperator: false,
      mustChangePassword: true,
      company: { id: created.company.id, slug: 'northwind-traders' },
    });
    expect(await outcome(admin.projects.list.query())).toBe('FORBIDDEN');

    await admin.auth.changePassword.mutate({
      currentPassword: created.admin.temporaryPassword,
      newPassword: 'the new admin chose this',
    });
    expect(await admin.projects.list.query({ includeArchived: true })).toEqual([]);
    expect((await admin.users.list.query()).map((user) => user.username)).toEqual(['nw-boss']);
    expect(await outcome(admin.companies.list.query())).toBe('FORBIDDEN');
    expect(await outcome(admin.companies.create.mutate({ name: 'Sneaky', adminUsername: 'sneaky-boss' }))).toBe(
      'FORBIDDEN',
    );
  });

  it.each([
    ['ACME  Corp.', 'acme-corp'],
    ['  Bird & Bat Survey (2025)  ', 'bird-bat-survey-2025'],
    ['Forêt & Écoute SA', 'foret-ecoute-sa'],
    ['Zürich Wildlife', 'zurich-wildlife'],
  ])('derives the slug of %j as %j', async (name, slug) => {
    const created = await operator.companies.create.mutate({ name, adminUsername: `boss-${slug}`.slice(0, 64) });
    expect(created.company.slug).toBe(slug);
    expect((await companyBySlug(slug))?.id).toBe(created.company.id);
  });

  it('keeps a derived slug within 40 characters and never ends it with a hyphen', async () => {
    const name = `${'Very Long Company Name '.repeat(4)}Ltd`;
    const created = await operator.companies.create.mutate({ name, adminUsername: 'long-boss' });
    expect(created.company.slug.length).toBeLessThanOrEqual(40);
    expect(created.company.slug).toMatch(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/);
    expect(created.company.slug.startsWith('very-long-company-name-very')).toBe(true);
  });

  it('uses a slug the operator gives', async () => {
    const created = await operator.companies.create.mutate({
      name: 'Initech',
      slug: 'itech',
      adminUsername: 'itech-boss',
    });
    expect(created.company.slug).toBe('itech');
  });

  it('refuses a taken slug with CONFLICT and creates neither company nor admin', async () => {
    await operator.companies.create.mutate({ name: 'Umbrella', adminUsername: 'umbrella-boss' });
    const before = await counts();
    const clash = await operator.companies.create
      .mutate({ name: 'Umbrella', adminUsername: 'umbrella-boss-2' })
      .catch((error) => error);
    expect(clash.data.code).toBe('CONFLICT');
    expect(clash.message).toMatch(/umbrella/);
    expect(
      await outcome(operator.companies.create.mutate({ name: 'Other', slug: 'globex', adminUsername: 'x-boss' })),
    ).toBe('CONFLICT');
    expect(await counts()).toEqual(before);
    const [orphan] = await server.db.select().from(schema.users).where(eq(schema.users.username, 'umbrella-boss-2'));
    expect(orphan).toBeUndefined();
    expect(await outcome(signIn(server.url, 'umbrella-boss-2', 'anything at all'))).toBe('UNAUTHORIZED');
  });

  it('refuses a taken admin username with CONFLICT and leaves no half-created company', async () => {
    const before = await counts();
    expect(
      await outcome(operator.companies.create.mutate({ name: 'Hooli', slug: 'hooli', adminUsername: 'globex-user' })),
    ).toBe('CONFLICT');
    expect(await counts()).toEqual(before);
    expect(await companyBySlug('hooli')).toBeUndefined();
    // The same company can then be created with a free username.
    const created = await operator.companies.create.mutate({
      name: 'Hooli',
      slug: 'hooli',
      adminUsername: 'hooli-boss',
    });
    expect(created.company.slug).toBe('hooli');
  });

  it('refuses bad input with the field named and writes nothing', async () => {
    const before = await counts();
    const badSlug = await operator.companies.create
      .mutate({ name: 'Bad', slug: 'Bad Slug', adminUsername: 'bad-boss' })
      .catch((error) => error);
    expect(badSlug.data).toMatchObject({ code: 'BAD_REQUEST', fieldErrors: { slug: expect.any(Array) } });
    const badName = await operator.companies.create
      .mutate({ name: 'a\u0000b', adminUsername: 'bad-boss' })
      .catch((error) => error);
    expect(badName.data).toMatchObject({ code: 'BAD_REQUEST', fieldErrors: { name: expect.any(Array) } });
    const badAdmin = await operator.companies.create.mutate({ name: 'Bad', adminUsername: 'b' }).catch((e) => e);
    expect(badAdmin.data).toMatchObject({ code: 'BAD_REQUEST', fieldErrors: { adminUsername: expect.any(Array) } });
    expect(await counts()).toEqual(before);
  });

  it('is for operators only, whatever their role', async () => {
    const globexAdmin = await signIn(server.url, 'globex-admin');
    const before = await counts();
    expect(await outcome(globexAdmin.companies.create.mutate({ name: 'Nope', adminUsername: 'nope-boss' }))).toBe(
      'FORBIDDEN',
    );
    expect(await outcome(globexAdmin.companies.list.query())).toBe('FORBIDDEN');
    expect(await counts()).toEqual(before);
  });

  it('records the creation in the operator’s audit log, without the temporary password', async () => {
    const created = await operator.companies.create.mutate({ name: 'Audited Co', adminUsername: 'audited-boss' });
    const [entry] = (await operator.audit.list.query()).filter(
      (item) => item.target === `company:${created.company.id}`,
    );
    expect(entry).toMatchObject({
      action: 'company.create',
      username: 'home-admin',
      details: { name: 'Audited Co', admin: 'audited-boss' },
    });
    expect(JSON.stringify(entry)).not.toContain(created.admin.temporaryPassword);
  });
});

describe('companies.list', () => {
  it('shows the operator every company with its number of people', async () => {
    await operator.companies.create.mutate({ name: 'Listed Co', adminUsername: 'listed-boss' });
    const list = await operator.companies.list.query();
    expect(list.find((company) => company.slug === 'home')).toMatchObject({ name: 'Company home', users: 3 });
    expect(list.find((company) => company.slug === 'listed-co')).toMatchObject({ name: 'Listed Co', users: 1 });
    expect(list.map((company) => company.id)).toContain(home.companyId);
  });
});
