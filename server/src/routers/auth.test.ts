import { schema } from '@data-uploader/drizzle';
import { count, eq } from 'drizzle-orm';
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
  userRow,
} from '../../test/harness.ts';
import { hashPassword } from '../auth/password.ts';
import { hashSecret } from '../auth/secret.ts';

const { apiTokens, authSessions, loginThrottle, users } = schema;

const day = 24 * 60 * 60 * 1000;
const appOrigin = 'https://uploads.example.org';
const newPassword = 'a brand new passphrase';

let server: TestServer;
let acme: SeededCompany;

beforeAll(async () => {
  server = await startTestServer({ APP_ORIGINS: appOrigin });
  acme = await seedCompany(server.db, 'acme');
});
afterAll(() => server?.close());

// ---------------------------------------------------------------------------------------------------------------
// Raw HTTP, for what the tRPC client hides: cookies, Origin, forwarded headers and malformed bodies.

interface RawOptions {
  cookie?: string;
  token?: string;
  origin?: string;
  headers?: Record<string, string>;
}

interface RawResponse {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: a tRPC answer, success or error, read field by field
  json: any;
  setCookies: string[];
}

function headersOf(options: RawOptions): Record<string, string> {
  return {
    ...(options.cookie ? { cookie: options.cookie } : {}),
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...(options.origin ? { origin: options.origin } : {}),
    ...options.headers,
  };
}

async function answer(response: Response): Promise<RawResponse> {
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, json, setCookies: response.headers.getSetCookie() };
}

/** A mutation as a browser or curl sends it; a string body is sent as is (for malformed JSON). */
async function post(base: string, path: string, body: unknown, options: RawOptions = {}): Promise<RawResponse> {
  const response = await fetch(`${base}/trpc/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headersOf(options) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return answer(response);
}

async function get(base: string, path: string, input?: unknown, options: RawOptions = {}): Promise<RawResponse> {
  const query = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
  return answer(await fetch(`${base}/trpc/${path}${query}`, { headers: headersOf(options) }));
}

const sessionCookieLine = (setCookies: string[]) => setCookies.find((line) => line.startsWith('du_session='));

/** `du_session=<id>.<secret>` → its parts. */
function sessionParts(cookie: string | undefined) {
  const token = /du_session=([^;]+)/.exec(cookie ?? '')?.[1] ?? '';
  const [id = '', secret = ''] = token.split('.');
  return { token, id, secret };
}

/** The same token with one character changed to another valid one. */
function tamper(text: string, index = text.length - 1): string {
  const replacement = text[index] === 'a' ? 'b' : 'a';
  return `${text.slice(0, index)}${replacement}${text.slice(index + 1)}`;
}

/** Signs in over raw HTTP and keeps the cookie and its parts in view. */
async function browserSignIn(base: string, username: string, password = testPassword, options: RawOptions = {}) {
  const response = await post(base, 'auth.login', { username, password }, options);
  const line = sessionCookieLine(response.setCookies);
  if (response.status !== 200 || !line) throw new Error(`sign-in of ${username} failed: ${response.status}`);
  const cookie = line.split(';')[0] as string;
  return { ...sessionParts(cookie), cookie, client: apiClient(base, { cookie }) };
}

async function addUser(
  db: TestServer['db'],
  companyId: string,
  username: string,
  { mustChangePassword = false, role = 'user' as const } = {},
) {
  const [row] = await db
    .insert(users)
    .values({ companyId, username, passwordHash: await hashPassword(testPassword), role, mustChangePassword })
    .returning({ id: users.id });
  if (!row) throw new Error('no user');
  return row.id;
}

async function sessionIdsOf(db: TestServer['db'], userId: string) {
  const rows = await db.select({ id: authSessions.id }).from(authSessions).where(eq(authSessions.userId, userId));
  return rows.map((row) => row.id).sort();
}

async function countRows(db: TestServer['db'], table: typeof authSessions | typeof apiTokens | typeof loginThrottle) {
  const [row] = await db.select({ n: count() }).from(table);
  return Number(row?.n);
}

async function sessionCount(db: TestServer['db']) {
  return countRows(db, authSessions);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

// ---------------------------------------------------------------------------------------------------------------

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
    const { client, cookie, id } = await browserSignIn(server.url, 'acme-viewer');
    const me = await client.auth.me.query();
    expect(me).toMatchObject({ id: acme.users.viewer.id, username: 'acme-viewer', role: 'viewer', isOperator: false });
    expect(me).not.toHaveProperty('passwordHash');
    const logout = await post(server.url, 'auth.logout', {}, { cookie });
    expect(logout.status).toBe(200);
    expect(sessionCookieLine(logout.setCookies)).toMatch(/^du_session=;/);
    expect(await outcome(apiClient(server.url, { cookie }).auth.me.query())).toBe('UNAUTHORIZED');
    expect(await server.db.select().from(authSessions).where(eq(authSessions.id, id))).toEqual([]);
  });

  it('takes as long for an unknown user as for a wrong password, since both run argon2', async () => {
    await addUser(server.db, acme.companyId, 'timing-user');
    const attempt = async (username: string) => {
      const started = performance.now();
      const response = await post(server.url, 'auth.login', { username, password: 'not the password at all' });
      const elapsed = performance.now() - started;
      expect(response.status).toBe(401);
      return { elapsed, body: JSON.stringify(response.json) };
    };
    // Warm-up: the first unknown user also hashes the decoy, and the first requests warm the JIT.
    await attempt('timing-nobody-warmup');
    await attempt('timing-user');
    const unknown: number[] = [];
    const wrong: number[] = [];
    const bodies = new Set<string>();
    // Interleaved, so that a burst of load on the machine hits both series alike.
    for (let i = 0; i < 7; i++) {
      const a = await attempt(`timing-nobody-${i}`);
      const b = await attempt('timing-user');
      unknown.push(a.elapsed);
      wrong.push(b.elapsed);
      bodies.add(a.body).add(b.body);
    }
    expect(bodies.size).toBe(1);
    const ratio = median(unknown) / median(wrong);
    expect(ratio, `unknown ${median(unknown).toFixed(1)} ms, wrong ${median(wrong).toFixed(1)} ms`).toBeGreaterThan(
      0.5,
    );
    expect(ratio).toBeLessThan(2);
  });
});

describe('auth.login with bad input', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['wrong types', { username: 42, password: true }, /username.*password/],
    ['missing fields', {}, /username.*password/],
    ['a missing password', { username: 'acme-user' }, /password/],
    ['an empty username', { username: '   ', password: testPassword }, /username: is required/],
    ['a 10 KB password', { username: 'acme-user', password: 'x'.repeat(10 * 1024) }, /password/],
    ['an array instead of an object', [{ username: 'acme-user', password: testPassword }], /input/],
  ];

  it.each(cases)('refuses %s with 400, a readable message and no session', async (_name, body, message) => {
    const sessionsBefore = await sessionCount(server.db);
    const throttleBefore = await countRows(server.db, loginThrottle);
    const response = await post(server.url, 'auth.login', body);
    expect(response.status).toBe(400);
    expect(response.json.error.data.code).toBe('BAD_REQUEST');
    expect(response.json.error.message).toMatch(/^Invalid input: /);
    expect(response.json.error.message).toMatch(message);
    expect(Object.keys(response.json.error.data.fieldErrors ?? {}).length).toBeGreaterThan(0);
    expect(JSON.stringify(response.json)).not.toMatch(/\bat .*\.ts:\d+/);
    expect(sessionCookieLine(response.setCookies)).toBeUndefined();
    expect(await sessionCount(server.db)).toBe(sessionsBefore);
    expect(await countRows(server.db, loginThrottle)).toBe(throttleBefore);
  });

  it('refuses a body that is not JSON with 400 and no session', async () => {
    const sessionsBefore = await sessionCount(server.db);
    const response = await post(server.url, 'auth.login', '{"username": "acme-user", "password": ');
    expect(response.status).toBe(400);
    expect(typeof response.json.error.message).toBe('string');
    expect(response.json.error.message.length).toBeGreaterThan(0);
    expect(JSON.stringify(response.json)).not.toMatch(/\bat .*\.(ts|js):\d+/);
    expect(sessionCookieLine(response.setCookies)).toBeUndefined();
    expect(await sessionCount(server.db)).toBe(sessionsBefore);
  });
});

describe('session cookies', () => {
  it('refuses a cookie whose secret was tampered with, and the real one keeps working', async () => {
    const { client, id, secret } = await browserSignIn(server.url, 'acme-user');
    const forged = apiClient(server.url, { cookie: `du_session=${id}.${tamper(secret)}` });
    expect(await outcome(forged.auth.me.query())).toBe('UNAUTHORIZED');
    expect(await outcome(forged.projects.list.query())).toBe('UNAUTHORIZED');
    expect(await outcome(client.auth.me.query())).toBe('OK');
  });

  it('refuses a cookie whose id was tampered with', async () => {
    const { client, id, secret } = await browserSignIn(server.url, 'acme-user');
    const forged = apiClient(server.url, { cookie: `du_session=${tamper(id, 0)}.${secret}` });
    expect(await outcome(forged.auth.me.query())).toBe('UNAUTHORIZED');
    expect(await outcome(client.auth.me.query())).toBe('OK');
  });

  it.each([
    'garbage',
    '.',
    'a.b',
    'x'.repeat(4000),
    `${'a'.repeat(24)}.${'a'.repeat(24)}`,
    encodeURIComponent('\u0000; drop table users'),
  ])('refuses the garbage cookie %#', async (value) => {
    const response = await get(server.url, 'auth.me', undefined, { cookie: `du_session=${value}` });
    expect(response.status).toBe(401);
    expect(response.json.error.data.code).toBe('UNAUTHORIZED');
  });

  it("refuses another person's session id paired with this person's secret", async () => {
    const mine = await browserSignIn(server.url, 'acme-user');
    const theirs = await browserSignIn(server.url, 'acme-admin');
    const forged = apiClient(server.url, { cookie: `du_session=${theirs.id}.${mine.secret}` });
    expect(await outcome(forged.auth.me.query())).toBe('UNAUTHORIZED');
    expect(await outcome(forged.users.list.query())).toBe('UNAUTHORIZED');
    expect((await theirs.client.auth.me.query()).username).toBe('acme-admin');
    expect((await mine.client.auth.me.query()).username).toBe('acme-user');
  });

  it('refuses an expired session and deletes its row', async () => {
    const { client, id } = await browserSignIn(server.url, 'acme-user');
    expect(await outcome(client.auth.me.query())).toBe('OK');
    await server.db
      .update(authSessions)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(authSessions.id, id));
    expect(await outcome(client.auth.me.query())).toBe('UNAUTHORIZED');
    expect(await server.db.select().from(authSessions).where(eq(authSessions.id, id))).toEqual([]);
  });

  it('refuses a session revoked from another browser with auth.revokeSession', async () => {
    const userId = await addUser(server.db, acme.companyId, 'revoked-user');
    const laptop = await browserSignIn(server.url, 'revoked-user');
    const phone = await browserSignIn(server.url, 'revoked-user');
    expect(await outcome(phone.client.auth.me.query())).toBe('OK');
    expect(await laptop.client.auth.revokeSession.mutate({ id: phone.id })).toEqual({ ok: true });
    expect(await outcome(phone.client.auth.me.query())).toBe('UNAUTHORIZED');
    expect(await sessionIdsOf(server.db, userId)).toEqual([laptop.id]);
    expect(await outcome(laptop.client.auth.me.query())).toBe('OK');
  });

  it('pushes a session used in its last days out to 30 days again and sends a fresh cookie', async () => {
    const { cookie, id, token } = await browserSignIn(server.url, 'acme-user');
    const fresh = await get(server.url, 'auth.me', undefined, { cookie });
    expect(fresh.status).toBe(200);
    expect(sessionCookieLine(fresh.setCookies)).toBeUndefined();

    await server.db
      .update(authSessions)
      .set({ expiresAt: new Date(Date.now() + 5 * day) })
      .where(eq(authSessions.id, id));
    const before = Date.now();
    const renewed = await get(server.url, 'auth.me', undefined, { cookie });
    expect(renewed.status).toBe(200);
    const line = sessionCookieLine(renewed.setCookies);
    expect(line).toBeDefined();
    expect(sessionParts(line).token).toBe(token);
    expect(line).toMatch(/HttpOnly/);
    const expires = Date.parse(/Expires=([^;]+)/i.exec(line ?? '')?.[1] ?? '');
    expect(Math.abs(expires - (before + 30 * day))).toBeLessThan(2 * 60 * 1000);
    const [row] = await server.db.select().from(authSessions).where(eq(authSessions.id, id));
    expect(Math.abs((row?.expiresAt.getTime() ?? 0) - (before + 30 * day))).toBeLessThan(2 * 60 * 1000);
  });

  it('marks the cookie Secure behind a trusted proxy that terminated https', async () => {
    const proxied = await startTestServer({ TRUST_PROXY: 'true' });
    try {
      await seedCompany(proxied.db, 'tls');
      const body = { username: 'tls-user', password: testPassword };
      const overHttps = await post(proxied.url, 'auth.login', body, { headers: { 'x-forwarded-proto': 'https' } });
      expect(overHttps.status).toBe(200);
      expect(sessionCookieLine(overHttps.setCookies)).toMatch(/;\s*Secure/i);
      const overHttp = await post(proxied.url, 'auth.login', body);
      expect(overHttp.status).toBe(200);
      expect(sessionCookieLine(overHttp.setCookies)).not.toMatch(/Secure/i);
    } finally {
      await proxied.close();
    }
  });
});

describe('auth.sessions and auth.revokeSession', () => {
  it("lists only one's own sessions and marks the current one", async () => {
    const userId = await addUser(server.db, acme.companyId, 'listing-user');
    const laptop = await browserSignIn(server.url, 'listing-user');
    const phone = await browserSignIn(server.url, 'listing-user');
    const stranger = await browserSignIn(server.url, 'acme-viewer');
    const listed = await laptop.client.auth.sessions.query();
    expect(listed.map((session) => session.id).sort()).toEqual([laptop.id, phone.id].sort());
    expect(await sessionIdsOf(server.db, userId)).toEqual([laptop.id, phone.id].sort());
    expect(listed.filter((session) => session.current).map((session) => session.id)).toEqual([laptop.id]);
    expect(listed.map((session) => session.id)).not.toContain(stranger.id);
    expect(JSON.stringify(listed)).not.toContain(phone.secret);
    expect(JSON.stringify(listed)).not.toContain(laptop.secret);
    const fromPhone = await phone.client.auth.sessions.query();
    expect(fromPhone.filter((session) => session.current).map((session) => session.id)).toEqual([phone.id]);
  });

  it("answers NOT_FOUND for another person's session and deletes nothing", async () => {
    const attacker = await browserSignIn(server.url, 'acme-user');
    const victim = await browserSignIn(server.url, 'acme-admin');
    const before = await sessionCount(server.db);
    expect(await outcome(attacker.client.auth.revokeSession.mutate({ id: victim.id }))).toBe('NOT_FOUND');
    expect(await sessionCount(server.db)).toBe(before);
    expect(await server.db.select().from(authSessions).where(eq(authSessions.id, victim.id))).toHaveLength(1);
    expect(await outcome(victim.client.auth.me.query())).toBe('OK');
    expect(await outcome(attacker.client.auth.me.query())).toBe('OK');
  });
});

describe('auth.changePassword', () => {
  it('refuses a wrong current password and changes nothing', async () => {
    const userId = await addUser(server.db, acme.companyId, 'cp-wrong');
    const client = await signIn(server.url, 'cp-wrong');
    const other = await signIn(server.url, 'cp-wrong');
    const before = await userRow(server.db, userId);
    const sessionsBefore = await sessionIdsOf(server.db, userId);
    const error = await client.auth.changePassword
      .mutate({ currentPassword: 'not my password', newPassword })
      .catch((e) => e);
    expect(error.data.code).toBe('BAD_REQUEST');
    expect(error.message).toMatch(/current password/i);
    expect((await userRow(server.db, userId))?.passwordHash).toBe(before?.passwordHash);
    expect(await sessionIdsOf(server.db, userId)).toEqual(sessionsBefore);
    expect(await outcome(other.auth.me.query())).toBe('OK');
    expect(await outcome(signIn(server.url, 'cp-wrong', newPassword))).toBe('UNAUTHORIZED');
  });

  it('ends every session of the person and gives the caller a fresh cookie that works', async () => {
    const userId = await addUser(server.db, acme.companyId, 'cp-everywhere');
    const laptop = await browserSignIn(server.url, 'cp-everywhere');
    const phone = await browserSignIn(server.url, 'cp-everywhere');
    const changed = await post(
      server.url,
      'auth.changePassword',
      { currentPassword: testPassword, newPassword },
      { cookie: laptop.cookie },
    );
    expect(changed.status).toBe(200);
    const fresh = sessionParts(sessionCookieLine(changed.setCookies));
    expect(fresh.id).toMatch(/^[a-z2-7]{24}$/);
    expect(fresh.id).not.toBe(laptop.id);
    expect(await outcome(phone.client.auth.me.query())).toBe('UNAUTHORIZED');
    expect(await outcome(apiClient(server.url, { cookie: laptop.cookie }).auth.me.query())).toBe('UNAUTHORIZED');
    const me = await apiClient(server.url, { cookie: `du_session=${fresh.token}` }).auth.me.query();
    expect(me.username).toBe('cp-everywhere');
    expect(await sessionIdsOf(server.db, userId)).toEqual([fresh.id]);
  });

  it('makes the new password the one that signs in, and the old one not', async () => {
    await addUser(server.db, acme.companyId, 'cp-login');
    const client = await signIn(server.url, 'cp-login');
    await client.auth.changePassword.mutate({ currentPassword: testPassword, newPassword });
    expect(await outcome(signIn(server.url, 'cp-login', testPassword))).toBe('UNAUTHORIZED');
    const again = await signIn(server.url, 'cp-login', newPassword);
    expect((await again.auth.me.query()).username).toBe('cp-login');
  });

  it('refuses a too-short new password with fieldErrors.newPassword and changes nothing', async () => {
    const userId = await addUser(server.db, acme.companyId, 'cp-short');
    const { client, cookie } = await browserSignIn(server.url, 'cp-short');
    const before = await userRow(server.db, userId);
    const response = await post(
      server.url,
      'auth.changePassword',
      { currentPassword: testPassword, newPassword: 'short' },
      { cookie },
    );
    expect(response.status).toBe(400);
    expect(response.json.error.data.code).toBe('BAD_REQUEST');
    expect(response.json.error.data.fieldErrors.newPassword).toEqual([expect.stringMatching(/at least 12/)]);
    expect((await userRow(server.db, userId))?.passwordHash).toBe(before?.passwordHash);
    expect(await outcome(client.auth.me.query())).toBe('OK');
  });
});

describe('must change the temporary password', () => {
  it('allows only auth.me, auth.logout and auth.changePassword until the password is changed', async () => {
    const userId = await addUser(server.db, acme.companyId, 'newcomer', { mustChangePassword: true });
    const client = await signIn(server.url, 'newcomer');
    expect(await client.auth.me.query()).toMatchObject({ username: 'newcomer', mustChangePassword: true });
    const refused = await client.projects.list.query().catch((e) => e);
    expect(refused.data.code).toBe('FORBIDDEN');
    expect(refused.message).toMatch(/change your temporary password/i);
    expect(await outcome(client.tokens.list.query())).toBe('FORBIDDEN');
    expect(await outcome(client.tokens.create.mutate({ name: 'sneaky' }))).toBe('FORBIDDEN');
    expect(await outcome(client.auth.sessions.query())).toBe('FORBIDDEN');

    const otherTab = await signIn(server.url, 'newcomer');
    expect(await outcome(otherTab.auth.logout.mutate())).toBe('OK');
    expect(await outcome(otherTab.auth.me.query())).toBe('UNAUTHORIZED');

    await client.auth.changePassword.mutate({ currentPassword: testPassword, newPassword });
    expect(await client.auth.me.query()).toMatchObject({ username: 'newcomer', mustChangePassword: false });
    expect(await outcome(client.projects.list.query())).toBe('OK');
    expect(await client.tokens.list.query()).toEqual([]);
    expect((await userRow(server.db, userId))?.mustChangePassword).toBe(false);
  });
});

describe('disabled users', () => {
  it('stops their session and API token, and login answers as for a wrong password', async () => {
    const userId = await addUser(server.db, acme.companyId, 'leaver');
    const client = await signIn(server.url, 'leaver');
    const { token } = await client.tokens.create.mutate({ name: 'laptop cli' });
    const cli = apiClient(server.url, { token });
    expect(await outcome(client.auth.me.query())).toBe('OK');
    expect(await outcome(cli.auth.me.query())).toBe('OK');

    await server.db.update(users).set({ disabledAt: new Date() }).where(eq(users.id, userId));
    expect(await outcome(client.auth.me.query())).toBe('UNAUTHORIZED');
    expect(await outcome(cli.auth.me.query())).toBe('UNAUTHORIZED');
    expect(await outcome(cli.projects.list.query())).toBe('UNAUTHORIZED');

    const sessionsBefore = await sessionCount(server.db);
    const disabled = await post(server.url, 'auth.login', { username: 'leaver', password: testPassword });
    const wrong = await post(server.url, 'auth.login', { username: 'acme-viewer', password: 'a wrong password' });
    expect(disabled.status).toBe(401);
    expect(disabled.status).toBe(wrong.status);
    expect(disabled.json).toEqual(wrong.json);
    expect(sessionCookieLine(disabled.setCookies)).toBeUndefined();
    expect(await sessionCount(server.db)).toBe(sessionsBefore);
  });

  it('ends their sessions when an admin disables them through users.disable', async () => {
    const userId = await addUser(server.db, acme.companyId, 'leaver-two');
    const client = await signIn(server.url, 'leaver-two');
    const { token } = await client.tokens.create.mutate({ name: 'cli' });
    const admin = await signIn(server.url, 'acme-admin');
    await admin.users.disable.mutate({ id: userId });
    expect(await outcome(client.auth.me.query())).toBe('UNAUTHORIZED');
    expect(await outcome(apiClient(server.url, { token }).auth.me.query())).toBe('UNAUTHORIZED');
    expect(await sessionIdsOf(server.db, userId)).toEqual([]);
  });
});

describe('cross-site requests (Origin check)', () => {
  let cookie: string;
  let adminId: string;

  beforeAll(async () => {
    ({ cookie } = await browserSignIn(server.url, 'acme-admin'));
    adminId = acme.users.admin.id;
  });

  const tokensOfAdmin = async () => {
    const [row] = await server.db.select({ n: count() }).from(apiTokens).where(eq(apiTokens.userId, adminId));
    return Number(row?.n);
  };

  it('refuses a mutation from another site with 403 and writes nothing', async () => {
    const before = await tokensOfAdmin();
    const response = await post(
      server.url,
      'tokens.create',
      { name: 'planted by evil' },
      { cookie, origin: 'https://evil.example' },
    );
    expect(response.status).toBe(403);
    expect(response.json.error.data.code).toBe('FORBIDDEN');
    expect(response.json.error.message).toMatch(/evil\.example/);
    expect(await tokensOfAdmin()).toBe(before);
  });

  it('refuses Origin: null (sandboxed frames, data: URLs)', async () => {
    const before = await tokensOfAdmin();
    const response = await post(server.url, 'tokens.create', { name: 'from null' }, { cookie, origin: 'null' });
    expect(response.status).toBe(403);
    expect(response.json.error.data.code).toBe('FORBIDDEN');
    expect(await tokensOfAdmin()).toBe(before);
  });

  it('refuses an origin that only resembles the app (other port, suffix)', async () => {
    const before = await tokensOfAdmin();
    const port = new URL(server.url).port;
    for (const origin of [`http://127.0.0.1:${Number(port) === 1 ? 2 : 1}`, `${appOrigin}.evil.example`]) {
      const response = await post(server.url, 'tokens.create', { name: 'look-alike' }, { cookie, origin });
      expect(response.status, origin).toBe(403);
    }
    expect(await tokensOfAdmin()).toBe(before);
  });

  it('refuses a cross-site sign-in (login CSRF) and starts no session', async () => {
    const before = await sessionCount(server.db);
    const response = await post(
      server.url,
      'auth.login',
      { username: 'acme-user', password: testPassword },
      { origin: 'https://evil.example' },
    );
    expect(response.status).toBe(403);
    expect(sessionCookieLine(response.setCookies)).toBeUndefined();
    expect(await sessionCount(server.db)).toBe(before);
  });

  it("allows a mutation from the app's own origin", async () => {
    const before = await tokensOfAdmin();
    const response = await post(server.url, 'tokens.create', { name: 'same origin' }, { cookie, origin: server.url });
    expect(response.status).toBe(200);
    expect(response.json.result.data.token).toMatch(/^du_/);
    expect(await tokensOfAdmin()).toBe(before + 1);
  });

  it('allows a mutation without Origin, as curl and the CLI send it', async () => {
    const before = await tokensOfAdmin();
    const response = await post(server.url, 'tokens.create', { name: 'no origin' }, { cookie });
    expect(response.status).toBe(200);
    expect(await tokensOfAdmin()).toBe(before + 1);
  });

  it('allows a mutation from an origin listed in APP_ORIGINS', async () => {
    const before = await tokensOfAdmin();
    const response = await post(server.url, 'tokens.create', { name: 'via proxy' }, { cookie, origin: appOrigin });
    expect(response.status).toBe(200);
    expect(await tokensOfAdmin()).toBe(before + 1);
  });

  it('does not apply to queries', async () => {
    const me = await get(server.url, 'auth.me', undefined, { cookie, origin: 'https://evil.example' });
    expect(me.status).toBe(200);
    expect(me.json.result.data.username).toBe('acme-admin');
    const list = await get(server.url, 'tokens.list', undefined, { cookie, origin: 'null' });
    expect(list.status).toBe(200);
  });
});

describe('login throttle', () => {
  let throttled: TestServer;
  // TRUST_PROXY lets X-Forwarded-For stand for different client addresses.
  const from = (address: string) => ({ headers: { 'x-forwarded-for': address } });

  beforeAll(async () => {
    throttled = await startTestServer({
      TRUST_PROXY: 'true',
      LOGIN_MAX_FAILURES_PER_USERNAME: '3',
      LOGIN_MAX_FAILURES_PER_ADDRESS: '5',
    });
    await seedCompany(throttled.db, 'thr');
  });
  afterAll(() => throttled?.close());

  it('locks a username after 3 failures, even for the right password, from any address', async () => {
    const userId = (await throttled.db.select().from(users).where(eq(users.username, 'thr-user')))[0]?.id ?? '';
    for (let i = 0; i < 3; i++) {
      const response = await post(
        throttled.url,
        'auth.login',
        { username: 'thr-user', password: 'guess' },
        from('10.0.0.1'),
      );
      expect(response.json.error.data.code).toBe('UNAUTHORIZED');
    }
    const locked = await post(
      throttled.url,
      'auth.login',
      { username: 'thr-user', password: testPassword },
      from('10.0.0.1'),
    );
    expect(locked.status).toBe(429);
    expect(locked.json.error.data.code).toBe('TOO_MANY_REQUESTS');
    expect(locked.json.error.message).toMatch(/try again in \d+ min/);
    expect(sessionCookieLine(locked.setCookies)).toBeUndefined();
    const elsewhere = await post(
      throttled.url,
      'auth.login',
      { username: 'THR-User', password: testPassword },
      from('10.0.0.2'),
    );
    expect(elsewhere.json.error.data.code).toBe('TOO_MANY_REQUESTS');
    expect(await sessionIdsOf(throttled.db, userId)).toEqual([]);
  });

  it('still lets another username sign in from the same address', async () => {
    const response = await post(
      throttled.url,
      'auth.login',
      { username: 'thr-viewer', password: testPassword },
      from('10.0.0.1'),
    );
    expect(response.status).toBe(200);
    expect(sessionCookieLine(response.setCookies)).toBeDefined();
  });

  it('locks an address out after failures across many usernames, and only that address', async () => {
    for (let i = 0; i < 5; i++) {
      const response = await post(
        throttled.url,
        'auth.login',
        { username: `sprayed-${i}`, password: 'guess' },
        from('10.0.0.9'),
      );
      expect(response.json.error.data.code).toBe('UNAUTHORIZED');
    }
    const locked = await post(
      throttled.url,
      'auth.login',
      { username: 'thr-admin', password: testPassword },
      from('10.0.0.9'),
    );
    expect(locked.status).toBe(429);
    expect(locked.json.error.data.code).toBe('TOO_MANY_REQUESTS');
    const [row] = await throttled.db.select().from(loginThrottle).where(eq(loginThrottle.key, 'addr:10.0.0.9'));
    expect(row?.failures).toBe(5);

    const otherAddress = await post(
      throttled.url,
      'auth.login',
      { username: 'thr-admin', password: testPassword },
      from('10.0.0.10'),
    );
    expect(otherAddress.status).toBe(200);
  });

  // Known bug (routers/auth.ts, login): the lock-out is checked before the password and the failure recorded
  // after it, so guesses sent at the same moment all pass the check before any of them is counted.
  it('checks no more passwords than the limit when guesses arrive at the same moment', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        post(throttled.url, 'auth.login', { username: 'raced-user', password: `guess ${i}` }, from('10.0.1.1')).then(
          (response) => response.status,
        ),
      ),
    );
    expect(statuses.filter((status) => status !== 401 && status !== 429)).toEqual([]);
    expect(statuses.filter((status) => status === 401).length, JSON.stringify(statuses)).toBeLessThanOrEqual(3);
    const [row] = await throttled.db.select().from(loginThrottle).where(eq(loginThrottle.key, 'user:raced-user'));
    expect(row?.failures).toBeLessThanOrEqual(3);
  });
});
