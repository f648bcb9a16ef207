import { createHash } from 'node:crypto';
import { cycleKeyPrefix } from '@data-uploader/shared';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCompany, testPassword } from '../../server/test/harness.ts';
import { ledgerOf, MiB, projectWithCycle, writeFolder } from '../../server/test/uploadFixtures.ts';
import { dropFolder, launchBrowser, planStat, signInAs, startApp } from './browser.ts';

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

describe('checksums from the browser', () => {
  it('records the SHA-256 the page computed of each file, small, empty and multipart alike', async () => {
    const company = await seedCompany(server.db, 'hash');
    const { project, cycle } = await projectWithCycle(server, company, 'hash-bucket');
    const folder = await writeFolder([
      ...Array.from({ length: 30 }, (_, i) => ({ relativePath: `S4A03/20250909_0${10 + i}000.WAV`, size: 3000 + i })),
      { relativePath: 'S4A03/empty.txt', size: 0 },
      { relativePath: 'S4A03/20250909_120000.WAV', size: 7 * MiB + 1 },
      // Bigger than the small files' worker takes (fileHasher's 16 MiB), and three of the worker's 8 MiB reads.
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
    await page.close();
  });
});
