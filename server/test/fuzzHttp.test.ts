import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appRouter } from '../src/router.ts';
import { type Answer, expectSafeAnswer, type FuzzWorld, fuzzWorld, hostileValues } from './fuzzing.ts';
import { startTestServer, type TestServer } from './harness.ts';

/**
 * Raw HTTP garbage at the API, below what any tRPC client would send: broken JSON, wrong content types and
 * methods, batch shapes, odd paths and huge query strings, as every kind of caller. The same promises as for
 * well-formed calls: never a 5xx, never internals in an answer, nothing written when the answer is a refusal.
 */

const seed = Number(process.env.FUZZ_SEED ?? 20_260_926);
const runs = Number(process.env.FUZZ_HTTP_RUNS ?? 600);

const paths = Object.keys(appRouter._def.procedures as Record<string, unknown>);

let server: TestServer;
let world: FuzzWorld;
let casesRun = 0;
/** The digest after the last request: a refusal must leave it as it is, one digest per request instead of two. */
let baseline: string;

beforeAll(async () => {
  server = await startTestServer();
  world = await fuzzWorld(server);
  baseline = await world.digest();
}, 120_000);

afterAll(async () => {
  console.log(`fuzz: ${casesRun} raw HTTP requests, seed ${seed}`);
  await server?.close();
});

interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/**
 * Sends exactly what it is given over a fresh socket (no client library tidying the path, the headers or the
 * body) and reads until the server closes: one answer, whose body is de-chunked. A second status line after
 * it (two answers to one request) fails the test.
 */
async function send(request: RawRequest): Promise<Answer> {
  const { port } = new URL(server.url);
  const bodyBytes = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
  const headerLines = Object.entries({
    host: `127.0.0.1:${port}`,
    connection: 'close',
    ...request.headers,
    ...(bodyBytes ? { 'content-length': String(bodyBytes.length) } : {}),
  }).map(([name, value]) => `${name}: ${value}\r\n`);
  const head = Buffer.from(`${request.method} ${request.path} HTTP/1.1\r\n${headerLines.join('')}\r\n`, 'utf8');
  const raw = await new Promise<Buffer>((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
    socket.end(bodyBytes ? Buffer.concat([head, bodyBytes]) : head);
  });
  const text = raw.toString('utf8');
  const split = text.indexOf('\r\n\r\n');
  const headers = text.slice(0, split);
  let body = split < 0 ? '' : text.slice(split + 4);
  if (/^transfer-encoding: chunked$/im.test(headers)) body = dechunk(body);
  expect(body, `a second answer after ${headers}`).not.toMatch(/^HTTP\/1\.[01] \d{3}/m);
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1] ?? 0), body: request.method === 'HEAD' ? '' : body };
}

function dechunk(chunked: string): string {
  let rest = Buffer.from(chunked, 'utf8');
  const parts: Buffer[] = [];
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    const size = Number.parseInt(rest.subarray(0, lineEnd).toString('latin1'), 16);
    if (!(size > 0)) return Buffer.concat(parts).toString('utf8');
    parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
    rest = rest.subarray(lineEnd + 2 + size + 2);
  }
}

const procedurePath = fc.constantFrom(...paths);
const jsonText = fc.oneof(
  fc.json({ maxDepth: 3 }),
  fc.constantFrom(...hostileValues).map((value) => JSON.stringify(value) ?? 'null'),
);
const brokenJson = fc.oneof(
  fc.json({ maxDepth: 2 }).map((text) => text.slice(0, Math.max(0, text.length - 1))),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.constantFrom(
    '{"id": ',
    '[',
    '{',
    'nul',
    '\u0000',
    '\ufeff{"id": 1}',
    '{"a":1,"a":2}',
    '{"__proto__": {"x": 1}}',
    "{'id': 1}",
    '1e99999',
    '"\\ud800"',
    `{"x": "${'a'.repeat(100_000)}"}`,
  ),
);
/** `input` for a GET batch: the tRPC batch link's `{"0": …, "1": …}`. */
const batchInput = fc
  .array(jsonText, { minLength: 1, maxLength: 3 })
  .map((inputs) => `{${inputs.map((input, index) => `"${index}":${input}`).join(',')}}`);

const path = fc.oneof(
  { weight: 4, arbitrary: procedurePath.map((name) => `/trpc/${name}`) },
  {
    weight: 2,
    arbitrary: fc
      .array(procedurePath, { minLength: 1, maxLength: 4 })
      .map((names) => `/trpc/${names.join(',')}?batch=1`),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '/trpc',
      '/trpc/',
      '/trpc/..%2f..%2fetc%2fpasswd',
      '/trpc/../../etc/passwd',
      '/trpc/%00',
      '/trpc/%E0%A4%A',
      '/trpc/__proto__',
      '/trpc/constructor',
      '/trpc/toString',
      '/trpc/auth.me/extra',
      '/trpc/auth..me',
      '/trpc/auth.me?batch=1',
      '/trpc/auth.me?batch=true&input=%7B%7D',
      `/trpc/${'auth.me,'.repeat(600)}auth.me?batch=1`,
      `/trpc/${'a'.repeat(6000)}`,
      '/healthz',
      '/api/openapi.json',
      '/api/docs',
      '/nowhere',
      '//trpc//auth.me',
      '/TRPC/auth.me',
    ),
  },
);

const query = fc.oneof(
  fc.constant(''),
  jsonText.map((text) => `input=${encodeURIComponent(text)}`),
  brokenJson.map((text) => `input=${encodeURIComponent(text).slice(0, 12_000)}`),
  batchInput.map((text) => `batch=1&input=${encodeURIComponent(text)}`),
  fc.constantFrom(
    `input=${'%7B'.repeat(3000)}`,
    `input=${'a'.repeat(12_000)}`,
    'input=%',
    'input=%FF%FE',
    'input=&input=1',
    `${'x=1&'.repeat(2000)}input=1`,
    'input[]=1&input[a]=2',
  ),
);

const contentType = fc.constantFrom(
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'text/plain',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=fuzz',
  'multipart/form-data',
  'application/octet-stream',
  'application/xml',
  'application/jsonl',
  '*/*',
  '',
  'application/json, text/plain',
);

const body = fc.oneof(
  fc.constant(undefined),
  jsonText,
  brokenJson,
  batchInput,
  fc.constant('--fuzz\r\nContent-Disposition: form-data; name="input"\r\n\r\n{"id":1}\r\n--fuzz--\r\n'),
);

const rawRequest = fc
  .record({
    method: fc.constantFrom('GET', 'GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
    path,
    query,
    contentType,
    accept: fc.constantFrom(undefined, 'application/jsonl', 'text/event-stream', '*/*'),
    body,
    caller: fc.nat(4),
    origin: fc.constantFrom(undefined, 'https://evil.example', 'null'),
  })
  .map(({ method, path, query, contentType, accept, body, caller, origin }): RawRequest & { who: string } => {
    const who = world.callers[caller] ?? { name: 'anonymous', token: undefined };
    const headers: Record<string, string> = {};
    if (who.token) headers.authorization = `Bearer ${who.token}`;
    if (contentType !== undefined) headers['content-type'] = contentType;
    if (accept) headers['trpc-accept'] = accept;
    if (origin) headers.origin = origin;
    // Node refuses a request line over its 16 KiB header limit itself; that case is one of the raw ones below.
    const joined = (query === '' ? path : `${path}${path.includes('?') ? '&' : '?'}${query}`).slice(0, 14_000);
    return {
      method,
      path: joined,
      headers,
      body: method === 'GET' || method === 'HEAD' ? undefined : body,
      who: who.name,
    };
  });

describe('raw HTTP garbage at the API', () => {
  it('never answers 5xx or shows internals, and a refusal writes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(rawRequest, async ({ who, ...request }) => {
        const answer = await send(request);
        casesRun += 1;
        const context = `${request.method} ${request.path.slice(0, 300)} as ${who} ${JSON.stringify(request.headers)} body ${request.body?.slice(0, 200)}: ${answer.status} ${answer.body.slice(0, 500)}`;
        // The API reference is a fixed document that names the permission table's source file on purpose.
        if (request.path.startsWith('/api/')) expect(answer.status, context).toBeLessThan(500);
        else expectSafeAnswer(answer, context);
        const after = await world.digest();
        if (answer.status >= 400) expect(after, `${context}: a refusal changed the database`).toBe(baseline);
        baseline = after;
      }),
      { numRuns: runs, seed, endOnFailure: true },
    );
  }, 300_000);

  it('answers a request line or headers that are not HTTP with a 400, not a crash', async () => {
    const { port } = new URL(server.url);
    const garbage = [
      'GARBAGE\r\n\r\n',
      'GET /trpc/auth.me HTTP/9.9\r\n\r\n',
      'GET /trpc/auth.me\r\n\r\n',
      'POST /trpc/auth.login HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
      'POST /trpc/auth.login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      `GET /trpc/auth.me HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`,
      `GET /trpc/cycles.get?input=${'a'.repeat(40_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      `HEAD /trpc/cycles.get?input=${'a'.repeat(40_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      'GET /trpc/auth.me HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
    ];
    for (const text of garbage) {
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(port), '127.0.0.1');
        let received = '';
        socket.on('data', (chunk) => {
          received += chunk.toString('latin1');
        });
        socket.on('end', () => resolve(received));
        socket.on('close', () => resolve(received));
        socket.on('error', reject);
        socket.write(text);
      });
      casesRun += 1;
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1]);
      expect(status, `${JSON.stringify(text.slice(0, 80))} → ${reply.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
      expect(status, `${JSON.stringify(text.slice(0, 80))} → ${reply.slice(0, 200)}`).toBeLessThan(500);
    }
  });
});
