import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cycleKeyPrefix } from '@data-uploader/shared';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCompany, testPassword } from '../../server/test/harness.ts';
import { bucketListing, MiB, objectSha256, projectWithCycle, writeFolder } from '../../server/test/uploadFixtures.ts';
import { dropFolder, launchBrowser, planStat, screenshot, signInAs, startApp } from './browser.ts';

let server: Awaited<ReturnType<typeof startApp>>;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([
    startApp({ MULTIPART_THRESHOLD_MIB: '5', PART_SIZE_MIB: '5' }),
    launchBrowser(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('uploading a dropped folder', () => {
  it('plans, sends small files and a multipart file, and shows the verified result; the bucket holds the bytes', async () => {
    const company = await seedCompany(server.db, 'drop');
    const { project, cycle } = await projectWithCycle(server, company, 'drop-bucket');
    const folder = await writeFolder([
      { relativePath: '950349/20250909_092000.WAV', size: 40_000 },
      { relativePath: '950349/20250909_093000.WAV', size: 41_000 },
      { relativePath: '950349/deeper/20250909_094000.WAV', size: 1 },
      { relativePath: '950350/20250909_092000.WAV', size: 12 * MiB + 17 },
      { relativePath: '950350/empty.txt', size: 0 },
    ]);
    await writeFile(path.join(folder.root, '.DS_Store'), 'junk');

    const page = await browser.newPage();
    await signInAs(page, server.url, company.users.user.username, testPassword);
    await page.goto(`${server.url}/projects/${project.id}/cycles/${cycle.id}/upload`);
    await dropFolder(page, '.uppy-Dashboard-inner', folder.root);

    await expect.poll(() => planStat(page, 'New')).toBe('5');
    expect(await planStat(page, 'System files left out')).toBe('1');
    const sensorRow = page.getByRole('table', { name: 'Per sensor folder' }).getByRole('row', { name: /^950349/ });
    await expect.poll(() => sensorRow.textContent()).toContain('2025-09-09 09:20 – 2025-09-09 09:40');
    await screenshot(page, 'upload-plan');
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByText('Upload complete and verified').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('result').textContent()).toMatch(
      /^5 files .* verified in the bucket, 0 already there, 0 failed/,
    );
    await screenshot(page, 'upload-done');

    const prefix = cycleKeyPrefix(project.keyPrefix, cycle.s3Prefix);
    const listing = await bucketListing(server, project, prefix);
    expect(listing.size).toBe(5);
    for (const file of folder.files) {
      const key = prefix + file.relativePath;
      expect(listing.get(key)).toBe(file.size);
      expect(await objectSha256(server, project, key)).toBe(file.sha256);
    }
    await page.close();
  });
});
