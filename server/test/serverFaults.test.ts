import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { openPglite } from '@data-uploader/drizzle';
import { createApi } from '@data-uploader/scripts/driver/api';
import { defaultRetryPolicy } from '@data-uploader/scripts/driver/transfer';
import { UploadDriver } from '@data-uploader/scripts/driver/uploadDriver';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { type AppProcess, freePort, isListening } from './appProcess.ts';
import { startCli } from './cliProcess.ts';
import { createTestDatabase } from './database.ts';
import {
  appOn,
  bucketContents,
  expectEverythingStored,
  fieldFolder,
  ledgerOf,
  projectAndCycle,
  seed,
} from './faultFixtures.ts';
import { seedCompany, startTestServer } from './harness.ts';
import { projectWithCycle, tokenOf, writeFolder } from './uploadFixtures.ts';

/*
 * The app killed with SIGKILL mid-upload and started again on the same port and DATA_DIR, while a client
 * uploads: the client waits for it by itself and completes, and the bucket and the ledger agree with the
 * source folder, byte for byte.
 */

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * The embedded S3 server goes down with the app, so a PUT in flight waits for a whole restart (4–15 s on this
 * machine) rather than for a store that stays up, which is what the default budget (13–25 s) is sized for.
 */
const throughRestarts = { ...defaultRetryPolicy, retries: 9 };

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

describe('the app killed with SIGKILL mid-upload', { timeout: 180_000 }, () => {
  it('on the PGlite data folder: the upload driver waits for it and completes', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'du-faults-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const pgliteDir = path.join(dataDir, 'pglite');
    // The run's migrated template, unpacked into the folder the app will open.
    const template = new Blob([await readFile(inject('pgliteTemplatePath'))]);
    const setup = await openPglite({ dataDir: pgliteDir, loadDataDir: template });
    const { adminToken, userToken } = await seed(setup.db);
    await setup.close();
    const folder = await fieldFolder();
    cleanups.push(() => rm(folder.root, { recursive: true, force: true }));
    // No EMBEDDED_S3_PORT: the embedded defaults of `pnpm start`.
    const app = await appOn(dataDir);
    cleanups.push(() => app.stop());
    await app.start();
    const { project, cycle } = await projectAndCycle(app, adminToken);

    // Killed as the large file's last part lands: its completion must be signed by an app that is not there, while
    // small files are in flight to the embedded S3 server (gone with the app) or not yet confirmed.
    let fault: Promise<void> | null = null;
    let parts = 0;
    const driver = new UploadDriver({
      api: createApi(app.url, { token: userToken }),
      retry: throughRestarts,
      onEvent: (event) => {
        if (event.type === 'part-done' && ++parts === 3) fault = killAndRestart(app);
      },
    });
    const result = await driver.upload({ projectId: project.id, cycleId: cycle.id, files: folder.files });
    await fault;

    expect(fault).not.toBeNull();
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
      cleanups.push(() => rm(folder.root, { recursive: true, force: true }));
      const app = await appOn(dataDir, {
        DATABASE_URL: database.connectionString as string,
        EMBEDDED_S3_PORT: String(await freePort()),
      });
      cleanups.push(() => app.stop());
      await app.start();
      const { project, cycle } = await projectAndCycle(app, adminToken);

      const cli = startCli(
        [
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
        { home, env: { DATA_UPLOADER_SERVER: app.url, DATA_UPLOADER_TOKEN: userToken } },
      );
      let stderr = '';
      cli.stderr?.on('data', (chunk) => {
        stderr += chunk;
      });
      const exited = new Promise<number | null>((resolve) => cli.once('close', resolve));
      const events: Array<Record<string, unknown>> = [];
      // Killed once as the CLI turns to the API to begin and plan (its calls must wait for the app), and once
      // mid-transfer (its PUTs must wait for the embedded S3 server, which went down with the app).
      const faults: Array<Promise<void>> = [];
      let midTransfer = false;
      for await (const line of createInterface({ input: cli.stdout as NodeJS.ReadableStream })) {
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

describe('an answer lost after the app acted', () => {
  // The one fault stubbed rather than produced: a connection that drops exactly after the app committed a finish
  // and before its answer arrives (what a SIGKILL or a cut connection does only by chance).
  it('finish is retried, refused as already completed, and the driver answers the session that first attempt closed', async () => {
    const server = await startTestServer();
    cleanups.push(() => server.close());
    const company = await seedCompany(server.db, 'lost');
    const { project, cycle } = await projectWithCycle(server, company, 'lost-answers');
    const folder = await writeFolder([
      { relativePath: 'S1/20250601_000000.WAV', size: 2048 },
      { relativePath: 'S1/20250601_000100.WAV', size: 4096 },
    ]);
    cleanups.push(() => rm(folder.root, { recursive: true, force: true }));
    let lost = 0;
    const realFetch = globalThis.fetch;
    vi.stubGlobal('fetch', async (input: string | URL | Request, init?: RequestInit) => {
      const response = await realFetch(input, init);
      if (String(input).includes('/trpc/uploads.finish') && lost === 0) {
        lost++;
        await response.arrayBuffer();
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
        });
      }
      return response;
    });
    cleanups.push(async () => vi.unstubAllGlobals());
    const driver = new UploadDriver({
      api: createApi(server.url, { token: await tokenOf(server, company.users.user.id) }),
    });

    const result = await driver.upload({ projectId: project.id, cycleId: cycle.id, files: folder.files });

    expect(lost).toBe(1);
    expect(result.failed).toEqual([]);
    expect(result.session).toMatchObject({ status: 'completed', filesDone: 2, filesFailed: 0 });
  });
});
