import { schema } from '@data-uploader/drizzle';
import type { Role } from '@data-uploader/shared';
import { and, count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiClient,
  apiClient,
  outcome,
  type SeededCompany,
  seedCompany,
  signIn,
  startTestServer,
  type TestServer,
  testPassword,
  userRow,
} from '../../test/harness.ts';

let server: TestServer;
let acme: SeededCompany;
let globex: SeededCompany;
let acmeAdmin: ApiClient;

const temporary = 'given temporary passphrase';
const chosen = 'a passphrase of my own choosing';
const generatedPassword = /^[a-z2-7]{5}(-[a-z2-7]{5}){3}$/;

beforeAll(async () => {
  server = await startTestServer();
  acme = await seedCompany(server.db, 'acme');
  globex = await seedCompany(server.db, 'globex');
  acmeAdmin = await signIn(server.url, 'acme-admin');
});
afterAll(() => server?.close());

async function usersCount() {
  const [row] = await server.db.select({ n: count() }).from(schema.users);
  return row?.n;
}

async function auditCount() {
  const [row] = await server.db.select({ n: count() }).from(schema.auditLog);
  return row?.n;
}

async function sessionsOf(userId: string) {
  const [row] = await server.db
    .select({ n: count() })
    .from(schema.authSessions)
    .where(eq(schema.authSessions.userId, userId));
  return row?.n;
}

/** A new person of `admin`'s company who has signed in and chosen their own password. */
async function activePerson(admin: ApiClient, username: string, role: Role = 'user') {
  const { user } = await admin.users.create.mutate({ username, role, temporaryPassword: temporary });
  const client = await signIn(server.url, username, temporary);
  await client.auth.changePassword.mutate({ currentPassword: temporary, newPassword: chosen });
  return { id: user.id, client };
}

describe('users.create', () => {
  it('makes up a temporary password that the new person must change at first sign-in', async () => {
    const created = await acmeAdmin.users.create.mutate({ username: ' Field.Tech ', role: 'user' });
    expect(created.user).toMatchObject({ username: 'field.tech', role: 'user', mustChangePassword: true });
    expect(created.temporaryPassword).toMatch(generatedPassword);
    expect((await userRow(server.db, created.user.id))?.companyId).toBe(acme.companyId);

    const person = await signIn(server.url, 'field.tech', created.temporaryPassword);
    expect(await person.auth.me.query()).toMatchObject({ username: 'field.tech', mustChangePassword: true });
    expect(await outcome(person.projects.list.query())).toBe('FORBIDDEN');

    await person.auth.changePassword.mutate({ currentPassword: created.temporaryPassword, newPassword: chosen });
    expect(await outcome(person.projects.list.query())).toBe('OK');
    expect((await userRow(server.db, created.user.id))?.mustChangePassword).toBe(false);
  });

  it('uses a temporary password the admin gives, which must be changed all the same', async () => {
    const created = await acmeAdmin.users.create.mutate({
      username: 'given-pw',
      role: 'viewer',
      temporaryPassword: temporary,
    });
    expect(created.temporaryPassword).toBe(temporary);
    const person = await signIn(server.url, 'given-pw', temporary);
    expect((await person.auth.me.query()).mustChangePassword).toBe(true);
    expect(await outcome(person.cycles.list.query({ projectId: crypto.randomUUID() }))).toBe('FORBIDDEN');
  });

  it('refuses a username that is taken, in any company and however it is cased, and writes nothing', async () => {
    const before = { users: await usersCount(), audit: await auditCount() };
    const rowBefore = await userRow(server.db, acme.users.user.id);
    const globexAdmin = await signIn(server.url, 'globex-admin');
    expect(await outcome(acmeAdmin.users.create.mutate({ username: 'acme-user', role: 'admin' }))).toBe('CONFLICT');
    expect(await outcome(acmeAdmin.users.create.mutate({ username: ' ACME-User ', role: 'viewer' }))).toBe('CONFLICT');
    expect(await outcome(globexAdmin.users.create.mutate({ username: 'acme-user', role: 'user' }))).toBe('CONFLICT');
    expect({ users: await usersCount(), audit: await auditCount() }).toEqual(before);
    expect(await userRow(server.db, acme.users.user.id)).toEqual(rowBefore);
  });

  it('refuses bad usernames and short temporary passwords with the field named', async () => {
    const before = await usersCount();
    const badName = await acmeAdmin.users.create.mutate({ username: 'x', role: 'user' }).catch((error) => error);
    expect(badName.data).toMatchObject({ code: 'BAD_REQUEST', fieldErrors: { username: expect.any(Array) } });
    const shortPassword = await acmeAdmin.users.create
      .mutate({ username: 'short-pw', role: 'user', temporaryPassword: 'short' })
      .catch((error) => error);
    expect(shortPassword.data).toMatchObject({
      code: 'BAD_REQUEST',
      fieldErrors: { temporaryPassword: ['must be at least 12 characters'] },
    });
    const badRole = await acmeAdmin.users.create
      .mutate({ username: 'bad-role', role: 'operator' as Role })
      .catch((error) => error);
    expect(badRole.data).toMatchObject({ code: 'BAD_REQUEST', fieldErrors: { role: expect.any(Array) } });
    expect(await usersCount()).toBe(before);
  });

  it('is for admins only', async () => {
    const user = await signIn(server.url, 'acme-user');
    const viewer = await signIn(server.url, 'acme-viewer');
    expect(await outcome(user.users.create.mutate({ username: 'by-user', role: 'user' }))).toBe('FORBIDDEN');
    expect(await outcome(viewer.users.list.query())).toBe('FORBIDDEN');
    expect(await outcome(apiClient(server.url).users.list.query())).toBe('UNAUTHORIZED');
  });
});

describe('users.list', () => {
  it('lists the people of the caller’s company only, never with a password hash', async () => {
    const list = await acmeAdmin.users.list.query();
    const usernames = list.map((user) => user.username);
    expect(usernames).toEqual(expect.arrayContaining(['acme-admin', 'acme-user', 'acme-viewer']));
    expect(usernames.some((name) => name.startsWith('globex-'))).toBe(false);
    for (const user of list) {
      expect(Object.keys(user).sort()).toEqual(
        ['createdAt', 'disabledAt', 'id', 'isOperator', 'mustChangePassword', 'role', 'username'].sort(),
      );
    }
    const login = await fetch(`${server.url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'acme-admin', password: testPassword }),
    });
    const cookie = login.headers.getSetCookie()[0]?.split(';')[0] ?? '';
    const raw = await (await fetch(`${server.url}/trpc/users.list`, { headers: { cookie } })).text();
    expect(raw).toContain('acme-admin');
    expect(raw).not.toMatch(/argon2|passwordHash|password_hash/i);
  });
});

describe('users.changeRole', () => {
  it('changes a person’s role, which takes effect on their next call', async () => {
    const person = await activePerson(acmeAdmin, 'promoted', 'viewer');
    expect(await outcome(person.client.users.list.query())).toBe('FORBIDDEN');
    const changed = await acmeAdmin.users.changeRole.mutate({ id: person.id, role: 'admin' });
    expect(changed).toMatchObject({ id: person.id, role: 'admin' });
    expect((await userRow(server.db, person.id))?.role).toBe('admin');
    expect(await outcome(person.client.users.list.query())).toBe('OK');
    await acmeAdmin.users.changeRole.mutate({ id: person.id, role: 'viewer' });
    expect((await userRow(server.db, person.id))?.role).toBe('viewer');
  });

  it('answers NOT_FOUND for a person of another company and leaves them unchanged', async () => {
    const before = await userRow(server.db, globex.users.user.id);
    expect(await outcome(acmeAdmin.users.changeRole.mutate({ id: globex.users.user.id, role: 'admin' }))).toBe(
      'NOT_FOUND',
    );
    expect(await outcome(acmeAdmin.users.disable.mutate({ id: globex.users.user.id }))).toBe('NOT_FOUND');
    expect(await outcome(acmeAdmin.users.enable.mutate({ id: globex.users.user.id }))).toBe('NOT_FOUND');
    expect(await outcome(acmeAdmin.users.resetPassword.mutate({ id: globex.users.user.id }))).toBe('NOT_FOUND');
    expect(await outcome(acmeAdmin.users.changeRole.mutate({ id: crypto.randomUUID(), role: 'admin' }))).toBe(
      'NOT_FOUND',
    );
    expect(await userRow(server.db, globex.users.user.id)).toEqual(before);
  });
});

describe('the last admin of a company', () => {
  it('can neither demote nor disable themselves, and the row stays unchanged', async () => {
    const solo = await seedCompany(server.db, 'solo');
    const admin = await signIn(server.url, 'solo-admin');
    const before = await userRow(server.db, solo.users.admin.id);

    const demote = await admin.users.changeRole.mutate({ id: solo.users.admin.id, role: 'user' }).catch((e) => e);
    expect(demote.data.code).toBe('PRECONDITION_FAILED');
    expect(demote.message).toMatch(/last admin/);
    expect(await outcome(admin.users.changeRole.mutate({ id: solo.users.admin.id, role: 'viewer' }))).toBe(
      'PRECONDITION_FAILED',
    );
    expect(await outcome(admin.users.disable.mutate({ id: solo.users.admin.id }))).toBe('PRECONDITION_FAILED');

    expect(await userRow(server.db, solo.users.admin.id)).toEqual(before);
    expect(await outcome(admin.auth.me.query())).toBe('OK');
    expect(await sessionsOf(solo.users.admin.id)).toBeGreaterThan(0);
  });

  it('still cannot step down while the only other admin is disabled', async () => {
    const solo = await seedCompany(server.db, 'solo2');
    const admin = await signIn(server.url, 'solo2-admin');
    const { user: second } = await admin.users.create.mutate({ username: 'solo2-second', role: 'admin' });
    await admin.users.disable.mutate({ id: second.id });
    expect(await outcome(admin.users.changeRole.mutate({ id: solo.users.admin.id, role: 'user' }))).toBe(
      'PRECONDITION_FAILED',
    );
    expect(await outcome(admin.users.disable.mutate({ id: solo.users.admin.id }))).toBe('PRECONDITION_FAILED');
    expect((await userRow(server.db, solo.users.admin.id))?.role).toBe('admin');
  });

  it('can step down once a second active admin exists', async () => {
    const solo = await seedCompany(server.db, 'solo3');
    const admin = await signIn(server.url, 'solo3-admin');
    const second = await activePerson(admin, 'solo3-second', 'admin');

    await admin.users.changeRole.mutate({ id: solo.users.admin.id, role: 'user' });
    expect((await userRow(server.db, solo.users.admin.id))?.role).toBe('user');
    expect(await outcome(admin.users.list.query())).toBe('FORBIDDEN');

    // Now the second admin is the last one, and the rule protects them in turn.
    expect(await outcome(second.client.users.changeRole.mutate({ id: second.id, role: 'viewer' }))).toBe(
      'PRECONDITION_FAILED',
    );
    await second.client.users.changeRole.mutate({ id: solo.users.admin.id, role: 'admin' });
    await second.client.users.disable.mutate({ id: second.id });
    expect((await userRow(server.db, second.id))?.disabledAt).toBeInstanceOf(Date);
    expect(await outcome(second.client.auth.me.query())).toBe('UNAUTHORIZED');
  });

  it('survives two admins demoting each other at the same moment: one wins, the other is refused', async () => {
    const pair = await seedCompany(server.db, 'pair');
    const first = { id: pair.users.admin.id, client: await signIn(server.url, 'pair-admin') };
    const second = await activePerson(first.client, 'pair-second', 'admin');
    // The race is only sometimes lost, so it is run many times.
    for (let round = 0; round < 30; round++) {
      const outcomes = await Promise.all([
        outcome(first.client.users.changeRole.mutate({ id: second.id, role: 'user' })),
        outcome(second.client.users.changeRole.mutate({ id: first.id, role: 'user' })),
      ]);
      // The loser is refused by the last-admin rule, or by the permission check when the winner's demotion
      // committed before its call began; never by a server error.
      expect(outcomes.filter((code) => code === 'OK')).toHaveLength(1);
      expect(outcomes.find((code) => code !== 'OK')).toMatch(/^(PRECONDITION_FAILED|FORBIDDEN)$/);
      const admins = await server.db
        .select({ id: schema.users.id })
        .from(schema.users)
        .where(and(eq(schema.users.companyId, pair.companyId), eq(schema.users.role, 'admin')));
      expect(admins).toHaveLength(1);
      const [winner, loser] = admins[0]?.id === first.id ? [first, second] : [second, first];
      await winner.client.users.changeRole.mutate({ id: loser.id, role: 'admin' });
    }
  });
});

describe('users.disable and users.enable', () => {
  it('ends every session and API token of the person, and sign-in then fails', async () => {
    const person = await activePerson(acmeAdmin, 'to-disable');
    const { token } = await person.client.tokens.create.mutate({ name: 'laptop' });
    const cli = apiClient(server.url, { token });
    expect(await outcome(cli.auth.me.query())).toBe('OK');
    const otherTab = await signIn(server.url, 'to-disable', chosen);
    expect(await sessionsOf(person.id)).toBe(2);

    const disabled = await acmeAdmin.users.disable.mutate({ id: person.id });
    expect(disabled.disabledAt).not.toBeNull();
    expect((await userRow(server.db, person.id))?.disabledAt).toBeInstanceOf(Date);
    expect(await sessionsOf(person.id)).toBe(0);
    expect(await outcome(person.client.auth.me.query())).toBe('UNAUTHORIZED');
    expect(await outcome(otherTab.auth.me.query())).toBe('UNAUTHORIZED');
    expect(await outcome(cli.auth.me.query())).toBe('UNAUTHORIZED');
    expect(await outcome(signIn(server.url, 'to-disable', chosen))).toBe('UNAUTHORIZED');
  });

  it('lets an enabled person sign in again with their password', async () => {
    const person = await activePerson(acmeAdmin, 'to-enable');
    await acmeAdmin.users.disable.mutate({ id: person.id });
    expect(await outcome(signIn(server.url, 'to-enable', chosen))).toBe('UNAUTHORIZED');

    const enabled = await acmeAdmin.users.enable.mutate({ id: person.id });
    expect(enabled.disabledAt).toBeNull();
    expect((await userRow(server.db, person.id))?.disabledAt).toBeNull();
    const again = await signIn(server.url, 'to-enable', chosen);
    expect(await again.auth.me.query()).toMatchObject({ username: 'to-enable', mustChangePassword: false });
  });

  it('keeps the first disabling time when a disabled person is disabled again', async () => {
    const person = await activePerson(acmeAdmin, 'twice-disabled');
    await acmeAdmin.users.disable.mutate({ id: person.id });
    const first = (await userRow(server.db, person.id))?.disabledAt;
    await acmeAdmin.users.disable.mutate({ id: person.id });
    expect((await userRow(server.db, person.id))?.disabledAt).toEqual(first);
  });
});

describe('users.resetPassword revokes tokens', () => {
  it('revokes the person’s API tokens too, since a reset may follow a compromise', async () => {
    const created = await acmeAdmin.users.create.mutate({
      username: 'tokened',
      role: 'user',
      temporaryPassword: temporary,
    });
    const person = await signIn(server.url, 'tokened', temporary);
    await person.auth.changePassword.mutate({ currentPassword: temporary, newPassword: chosen });
    const { token: secret } = await person.tokens.create.mutate({ name: 'laptop' });
    expect(await outcome(apiClient(server.url, { token: secret }).auth.me.query())).toBe('OK');
    await acmeAdmin.users.resetPassword.mutate({ id: created.user.id });
    expect(await outcome(apiClient(server.url, { token: secret }).auth.me.query())).toBe('UNAUTHORIZED');
  });
});

describe('users.resetPassword', () => {
  it('gives a new temporary password, ends the person’s sessions and forces a change', async () => {
    const person = await activePerson(acmeAdmin, 'forgetful');
    const reset = await acmeAdmin.users.resetPassword.mutate({ id: person.id });
    expect(reset.temporaryPassword).toMatch(generatedPassword);
    expect(reset.user).toMatchObject({ id: person.id, mustChangePassword: true });
    expect(await sessionsOf(person.id)).toBe(0);
    expect(await outcome(person.client.auth.me.query())).toBe('UNAUTHORIZED');
    expect(await outcome(signIn(server.url, 'forgetful', chosen))).toBe('UNAUTHORIZED');

    const again = await signIn(server.url, 'forgetful', reset.temporaryPassword);
    expect((await again.auth.me.query()).mustChangePassword).toBe(true);
    expect(await outcome(again.projects.list.query())).toBe('FORBIDDEN');
    await again.auth.changePassword.mutate({
      currentPassword: reset.temporaryPassword,
      newPassword: 'yet another long passphrase',
    });
    expect(await outcome(again.projects.list.query())).toBe('OK');
  });

  it('makes a different password each time', async () => {
    const person = await activePerson(acmeAdmin, 'reset-twice');
    const first = await acmeAdmin.users.resetPassword.mutate({ id: person.id });
    const second = await acmeAdmin.users.resetPassword.mutate({ id: person.id });
    expect(second.temporaryPassword).not.toBe(first.temporaryPassword);
    expect(await outcome(signIn(server.url, 'reset-twice', first.temporaryPassword))).toBe('UNAUTHORIZED');
    expect(await outcome(signIn(server.url, 'reset-twice', second.temporaryPassword))).toBe('OK');
  });
});

describe('the operator account', () => {
  it('cannot be reset, demoted or disabled by an admin who is not the operator, and stays as it was', async () => {
    const ops = await seedCompany(server.db, 'ops', { operator: true });
    const { user: second } = await (await signIn(server.url, 'ops-admin')).users.create.mutate({
      username: 'ops-second',
      role: 'admin',
      temporaryPassword: temporary,
    });
    const secondAdmin = await signIn(server.url, second.username, temporary);
    await secondAdmin.auth.changePassword.mutate({ currentPassword: temporary, newPassword: chosen });
    const operatorBefore = await userRow(server.db, ops.users.admin.id);
    const operatorId = ops.users.admin.id;
    expect(await outcome(secondAdmin.users.resetPassword.mutate({ id: operatorId }))).toBe('FORBIDDEN');
    expect(await outcome(secondAdmin.users.changeRole.mutate({ id: operatorId, role: 'viewer' }))).toBe('FORBIDDEN');
    expect(await outcome(secondAdmin.users.disable.mutate({ id: operatorId }))).toBe('FORBIDDEN');
    expect(await userRow(server.db, operatorId)).toEqual(operatorBefore);
    // The operator still manages the second admin like anyone else.
    const operator = await signIn(server.url, 'ops-admin');
    expect(await outcome(operator.users.resetPassword.mutate({ id: second.id }))).toBe('OK');
  });
});

describe('the audit log of people management', () => {
  it('records create, changeRole, disable, enable and resetPassword, newest first, without passwords', async () => {
    const { user, temporaryPassword } = await acmeAdmin.users.create.mutate({ username: 'audited', role: 'user' });
    await acmeAdmin.users.changeRole.mutate({ id: user.id, role: 'viewer' });
    await acmeAdmin.users.disable.mutate({ id: user.id });
    await acmeAdmin.users.enable.mutate({ id: user.id });
    const reset = await acmeAdmin.users.resetPassword.mutate({ id: user.id });

    const entries = (await acmeAdmin.audit.list.query({ limit: 500 })).filter(
      (entry) => entry.target === `user:${user.id}`,
    );
    expect(entries.map((entry) => entry.action)).toEqual([
      'user.resetPassword',
      'user.enable',
      'user.disable',
      'user.changeRole',
      'user.create',
    ]);
    for (const entry of entries) expect(entry.username).toBe('acme-admin');
    expect(entries.find((entry) => entry.action === 'user.create')?.details).toMatchObject({
      username: 'audited',
      role: 'user',
    });
    expect(entries.find((entry) => entry.action === 'user.changeRole')?.details).toMatchObject({
      from: 'user',
      to: 'viewer',
    });
    const text = JSON.stringify(entries);
    expect(text).not.toContain(temporaryPassword);
    expect(text).not.toContain(reset.temporaryPassword);
  });

  it('shows each company only its own entries, and only to admins', async () => {
    const globexAdmin = await signIn(server.url, 'globex-admin');
    const acmeEntries = await acmeAdmin.audit.list.query({ limit: 500 });
    expect(acmeEntries.length).toBeGreaterThan(0);
    const globexEntries = await globexAdmin.audit.list.query({ limit: 500 });
    const acmeIds = new Set(acmeEntries.map((entry) => entry.id));
    expect(globexEntries.some((entry) => acmeIds.has(entry.id))).toBe(false);
    expect(await outcome((await signIn(server.url, 'acme-user')).audit.list.query())).toBe('FORBIDDEN');
  });

  it('pages backwards with beforeId', async () => {
    const newest = await acmeAdmin.audit.list.query({ limit: 2 });
    expect(newest).toHaveLength(2);
    const older = await acmeAdmin.audit.list.query({ limit: 2, beforeId: newest[1]?.id });
    expect(older.length).toBeGreaterThan(0);
    for (const entry of older) expect(entry.id).toBeLessThan(newest[1]?.id ?? 0);
  });
});
