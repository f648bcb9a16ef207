import { schema } from '@data-uploader/drizzle';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiClient,
  outcome,
  type SeededCompany,
  seedCompany,
  signIn,
  startTestServer,
  type TestServer,
  testPassword,
} from '../../test/harness.ts';
import { hashSecret } from '../auth/secret.ts';

let server: TestServer;
let acme: SeededCompany;

beforeAll(async () => {
  server = await startTestServer();
  acme = await seedCompany(server.db, 'acme');
});
afterAll(() => server?.close());

describe('auth.login', () => {
  it('sets an HttpOnly SameSite=Lax session cookie and stores only the hash of its secret', async () => {
    const response = await fetch(`${server.url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'acme-user', password: testPassword }),
    });
    expect(response.status).toBe(200);
    const cookie = response.headers.getSetCookie().find((line) => line.startsWith('du_session='));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/);
    const token = /du_session=([^;]+)/.exec(cookie ?? '')?.[1] ?? '';
    const [id, secret] = token.split('.');
    const [row] = await server.db
      .select()
      .from(schema.authSessions)
      .where(eq(schema.authSessions.id, id ?? ''));
    expect(Buffer.from(row?.secretHash ?? []).equals(Buffer.from(hashSecret(secret ?? '')))).toBe(true);
    const stored = JSON.stringify(await server.db.select().from(schema.authSessions));
    expect(stored).not.toContain(secret);
  });

  it('answers the same for an unknown user and a wrong password', async () => {
    const anonymous = apiClient(server.url);
    const unknown = await anonymous.auth.login
      .mutate({ username: 'nobody-here', password: 'whatever' })
      .catch((e) => e);
    const wrong = await anonymous.auth.login.mutate({ username: 'acme-user', password: 'whatever' }).catch((e) => e);
    expect(unknown.message).toBe('Wrong username or password');
    expect(wrong.message).toBe(unknown.message);
    expect(wrong.data.code).toBe(unknown.data.code);
  });

  it('lets a signed-in person see who they are and sign out', async () => {
    const client = await signIn(server.url, 'acme-viewer');
    const me = await client.auth.me.query();
    expect(me).toMatchObject({ username: 'acme-viewer', role: 'viewer', isOperator: false });
    expect(me).not.toHaveProperty('passwordHash');
    await client.auth.logout.mutate();
    expect(await outcome(apiClient(server.url, { cookie: client.jar.cookie }).auth.me.query())).toBe('UNAUTHORIZED');
    expect(acme.users.viewer.username).toBe('acme-viewer');
  });
});
