import { cycleKeyPrefix } from '@data-uploader/shared';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SeededCompany, seedCompany, testPassword } from '../../server/test/harness.ts';
import { type Fault, startS3Proxy } from '../../server/test/s3Proxy.ts';
import {
  bucketListing,
  ledgerOf,
  MiB,
  objectSha256,
  projectWithCycle,
  writeFolder,
} from '../../server/test/uploadFixtures.ts';
import { dropFolder, launchBrowser, planStat, screenshot, signInAs, startApp } from './browser.ts';

/**
 * The shared test proxy with faults the test switches on and off: 503 SlowDown (as S3 answers under load) for
 * the requests a predicate picks, and a slow link so that an upload is still under way when a fault starts.
 */
async function startSwitchableProxy() {
  let failing: ((request: { method: string; url: string }) => boolean) | null = null;
  let delayMs = 0;
  const slowDown: Fault = {
    kind: 'answer',
    status: 503,
    code: 'SlowDown',
    message: 'Please reduce your request rate.',
  };
  const proxy = await startS3Proxy({
    faultFor: (request) => (failing?.(request) ? slowDown : delayMs > 0 ? { kind: 'delay', ms: delayMs } : null),
  });
  return Object.assign(proxy, {
    failWhen(predicate: typeof failing) {
      failing = predicate;
    },
    delay(ms: number) {
      delayMs = ms;
    },
  });
}

let proxy: Awaited<ReturnType<typeof startSwitchableProxy>>;
let server: Awaited<ReturnType<typeof startApp>>;
let browser: Browser;

beforeAll(async () => {
  proxy = await startSwitchableProxy();
  [server, browser] = await Promise.all([
    startApp({ MULTIPART_THRESHOLD_MIB: '5', PART_SIZE_MIB: '5', S3_PUBLIC_ENDPOINT: proxy.endpoint }),
    launchBrowser(),
  ]);
  if (!server.storage.embedded) throw new Error('the test needs the embedded S3 server');
  proxy.forwardTo(server.storage.embedded.endpoint);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await proxy?.close();
});

/** 120 recordings of a sensor and one file big enough to go in parts: enough that a fault lands mid-upload. */
function fieldFolder(sensor: string) {
  return writeFolder([
    ...Array.from({ length: 120 }, (_, i) => ({
      relativePath: `${sensor}/20250909_${String(100000 + i * 100).padStart(6, '0')}.WAV`,
      size: 20_000 + i,
    })),
    { relativePath: `${sensor}-big/20250909_120000.WAV`, size: 12 * MiB + 3 },
  ]);
}

/** Signs in and drops the folder on a new cycle's upload page, at `appUrl` (the app, or a proxy in front). */
async function startUpload(company: SeededCompany, bucket: string, sensor: string, appUrl = server.url) {
  const { project, cycle } = await projectWithCycle(server, company, bucket);
  const folder = await fieldFolder(sensor);
  const page = await (await browser.newContext()).newPage();
  await signInAs(page, appUrl, company.users.user.username, testPassword);
  await page.goto(`${appUrl}/projects/${project.id}/cycles/${cycle.id}/upload`);
  await dropFolder(page, '.uppy-Dashboard-inner', folder.root);
  await expect.poll(() => planStat(page, 'New')).toBe(String(folder.files.length));
  await page.getByRole('button', { name: 'Upload' }).click();
  return { project, cycle, folder, page };
}

/** The run ends verified, every file in the bucket with its bytes and completed in the ledger, none failed. */
async function expectAllStored(page: Page, upload: Awaited<ReturnType<typeof startUpload>>) {
  const { project, cycle, folder } = upload;
  // A failed file ends the wait too, so the test says so at once instead of after the timeout.
  const failed = page.getByText(/\d+ files? failed/);
  await page.getByText('Upload complete and verified').or(failed).first().waitFor({ timeout: 180_000 });
  expect(await failed.allTextContents()).toEqual([]);
  expect(await page.getByTestId('result').textContent()).toMatch(
    new RegExp(`^${folder.files.length} files .* verified in the bucket, 0 already there, 0 failed`),
  );
  const prefix = cycleKeyPrefix(project.keyPrefix, cycle.s3Prefix);
  const listing = await bucketListing(server, project, prefix);
  expect(listing.size).toBe(folder.files.length);
  for (const file of folder.files) {
    expect(listing.get(prefix + file.relativePath)).toBe(file.size);
    expect(await objectSha256(server, project, prefix + file.relativePath)).toBe(file.sha256);
  }
  const ledger = await ledgerOf(server, cycle.id);
  expect(ledger).toHaveLength(folder.files.length);
  expect(ledger.filter((row) => row.status !== 'completed')).toEqual([]);
}

/** Files and parts S3 took: PUTs of parts, and the small files' form uploads (a POST to the bucket itself). */
const objectPuts = (bucket: string) =>
  proxy.requests.filter(
    (r) =>
      (r.method === 'PUT' && r.status === 200 && r.url.startsWith(`/${bucket}/`)) ||
      (r.method === 'POST' && r.status === 204 && r.url === `/${bucket}`),
  ).length;
/** What carries a file's bytes: a PUT (a part) or a form upload. */
const sendsBytes = ({ method, url }: { method: string; url: string }) =>
  method === 'PUT' || (method === 'POST' && !url.includes('?'));

describe('the browser upload through network faults', () => {
  it('waits out 20 s offline mid-upload and completes by itself, nothing failed and nothing clicked', async () => {
    proxy.delay(150);
    const upload = await startUpload(await seedCompany(server.db, 'offline'), 'offline-bucket', 'S4A01');
    const { page } = upload;
    await expect.poll(() => objectPuts('offline-bucket'), { timeout: 60_000 }).toBeGreaterThanOrEqual(20);
    await page.context().setOffline(true);
    const notice = page.getByTestId('network');
    await expect.poll(() => notice.textContent(), { timeout: 30_000 }).toMatch(/^Offline — waiting for the network/);
    await screenshot(page, 'upload-offline');
    const putsWhenOffline = objectPuts('offline-bucket');
    // What a person sees in a 20 s outage: the notice, no failure; the requests it tries meanwhile do not arrive.
    await page.waitForTimeout(20_000);
    expect(await page.getByText(/files failed/).count()).toBe(0);
    expect(await notice.textContent()).toMatch(/^Offline/);
    await page.context().setOffline(false);
    proxy.delay(0);
    await expectAllStored(page, upload);
    expect(objectPuts('offline-bucket')).toBeGreaterThan(putsWhenOffline);
    await screenshot(page, 'upload-after-offline');
    await page.context().close();
  }, 300_000);

  it('shows "Retrying" while S3 answers 503 SlowDown, not a failure, and completes once it answers again', async () => {
    proxy.delay(150);
    const upload = await startUpload(await seedCompany(server.db, 'slowdown'), 'slowdown-bucket', 'S4A02');
    const { page } = upload;
    await expect.poll(() => objectPuts('slowdown-bucket'), { timeout: 60_000 }).toBeGreaterThanOrEqual(20);
    proxy.failWhen(sendsBytes);
    const refused = () => proxy.requests.filter((r) => r.status === 503).length;
    const notice = page.getByTestId('network');
    await expect.poll(() => notice.textContent(), { timeout: 60_000 }).toMatch(/^Retrying — S3 returned 503/);
    // Long enough that Uppy's own quick retries are spent and the engine's backoff carries the files.
    await expect.poll(refused, { timeout: 60_000 }).toBeGreaterThanOrEqual(60);
    await screenshot(page, 'upload-retrying');
    expect(await notice.textContent()).toMatch(/Nothing has failed/);
    expect(await page.getByText(/files failed/).count()).toBe(0);
    proxy.failWhen(null);
    proxy.delay(0);
    await expectAllStored(page, upload);
    expect(await page.getByTestId('network').count()).toBe(0);
    await page.context().close();
  }, 300_000);

  it('shows "Retrying" while the app itself answers 503, and completes once it answers again', async () => {
    // A second proxy, in front of the app: the page is loaded through it, so its API calls can be refused.
    const gateway = await startSwitchableProxy();
    gateway.forwardTo(server.url);
    try {
      proxy.delay(150);
      // The app starts refusing the moment S3 has created the big file's multipart upload, before its first part
      // is signed: the ledger does not know that upload yet, and the run must still continue it afterwards.
      proxy.failWhen(({ method, url }) => {
        if (method === 'POST' && /[?&]uploads(=|&|$)/.test(url))
          gateway.failWhen((api) => api.url.startsWith('/trpc/'));
        return false;
      });
      const company = await seedCompany(server.db, 'gateway');
      const upload = await startUpload(company, 'gateway-bucket', 'S4A05', gateway.endpoint);
      const { page } = upload;
      const notice = page.getByTestId('network');
      await expect
        .poll(() => notice.textContent(), { timeout: 60_000 })
        .toMatch(/^Retrying — no usable answer from the server/);
      await expect
        .poll(() => gateway.requests.filter((r) => r.status === 503).length, { timeout: 60_000 })
        .toBeGreaterThanOrEqual(5);
      await screenshot(page, 'upload-retrying-app');
      expect(await page.getByText(/files failed/).count()).toBe(0);
      expect(objectPuts('gateway-bucket')).toBeGreaterThan(0);
      gateway.failWhen(null);
      proxy.failWhen(null);
      proxy.delay(0);
      await expectAllStored(page, upload);
      await page.context().close();
    } finally {
      await gateway.close();
    }
  }, 300_000);
});
