import { cycleKeyPrefix } from '@data-uploader/shared';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCompany, testPassword } from '../../server/test/harness.ts';
import { type S3Proxy, startS3Proxy } from '../../server/test/s3Proxy.ts';
import {
  bucketListing,
  ledgerOf,
  MiB,
  objectSha256,
  projectWithCycle,
  writeFolder,
} from '../../server/test/uploadFixtures.ts';
import { dropFolder, launchBrowser, planStat, screenshot, signInAs, startApp } from './browser.ts';

let proxy: S3Proxy;
let server: Awaited<ReturnType<typeof startApp>>;
let browser: Browser;

beforeAll(async () => {
  proxy = await startS3Proxy();
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

const partNumberOf = (url: string) => Number(new URL(url, 'http://x').searchParams.get('partNumber') ?? 0);
/** A whole file sent as an S3 POST Object form: a POST to the bucket itself, no key or query in the URL. */
const isFormUpload = (request: { method: string; url: string }) =>
  request.method === 'POST' && /^\/[^/?]+$/.test(request.url);

describe('closing the browser in the middle of an upload', () => {
  it('continues in a new browser: finished files are not sent again, the multipart upload goes on from its parts', async () => {
    const company = await seedCompany(server.db, 'resume');
    const { project, cycle } = await projectWithCycle(server, company, 'resume-bucket');
    const small = Array.from({ length: 20 }, (_, i) => ({
      relativePath: `S4A01/20250909_0${String(i).padStart(2, '0')}000.WAV`,
      size: 10_000 + i,
    }));
    const big = { relativePath: 'S4A02/20250909_120000.WAV', size: 26 * MiB + 5 };
    const folder = await writeFolder([...small, big]);
    const uploadPage = `${server.url}/projects/${project.id}/cycles/${cycle.id}/upload`;

    // The network stalls after the big file's second part; the person closes the browser meanwhile.
    proxy.hold(({ method, url }) => method === 'PUT' && partNumberOf(url) >= 3);
    const first = await browser.newContext();
    const page = await first.newPage();
    await signInAs(page, server.url, company.users.user.username, testPassword);
    await page.goto(uploadPage);
    await dropFolder(page, '.uppy-Dashboard-inner', folder.root);
    await page.getByRole('button', { name: 'Upload' }).click();
    const partsDone = () =>
      proxy.requests.filter((r) => r.method === 'PUT' && partNumberOf(r.url) > 0 && r.status === 200).length;
    await expect.poll(partsDone, { timeout: 30_000 }).toBe(2);
    const completedSmall = async () =>
      (await ledgerOf(server, cycle.id)).filter((row) => row.status === 'completed').length;
    await expect.poll(completedSmall, { timeout: 30_000 }).toBe(small.length);
    // The small files went as forms, which need no preflight; the big file's requests each had one.
    const forms = proxy.requests.filter(isFormUpload);
    expect(forms.map((r) => r.status)).toEqual(small.map(() => 204));
    expect(proxy.requests.filter((r) => r.method === 'PUT' && partNumberOf(r.url) === 0)).toEqual([]);
    const preflights = proxy.requests.filter((r) => r.method === 'OPTIONS').length;
    expect(preflights).toBeLessThan(small.length);
    await screenshot(page, 'upload-progress');
    await first.close();

    proxy.hold(null);
    const seenBefore = proxy.requests.length;
    const second = await browser.newContext();
    const again = await second.newPage();
    await signInAs(again, server.url, company.users.user.username, testPassword);
    await again.goto(uploadPage);
    await expect.poll(() => again.getByTestId('interrupted').textContent()).toMatch(/^20 of 21 files done/);
    await screenshot(again, 'upload-interrupted');
    await dropFolder(again, '.uppy-Dashboard-inner', folder.root);
    await expect.poll(() => planStat(again, 'Resumable')).toBe('1');
    expect(await planStat(again, 'Already uploaded (skipped)')).toBe('20');
    await again.getByRole('button', { name: 'Upload' }).click();
    await again.getByText('Upload complete and verified').waitFor({ timeout: 60_000 });

    const afterwards = proxy.requests.slice(seenBefore);
    expect(afterwards.filter(isFormUpload)).toEqual([]);
    const puts = afterwards.filter((r) => r.method === 'PUT');
    expect(puts.map((r) => partNumberOf(r.url)).sort()).toEqual([3, 4, 5, 6]);
    expect(puts.reduce((sum, r) => sum + r.bodyBytes, 0)).toBe(big.size - 2 * 5 * MiB);
    expect(afterwards.some((r) => r.method === 'GET' && r.url.includes('uploadId='))).toBe(true);

    const prefix = cycleKeyPrefix(project.keyPrefix, cycle.s3Prefix);
    const listing = await bucketListing(server, project, prefix);
    expect(listing.size).toBe(21);
    for (const file of folder.files)
      expect(await objectSha256(server, project, prefix + file.relativePath)).toBe(file.sha256);
    await second.close();
  });
});
