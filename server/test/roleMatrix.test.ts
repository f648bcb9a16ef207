import { randomUUID } from 'node:crypto';
import { schema } from '@data-uploader/drizzle';
import { type Access, type Caller, judge, permissions, type Verdict } from '@data-uploader/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../src/auth/apiTokens.ts';
import { hashPassword } from '../src/auth/password.ts';
import { appRouter } from '../src/router.ts';
import { type SeededCompany, seedCompany, startTestServer, type TestServer, testPassword } from './harness.ts';

/**
 * The role matrix: every procedure of the router, found at run time, called over real HTTP by every kind
 * of caller, must answer exactly what `judge(permissions[path], caller)` in shared/ says. Nothing here is
 * written per procedure except a few harmless sample inputs, so a procedure added later is covered (and
 * one added without an entry in the permission table fails the suite).
 */

interface ProcedureDef {
  type: string;
  inputs: unknown[];
}

// tRPC types `_def.procedures` as the nested router record, but at run time it is flat: `area.verb` → procedure.
const flatProcedures = appRouter._def.procedures as unknown as Record<string, { _def: ProcedureDef }>;
const procedures = Object.entries(flatProcedures).map(([path, procedure]) => ({
  path,
  type: procedure._def.type,
  inputs: procedure._def.inputs,
}));
const table = permissions as Record<string, Access>;

/**
 * The callers. The operator is a viewer by role, so the flag is seen to grant operator procedures and
 * nothing of an admin's; the person who must still change a password is an admin and operator, so that
 * flag alone can be what refuses them.
 */
const callers = {
  anonymous: null,
  viewer: { role: 'viewer', isOperator: false, mustChangePassword: false },
  user: { role: 'user', isOperator: false, mustChangePassword: false },
  admin: { role: 'admin', isOperator: false, mustChangePassword: false },
  operator: { role: 'viewer', isOperator: true, mustChangePassword: false },
  mustChangePassword: { role: 'admin', isOperator: true, mustChangePassword: true },
} as const satisfies Record<string, Caller | null>;
type CallerName = keyof typeof callers;
const callerNames = Object.keys(callers) as CallerName[];

/**
 * Inputs that get past validation without harming anyone, for procedures where a placeholder would stop
 * at BAD_REQUEST before the interesting part. Everything else gets a placeholder (see `placeholderInput`).
 */
const sampleInputs: Record<string, unknown> = {
  'auth.changePassword': { currentPassword: 'certainly not the current password', newPassword: 'a new long password' },
};

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

/** The top-level fields of a zod object input, looking through defaults, optionals, pipes and the like. */
function inputFields(parser: unknown): Array<[string, unknown]> {
  const def = (parser as { _zod?: { def?: SchemaDef } } | null)?._zod?.def;
  if (!def) return [];
  if (def.shape) return Object.entries(def.shape);
  if (def.innerType) return inputFields(def.innerType);
  if (def.in) return inputFields(def.in);
  if (def.getter) return inputFields(def.getter());
  if (def.left || def.right) return [...inputFields(def.left), ...inputFields(def.right)];
  if (def.options) return def.options.flatMap(inputFields);
  return [];
}

const accepts = (field: unknown, value: unknown) =>
  (field as { safeParse?: (value: unknown) => { success: boolean } }).safeParse?.(value).success === true;

/**
 * Ids that point at nothing (a random UUID, or a huge number for a numeric id) and nothing else: the call
 * gets past the permission check and can touch no row.
 */
function placeholderInput(inputs: unknown[]): unknown {
  if (inputs.length === 0) return undefined;
  const ids = inputs.flatMap(inputFields).filter(([key]) => key === 'id' || key.endsWith('Id'));
  return Object.fromEntries(
    ids.map(([key, field]) => {
      const candidates = [randomUUID(), 2_000_000_000];
      return [key, candidates.find((candidate) => accepts(field, candidate)) ?? candidates[0]];
    }),
  );
}

interface Answer {
  status: number;
  code: string | undefined;
  message: string | undefined;
  body: string;
}

/** One call the way curl or the CLI would make it: GET with `?input=` for a query, POST JSON for a mutation. */
async function callOverHttp(path: string, type: string, input: unknown, token?: string): Promise<Answer> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  let url = `${server.url}/trpc/${path}`;
  let init: RequestInit;
  if (type === 'query') {
    if (input !== undefined) url += `?input=${encodeURIComponent(JSON.stringify(input))}`;
    init = { method: 'GET', headers };
  } else {
    init = {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: input === undefined ? undefined : JSON.stringify(input),
    };
  }
  const response = await fetch(url, init);
  const body = await response.text();
  let parsed: { error?: { message?: string; data?: { code?: string } } } = {};
  try {
    parsed = JSON.parse(body);
  } catch {
    // Not JSON: the status alone decides, and the stack-trace check still reads the text.
  }
  return { status: response.status, code: parsed.error?.data?.code, message: parsed.error?.message, body };
}

/** No stack frame and no server file path in an answer, whatever went wrong. */
function expectNoStackTrace(answer: Answer) {
  expect(answer.body).not.toMatch(/\bat .+\(.*:\d+:\d+\)/);
  expect(answer.body).not.toMatch(/\\n\s+at |\n\s+at /);
  expect(answer.body).not.toMatch(/file:\/\/|node_modules|\/src\/|\.ts:\d+|\.m?js:\d+|"stack"/);
}

let server: TestServer;
let company: SeededCompany;
let passwordHash: string;
let personCount = 0;

beforeAll(async () => {
  server = await startTestServer();
  company = await seedCompany(server.db, 'matrix');
  passwordHash = await hashPassword(testPassword);
});
afterAll(() => server?.close());

/**
 * A fresh person of the given kind with an API token made straight in the database, for one call only:
 * whatever that call does to its own caller (sign out, revoke, disable) cannot change another call's answer.
 */
async function tokenFor(caller: Caller): Promise<string> {
  personCount += 1;
  const [person] = await server.db
    .insert(schema.users)
    .values({
      companyId: company.companyId,
      username: `matrix-caller-${personCount}`,
      passwordHash,
      role: caller.role,
      isOperator: caller.isOperator,
      mustChangePassword: caller.mustChangePassword,
    })
    .returning({ id: schema.users.id });
  if (!person) throw new Error('no person inserted');
  return (await createApiToken(server.db, person.id, 'role matrix')).token;
}

const expectedStatus: Record<Exclude<Verdict, 'allowed'>, { status: number; code: string }> = {
  unauthenticated: { status: 401, code: 'UNAUTHORIZED' },
  forbidden: { status: 403, code: 'FORBIDDEN' },
  passwordChangeRequired: { status: 403, code: 'FORBIDDEN' },
};

describe('the permission table', () => {
  it('has an entry for every procedure of the router', () => {
    const unguarded = procedures.map(({ path }) => path).filter((path) => !(path in table));
    expect(unguarded, 'procedures missing from shared/src/permissions.ts').toEqual([]);
  });

  it('names no procedure the router lacks', () => {
    const paths = new Set(procedures.map(({ path }) => path));
    const stale = Object.keys(table).filter((path) => !paths.has(path));
    expect(stale, 'permission entries without a procedure').toEqual([]);
  });

  it('sees queries and mutations only, each procedure under an area.verb name', () => {
    expect(procedures.length).toBeGreaterThan(0);
    for (const { path, type } of procedures) {
      expect(['query', 'mutation'], path).toContain(type);
      expect(path).toMatch(/^[a-z][A-Za-z]*\.[a-z][A-Za-z]*$/);
    }
  });
});

describe.each(procedures)('$path', ({ path, type, inputs }) => {
  it.each(callerNames)('answers the %s caller as the permission table says', async (name) => {
    const access = table[path];
    expect(access, `${path} is not in the permission table`).toBeDefined();
    if (!access) return;
    const caller: Caller | null = callers[name];
    const verdict = judge(access, caller);
    const token = caller ? await tokenFor(caller) : undefined;
    const input = path in sampleInputs ? sampleInputs[path] : placeholderInput(inputs);
    const answer = await callOverHttp(path, type, input, token);
    const context = `${path} as ${name} (${access} → ${verdict}): ${answer.status} ${answer.body}`;
    expectNoStackTrace(answer);
    if (verdict === 'allowed') {
      expect([401, 403], context).not.toContain(answer.status);
      // A harmless call that got through may be refused for its input or a missing row, never crash.
      expect(answer.status, context).toBeLessThan(500);
    } else {
      expect({ status: answer.status, code: answer.code }, context).toEqual(expectedStatus[verdict]);
      if (verdict === 'passwordChangeRequired') expect(answer.message, context).toMatch(/password/i);
    }
  });
});

describe('a malformed request', () => {
  const mutations = procedures.filter(({ type }) => type === 'mutation');
  const publicMutations = mutations.filter(({ path }) => {
    const access = table[path];
    return access !== undefined && judge(access, null) === 'allowed';
  });

  it('answers 400 without a stack trace when an anonymous caller posts broken JSON to a public mutation', async () => {
    expect(publicMutations.length, 'no public mutation to try').toBeGreaterThan(0);
    for (const { path } of publicMutations) {
      const response = await fetch(`${server.url}/trpc/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"username": "matrix-admin", "password": ',
      });
      const answer: Answer = {
        status: response.status,
        code: undefined,
        message: undefined,
        body: await response.text(),
      };
      expect(answer.status, `${path}: ${answer.body}`).toBe(400);
      expectNoStackTrace(answer);
    }
  });

  it('never answers broken JSON with a crash or a stack trace, whoever posts it to whichever mutation', async () => {
    for (const { path, inputs } of mutations) {
      for (const token of [undefined, await tokenFor(callers.admin)]) {
        const response = await fetch(`${server.url}/trpc/${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: '{"id": ',
        });
        const body = await response.text();
        // A mutation without input never reads its body, so only one that takes input must refuse it.
        if (inputs.length > 0) expect(response.status, `${path}: ${body}`).toBeGreaterThanOrEqual(400);
        expect(response.status, `${path}: ${body}`).toBeLessThan(500);
        expectNoStackTrace({ status: response.status, code: undefined, message: undefined, body });
      }
    }
  });
});
