import { randomUUID } from 'node:crypto';
import { schema } from '@data-uploader/drizzle';
import { type Access, type Caller, judge, permissions } from '@data-uploader/shared';
import { type SQL, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../src/auth/apiTokens.ts';
import { hashPassword } from '../src/auth/password.ts';
import { createSession } from '../src/auth/sessions.ts';
import { appRouter } from '../src/router.ts';
import { type SeededCompany, seedCompany, startTestServer, type TestServer, testPassword } from './harness.ts';

/**
 * The tenant matrix: every procedure whose input names an id (a key `id` or ending in `Id`, found at run
 * time in its zod schema) is called by company B with company A's ids. It must answer NOT_FOUND, exactly
 * as for an id that does not exist, and leave every row of every table as it was. A procedure added later
 * with an id in its input fails here until it gets an entry in `foreignCalls`.
 */

interface SchemaDef {
  type?: string;
  shape?: Record<string, unknown>;
  innerType?: unknown;
  in?: unknown;
  left?: unknown;
  right?: unknown;
  options?: unknown[];
  getter?: () => unknown;
}

/**
 * The top-level fields of a zod object input, looking through defaults, optionals, pipes and the like;
 * null when the input is not an object at all (then its ids cannot be found by name).
 */
function inputFields(parser: unknown): Array<[string, unknown]> | null {
  const def = (parser as { _zod?: { def?: SchemaDef } } | null)?._zod?.def;
  if (!def) return null;
  if (def.shape) return Object.entries(def.shape);
  if (def.innerType) return inputFields(def.innerType);
  if (def.in) return inputFields(def.in);
  if (def.getter) return inputFields(def.getter());
  const parts = [def.left, def.right, ...(def.options ?? [])].filter(Boolean).map(inputFields);
  if (parts.length === 0 || parts.some((part) => part === null)) return null;
  return parts.flatMap((part) => part ?? []);
}

const isIdKey = (key: string) => key === 'id' || key.endsWith('Id');

const accepts = (field: unknown, value: unknown) =>
  (field as { safeParse?: (value: unknown) => { success: boolean } }).safeParse?.(value).success === true;

interface ProcedureDef {
  type: string;
  inputs: unknown[];
}

// tRPC types `_def.procedures` as the nested router record, but at run time it is flat: `area.verb` → procedure.
const flatProcedures = appRouter._def.procedures as unknown as Record<string, { _def: ProcedureDef }>;
const procedures = Object.entries(flatProcedures).map(([path, procedure]) => {
  const fields = procedure._def.inputs.flatMap((parser) => inputFields(parser) ?? []);
  return {
    path,
    type: procedure._def.type,
    inputs: procedure._def.inputs,
    idFields: fields.filter(([key]) => isIdKey(key)),
  };
});
const idProcedures = procedures.filter(({ idFields }) => idFields.length > 0);
const table = permissions as Record<string, Access>;

interface CompanyA extends SeededCompany {
  disabledUserId: string;
  projectId: string;
  archivedProjectId: string;
  cycleId: string;
  closedCycleId: string;
  tokenId: string;
  sessionId: string;
  /** An upload session of A's uploader, with a planned single-PUT file and a multipart file under way. */
  uploadSessionId: string;
  singleKey: string;
  multipartKey: string;
  uploadId: string;
  /** A's newest audit entry; B has one entry older than it and one newer. */
  auditId: number;
  /** A queued import job of A's admin. */
  importJobId: string;
}

/**
 * What company B sends for each procedure, built from company A's rows. Each input is one that would do
 * something real inside A (rename, close, disable…), so a leak would show in the database snapshot.
 * `ownRowsOnly` marks an id that filters a list (a paging cursor) rather than naming a row: there the answer
 * is B's own rows and nothing of A's.
 */
const foreignCalls: Record<string, { input: (a: CompanyA) => Record<string, unknown>; ownRowsOnly?: true }> = {
  'audit.list': { input: (a) => ({ beforeId: a.auditId }), ownRowsOnly: true },
  'auth.revokeSession': { input: (a) => ({ id: a.sessionId }) },
  'tokens.revoke': { input: (a) => ({ id: a.tokenId }) },
  'users.changeRole': { input: (a) => ({ id: a.users.viewer.id, role: 'admin' }) },
  'users.disable': { input: (a) => ({ id: a.users.user.id }) },
  'users.enable': { input: (a) => ({ id: a.disabledUserId }) },
  'users.resetPassword': { input: (a) => ({ id: a.users.admin.id }) },
  'projects.get': { input: (a) => ({ id: a.projectId }) },
  'projects.update': { input: (a) => ({ id: a.projectId, name: 'Taken over by company B' }) },
  'projects.archive': { input: (a) => ({ id: a.projectId }) },
  'projects.unarchive': { input: (a) => ({ id: a.archivedProjectId }) },
  'cycles.list': { input: (a) => ({ projectId: a.projectId }) },
  'cycles.get': { input: (a) => ({ id: a.cycleId }) },
  'cycles.totals': { input: (a) => ({ projectId: a.projectId }) },
  'cycles.verify': { input: (a) => ({ id: a.cycleId }) },
  'cycles.create': { input: (a) => ({ projectId: a.projectId, name: 'C9', notes: 'planted by company B' }) },
  'cycles.update': { input: (a) => ({ id: a.cycleId, name: 'C8', notes: 'changed by company B' }) },
  'cycles.close': { input: (a) => ({ id: a.cycleId }) },
  'cycles.reopen': { input: (a) => ({ id: a.closedCycleId }) },
  'uploads.begin': { input: (a) => ({ projectId: a.projectId, cycleId: a.cycleId, label: 'planted by company B' }) },
  'uploads.plan': {
    input: (a) => ({
      sessionId: a.uploadSessionId,
      overwrite: true,
      files: [
        { relativePath: '950349/a.wav', size: 5 },
        { relativePath: '950349/planted.wav', size: 1 },
      ],
    }),
  },
  'uploads.sign': {
    input: (a) => ({
      sessionId: a.uploadSessionId,
      method: 'PUT',
      key: a.multipartKey,
      uploadId: a.uploadId,
      partNumber: 1,
    }),
  },
  'uploads.signBatch': {
    input: (a) => ({
      sessionId: a.uploadSessionId,
      requests: [{ key: a.singleKey }, { key: a.multipartKey, uploadId: a.uploadId, partNumber: 2 }],
    }),
  },
  'uploads.confirm': { input: (a) => ({ sessionId: a.uploadSessionId, files: [{ key: a.singleKey, etag: '"b"' }] }) },
  'uploads.fail': { input: (a) => ({ sessionId: a.uploadSessionId, files: [{ key: a.singleKey, error: 'by B' }] }) },
  'uploads.finish': { input: (a) => ({ sessionId: a.uploadSessionId }) },
  'uploads.abort': { input: (a) => ({ sessionId: a.uploadSessionId }) },
  'sessions.list': { input: (a) => ({ projectId: a.projectId, cycleId: a.cycleId }) },
  'sessions.get': { input: (a) => ({ id: a.uploadSessionId }) },
  'sessions.files': { input: (a) => ({ id: a.uploadSessionId, status: 'pending' }) },
  'projects.setWebhook': { input: (a) => ({ id: a.projectId, url: 'https://bravo.example/steal' }) },
  'jobs.startImport': { input: (a) => ({ projectId: a.projectId, cycleId: a.cycleId, path: '/tmp' }) },
  'jobs.list': { input: (a) => ({ projectId: a.projectId }) },
  'jobs.cancel': { input: (a) => ({ id: a.importJobId }) },
  'stats.projectCycles': { input: (a) => ({ projectId: a.projectId }) },
  'stats.sessionThroughput': { input: (a) => ({ sessionId: a.uploadSessionId }) },
  'stats.successRate': { input: (a) => ({ projectId: a.projectId }) },
  'stats.fileTypes': { input: (a) => ({ projectId: a.projectId }) },
  'stats.coverage': { input: (a) => ({ projectId: a.projectId, cycleId: a.cycleId }) },
};

let server: TestServer;
let alpha: CompanyA;
/** Company B's callers, by kind; the first one the permission table lets call a procedure calls it. */
let bravoCallers: Array<{ name: string; caller: Caller; token: string }>;
let bravoTokenIds: Set<string>;

beforeAll(async () => {
  server = await startTestServer();
  const { db } = server;
  const seeded = await seedCompany(db, 'alpha');
  const bravo = await seedCompany(db, 'bravo');
  const passwordHash = await hashPassword(testPassword);

  const [disabled, bravoOperator] = await db
    .insert(schema.users)
    .values([
      {
        companyId: seeded.companyId,
        username: 'alpha-disabled',
        passwordHash,
        role: 'user',
        mustChangePassword: false,
        disabledAt: new Date('2025-01-02T03:04:05Z'),
      },
      {
        companyId: bravo.companyId,
        username: 'bravo-operator',
        passwordHash,
        role: 'admin',
        isOperator: true,
        mustChangePassword: false,
      },
    ])
    .returning({ id: schema.users.id });
  const [project, archivedProject] = await db
    .insert(schema.projects)
    .values([
      { companyId: seeded.companyId, name: 'Alpha wetlands', bucket: 'alpha-field-data', region: 'eu-west-1' },
      {
        companyId: seeded.companyId,
        name: 'Alpha old survey',
        bucket: 'alpha-field-data',
        region: 'eu-west-1',
        archivedAt: new Date('2025-02-03T04:05:06Z'),
      },
    ])
    .returning({ id: schema.projects.id });
  if (!disabled || !bravoOperator || !project || !archivedProject) throw new Error('fixtures not inserted');
  const [cycle, closedCycle] = await db
    .insert(schema.cycles)
    .values([
      { projectId: project.id, name: 'C1', s3Prefix: 'C1', notes: 'alpha notes' },
      {
        projectId: project.id,
        name: 'C2',
        s3Prefix: 'C2',
        status: 'closed',
        closedAt: new Date('2025-03-04T05:06:07Z'),
      },
    ])
    .returning({ id: schema.cycles.id });
  if (!cycle || !closedCycle) throw new Error('cycles not inserted');
  const token = await createApiToken(db, seeded.users.user.id, 'alpha cli');
  const session = await createSession(db, seeded.users.admin.id, { userAgent: 'alpha browser', address: '10.0.0.1' });
  // Audit entries of both companies, interleaved, so a paging cursor has rows of each on both sides.
  const auditIds: number[] = [];
  for (const [company, target] of [
    [seeded, `project:${project.id}`],
    [bravo, 'project:bravo-1'],
    [seeded, `cycle:${cycle.id}`],
    [bravo, 'project:bravo-2'],
  ] as const) {
    const [entry] = await db
      .insert(schema.auditLog)
      .values({ companyId: company.companyId, userId: company.users.admin.id, action: 'seed', target })
      .returning({ id: schema.auditLog.id });
    if (entry) auditIds.push(entry.id);
  }
  const [uploadSession] = await db
    .insert(schema.uploadSessions)
    .values({
      companyId: seeded.companyId,
      projectId: project.id,
      cycleId: cycle.id,
      userId: seeded.users.user.id,
      source: 'cli',
      label: 'alpha field trip',
      filesTotal: 2,
      bytesTotal: 1000 + 40 * 1024 * 1024,
    })
    .returning({ id: schema.uploadSessions.id });
  if (!uploadSession) throw new Error('upload session not inserted');
  const singleKey = 'C1/950349/a.wav';
  const multipartKey = 'C1/950349/long.wav';
  const uploadId = 'a1'.repeat(16);
  await db.insert(schema.files).values([
    { cycleId: cycle.id, sessionId: uploadSession.id, relativePath: '950349/a.wav', s3Key: singleKey, size: 1000 },
    {
      cycleId: cycle.id,
      sessionId: uploadSession.id,
      relativePath: '950349/long.wav',
      s3Key: multipartKey,
      size: 40 * 1024 * 1024,
      partSize: 16 * 1024 * 1024,
      status: 'uploading',
      uploadId,
    },
  ]);
  const auditId = auditIds[2];
  if (auditId === undefined) throw new Error('audit entries not inserted');
  const [importJob] = await db
    .insert(schema.importJobs)
    .values({
      companyId: seeded.companyId,
      projectId: project.id,
      cycleId: cycle.id,
      userId: seeded.users.admin.id,
      path: '/srv/cards/SD_01',
      resolvedPath: '/srv/cards/SD_01',
    })
    .returning({ id: schema.importJobs.id });
  if (!importJob) throw new Error('no import job');
  alpha = {
    importJobId: importJob.id,
    ...seeded,
    disabledUserId: disabled.id,
    projectId: project.id,
    archivedProjectId: archivedProject.id,
    cycleId: cycle.id,
    closedCycleId: closedCycle.id,
    tokenId: token.id,
    sessionId: session.id,
    uploadSessionId: uploadSession.id,
    singleKey,
    multipartKey,
    uploadId,
    auditId,
  };

  const adminToken = await createApiToken(db, bravo.users.admin.id, 'bravo admin cli');
  const operatorToken = await createApiToken(db, bravoOperator.id, 'bravo operator cli');
  bravoTokenIds = new Set([adminToken.id, operatorToken.id]);
  bravoCallers = [
    {
      name: 'company B’s admin',
      caller: { role: 'admin', isOperator: false, mustChangePassword: false },
      token: adminToken.token,
    },
    {
      name: 'company B’s operator',
      caller: { role: 'admin', isOperator: true, mustChangePassword: false },
      token: operatorToken.token,
    },
  ];
});
afterAll(() => server?.close());

interface Answer {
  status: number;
  code: string | undefined;
  message: string | undefined;
  data: unknown;
  body: string;
}

/** One call the way curl or the CLI would make it: GET with `?input=` for a query, POST JSON for a mutation. */
async function callOverHttp(path: string, type: string, input: unknown, token: string): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  const url = `${server.url}/trpc/${path}`;
  const response =
    type === 'query'
      ? await fetch(`${url}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers })
      : await fetch(url, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify(input),
        });
  const body = await response.text();
  const parsed = JSON.parse(body) as {
    result?: { data?: unknown };
    error?: { message?: string; data?: { code?: string } };
  };
  return {
    status: response.status,
    code: parsed.error?.data?.code,
    message: parsed.error?.message,
    data: parsed.result?.data,
    body,
  };
}

async function rowsOf<T>(query: SQL): Promise<T[]> {
  // node-postgres and PGlite both answer raw SQL with `{ rows }`.
  return ((await server.db.execute(query)) as unknown as { rows: T[] }).rows;
}

/**
 * Every row of every table of the database (migrations bookkeeping included), as sorted JSON lines.
 * One column is left out, on B's own rows only: `api_tokens.last_used_at` of the tokens company B calls
 * with, which the server stamps when it checks them. Nothing of company A's is left out.
 */
async function snapshot(): Promise<Record<string, string[]>> {
  const tables = await rowsOf<{ table_schema: string; table_name: string }>(sql`
    select table_schema, table_name from information_schema.tables
    where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')
    order by table_schema, table_name`);
  const tablesByName: Record<string, string[]> = {};
  for (const { table_schema: tableSchema, table_name: tableName } of tables) {
    const rows = await rowsOf<{ data: Record<string, unknown> }>(
      sql`select to_jsonb(t) as data from ${sql.identifier(tableSchema)}.${sql.identifier(tableName)} t`,
    );
    tablesByName[`${tableSchema}.${tableName}`] = rows
      .map(({ data }) => {
        if (tableName === 'api_tokens' && bravoTokenIds.has(String(data.id))) {
          const { last_used_at: _, ...rest } = data;
          return JSON.stringify(rest);
        }
        return JSON.stringify(data);
      })
      .sort();
  }
  return tablesByName;
}

/** Who in company B calls a procedure: the first of B's callers the permission table lets through. */
function bravoCallerFor(path: string) {
  const access = table[path];
  expect(access, `${path} is not in the permission table`).toBeDefined();
  const chosen = bravoCallers.find(({ caller }) => access !== undefined && judge(access, caller) === 'allowed');
  expect(chosen, `no caller of company B may call ${path}`).toBeDefined();
  return chosen as NonNullable<typeof chosen>;
}

/** Every identifier of company A that an answer to company B must not contain. */
function alphaIdentifiers(): string[] {
  return [
    alpha.companyId,
    ...Object.values(alpha.users).flatMap((user) => [user.id, user.username]),
    'alpha-',
    alpha.disabledUserId,
    alpha.projectId,
    alpha.archivedProjectId,
    alpha.cycleId,
    alpha.closedCycleId,
    alpha.tokenId,
    alpha.sessionId,
    alpha.uploadSessionId,
    alpha.singleKey,
    alpha.multipartKey,
    alpha.uploadId,
  ];
}

describe('the fixture mapping', () => {
  it('reads every procedure input as a zod object schema', () => {
    const unreadable = procedures
      .filter(({ inputs }) => inputs.some((parser) => inputFields(parser) === null))
      .map(({ path }) => path);
    expect(unreadable, 'inputs this matrix cannot inspect for ids').toEqual([]);
  });

  it('has company A ids for every procedure whose input takes an id', () => {
    expect(idProcedures.length).toBeGreaterThan(0);
    const unmapped = idProcedures.map(({ path }) => path).filter((path) => !(path in foreignCalls));
    expect(unmapped, 'add these procedures to foreignCalls in server/test/tenantMatrix.test.ts').toEqual([]);
  });

  it('names only procedures of the router that take an id', () => {
    const known = new Set(idProcedures.map(({ path }) => path));
    expect(Object.keys(foreignCalls).filter((path) => !known.has(path))).toEqual([]);
  });
});

describe.each(idProcedures)('$path called by company B with company A’s ids', ({ path, type, idFields }) => {
  const foreign = foreignCalls[path];

  it(
    foreign?.ownRowsOnly
      ? 'shows none of company A’s rows and changes nothing'
      : 'answers NOT_FOUND and changes nothing',
    async () => {
      expect(foreign, `${path} has no entry in foreignCalls`).toBeDefined();
      if (!foreign) return;
      const { name, token } = bravoCallerFor(path);
      const input = foreign.input(alpha);
      const before = await snapshot();
      // The ids are real rows (of company A): a NOT_FOUND below is the tenant boundary, not a typo.
      const everything = JSON.stringify(before);
      for (const [key] of idFields) {
        const value = input[key];
        if (typeof value === 'string') expect(everything, `${path}: ${key} names no row`).toContain(value);
      }
      const answer = await callOverHttp(path, type, input, token);
      const context = `${path} by ${name}: ${answer.status} ${answer.body}`;
      if (foreign.ownRowsOnly) {
        expect(answer.status, context).toBe(200);
        expect(Array.isArray(answer.data) && answer.data.length > 0, `${context}: expected B’s own rows`).toBe(true);
        for (const identifier of alphaIdentifiers()) expect(answer.body, context).not.toContain(identifier);
      } else {
        expect({ status: answer.status, code: answer.code }, context).toEqual({ status: 404, code: 'NOT_FOUND' });
        for (const identifier of alphaIdentifiers()) expect(answer.body, context).not.toContain(identifier);
      }
      expect(await snapshot(), context).toEqual(before);
    },
  );

  if (!foreign?.ownRowsOnly) {
    it('answers an id that does not exist exactly like company A’s', async () => {
      expect(foreign, `${path} has no entry in foreignCalls`).toBeDefined();
      if (!foreign) return;
      const { token } = bravoCallerFor(path);
      const input = foreign.input(alpha);
      const missing = { ...input };
      for (const [key, field] of idFields) {
        if (!(key in input)) continue;
        missing[key] = [randomUUID(), 2_000_000_000].find((candidate) => accepts(field, candidate)) ?? randomUUID();
      }
      const foreignAnswer = await callOverHttp(path, type, input, token);
      const missingAnswer = await callOverHttp(path, type, missing, token);
      expect(missingAnswer.code, missingAnswer.body).toBe('NOT_FOUND');
      expect({ status: foreignAnswer.status, code: foreignAnswer.code, message: foreignAnswer.message }).toEqual({
        status: missingAnswer.status,
        code: missingAnswer.code,
        message: missingAnswer.message,
      });
    });
  }
});
