import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApi } from '@data-uploader/scripts/driver/api';
import { defaultRetryPolicy } from '@data-uploader/scripts/driver/transfer';
import { type DriverEvent, UploadDriver } from '@data-uploader/scripts/driver/uploadDriver';
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, cliFinished, startCli } from './cliProcess.ts';
import {
  type FaultCounts,
  type FaultProxy,
  type FaultRates,
  noFaults,
  requestIdentity,
  startFaultProxy,
} from './faultProxy.ts';
import { seedCompany, startTestServer, type TestServer } from './harness.ts';
import type { ProxiedRequest } from './s3Proxy.ts';
import {
  bucketListing,
  bucketState,
  ledgerOf,
  MiB,
  objectSha256,
  projectWithCycle,
  sessionRow,
  tokenOf,
  writeFolder,
} from './uploadFixtures.ts';

/** Issue 9's mix: 10% 5xx (half of them SlowDown), 2% connection resets, 1% corrupted bodies, and some delays. */
const faults: FaultRates = {
  internalError: 0.05,
  slowDown: 0.05,
  reset: 0.02,
  corrupt: 0.01,
  delay: 0.02,
  delayMs: 150,
};

const smallFiles = 2000;

let proxy: FaultProxy;
let server: TestServer;
let token: string;
let source: Awaited<ReturnType<typeof writeFolder>>;
let home: string;
let company: Awaited<ReturnType<typeof seedCompany>>;

beforeAll(async () => {
  proxy = await startFaultProxy({ seed: 'issue-9', rates: faults });
  // Multipart from 5 MiB, so the two multipart files have several parts without writing hundreds of MiB.
  server = await startTestServer({
    MULTIPART_THRESHOLD_MIB: '5',
    PART_SIZE_MIB: '5',
    S3_PUBLIC_ENDPOINT: proxy.endpoint,
  });
  proxy.forwardTo(server.storage.embedded?.endpoint as string);
  company = await seedCompany(server.db, 'faults');
  token = await tokenOf(server, company.users.user.id);
  source = await writeFolder([
    ...Array.from({ length: smallFiles }, (_, i) => ({
      relativePath: `S4A${String(i % 8).padStart(2, '0')}/20250909_${String(i).padStart(6, '0')}.WAV`,
      size: 1000 + ((i * 37) % 3000),
    })),
    { relativePath: 'CAM01/20250909_120000.MP4', size: 11 * MiB },
    { relativePath: 'CAM02/20250909_130000.MP4', size: 6 * MiB },
  ]);
  home = await mkdtemp(path.join(tmpdir(), 'du-faults-home-'));
});

afterAll(async () => {
  await server?.close();
  await proxy?.close();
  await Promise.all([source?.root, home].filter(Boolean).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** The CLI in its own process, as an unattended job runs it: token and server in the environment, JSON events out. */
function runCli(args: string[]): Promise<CliRun> {
  return cliFinished(startCli(args, { home, env: { DATA_UPLOADER_SERVER: server.url, DATA_UPLOADER_TOKEN: token } }));
}

function countsSince(before: FaultCounts): FaultCounts {
  return Object.fromEntries(
    Object.entries(proxy.counts).map(([kind, count]) => [kind, count - before[kind as keyof FaultCounts]]),
  ) as FaultCounts;
}

/**
 * Every failed attempt at a request followed by another attempt at it, with the least wait the retry policy
 * allows before that attempt (exponential: it doubles with each failure in a row) and the wait the proxy saw.
 */
function retryGaps(log: ProxiedRequest[]) {
  const byIdentity = new Map<string, ProxiedRequest[]>();
  for (const request of log) {
    const identity = requestIdentity(request);
    const attempts = byIdentity.get(identity) ?? [];
    attempts.push(request);
    byIdentity.set(identity, attempts);
  }
  const gaps: Array<{ after: string; waited: number; least: number }> = [];
  for (const attempts of byIdentity.values()) {
    let failuresInARow = 0;
    for (const [index, attempt] of attempts.entries()) {
      const next = attempts[index + 1];
      const failed = attempt.status === null || attempt.status >= 500 || attempt.fault === 'corrupt';
      failuresInARow = failed ? failuresInARow + 1 : 0;
      if (!failed || !next) continue;
      gaps.push({
        after: attempt.fault === 'answer' ? String(attempt.status) : (attempt.fault ?? 'network'),
        waited: next.arrivedAt - (attempt.answeredAt ?? attempt.arrivedAt),
        least: defaultRetryPolicy.minTimeoutMs * 2 ** (failuresInARow - 1),
      });
    }
  }
  return gaps;
}

/** What a run under faults must leave: each file once, whole, in the bucket and the ledger alike, nothing open. */
async function expectEverythingArrived(
  place: Awaited<ReturnType<typeof projectWithCycle>>,
  sessionId: string,
  files = source.files,
) {
  const prefix = `${place.cycle.s3Prefix}/`;
  const ledger = await ledgerOf(server, place.cycle.id);
  expect(ledger).toHaveLength(files.length);
  expect(ledger.filter((row) => row.status !== 'completed' || row.error !== null || row.attempts !== 0)).toEqual([]);
  expect(new Set(ledger.map((row) => row.relativePath))).toEqual(new Set(files.map((f) => f.relativePath)));

  const listing = await bucketListing(server, place.project, prefix);
  expect([...listing].sort()).toEqual(ledger.map((row) => [row.s3Key, row.size]).sort());
  const state = await bucketState(server, place.project, prefix);
  expect(state.uploads).toEqual([]);

  const limit = pLimit(8);
  const differing = (
    await Promise.all(
      files.map((file) =>
        limit(async () =>
          (await objectSha256(server, place.project, `${prefix}${file.relativePath}`)) === file.sha256
            ? null
            : file.relativePath,
        ),
      ),
    )
  ).filter((name) => name !== null);
  expect(differing).toEqual([]);

  const session = await sessionRow(server, sessionId);
  expect(session).toMatchObject({
    status: 'completed',
    filesTotal: files.length,
    filesDone: files.length,
    bytesDone: files.reduce((sum, file) => sum + file.size, 0),
    filesFailed: 0,
    filesSkipped: 0,
  });
}

/** Faults were really met, and every retry after one waited at least what the backoff asks. */
function expectFaultsMetAndBackedOff(injected: FaultCounts, log: ProxiedRequest[], who: string) {
  console.info(`${who}: faults injected over ${log.length} S3 requests: ${JSON.stringify(injected)}`);
  expect(injected.internalError).toBeGreaterThan(50);
  expect(injected.slowDown).toBeGreaterThan(50);
  expect(injected.resetRequest).toBeGreaterThan(5);
  expect(injected.resetResponse).toBeGreaterThan(5);
  expect(injected.corrupt).toBeGreaterThan(5);
  expect(injected.delay).toBeGreaterThan(5);
  // S3 itself refused every damaged body (400 BadDigest), by the Content-MD5 signed into its URL.
  expect(log.filter((request) => request.fault === 'corrupt' && request.status !== 400)).toEqual([]);
  const gaps = retryGaps(log);
  expect(gaps.filter((gap) => gap.after === '503').length).toBeGreaterThan(50);
  expect(gaps.some((gap) => gap.least > defaultRetryPolicy.minTimeoutMs)).toBe(true);
  // Timers may fire a millisecond early by rounding; nothing else may come sooner than the policy allows.
  expect(gaps.filter((gap) => gap.waited < gap.least - 2)).toEqual([]);
}

describe('transfers through a faulty network to S3', { timeout: 240_000 }, () => {
  it('the protocol driver moves 2,000 small files and two multipart files, each exactly once and whole', async () => {
    const place = await projectWithCycle(server, company, 'faults-driver');
    const before = { ...proxy.counts };
    const seen = proxy.requests.length;
    const events: DriverEvent[] = [];
    const driver = new UploadDriver({
      api: createApi(server.url, { token }),
      concurrency: 16,
      onEvent: (event) => events.push(event),
    });
    const result = await driver.upload({ projectId: place.project.id, cycleId: place.cycle.id, files: source.files });

    expect(result.failed).toEqual([]);
    expect(events.filter((event) => event.type === 'file-failed')).toEqual([]);
    const done = events.flatMap((event) => (event.type === 'file-done' ? [event.key] : []));
    expect(done).toHaveLength(source.files.length);
    expect(new Set(done).size).toBe(source.files.length);
    expect(events.filter((event) => event.type === 'retry').length).toBeGreaterThan(100);
    expectFaultsMetAndBackedOff(countsSince(before), proxy.requests.slice(seen), 'driver');
    await expectEverythingArrived(place, result.sessionId);
  });

  it('the CLI moves 2,000 small files and two multipart files, each exactly once and whole, and exits 0', async () => {
    const place = await projectWithCycle(server, company, 'faults-cli');
    const before = { ...proxy.counts };
    const seen = proxy.requests.length;
    const run = await runCli([
      'upload',
      source.root,
      '--project',
      place.project.name,
      '--cycle',
      place.cycle.name,
      '--json',
    ]);
    const events = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; [field: string]: unknown });
    expect(events.filter((event) => event.type === 'file-failed')).toEqual([]);
    const finished = events.find((event) => event.type === 'finished');
    expect(finished).toMatchObject({ ok: true, failed: [] });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expectFaultsMetAndBackedOff(countsSince(before), proxy.requests.slice(seen), 'cli');
    await expectEverythingArrived(place, finished?.sessionId as string);
  });

  it('counts a multipart file once when the answer to its CompleteMultipartUpload is lost', async () => {
    const place = await projectWithCycle(server, company, 'faults-complete');
    const folder = await writeFolder([
      { relativePath: 'CAM03/20250910_080000.MP4', size: 6 * MiB },
      { relativePath: 'S4A01/20250910_080000.WAV', size: 2000 },
    ]);
    const seen = proxy.requests.length;
    proxy.setRates(noFaults);
    const isComplete = (request: { method: string; url: string }) =>
      request.method === 'POST' && request.url.includes('uploadId=');
    // S3 completes the upload, the client never hears it, and the retry meets an upload S3 has forgotten.
    proxy.script((request, attempt) => (isComplete(request) && attempt === 0 ? { kind: 'reset-response' } : null));
    const events: DriverEvent[] = [];
    try {
      const driver = new UploadDriver({
        api: createApi(server.url, { token }),
        onEvent: (event) => events.push(event),
      });
      const result = await driver.upload({ projectId: place.project.id, cycleId: place.cycle.id, files: folder.files });
      expect(result.failed).toEqual([]);
      const completes = proxy.requests.slice(seen).filter(isComplete);
      expect(completes.map((request) => [request.fault, request.status])).toEqual([
        ['reset-response', null],
        [null, 404],
      ]);
      const done = events.flatMap((event) => (event.type === 'file-done' ? [event.key] : []));
      expect(done.sort()).toEqual(folder.files.map((file) => `${place.cycle.s3Prefix}/${file.relativePath}`).sort());
      await expectEverythingArrived(place, result.sessionId, folder.files);
    } finally {
      proxy.script(null);
      proxy.setRates(faults);
      await rm(folder.root, { recursive: true, force: true });
    }
  });

  it('sends again a body damaged on its way, which S3 refuses by its signed Content-MD5', async () => {
    const place = await projectWithCycle(server, company, 'faults-corrupt');
    const folder = await writeFolder([
      { relativePath: 'CAM04/20250911_080000.MP4', size: 6 * MiB },
      { relativePath: 'S4A01/20250911_080000.WAV', size: 3000 },
    ]);
    const seen = proxy.requests.length;
    proxy.setRates(noFaults);
    // The first attempt at every PUT (the small file, each part) arrives with one byte flipped.
    proxy.script((request, attempt) =>
      request.method === 'PUT' && attempt === 0 ? { kind: 'corrupt', offset: 1234 } : null,
    );
    try {
      const driver = new UploadDriver({ api: createApi(server.url, { token }) });
      const result = await driver.upload({ projectId: place.project.id, cycleId: place.cycle.id, files: folder.files });
      expect(result.failed).toEqual([]);
      await expectEverythingArrived(place, result.sessionId, folder.files);
      const attemptsByPut = new Map<string, Array<[string | null, number | null]>>();
      for (const request of proxy.requests.slice(seen).filter((r) => r.method === 'PUT')) {
        const identity = requestIdentity(request);
        attemptsByPut.set(identity, [...(attemptsByPut.get(identity) ?? []), [request.fault, request.status]]);
      }
      // The small file and the two parts: each refused once, then stored.
      expect([...attemptsByPut.values()]).toEqual(
        Array.from({ length: 3 }, () => [
          ['corrupt', 400],
          [null, 200],
        ]),
      );
    } finally {
      proxy.script(null);
      proxy.setRates(faults);
      await rm(folder.root, { recursive: true, force: true });
    }
  });
});
