import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql, sqlRows } from '@data-uploader/drizzle';
import { createApi } from '@data-uploader/scripts/driver/api';
import { UploadDriver } from '@data-uploader/scripts/driver/uploadDriver';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from './database.ts';
import {
  appOn,
  bucketContents,
  expectEverythingStored,
  fieldFolder,
  ledgerOf,
  projectAndCycle,
  seed,
} from './faultFixtures.ts';

/*
 * PostgreSQL connections cut under the app mid-upload (pg_terminate_backend from another connection, as a
 * failover or an administrator would): the app stays up, the calls that hit a cut answer 5xx and are retried,
 * and nothing is lost. PGlite runs in the app's own process and has no connections to cut.
 */

const terminateOthers = `select count(*)::int as cut from (
  select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()
) terminated where pg_terminate_backend`;

describe.runIf(inject('templateDatabaseUrl'))('database connections cut', { timeout: 120_000 }, () => {
  let database: TestDatabase;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    vi.unstubAllGlobals();
    for (const cleanup of cleanups.reverse()) await cleanup();
    await database?.close();
  });

  const cutter = async () => {
    const client = new pg.Client({ connectionString: database.connectionString });
    await client.connect();
    return client;
  };

  it('inside a transaction, between two statements: fails that transaction without taking the process down', async () => {
    const other = await cutter();
    try {
      const transaction = database.db.transaction(async (tx) => {
        const [own] = await sqlRows<{ pid: number }>(tx, sql`select pg_backend_pid() as pid`);
        await other.query('select pg_terminate_backend($1)', [own?.pid]);
        // The client holds no query now: the cut reaches it as an 'error' event, which must find a listener.
        await new Promise((resolve) => setTimeout(resolve, 500));
        await tx.execute(sql`select 1`);
      });
      await expect(transaction).rejects.toThrow();
      expect(await sqlRows(database.db, sql`select 1 as one`)).toEqual([{ one: 1 }]);
    } finally {
      await other.end();
    }
  });

  it('under the app in its own process, mid-upload: it stays up, retries what hit a cut, and loses nothing', async () => {
    const { adminToken, userToken } = await seed(database.db);
    const dataDir = await mkdtemp(path.join(tmpdir(), 'du-cuts-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const folder = await fieldFolder();
    cleanups.push(() => rm(folder.root, { recursive: true, force: true }));
    const app = await appOn(dataDir, { DATABASE_URL: database.connectionString as string });
    cleanups.push(() => app.stop());
    await app.start();
    const { project, cycle } = await projectAndCycle(app, adminToken);

    // Counts the API answers that were server errors, to show the cuts reached requests and not only idle ones.
    let serverErrors = 0;
    const realFetch = globalThis.fetch;
    vi.stubGlobal('fetch', async (input: string | URL | Request, init?: RequestInit) => {
      const response = await realFetch(input, init);
      if (String(input instanceof Request ? input.url : input).includes('/trpc/') && response.status >= 500) {
        serverErrors++;
      }
      return response;
    });
    const driver = new UploadDriver({ api: createApi(app.url, { token: userToken }), concurrency: 4 });

    const other = await cutter();
    const cuts: number[] = [];
    let uploading = true;
    const cutting = (async () => {
      while (uploading) {
        const { rows } = await other.query<{ cut: number }>(terminateOthers);
        cuts.push(rows[0]?.cut ?? 0);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    })();
    const result = await driver
      .upload({ projectId: project.id, cycleId: cycle.id, files: folder.files })
      .finally(async () => {
        uploading = false;
        await cutting;
        await other.end();
      });

    expect(cuts.filter((cut) => cut > 0).length).toBeGreaterThanOrEqual(3);
    expect(serverErrors).toBeGreaterThan(0);
    expect(app.running).toBe(true);
    expect(result.failed).toEqual([]);
    expect(result.session).toMatchObject({ status: 'completed', filesDone: folder.files.length, filesFailed: 0 });
    const health = await realFetch(`${app.url}/healthz`);
    expect(await health.json()).toEqual({ ok: true, db: 'ok', s3: 'ok' });
    const bucket = await bucketContents(app.s3Port, project.bucket, `${cycle.s3Prefix}/`);
    expectEverythingStored(folder, cycle.s3Prefix, bucket, await ledgerOf(database.db, cycle.id));
  });
});
