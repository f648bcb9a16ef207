import { rm } from 'node:fs/promises';
import { sql, sqlRows } from '@data-uploader/drizzle';
import { createApi } from '@data-uploader/scripts/driver/api';
import { UploadDriver } from '@data-uploader/scripts/driver/uploadDriver';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { seedCompany, startTestServer, type TestServer } from './harness.ts';
import {
  bucketListing,
  ledgerOf,
  MiB,
  objectSha256,
  projectWithCycle,
  tokenOf,
  writeFolder,
} from './uploadFixtures.ts';

/*
 * PostgreSQL connections cut under the app mid-upload (pg_terminate_backend from another connection, as a
 * failover or an administrator would): the app stays up, the calls that hit a cut answer 5xx and are retried,
 * and nothing is lost. PGlite runs in the app's own process and has no connections to cut.
 */

const terminateOthers = `select count(*)::int as cut from (
  select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()
) terminated where pg_terminate_backend`;

describe.runIf(inject('templateDatabaseUrl'))('database connections cut mid-upload', { timeout: 120_000 }, () => {
  let server: TestServer;
  let folderRoot = '';

  beforeAll(async () => {
    server = await startTestServer({ MULTIPART_THRESHOLD_MIB: '5', PART_SIZE_MIB: '5' });
  });
  afterAll(async () => {
    vi.unstubAllGlobals();
    await server?.close();
    if (folderRoot) await rm(folderRoot, { recursive: true, force: true });
  });

  it('fails a transaction whose connection is cut between two statements, without taking the process down', async () => {
    const cutter = new pg.Client({ connectionString: server.database.connectionString });
    await cutter.connect();
    try {
      const transaction = server.db.transaction(async (tx) => {
        const [own] = await sqlRows<{ pid: number }>(tx, sql`select pg_backend_pid() as pid`);
        await cutter.query('select pg_terminate_backend($1)', [own?.pid]);
        // The client holds no query now: the cut reaches it as an 'error' event, which must find a listener.
        await new Promise((resolve) => setTimeout(resolve, 500));
        await tx.execute(sql`select 1`);
      });
      await expect(transaction).rejects.toThrow();
      expect(await sqlRows(server.db, sql`select 1 as one`)).toEqual([{ one: 1 }]);
    } finally {
      await cutter.end();
    }
  });

  it('keeps the app up, retries what hit a cut, and loses nothing', async () => {
    const company = await seedCompany(server.db, 'cuts');
    const { project, cycle } = await projectWithCycle(server, company, 'cuts-bucket');
    const spec = Array.from({ length: 300 }, (_, i) => ({
      relativePath: `S${i % 4}/20250601_${String(i).padStart(6, '0')}.WAV`,
      size: 1024 + ((i * 7919) % 16_384),
    }));
    spec.push({ relativePath: 'CAM1/clip.MP4', size: 12 * MiB });
    const folder = await writeFolder(spec);
    folderRoot = folder.root;

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
    const driver = new UploadDriver({
      api: createApi(server.url, { token: await tokenOf(server, company.users.user.id) }),
      concurrency: 4,
    });

    const cutter = new pg.Client({ connectionString: server.database.connectionString });
    await cutter.connect();
    const cuts: number[] = [];
    let uploading = true;
    const cutting = (async () => {
      while (uploading) {
        const { rows } = await cutter.query<{ cut: number }>(terminateOthers);
        cuts.push(rows[0]?.cut ?? 0);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    })();
    const result = await driver
      .upload({ projectId: project.id, cycleId: cycle.id, files: folder.files })
      .finally(async () => {
        uploading = false;
        await cutting;
        await cutter.end();
      });

    expect(cuts.filter((cut) => cut > 0).length).toBeGreaterThanOrEqual(3);
    expect(serverErrors).toBeGreaterThan(0);
    expect(result.failed).toEqual([]);
    expect(result.session).toMatchObject({ status: 'completed', filesDone: folder.files.length, filesFailed: 0 });
    const health = await realFetch(`${server.url}/healthz`);
    expect(await health.json()).toEqual({ ok: true, db: 'ok', s3: 'ok' });

    const prefix = `${cycle.s3Prefix}/`;
    const listing = await bucketListing(server, project, prefix);
    expect(listing).toEqual(new Map(folder.files.map((file) => [`${prefix}${file.relativePath}`, file.size])));
    const ledger = await ledgerOf(server, cycle.id);
    expect(ledger.filter((row) => row.status !== 'completed')).toEqual([]);
    expect(new Map(ledger.map((row) => [row.s3Key, row.size]))).toEqual(listing);
    for (const file of folder.files) {
      expect(await objectSha256(server, project, `${prefix}${file.relativePath}`)).toBe(file.sha256);
    }
  });
});
