import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { appRouter } from '../src/router.ts';
import { type Answer, expectSafeAnswer, type FuzzWorld, fuzzWorld, hostileValues } from './fuzzing.ts';
import { startTestServer, type TestServer } from './harness.ts';

/**
 * Hostile input: every procedure of the router, found at run time, is called over real HTTP by every kind
 * of caller with inputs fast-check builds from the procedure's own zod schema (valid ones, and valid ones
 * with hostile values planted anywhere inside) and with arbitrary JSON. Whatever arrives, the answer is
 * never a 5xx, never shows a stack, a file path or SQL, and a refused call leaves every table as it was.
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
  inputs: procedure._def.inputs as z.ZodType[],
}));

const seed = Number(process.env.FUZZ_SEED ?? 20_260_926);
/** Cases per procedure and caller, a third each: from the schema, from the schema mutated, arbitrary JSON. */
const runsPerCaller = Number(process.env.FUZZ_RUNS ?? 20);

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  default?: unknown;
};

/** Real ids (of both companies) and object keys the generated values draw on, so calls reach real rows. */
type Pools = Pick<FuzzWorld, 'ids' | 'keys'>;

const hostile = (pools: Pools) =>
  fc.oneof(
    fc.constantFrom(...hostileValues),
    fc.constantFrom(...pools.ids),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.jsonValue({ maxDepth: 2 }),
    fc.integer(),
    fc.double(),
  );

/** A value of a JSON schema (zod's `z.toJSONSchema`), with hostile values planted at every level when `mutate`. */
function arbitraryOf(node: JsonSchema, pools: Pools, mutate: boolean, key = ''): fc.Arbitrary<unknown> {
  const proper = properArbitrary(node, pools, mutate, key);
  return mutate ? fc.oneof({ weight: 4, arbitrary: proper }, { weight: 1, arbitrary: hostile(pools) }) : proper;
}

function properArbitrary(node: JsonSchema, pools: Pools, mutate: boolean, key: string): fc.Arbitrary<unknown> {
  const alternatives = node.anyOf ?? node.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((option) => arbitraryOf(option, pools, mutate, key)));
  if (node.const !== undefined) return fc.constant(node.const);
  if (node.enum) return fc.constantFrom(...node.enum);
  if (Array.isArray(node.type)) {
    return fc.oneof(...node.type.map((type) => arbitraryOf({ ...node, type }, pools, mutate, key)));
  }
  switch (node.type) {
    case 'object': {
      const properties = node.properties ?? {};
      const fields = Object.fromEntries(
        Object.entries(properties).map(([name, child]) => [name, arbitraryOf(child, pools, mutate, name)]),
      );
      const record = fc.record(fields, { requiredKeys: node.required ?? [] });
      if (!mutate) return record;
      // Unknown keys, prototype tricks, and required keys left out.
      const extra = fc.dictionary(
        fc.constantFrom('__proto__', 'constructor', 'prototype', 'extra', 'id'),
        hostile(pools),
        {
          maxKeys: 2,
        },
      );
      return fc.tuple(record, extra, fc.subarray(node.required ?? [])).map(([value, more, dropped]) => {
        const result: Record<string, unknown> = { ...value };
        for (const [name, item] of Object.entries(more))
          Object.defineProperty(result, name, { value: item, enumerable: true, writable: true, configurable: true });
        for (const name of dropped) delete result[name];
        return result;
      });
    }
    case 'array': {
      const maxLength = Math.min(node.maxItems ?? 4, 4);
      return fc.array(arbitraryOf(node.items ?? {}, pools, mutate), {
        minLength: Math.min(node.minItems ?? 0, maxLength),
        maxLength,
      });
    }
    case 'string':
      return stringArbitrary(node, pools, key);
    case 'integer':
    case 'number': {
      const min = node.minimum ?? (node.exclusiveMinimum !== undefined ? node.exclusiveMinimum + 1 : -1e9);
      const max = node.maximum ?? (node.exclusiveMaximum !== undefined ? node.exclusiveMaximum - 1 : 1e9);
      const safeMin = Math.max(min, Number.MIN_SAFE_INTEGER);
      const safeMax = Math.min(max, Number.MAX_SAFE_INTEGER);
      const inside =
        node.type === 'integer'
          ? fc.integer({ min: Math.max(safeMin, -(2 ** 31)), max: Math.min(safeMax, 2 ** 31 - 1) })
          : fc.double({ min: safeMin, max: safeMax, noNaN: true, noDefaultInfinity: true });
      return fc.oneof(inside, fc.constantFrom(safeMin, safeMax));
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function stringArbitrary(node: JsonSchema, pools: Pools, key: string): fc.Arbitrary<string> {
  if (node.format === 'uuid' || key === 'id' || key.endsWith('Id')) {
    return fc.oneof(fc.constantFrom(...pools.ids), fc.uuid());
  }
  if (key === 'key') return fc.oneof(fc.constantFrom(...pools.keys), fc.string({ minLength: 1, maxLength: 40 }));
  if (node.format === 'uri') return fc.webUrl();
  if (node.format === 'date-time') return fc.date({ noInvalidDate: true }).map((date) => date.toISOString());
  if (node.format === 'email') return fc.emailAddress();
  if (node.pattern) return fc.stringMatching(new RegExp(node.pattern));
  const minLength = node.minLength ?? 0;
  const maxLength = Math.max(minLength, Math.min(node.maxLength ?? 60, 60));
  return fc.oneof(
    fc.string({ minLength, maxLength }),
    fc.string({ unit: 'grapheme', minLength, maxLength }),
    fc.stringMatching(/^[A-Za-z0-9_ -]{1,12}(\/[A-Za-z0-9_.-]{1,12}){0,3}\.(wav|WAV|flac|txt)$/),
  );
}

const jsonSchemaOf = (parser: z.ZodType) =>
  z.toJSONSchema(parser, { io: 'input', unrepresentable: 'any' }) as unknown as JsonSchema;

/** Schema-aware and arbitrary-JSON inputs of a procedure; a procedure without input gets arbitrary JSON only. */
function inputArbitrary(inputs: z.ZodType[], pools: Pools): fc.Arbitrary<{ kind: string; input: unknown }> {
  const json = fc.jsonValue({ maxDepth: 3 }).map((input) => ({ kind: 'json', input }));
  if (inputs.length === 0) return json;
  // Several `.input()` calls merge their objects; one schema per parser, merged as objects.
  const schemas = inputs.map(jsonSchemaOf);
  const merged: JsonSchema = {
    type: 'object',
    properties: Object.assign({}, ...schemas.map((one) => one.properties ?? {})),
    required: schemas.flatMap((one) => one.required ?? []),
  };
  const topLevel = schemas.length === 1 ? (schemas[0] as JsonSchema) : merged;
  return fc.oneof(
    arbitraryOf(topLevel, pools, false).map((input) => ({ kind: 'schema', input })),
    arbitraryOf(topLevel, pools, true).map((input) => ({ kind: 'mutated', input })),
    json,
  );
}

/** One call as curl or the CLI makes it: GET with `?input=` for a query, POST JSON for a mutation. */
async function callOverHttp(path: string, type: string, input: unknown, token: string | undefined): Promise<Answer> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const url = `${server.url}/trpc/${path}`;
  const response =
    type === 'query'
      ? await fetch(input === undefined ? url : `${url}?input=${encodeURIComponent(JSON.stringify(input))}`, {
          headers,
        })
      : await fetch(url, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: input === undefined ? undefined : JSON.stringify(input),
        });
  return { status: response.status, body: await response.text() };
}

let server: TestServer;
let world: FuzzWorld;
let casesRun = 0;
let refusals = 0;
/** The digest after the last call: a refusal must leave it as it is, one digest per call instead of two. */
let baseline: string;

beforeAll(async () => {
  server = await startTestServer();
  world = await fuzzWorld(server);
  baseline = await world.digest();
}, 120_000);

afterAll(async () => {
  console.log(`fuzz: ${casesRun} procedure calls (${refusals} refused), seed ${seed}`);
  await server?.close();
});

describe('every procedure under hostile input', () => {
  it('finds the procedures and reads every input schema', () => {
    expect(procedures.length).toBeGreaterThan(40);
    for (const { inputs } of procedures) for (const parser of inputs) expect(jsonSchemaOf(parser)).toBeTypeOf('object');
  });

  it('sees a write in the digest of the tables', async () => {
    const before = await world.digest();
    const admin = world.callers.find(({ name }) => name === 'admin');
    const answer = await callOverHttp('tokens.create', 'mutation', { name: 'digest check' }, admin?.token);
    expect(answer.status, answer.body).toBe(200);
    baseline = await world.digest();
    expect(baseline).not.toBe(before);
  });

  it.each(procedures)(
    '$path never crashes, leaks internals or writes on a refusal',
    async ({ path, type, inputs }) => {
      for (const [index, caller] of world.callers.entries()) {
        const property = fc.asyncProperty(inputArbitrary(inputs, world), async ({ kind, input }) => {
          const answer = await callOverHttp(path, type, input, caller.token);
          casesRun += 1;
          const context = `${path} as ${caller.name} with ${kind} input ${JSON.stringify(input)?.slice(0, 300)}: ${answer.status} ${answer.body.slice(0, 500)}`;
          expectSafeAnswer(answer, context);
          const after = await world.digest();
          if (answer.status >= 400) {
            refusals += 1;
            expect(after, `${context}: a refused call changed the database`).toBe(baseline);
          }
          baseline = after;
        });
        await fc.assert(property, { numRuns: runsPerCaller, seed: seed + index, endOnFailure: true });
      }
    },
    300_000,
  );
});
