import { createHash } from 'node:crypto';
import { cycleKeyPrefix } from '@data-uploader/shared';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCompany, testPassword } from '../../server/test/harness.ts';
import { ledgerOf, MiB, objectSha256, projectWithCycle, writeFolder } from '../../server/test/uploadFixtures.ts';
import { dropFolder, launchBrowser, planStat, signInAs, startApp } from './browser.ts';

let server: Awaited<ReturnType<typeof startApp>>;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([
    // Files up to 12 MiB go in one PUT from the page's worker (over 8 MiB: hashed in slices, sent by XHR).
    startApp({ MULTIPART_THRESHOLD_MIB: '12', PART_SIZE_MIB: '5' }),
    launchBrowser(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('checksums from the browser', () => {
  it('records the SHA-256 the page computed of each file: small, empty, a big single PUT and multipart', async () => {
    const company = await seedCompany(server.db, 'hash');
    const { project, cycle } = await projectWithCycle(server, company, 'hash-bucket');
    const folder = await writeFolder([
      ...Array.from({ length: 30 }, (_, i) => ({ relativePath: `S4A03/20250909_0${10 + i}000.WAV`, size: 3000 + i })),
      { relativePath: 'S4A03/empty.txt', size: 0 },
      { relativePath: 'S4A03/20250909_120000.WAV', size: 7 * MiB + 1 },
      // One PUT, but over the 8 MiB the worker reads whole: hashed in slices and sent from disk.
      { relativePath: 'S4A03/20250909_130000.WAV', size: 10 * MiB + 3 },
      // Multipart through Uppy, bigger than fileHasher's 16 MiB for small files, three of its 8 MiB reads.
      { relativePath: 'S4A04/20250909_120000.WAV', size: 19 * MiB + 5 },
    ]);

    const page = await browser.newPage();
    await signInAs(page, server.url, company.users.user.username, testPassword);
    await page.goto(`${server.url}/projects/${project.id}/cycles/${cycle.id}/upload`);
    await dropFolder(page, '.uppy-Dashboard-inner', folder.root);
    await expect.poll(() => planStat(page, 'New')).toBe(String(folder.files.length));
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByText('Upload complete and verified').waitFor({ timeout: 120_000 });

    const prefix = cycleKeyPrefix(project.keyPrefix, cycle.s3Prefix);
    const checksums = new Map((await ledgerOf(server, cycle.id)).map((row) => [row.s3Key, row.checksum]));
    expect(checksums.size).toBe(folder.files.length);
    for (const file of folder.files) expect(checksums.get(prefix + file.relativePath)).toBe(file.sha256);
    expect(checksums.get(`${prefix}S4A03/empty.txt`)).toBe(createHash('sha256').digest('hex'));
    const big = folder.files.find((file) => file.relativePath === 'S4A03/20250909_130000.WAV');
    expect(await objectSha256(server, project, `${prefix}S4A03/20250909_130000.WAV`)).toBe(big?.sha256);
    await page.close();
  });
});
