import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutBucketCorsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, outcome, seedCompany, signIn, startTestServer, type TestServer } from '../../test/harness.ts';
import { type LocalS3, startLocalS3 } from '../s3/localS3.ts';
import { uploadCorsRule } from '../s3/storage.ts';

// A store the app does not run itself: an S3 server started apart, reached through S3_ENDPOINT with the
// server's credentials, as MinIO or AWS would be. The app must check buckets there, not create them.
let store: LocalS3;
let storeDir: string;
let server: TestServer;
let admin: ApiClient;
let s3: S3Client;

beforeAll(async () => {
  storeDir = await mkdtemp(path.join(tmpdir(), 'du-external-s3-'));
  store = await startLocalS3({ dataDir: storeDir, port: 0 });
  server = await startTestServer({
    S3_ENDPOINT: store.endpoint,
    AWS_ACCESS_KEY_ID: store.accessKeyId,
    AWS_SECRET_ACCESS_KEY: store.secretAccessKey,
  });
  const acme = await seedCompany(server.db, 'acme');
  admin = await signIn(server.url, acme.users.admin.username);
  s3 = new S3Client({
    endpoint: store.endpoint,
    region: store.region,
    forcePathStyle: true,
    credentials: { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey },
  });
});
afterAll(async () => {
  s3?.destroy();
  await server?.close();
  await store?.stop();
  await rm(storeDir, { recursive: true, force: true });
});

const create = (bucket: string) =>
  admin.projects.create.mutate({ name: `Project ${bucket}`, bucket }).then(
    () => 'OK',
    (error: { data?: { code?: string }; message: string }) => `${error.data?.code}: ${error.message}`,
  );

describe('a project on an external S3 store', () => {
  it('starts no embedded server and reports s3 ok on /healthz', async () => {
    expect(server.storage.kind).toBe('external');
    expect(await (await fetch(`${server.url}/healthz`)).json()).toMatchObject({ s3: 'ok' });
  });

  it('refuses a bucket that does not exist, saying so, and creates nothing', async () => {
    expect(await create('not-there')).toBe(
      `PRECONDITION_FAILED: Bucket "not-there" does not exist at ${store.endpoint}. Create it first.`,
    );
    expect(await outcome(admin.projects.list.query())).toBe('OK');
    expect(await admin.projects.list.query()).toEqual([]);
  });

  it('refuses a bucket without a CORS rule for the app, naming the fix', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'no-cors' }));
    const answer = await create('no-cors');
    expect(answer).toMatch(/^PRECONDITION_FAILED: Bucket "no-cors" has no CORS rule for http:\/\/127\.0\.0\.1:\d+/);
    expect(answer).toContain('pnpm s3:cors no-cors --origin');
  });

  it('refuses a CORS rule that lacks DELETE or does not expose ETag', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'half-cors' }));
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: 'half-cors',
        CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET', 'PUT', 'POST'] }] },
      }),
    );
    const answer = await create('half-cors');
    expect(answer).toContain('lacks the methods DELETE');
    expect(answer).toContain('does not expose the ETag header');
  });

  it('accepts a bucket whose CORS rule is the upload rule', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'ready' }));
    await s3.send(
      new PutBucketCorsCommand({ Bucket: 'ready', CORSConfiguration: { CORSRules: [uploadCorsRule(['*'])] } }),
    );
    expect(await create('ready')).toBe('OK');
  });
});
