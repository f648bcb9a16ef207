import { schema } from '@data-uploader/drizzle';
import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import { createApiToken } from '../src/auth/apiTokens.ts';
import { hashPassword } from '../src/auth/password.ts';
import { seedCompany, type TestServer, testPassword } from './harness.ts';

/** What the fuzz tests share: hostile values, the checks of an answer, a digest of the database, the callers. */

/** Values no honest client sends: wrong types, edge numbers, huge and strange text, path and injection tricks. */
export const hostileValues: unknown[] = [
  null,
  true,
  false,
  0,
  -0,
  -1,
  1.5,
  2 ** 31,
  2 ** 53,
  -(2 ** 53),
  Number.MAX_SAFE_INTEGER + 2,
  1e308,
  -1e308,
  1e-7,
  '',
  ' ',
  '0',
  'null',
  [],
  {},
  [null],
  { __proto__: null, constructor: { prototype: { polluted: true } } },
  JSON.parse('{"__proto__": {"polluted": true}}'),
  'a'.repeat(70_000),
  'é'.repeat(5_000),
  '🦜'.repeat(3_000),
  'nul\u0000byte',
  'lone \ud800 surrogate',
  'low \udfff first',
  '\u202eevil.wav',
  '\ufeffbom',
  'e\u0301\u0301\u0301',
  'line\r\nbreak',
  '../../../../etc/passwd',
  '/etc/passwd',
  '..\\..\\windows\\system32',
  '%2e%2e%2f%2e%2e%2fetc',
  'a/./b/../../..',
  '//',
  '/',
  '.',
  'C:\\boot.ini',
  'file:///etc/passwd',
  '\\\\server\\share',
  "' or 1=1 --",
  "'; drop table users; --",
  '<script>alert(1)</script>',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4j-style lookup, sent as plain text on purpose
  '${jndi:ldap://x}',
  '{{7*7}}',
  'http://169.254.169.254/latest/meta-data/',
  'http://127.0.0.1:5432/',
  'javascript:alert(1)',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
];

export interface Answer {
  status: number;
  body: string;
}

/** What an answer must never contain: a stack frame, a source path, SQL or the database's own words. */
export const internalDetail = [
  /\bat .+\(.*:\d+:\d+\)/,
  /\n\s+at |\\n\s+at /,
  /file:\/\/|node_modules|\/src\/|\/work\/|\.ts:\d+|\.m?js:\d+|"stack"/,
  /\bselect\b[^"]*\bfrom\b|\binsert into\b|\bdelete from\b|\bupdate\s+"?\w+"?\s+set\b/i,
  /postgres|pglite|drizzle|relation "|violates|duplicate key|syntax error|invalid byte sequence|\bSQLSTATE\b/i,
  /TypeError|ReferenceError|RangeError|Cannot read properties/,
];

function isJson(text: string) {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export function expectSafeAnswer(answer: Answer, context: string) {
  expect(answer.status, context).toBeLessThan(500);
  // Node itself refuses a request line over its header limit (431) before the app sees it, without a body.
  if (answer.status === 431 || answer.status === 414) return;
  // Fastify and tRPC answer every refusal in JSON; an empty body is a status alone (HEAD, Node's own 4xx).
  // A batch streamed to `trpc-accept: application/jsonl` is one JSON document a line.
  const documents = isJson(answer.body) ? [answer.body] : answer.body.split('\n').filter(Boolean);
  for (const document of documents) if (document !== '') expect(() => JSON.parse(document), context).not.toThrow();
  for (const pattern of internalDetail) expect(answer.body, context).not.toMatch(pattern);
}

/**
 * One digest of every row of every table. Left out: what authenticating a token stamps on it (`last_used_at`)
 * and the login throttle, which counts failed sign-ins on purpose.
 */
export async function tableDigest(server: TestServer): Promise<() => Promise<string>> {
  const { rows } = (await server.db.execute(sql`
    select table_schema, table_name from information_schema.tables
    where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')
      and table_name <> 'login_throttle'
    order by table_schema, table_name`)) as unknown as { rows: Array<{ table_schema: string; table_name: string }> };
  const parts = rows.map(({ table_schema: tableSchema, table_name: tableName }) => {
    const row = tableName === 'api_tokens' ? `to_jsonb(t) - 'last_used_at'` : 'to_jsonb(t)';
    return `select '${tableName}' as name, md5(coalesce(string_agg((${row})::text, ',' order by (${row})::text), '')) as digest from "${tableSchema}"."${tableName}" t`;
  });
  const query = sql.raw(
    `select string_agg(name || ':' || digest, ' ' order by name) as digest from (${parts.join(' union all ')}) d`,
  );
  return async () => {
    const { rows } = (await server.db.execute(query)) as unknown as { rows: Array<{ digest: string }> };
    return rows[0]?.digest ?? '';
  };
}

export interface Caller {
  name: string;
  /** An API token; none for the anonymous caller. */
  token: string | undefined;
}

export interface FuzzWorld {
  /** Ids of rows that exist: the callers' company's and another company's. */
  ids: string[];
  /** Object keys of planned files. */
  keys: string[];
  /** Anonymous, viewer, user, admin and operator (a viewer with the operator flag). */
  callers: Caller[];
  digest: () => Promise<string>;
}

/**
 * Two companies, each with a project whose bucket exists, a cycle and an upload session with one planned file,
 * and an API token for each kind of caller in the first one.
 */
export async function fuzzWorld(server: TestServer): Promise<FuzzWorld> {
  const { db } = server;
  const own = await seedCompany(db, 'fuzz');
  const other = await seedCompany(db, 'other');
  const passwordHash = await hashPassword(testPassword);
  const [operator, victim] = await db
    .insert(schema.users)
    .values([
      {
        companyId: own.companyId,
        username: 'fuzz-operator',
        passwordHash,
        role: 'viewer',
        isOperator: true,
        mustChangePassword: false,
      },
      { companyId: own.companyId, username: 'fuzz-victim', passwordHash, role: 'user', mustChangePassword: false },
    ])
    .returning({ id: schema.users.id });
  if (!operator || !victim) throw new Error('no users');
  const ids: string[] = [own.companyId, other.companyId, victim.id, other.users.admin.id, other.users.user.id];
  const keys: string[] = [];
  for (const [company, prefix] of [
    [own, 'fuzz'],
    [other, 'other'],
  ] as const) {
    const [project] = await db
      .insert(schema.projects)
      .values({
        companyId: company.companyId,
        name: `${prefix} project`,
        bucket: `${prefix}-bucket`,
        region: 'us-east-1',
      })
      .returning({ id: schema.projects.id });
    if (!project) throw new Error('no project');
    // A real bucket, so that finish and abort reach S3 instead of stopping at a missing bucket.
    await server.storage.ensureEmbeddedBucket({ bucket: `${prefix}-bucket`, region: 'us-east-1', endpoint: null });
    const [cycle] = await db
      .insert(schema.cycles)
      .values({ projectId: project.id, name: 'C1', s3Prefix: 'C1' })
      .returning({ id: schema.cycles.id });
    if (!cycle) throw new Error('no cycle');
    const [session] = await db
      .insert(schema.uploadSessions)
      .values({
        companyId: company.companyId,
        projectId: project.id,
        cycleId: cycle.id,
        userId: company.users.user.id,
        source: 'cli',
        label: `${prefix} trip`,
        filesTotal: 1,
        bytesTotal: 1000,
      })
      .returning({ id: schema.uploadSessions.id });
    if (!session) throw new Error('no upload session');
    await db
      .insert(schema.files)
      .values({ cycleId: cycle.id, sessionId: session.id, relativePath: 'S1/a.wav', s3Key: 'C1/S1/a.wav', size: 1000 });
    ids.push(project.id, cycle.id, session.id);
    keys.push('C1/S1/a.wav');
  }
  const tokenOf = async (userId: string) => (await createApiToken(db, userId, 'fuzz')).token;
  const callers: Caller[] = [
    { name: 'anonymous', token: undefined },
    { name: 'viewer', token: await tokenOf(own.users.viewer.id) },
    { name: 'user', token: await tokenOf(own.users.user.id) },
    { name: 'admin', token: await tokenOf(own.users.admin.id) },
    { name: 'operator', token: await tokenOf(operator.id) },
  ];
  return { ids, keys, callers, digest: await tableDigest(server) };
}
