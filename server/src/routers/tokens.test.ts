import { schema } from '@data-uploader/drizzle';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiClient,
  outcome,
  type SeededCompany,
  seedCompany,
  startTestServer,
  type TestServer,
  testPassword,
} from '../../test/harness.ts';
import { hashSecret } from '../auth/secret.ts';

const { apiTokens, projects } = schema;

let server: TestServer;
let acme: SeededCompany;
let globex: SeededCompany;

beforeAll(async () => {
  server = await startTestServer();
  acme = await seedCompany(server.db, 'acme');
  globex = await seedCompany(server.db, 'globex');
  await server.db.insert(projects).values([
    { companyId: acme.companyId, name: 'Acme birds', bucket: 'acme-birds', region: 'eu-west-1' },
    { companyId: globex.companyId, name: 'Globex bats', bucket: 'globex-bats', region: 'eu-west-1' },
  ]);
});
afterAll(() => server?.close());

/** Signs in over HTTP and returns the session cookie (`du_session=…`) with a client that carries it. */
async function browser(username: string) {
  const response = await fetch(`${server.url}/trpc/auth.login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: testPassword }),
  });
  const cookie = response.headers
    .getSetCookie()
    .find((line) => line.startsWith('du_session='))
    ?.split(';')[0];
  if (response.status !== 200 || !cookie) throw new Error(`sign-in of ${username} failed: ${response.status}`);
  return { cookie, client: apiClient(server.url, { cookie }) };
}

/** `du_<id>.<secret>` → its parts. */
function tokenParts(token: string) {
  const match = /^du_([a-z2-7]{24})\.([a-z2-7]{24})$/.exec(token);
  if (!match) throw new Error(`not a token: ${token}`);
  return { id: match[1] as string, secret: match[2] as string };
}

/** The same text with one character changed to another valid base32 one. */
function tamper(text: string, index = text.length - 1): string {
  const replacement = text[index] === 'a' ? 'b' : 'a';
  return `${text.slice(0, index)}${replacement}${text.slice(index + 1)}`;
}

async function tokenRow(id: string) {
  const [row] = await server.db.select().from(apiTokens).where(eq(apiTokens.id, id));
  return row;
}

/** A raw GET of auth.me with exactly the headers given. */
async function me(headers: Record<string, string>) {
  const response = await fetch(`${server.url}/trpc/auth.me`, { headers });
  // biome-ignore lint/suspicious/noExplicitAny: a tRPC answer read field by field
  const json: any = await response.json();
  return { status: response.status, json };
}

describe('tokens.create', () => {
  it('returns the token once, as du_<id>.<secret>, and stores only the hash of its secret', async () => {
    const { client } = await browser('acme-user');
    const created = await client.tokens.create.mutate({ name: 'field laptop' });
    expect(created.token).toMatch(/^du_[a-z2-7]{24}\.[a-z2-7]{24}$/);
    expect(created.name).toBe('field laptop');
    const { id, secret } = tokenParts(created.token);
    expect(created.id).toBe(id);

    const row = await tokenRow(id);
    expect(row?.userId).toBe(acme.users.user.id);
    expect(Buffer.from(row?.tokenHash ?? []).equals(Buffer.from(hashSecret(secret)))).toBe(true);
    // The secret appears nowhere in the table, in any column, in any encoding of the hash.
    for (const stored of await server.db.select().from(apiTokens)) {
      const hash = Buffer.from(stored.tokenHash);
      const text = [
        JSON.stringify({ ...stored, tokenHash: null }),
        hash.toString('hex'),
        hash.toString('base64'),
        hash.toString('latin1'),
      ].join(' ');
      expect(text).not.toContain(secret);
      expect(text).not.toContain(created.token);
    }
  });

  it('gives a different token each time, and the list never shows a token or its hash', async () => {
    const { client } = await browser('acme-viewer');
    const first = await client.tokens.create.mutate({ name: 'one' });
    const second = await client.tokens.create.mutate({ name: 'two' });
    expect(first.token).not.toBe(second.token);
    const listed = await client.tokens.list.query();
    expect(listed.map((token) => token.id).sort()).toEqual([first.id, second.id].sort());
    for (const token of listed) {
      expect(Object.keys(token).sort()).toEqual(['createdAt', 'id', 'lastUsedAt', 'name', 'revokedAt']);
    }
    const text = JSON.stringify(listed);
    for (const { token } of [first, second]) {
      const { secret } = tokenParts(token);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(Buffer.from(hashSecret(secret)).toString('hex'));
      expect(text).not.toContain(Buffer.from(hashSecret(secret)).toString('base64'));
    }
  });

  it("lists only one's own tokens", async () => {
    const mine = (await browser('globex-user')).client;
    const theirs = (await browser('globex-admin')).client;
    const own = await mine.tokens.create.mutate({ name: 'mine' });
    const other = await theirs.tokens.create.mutate({ name: 'theirs' });
    const ids = (await mine.tokens.list.query()).map((token) => token.id);
    expect(ids).toContain(own.id);
    expect(ids).not.toContain(other.id);
  });
});

describe('Authorization: Bearer', () => {
  it('authenticates auth.me and projects.list as the token owner, within their company', async () => {
    const { client } = await browser('acme-viewer');
    const { token } = await client.tokens.create.mutate({ name: 'cli' });
    const cli = apiClient(server.url, { token });
    expect(await cli.auth.me.query()).toMatchObject({ id: acme.users.viewer.id, username: 'acme-viewer' });
    expect((await cli.projects.list.query()).map((project) => project.name)).toEqual(['Acme birds']);
  });

  it('records when a token was last used', async () => {
    const { client } = await browser('acme-user');
    const created = await client.tokens.create.mutate({ name: 'usage' });
    expect((await tokenRow(created.id))?.lastUsedAt).toBeNull();
    const listedBefore = (await client.tokens.list.query()).find((token) => token.id === created.id);
    expect(listedBefore?.lastUsedAt).toBeNull();

    const before = Date.now();
    await apiClient(server.url, { token: created.token }).auth.me.query();
    const lastUsedAt = (await tokenRow(created.id))?.lastUsedAt;
    expect(lastUsedAt).toBeInstanceOf(Date);
    expect(Math.abs((lastUsedAt?.getTime() ?? 0) - before)).toBeLessThan(60_000);
    const listedAfter = (await client.tokens.list.query()).find((token) => token.id === created.id);
    expect(listedAfter?.lastUsedAt).toBe(lastUsedAt?.toISOString());
  });

  it('refuses a revoked token', async () => {
    const { client } = await browser('acme-user');
    const created = await client.tokens.create.mutate({ name: 'to revoke' });
    const cli = apiClient(server.url, { token: created.token });
    expect(await outcome(cli.auth.me.query())).toBe('OK');
    expect(await client.tokens.revoke.mutate({ id: created.id })).toEqual({ ok: true });
    expect(await outcome(cli.auth.me.query())).toBe('UNAUTHORIZED');
    expect(await outcome(cli.projects.list.query())).toBe('UNAUTHORIZED');
    const listed = (await client.tokens.list.query()).find((token) => token.id === created.id);
    expect(listed?.revokedAt).toEqual(expect.any(String));
    expect(await outcome(client.tokens.revoke.mutate({ id: created.id }))).toBe('NOT_FOUND');
  });

  it('refuses a token with one character of its secret or its id changed', async () => {
    const { client } = await browser('acme-user');
    const { token } = await client.tokens.create.mutate({ name: 'tamper' });
    const { id, secret } = tokenParts(token);
    for (const forged of [
      `du_${id}.${tamper(secret)}`,
      `du_${id}.${tamper(secret, 0)}`,
      `du_${tamper(id)}.${secret}`,
      `du_${id.toUpperCase()}.${secret}`,
    ]) {
      expect(await outcome(apiClient(server.url, { token: forged }).auth.me.query()), forged).toBe('UNAUTHORIZED');
    }
    expect(await outcome(apiClient(server.url, { token }).auth.me.query())).toBe('OK');
  });

  it.each([
    ['no prefix', (token: string) => token.slice(3)],
    ['another prefix', (token: string) => `xx_${token.slice(3)}`],
    ['the prefix only', () => 'du_'],
    ['a truncated secret', (token: string) => token.slice(0, -1)],
    ['an extra character', (token: string) => `${token}a`],
    ['no dot', (token: string) => token.replace('.', '')],
    ['garbage', () => 'not-a-token-at-all'],
    ['a very long value', () => `du_${'a'.repeat(8000)}`],
  ])('refuses a malformed token (%s)', async (_name, malform) => {
    const { client } = await browser('acme-user');
    const { token } = await client.tokens.create.mutate({ name: 'malformed' });
    const answer = await me({ authorization: `Bearer ${malform(token)}` });
    expect(answer.status).toBe(401);
    expect(answer.json.error.data.code).toBe('UNAUTHORIZED');
  });

  it("refuses another person's token id paired with this person's secret", async () => {
    const mine = await (await browser('acme-user')).client.tokens.create.mutate({ name: 'mine' });
    const theirs = await (await browser('acme-admin')).client.tokens.create.mutate({ name: 'theirs' });
    const forged = `du_${tokenParts(theirs.token).id}.${tokenParts(mine.token).secret}`;
    expect(await outcome(apiClient(server.url, { token: forged }).auth.me.query())).toBe('UNAUTHORIZED');
    expect(await outcome(apiClient(server.url, { token: forged }).users.list.query())).toBe('UNAUTHORIZED');
    expect((await apiClient(server.url, { token: theirs.token }).auth.me.query()).username).toBe('acme-admin');
  });

  it('does not fall back to a valid session cookie when the bearer token is invalid', async () => {
    const { cookie } = await browser('acme-admin');
    const { client } = await browser('acme-user');
    const revoked = await client.tokens.create.mutate({ name: 'revoked' });
    await client.tokens.revoke.mutate({ id: revoked.id });
    expect((await me({ cookie })).status).toBe(200);
    for (const authorization of [
      'Bearer du_aaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaa',
      'Bearer garbage',
      `Bearer ${revoked.token}`,
    ]) {
      const answer = await me({ cookie, authorization });
      expect(answer.status, authorization).toBe(401);
      expect(answer.json.error.data.code).toBe('UNAUTHORIZED');
    }
  });

  // Known bug (context.ts, bearerToken): a header in the Bearer scheme that does not match `Bearer <one word>`
  // is ignored and the request silently authenticates with the cookie instead.
  it('does not fall back to the cookie when the Bearer header is empty or has more than one word', async () => {
    const { cookie } = await browser('acme-admin');
    for (const authorization of ['Bearer', 'Bearer ', 'Bearer two words', 'bearer du_x.y extra']) {
      const answer = await me({ cookie, authorization });
      expect(answer.status, JSON.stringify(authorization)).toBe(401);
    }
  });
});

describe('tokens.revoke', () => {
  it("answers NOT_FOUND for someone else's token and changes nothing", async () => {
    const victim = (await browser('globex-viewer')).client;
    const created = await victim.tokens.create.mutate({ name: 'victim cli' });
    const before = await tokenRow(created.id);
    for (const attacker of ['acme-admin', 'globex-admin']) {
      const { client } = await browser(attacker);
      expect(await outcome(client.tokens.revoke.mutate({ id: created.id })), attacker).toBe('NOT_FOUND');
    }
    expect(await tokenRow(created.id)).toEqual(before);
    expect((await tokenRow(created.id))?.revokedAt).toBeNull();
    expect(await outcome(apiClient(server.url, { token: created.token }).auth.me.query())).toBe('OK');
  });

  it('answers NOT_FOUND for an unknown token id', async () => {
    const { client } = await browser('acme-user');
    expect(await outcome(client.tokens.revoke.mutate({ id: 'a'.repeat(24) }))).toBe('NOT_FOUND');
  });
});
