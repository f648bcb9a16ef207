import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { type Db, openPglite, schema } from '@data-uploader/drizzle';
import { createApi } from '@data-uploader/scripts/driver/api';
import { defaultRetryPolicy } from '@data-uploader/scripts/driver/transfer';
import { UploadDriver } from '@data-uploader/scripts/driver/uploadDriver';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createApiToken } from '../src/auth/apiTokens.ts';
import { ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY } from '../src/s3/localS3.ts';
import { AppProcess, freePort, isListening } from './appProcess.ts';
import { createTestDatabase } from './database.ts';
import { apiClient, seedCompany } from './harness.ts';
import { MiB, writeFolder } from './uploadFixtures.ts';

/*
 * The app killed with SIGKILL mid-upload and started again on the same port and DATA_DIR, while a client
 * uploads: the client waits for it by itself and completes, and the bucket and the ledger agree with the
 * source folder, byte for byte.
 */

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Some hundreds of small recordings in sensor folders, and one file large enough for three parts. */
async function fieldFolder() {
  const spec = Array.from({ length: 300 }, (_, i) => ({
    relativePath: `S${i % 4}/20250601_${String(i).padStart(6, '0')}.WAV`,
    size: 1024 + ((i * 7919) % 16_384),
  }));
  spec.push({ relativePath: 'CAM1/clip.MP4', size: 12 * MiB });
  const folder = await writeFolder(spec);
  cleanups.push(() => rm(folder.root, { recursive: true, force: true }));
  return folder;
}

/** The app on a port of its own and a data folder; multipart from 5 MiB so the large file has parts to cut between. */
async function appOn(dataDir: string, env: Record<string, string> = {}) {
  const app = new AppProcess(await freePort(), {
    DATA_DIR: dataDir,
    MULTIPART_THRESHOLD_MIB: '5',
    PART_SIZE_MIB: '5',
    ...env,
  });
  cleanups.push(() => app.stop());
  return app;
}

/**
 * The embedded S3 server goes down with the app, so a PUT in flight waits for a whole restart (4–15 s on this
 * machine) rather than for a store that stays up, which is what the default budget (13–25 s) is sized for.
 */
const throughRestarts = { ...defaultRetryPolicy, retries: 9 };

/** A company with an admin and an uploader, each with an API token, written before the app first starts. */
async function seed(db: Db) {
  const company = await seedCompany(db, 'faults');
  const admin = await createApiToken(db, company.users.admin.id, 'setup');
  const user = await createApiToken(db, company.users.user.id, 'uploader');
  return { adminToken: admin.token, userToken: user.token };
}

async function projectAndCycle(app: AppProcess, adminToken: string) {
  const admin = apiClient(app.url, { token: adminToken });
  const project = await admin.projects.create.mutate({ name: 'Faults', bucket: 'faults-bucket' });
  const cycle = await admin.cycles.create.mutate({ projectId: project.id });
  return { project, cycle };
}

/**
 * SIGKILL, then the same app again. Between the two, the embedded S3 server (a child of the app) must let go of
 * its port by itself: a child outliving its parent would hold it. The restarted app's S3 server is back on the
 * same port, where the presigned URLs the client holds point.
 */
async function killAndRestart(app: AppProcess) {
  const s3Port = app.s3Port;
  await app.kill();
  await expect.poll(() => isListening(s3Port), { timeout: 15_000, interval: 200 }).toBe(false);
  await app.start();
  expect(app.s3Port).toBe(s3Port);
}

/** Every object of the bucket under a prefix with its size and SHA-256, and the multipart uploads left open. */
async function bucketContents(s3Port: number, bucket: string, prefix: string) {
  const s3 = new S3Client({
    endpoint: `http://127.0.0.1:${s3Port}`,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
  });
  try {
    const objects = new Map<string, { size: number; sha256: string }>();
    const { Uploads = [] } = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        const body = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }));
        const bytes = (await body.Body?.transformToByteArray()) ?? new Uint8Array();
        objects.set(object.Key as string, {
          size: object.Size ?? -1,
          sha256: createHash('sha256').update(bytes).digest('hex'),
        });
      }
      token = page.NextContinuationToken;
    } while (token);
    return { objects, openUploads: Uploads.length };
  } finally {
    s3.destroy();
  }
}

async function ledgerOf(db: Db, cycleId: string) {
  return db
    .select({ key: schema.files.s3Key, size: schema.files.size, status: schema.files.status })
    .from(schema.files)
    .where(eq(schema.files.cycleId, cycleId));
}

type Folder = Awaited<ReturnType<typeof fieldFolder>>;
type Bucket = Awaited<ReturnType<typeof bucketContents>>;

/** Nothing lost, nothing extra: the bucket holds every source file's bytes, and the ledger says exactly that. */
function expectEverythingStored(
  folder: Folder,
  prefix: string,
  bucket: Bucket,
  ledger: Awaited<ReturnType<typeof ledgerOf>>,
) {
  const source = new Map(
    folder.files.map((file) => [`${prefix}/${file.relativePath}`, { size: file.size, sha256: file.sha256 }]),
  );
  expect(bucket.objects).toEqual(source);
  expect(bucket.openUploads).toBe(0);
  expect(ledger.filter((row) => row.status !== 'completed')).toEqual([]);
  expect(new Map(ledger.map((row) => [row.key, row.size]))).toEqual(
    new Map([...bucket.objects].map(([key, { size }]) => [key, size])),
  );
  expect(ledger).toHaveLength(folder.files.length);
}

describe('the app killed with SIGKILL mid-upload', { timeout: 180_000 }, () => {
  it('on the PGlite data folder: the upload driver waits for it twice (mid small files, mid multipart) and completes', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'du-faults-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const pgliteDir = path.join(dataDir, 'pglite');
    // The run's migrated template, unpacked into the folder the app will open.
    const template = new Blob([await readFile(inject('pgliteTemplatePath'))]);
    const setup = await openPglite({ dataDir: pgliteDir, loadDataDir: template });
    const { adminToken, userToken } = await seed(setup.db);
    await setup.close();
    const folder = await fieldFolder();
    // No EMBEDDED_S3_PORT: the embedded defaults of `pnpm start`.
    const app = await appOn(dataDir);
    await app.start();
    const { project, cycle } = await projectAndCycle(app, adminToken);

    const faults: Array<Promise<void>> = [];
    let filesDone = 0;
    let killedMidParts = false;
    const driver = new UploadDriver({
      api: createApi(app.url, { token: userToken }),
      retry: throughRestarts,
      onEvent: (event) => {
        if (event.type === 'file-done' && ++filesDone === 60) faults.push(killAndRestart(app));
        if (event.type === 'part-done' && !killedMidParts) {
          killedMidParts = true;
          faults.push(Promise.all(faults).then(() => killAndRestart(app)));
        }
      },
    });
    const result = await driver.upload({ projectId: project.id, cycleId: cycle.id, files: folder.files });
    await Promise.all(faults);

    expect(faults).toHaveLength(2);
    expect(result.failed).toEqual([]);
    expect(result.session).toMatchObject({ status: 'completed', filesDone: folder.files.length, filesFailed: 0 });
    const bucket = await bucketContents(app.s3Port, project.bucket, `${cycle.s3Prefix}/`);
    await app.stop();
    const after = await openPglite({ dataDir: pgliteDir });
    try {
      expectEverythingStored(folder, cycle.s3Prefix, bucket, await ledgerOf(after.db, cycle.id));
    } finally {
      await after.close();
    }
  });

  it.runIf(inject('templateDatabaseUrl'))(
    'on PostgreSQL: the CLI in its own process waits for it twice (before planning, mid transfer) and completes',
    async () => {
      const database = await createTestDatabase();
      cleanups.push(() => database.close());
      const { adminToken, userToken } = await seed(database.db);
      const dataDir = await mkdtemp(path.join(tmpdir(), 'du-faults-'));
      cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
      const home = await mkdtemp(path.join(tmpdir(), 'du-faults-home-'));
      cleanups.push(() => rm(home, { recursive: true, force: true }));
      const folder = await fieldFolder();
      const app = await appOn(dataDir, {
        DATABASE_URL: database.connectionString as string,
        EMBEDDED_S3_PORT: String(await freePort()),
      });
      await app.start();
      const { project, cycle } = await projectAndCycle(app, adminToken);

      const cli = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'scripts/src/cli/main.ts',
          'upload',
          folder.root,
          '--project',
          project.name,
          '--cycle',
          cycle.name,
          '--json',
          '--concurrency',
          '2',
          '--retries',
          String(throughRestarts.retries),
        ],
        {
          cwd: repoRoot,
          env: {
            PATH: process.env.PATH ?? '',
            HOME: home,
            DATA_UPLOADER_SERVER: app.url,
            DATA_UPLOADER_TOKEN: userToken,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      cli.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      const exited = new Promise<number | null>((resolve) => cli.once('close', resolve));
      const events: Array<Record<string, unknown>> = [];
      // Killed once as the CLI turns to the API to begin and plan (its calls must wait for the app), and once
      // mid-transfer (its PUTs must wait for the embedded S3 server, which went down with the app).
      const faults: Array<Promise<void>> = [];
      let midTransfer = false;
      for await (const line of createInterface({ input: cli.stdout })) {
        const event = JSON.parse(line) as Record<string, unknown>;
        events.push(event);
        if (event.type === 'discovered') faults.push(killAndRestart(app));
        if (event.type === 'progress' && (event.filesDone as number) >= 30 && !midTransfer) {
          midTransfer = true;
          faults.push(Promise.all(faults).then(() => killAndRestart(app)));
        }
      }
      const code = await exited;
      await Promise.all(faults);

      const finished = events.find((event) => event.type === 'finished');
      expect({ code, stderr, finished }).toMatchObject({
        code: 0,
        finished: { ok: true, failed: [], session: { status: 'completed', filesDone: folder.files.length } },
      });
      expect(faults).toHaveLength(2);
      const bucket = await bucketContents(app.s3Port, project.bucket, `${cycle.s3Prefix}/`);
      expectEverythingStored(folder, cycle.s3Prefix, bucket, await ledgerOf(database.db, cycle.id));
    },
  );
});
