import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, DeleteBucketCommand, PutBucketCorsCommand, S3Client } from '@aws-sdk/client-s3';
import { createApi } from '@data-uploader/scripts/driver/api';
import { UploadDriver } from '@data-uploader/scripts/driver/uploadDriver';
import type { FastifyBaseLogger } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSecretToken } from '../src/auth/secret.ts';
import { type LocalS3, startLocalS3 } from '../src/s3/localS3.ts';
import { uploadCorsRule } from '../src/s3/storage.ts';
import { startTestServer } from './harness.ts';
import { MiB, writeFolder } from './uploadFixtures.ts';

/**
 * The app as `pnpm start` runs it, at LOG_LEVEL=debug, with AWS-style credentials (a session token too) for an
 * S3_ENDPOINT store, through a whole upload: sign-in and password change (session cookies), an API token, the
 * protocol driver sending small files and a multipart file, and a call that fails inside the server so an
 * error is logged. Everything the process writes is read, and no secret may be in it.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
// s3rver knows one key pair, whose secret is the same text as its key id.
const secretAccessKey = 'S3RVER';
const sessionToken = 'FwoGZXIvYXdzELz//////////wEaDTestSessionToken7Qk9xZ';

let s3: LocalS3;
let bucketAdmin: S3Client;
let dataDir: string;
let child: ChildProcess;
let output = '';
let url = '';

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'du-logs-'));
  s3 = await startLocalS3({ dataDir: path.join(dataDir, 's3') });
  bucketAdmin = new S3Client({
    region: 'us-east-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey },
  });
  await makeBucket('field-data');

  const { DATABASE_URL: _, ...inherited } = process.env;
  child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
    cwd: root,
    env: {
      ...inherited,
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'debug',
      S3_ENDPOINT: s3.endpoint,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey,
      AWS_SESSION_TOKEN: sessionToken,
      MULTIPART_THRESHOLD_MIB: '5',
      PART_SIZE_MIB: '5',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const address = /Data Uploader on (http:\/\/\S+)/.exec(output)?.[1];
      if (address) resolve(address);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening:\n${output}`)));
  });
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
  }
  bucketAdmin?.destroy();
  await s3?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

/** A bucket on the S3 server, with the CORS rule browsers need, as an admin of the store would make it. */
async function makeBucket(name: string) {
  await bucketAdmin.send(new CreateBucketCommand({ Bucket: name }));
  await bucketAdmin.send(
    new PutBucketCorsCommand({ Bucket: name, CORSConfiguration: { CORSRules: [uploadCorsRule(['*'])] } }),
  );
}

/** Plain JSON over HTTP with a one-cookie jar; every session cookie the server hands out is kept. */
function browserLike(cookies: string[]) {
  let cookie = '';
  return async (procedure: string, input?: unknown) => {
    const response = await fetch(`${url}/trpc/${procedure}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
      body: JSON.stringify(input ?? {}),
    });
    const set = response.headers.getSetCookie().find((line) => line.startsWith('du_session='));
    const value = set?.split(';')[0]?.slice('du_session='.length);
    if (value) {
      cookie = `du_session=${value}`;
      cookies.push(value);
    }
    const body = (await response.json()) as { result?: { data: unknown }; error?: { message: string } };
    return { status: response.status, data: body.result?.data as Record<string, unknown> };
  };
}

describe('the log of a whole upload at debug level', () => {
  it('holds no AWS secret, session token, cookie, API token or presigned signature', async () => {
    const cookies: string[] = [];
    const call = browserLike(cookies);
    const firstPassword = /password: (\S+)/.exec(output)?.[1] ?? '';
    expect((await call('auth.login', { username: 'admin', password: firstPassword })).status).toBe(200);
    const changed = await call('auth.changePassword', {
      currentPassword: firstPassword,
      newPassword: 'a new long password',
    });
    expect(changed.status).toBe(200);
    const project = await call('projects.create', { name: 'Wetlands', bucket: 'field-data' });
    expect(project.status).toBe(200);
    const cycle = await call('cycles.create', { projectId: project.data.id });
    const token = String((await call('tokens.create', { name: 'field laptop' })).data.token);
    expect(token).toMatch(/^du_/);

    // The presigned URLs the driver is given, as it sends them.
    const signatures: string[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = (input, init) => {
      const address = new URL(input instanceof Request ? input.url : String(input));
      const signature = address.searchParams.get('X-Amz-Signature');
      if (signature) signatures.push(signature);
      return realFetch(input, init);
    };
    try {
      const folder = await writeFolder([
        { relativePath: 'S1/20250909_092000.WAV', size: 30_000 },
        { relativePath: 'S1/20250909_093000.WAV', size: 31_000 },
        { relativePath: 'S2/20250909_092000.WAV', size: 11 * MiB },
      ]);
      const result = await new UploadDriver({ api: createApi(url, { token }), concurrency: 3 }).upload({
        projectId: String(project.data.id),
        cycleId: String(cycle.data.id),
        files: folder.files,
      });
      expect(result.failed).toEqual([]);
      expect(result.session).toMatchObject({ status: 'completed', filesDone: 3 });
      await rm(folder.root, { recursive: true, force: true });
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(signatures.length).toBeGreaterThan(3);

    // A project whose bucket is deleted under it: finishing its upload fails in S3, and S3's error is logged.
    await makeBucket('doomed');
    const doomed = await call('projects.create', { name: 'Doomed', bucket: 'doomed' });
    expect(doomed.status).toBe(200);
    const doomedCycle = await call('cycles.create', { projectId: doomed.data.id });
    const begun = await call('uploads.begin', { projectId: doomed.data.id, cycleId: doomedCycle.data.id });
    await bucketAdmin.send(new DeleteBucketCommand({ Bucket: 'doomed' }));
    expect((await call('uploads.finish', { sessionId: begun.data.id })).status).toBeGreaterThanOrEqual(400);
    await call('auth.logout');
    await expect.poll(() => output, { timeout: 10_000 }).toMatch(/"level":40.*NoSuchBucket/);

    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
    console.log(`log of the upload: ${output.split('\n').length} lines, ${output.length} characters`);
    expect(cookies.length).toBeGreaterThanOrEqual(2);
    const secrets = [
      ['the AWS secret access key', secretAccessKey],
      ['the AWS session token', sessionToken],
      ...cookies.flatMap((cookie) => [
        ['a session cookie', cookie],
        ['a session cookie’s secret', cookie.split('.')[1] ?? cookie],
      ]),
      ['the API token', token],
      ['the API token’s secret', token.split('.')[1] ?? token],
      ...signatures.map((signature) => ['a presigned URL’s signature', signature]),
    ];
    for (const [what, secret] of secrets) expect(output, `${what} is in the log`).not.toContain(secret);
    expect(output).not.toMatch(/X-Amz-(Signature|Credential|Security-Token)=(?!\[redacted\])/i);
  }, 240_000);

  it('scrubs a secret that reaches a log line by any other way: an error message, a logged request', async () => {
    const lines: string[] = [];
    const stream = { write: (line: string) => lines.push(line) };
    const presigned =
      'http://127.0.0.1:9/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20250101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLE&X-Amz-Signature=0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0';
    const { token: session } = newSecretToken();
    const sessionSecret = session.split('.')[1] ?? session;
    let appLog: FastifyBaseLogger | undefined;
    const server = await startTestServer({}, 'default', {
      logger: { level: 'debug', stream },
      beforeListen: (app) => {
        appLog = app.log;
        // An error that carries a presigned URL in its message, as a failed fetch or SDK call can.
        app.get('/test/fails', async () => {
          throw new Error(`PUT ${presigned} failed`);
        });
      },
    });
    try {
      const answer = await fetch(`${server.url}/test/fails`);
      expect(answer.status).toBe(500);
      expect(await answer.text()).not.toContain('X-Amz');
      // A request as a debug line might log it, with the credentials it came with.
      appLog?.debug(
        {
          req: { url: presigned, headers: { authorization: `Bearer du_${session}`, cookie: `du_session=${session}` } },
        },
        `calling with du_session=${session}; the CLI's token is du_${session}`,
      );
    } finally {
      await server.close();
    }
    const text = lines.join('');
    expect(text).toMatch(/"level":50/);
    expect(text).toContain('X-Amz-Signature=[redacted]');
    for (const secret of ['0f1e2d3c4b5a6978', 'FwoGZXIvYXdzEXAMPLE', 'AKIAEXAMPLE', sessionSecret]) {
      expect(text).not.toContain(secret);
    }
  });
});
