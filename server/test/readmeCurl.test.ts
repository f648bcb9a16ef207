import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProjectBucket } from '../src/s3/storage.ts';
import { createFirstAdmin } from '../src/services/bootstrap.ts';
import { startTestServer, type TestServer } from './harness.ts';
import { bucketListing, objectSha256 } from './uploadFixtures.ts';

/*
 * The README's curl examples, run as written. Every fenced block whose info string is `sh curl-example` is
 * taken, in order, one command a line, and run with bash and the real curl in one temporary folder (the
 * cookie jar and the files the example writes live there). Before a line runs:
 * - `http://localhost:3000` becomes the test server's address;
 * - each `<placeholder>` becomes what the README tells the reader to paste (see `placeholders`); a
 *   placeholder the test does not know fails the test, so a new one has to be explained here and there.
 * Shell variable lines (`B=…; J=(…)`) are repeated before every later line, as the reader's shell keeps them.
 * A curl to `$B/<procedure>` must answer `{"result":…}`; any other line must exit with 0.
 */

const readmePath = fileURLToPath(new URL('../../README.md', import.meta.url));
const run = promisify(execFile);

type Answers = Record<string, unknown>;
type Pick = (answers: Answers, printedPassword: string) => unknown;

const dataOf = (answers: Answers, procedure: string) => {
  if (!(procedure in answers)) throw new Error(`the README uses an answer of ${procedure} before calling it`);
  return answers[procedure] as Record<string, unknown>;
};

const placeholders: Record<string, Pick> = {
  '<printed password>': (_, password) => password,
  '<project id>': (answers) => dataOf(answers, 'projects.create').id,
  '<cycle id>': (answers) => dataOf(answers, 'cycles.create').id,
  '<token>': (answers) => dataOf(answers, 'tokens.create').token,
  '<session id>': (answers) => dataOf(answers, 'uploads.begin').id,
  '<url 1>': (answers) => (dataOf(answers, 'uploads.signBatch').urls as Array<{ url: string }>)[0]?.url,
  '<url 2>': (answers) => (dataOf(answers, 'uploads.signBatch').urls as Array<{ url: string }>)[1]?.url,
};

/** The command lines of every `sh curl-example` block of a Markdown text, comments and blank lines left out. */
function curlExamples(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/^```sh curl-example\n([\s\S]*?)^```$/gm)].map((match) => match[1] ?? '');
  return blocks.flatMap((block) => block.split('\n').filter((line) => line.trim() && !line.trim().startsWith('#')));
}

function substitute(line: string, baseUrl: string, answers: Answers, printedPassword: string): string {
  const withServer = line.replaceAll('http://localhost:3000', baseUrl);
  return withServer.replace(/<[a-z][a-z0-9 ]*>/g, (placeholder) => {
    const pick = placeholders[placeholder];
    if (!pick) throw new Error(`the README uses ${placeholder}, which this test does not know how to fill in`);
    const value = pick(answers, printedPassword);
    if (typeof value !== 'string') throw new Error(`no value for ${placeholder} in: ${line}`);
    return value;
  });
}

const isAssignment = (line: string) => /^[A-Za-z_]\w*=/.test(line);

let server: TestServer;
let workDir: string;
let printedPassword: string;
const answers: Answers = {};

beforeAll(async () => {
  server = await startTestServer();
  const firstAdmin = await createFirstAdmin(server.db);
  if (!firstAdmin) throw new Error('the test database already has people');
  printedPassword = firstAdmin.password;
  workDir = await mkdtemp(path.join(tmpdir(), 'du-readme-curl-'));
});
afterAll(async () => {
  await server?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

async function runLine(line: string, shellState: string[]) {
  // bash, as the README says; no proxy and no ~/.curlrc of whoever runs the tests.
  const { HTTP_PROXY: _h, HTTPS_PROXY: _s, http_proxy: _hl, https_proxy: _sl, ALL_PROXY: _a, ...env } = process.env;
  return run('bash', ['-c', [...shellState, line].join('\n')], {
    cwd: workDir,
    env: { ...env, NO_PROXY: '*', no_proxy: '*', CURL_HOME: workDir },
    timeout: 30_000,
  });
}

describe('README: Try the API with curl', () => {
  it('has the examples, marked for this test', async () => {
    const lines = curlExamples(await readFile(readmePath, 'utf8'));
    const procedures = lines.map((line) => /\$B\/([\w.]+)/.exec(line)?.[1]).filter(Boolean);
    expect(procedures).toEqual(
      expect.arrayContaining([
        'auth.login',
        'auth.changePassword',
        'projects.list',
        'projects.create',
        'cycles.create',
        'uploads.begin',
        'uploads.plan',
        'uploads.signBatch',
        'uploads.confirm',
        'uploads.finish',
      ]),
    );
  });

  // A bash and a curl per line, and three password hashes: many seconds on a busy machine.
  it('runs every command as written, each answered with success', async () => {
    const shellState: string[] = [];
    for (const line of curlExamples(await readFile(readmePath, 'utf8'))) {
      const command = substitute(line, server.url, answers, printedPassword);
      const { stdout } = await runLine(command, shellState).catch((error: { stderr?: string; message: string }) => {
        throw new Error(`README line failed: ${line}\n${error.stderr ?? error.message}`);
      });
      if (isAssignment(command)) shellState.push(command);
      const procedure = /\$B\/([\w.]+)/.exec(line)?.[1];
      if (!procedure) continue;
      const answer = JSON.parse(stdout) as { result?: { data?: unknown }; error?: unknown };
      expect(answer.error, `${line}\n${stdout}`).toBeUndefined();
      expect(answer, `${line}\n${stdout}`).toHaveProperty('result');
      answers[procedure] = answer.result?.data;
    }
    expect(answers['cycles.create']).toMatchObject({ name: 'C1', s3Prefix: 'C1' });
    expect(answers['cycles.list']).toEqual([expect.objectContaining({ name: 'C1' })]);
    expect(answers['projects.list']).toEqual([expect.objectContaining({ name: 'Birds 2025' })]);
    expect(answers['auth.me']).toMatchObject({ username: 'admin' });
    expect(dataOf(answers, 'uploads.plan').files).toEqual([
      expect.objectContaining({ decision: 'upload', key: 'C1/950349/20250909_092000.WAV' }),
      expect.objectContaining({ decision: 'upload', key: 'C1/950349/20250909_093000.WAV' }),
    ]);
    expect(answers['uploads.finish']).toMatchObject({ status: 'completed', filesDone: 2, filesFailed: 0 });
  }, 120_000);

  it('leaves both files in the bucket, byte for byte', async () => {
    const project = dataOf(answers, 'projects.create') as unknown as ProjectBucket;
    const listing = await bucketListing(server, project, 'C1/');
    expect(Object.fromEntries(listing)).toEqual({
      'C1/950349/20250909_092000.WAV': 1000,
      'C1/950349/20250909_093000.WAV': 2000,
    });
    for (const key of listing.keys()) {
      const local = await readFile(path.join(workDir, key.slice('C1/'.length)));
      expect(await objectSha256(server, project, key)).toBe(createHash('sha256').update(local).digest('hex'));
    }
  });

  it('serves the API reference the README points to', async () => {
    const document = await fetch(`${server.url}/api/openapi.json`);
    expect(document.status).toBe(200);
    expect(await document.json()).toMatchObject({ openapi: '3.1.0', paths: { '/trpc/uploads.plan': {} } });
    const page = await fetch(`${server.url}/api/docs`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('/trpc/uploads.signBatch');
  });
});
