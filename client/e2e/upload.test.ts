import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cycleKeyPrefix } from '@data-uploader/shared';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCompany, testPassword } from '../../server/test/harness.ts';
import { bucketListing, MiB, objectSha256, projectWithCycle, writeFolder } from '../../server/test/uploadFixtures.ts';
import {
  chooseFiles,
  chooseFolder,
  dropFolder,
  launchBrowser,
  planStat,
  screenshot,
  signInAs,
  startApp,
} from './browser.ts';

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

/** A person of a new company on the upload page of a new project's first cycle. */
async function openUploadPage(companyName: string, bucket: string) {
  const company = await seedCompany(server.db, companyName);
  const { project, cycle } = await projectWithCycle(server, company, bucket);
  const page = await browser.newPage();
  await signInAs(page, server.url, company.users.user.username, testPassword);
  await page.goto(`${server.url}/projects/${project.id}/cycles/${cycle.id}/upload`);
  return { project, cycle, page };
}

describe('uploading a dropped folder', () => {
  it('plans, sends small files and a multipart file, and shows the verified result; the bucket holds the bytes', async () => {
    const { project, cycle, page } = await openUploadPage('drop', 'drop-bucket');
    const folder = await writeFolder([
      { relativePath: '950349/20250909_092000.WAV', size: 40_000 },
      { relativePath: '950349/20250909_093000.WAV', size: 41_000 },
      { relativePath: '950349/deeper/20250909_094000.WAV', size: 1 },
      { relativePath: '950350/20250909_092000.WAV', size: 12 * MiB + 17 },
      { relativePath: '950350/empty.txt', size: 0 },
    ]);
    await writeFile(path.join(folder.root, '.DS_Store'), 'junk');

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

  it('uploads files chosen with "browse files" under their own names', async () => {
    const { project, cycle, page } = await openUploadPage('files', 'files-bucket');
    const folder = await writeFolder([
      { relativePath: '950352/20250909_092000.WAV', size: 2000 },
      { relativePath: '950352/20250909_093000.WAV', size: 2001 },
    ]);
    await chooseFiles(
      page,
      folder.files.map((file) => file.absolutePath),
    );
    await expect.poll(() => planStat(page, 'New')).toBe('2');
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByText('Upload complete and verified').waitFor({ timeout: 60_000 });
    const prefix = cycleKeyPrefix(project.keyPrefix, cycle.s3Prefix);
    const listing = await bucketListing(server, project, prefix);
    expect([...listing.keys()].sort()).toEqual([`${prefix}20250909_092000.WAV`, `${prefix}20250909_093000.WAV`]);
    for (const file of folder.files)
      expect(await objectSha256(server, project, prefix + path.basename(file.relativePath))).toBe(file.sha256);
    await page.close();
  });

  it('fails only the file changed after the drop, with the reason; the files read with it arrive', async () => {
    const { project, cycle, page } = await openUploadPage('changed', 'changed-bucket');
    // Small files are read from disk together: the changed one sits among others of its read.
    const folder = await writeFolder(
      Array.from({ length: 12 }, (_, i) => ({ relativePath: `950351/20250909_0${i + 10}000.WAV`, size: 3000 + i })),
    );
    await dropFolder(page, '.uppy-Dashboard-inner', folder.root);
    await expect.poll(() => planStat(page, 'New')).toBe('12');
    const changed = folder.files[5];
    if (!changed) throw new Error('the folder has no sixth file');
    await writeFile(path.join(folder.root, changed.relativePath), 'edited on the card since it was dropped');
    await page.getByRole('button', { name: 'Upload' }).click();

    const failures = page.getByRole('region', { name: '1 files failed' });
    await failures.waitFor({ timeout: 60_000 });
    expect(await failures.getByRole('listitem').allTextContents()).toEqual([
      `${changed.relativePath} — The file could not be read: it changed or was removed since it was chosen.`,
    ]);
    const prefix = cycleKeyPrefix(project.keyPrefix, cycle.s3Prefix);
    const others = folder.files.filter((file) => file !== changed);
    await expect.poll(async () => (await bucketListing(server, project, prefix)).size, { timeout: 30_000 }).toBe(11);
    for (const file of others)
      expect(await objectSha256(server, project, prefix + file.relativePath)).toBe(file.sha256);
    await page.close();
  });

  /** Names a card dump from any operating system can hold; each one either arrives under its own key or is named. */
  const hostileFolder = {
    accepted: [
      '950349/2025-09-09T09:20:00.WAV',
      '950349/~20250909_093000.WAV',
      '950349/CON.wav',
      '950349/shortcut.lnk',
      '950349/ends with a dot.',
      '950349/ends with a space ',
      '950349/a<b>|c?*"d.WAV',
      '950349/名前 🚀.wav',
      'AUX/20250909_094000.WAV',
    ],
    /** macOS writes names decomposed (NFD); the key holds the composed form. */
    decomposed: { relativePath: '950349/e\u0301te\u0301.wav', key: '950349/\u00e9t\u00e9.wav' },
    /** Each with how the page shows it (what cannot be seen, or would turn the line around, as an escape). */
    refused: [
      {
        name: '950349/new\nline.WAV',
        shown: '950349/new\\u000Aline.WAV',
        reason: 'contains a control character (U+000A)',
      },
      {
        name: '950349/tab\there.WAV',
        shown: '950349/tab\\u0009here.WAV',
        reason: 'contains a control character (U+0009)',
      },
      {
        name: '950349/a\u202Egpj.wav',
        shown: '950349/a\\u202Egpj.wav',
        reason: 'contains an invisible text-direction character (U+202E)',
      },
    ],
    system: [
      '.DS_Store',
      '950349/._20250909_092000.WAV',
      'Thumbs.db',
      'desktop.ini',
      'System Volume Information/x',
      '.Trashes/x',
    ],
  };

  for (const { how, slug, give } of [
    {
      how: 'dropped',
      slug: 'drop',
      give: (page: Page, root: string) => dropFolder(page, '.uppy-Dashboard-inner', root),
    },
    { how: 'chosen with "browse folders"', slug: 'browse', give: chooseFolder },
  ]) {
    it(`a card dump ${how}, with junk files and hostile names: every file arrives under its own key or is named with the reason`, async () => {
      const { project, cycle, page } = await openUploadPage(`hostile-${slug}`, `hostile-${slug}`);
      const { accepted, decomposed, refused, system } = hostileFolder;
      const folder = await writeFolder(
        [...accepted, decomposed.relativePath, ...refused.map(({ name }) => name), ...system].map(
          (relativePath, i) => ({ relativePath, size: 100 + i }),
        ),
      );
      await give(page, folder.root);

      await expect.poll(() => planStat(page, 'New')).toBe(String(accepted.length + 1));
      expect(await planStat(page, 'Invalid names')).toBe(String(refused.length));
      expect(await planStat(page, 'System files left out')).toBe(String(system.length));
      const problems = page.getByRole('group').filter({ hasText: 'files cannot be uploaded' });
      await problems.locator('summary').click();
      expect((await problems.getByRole('listitem').allTextContents()).sort()).toEqual(
        refused.map(({ shown, reason }) => `${shown} — ${reason}`).sort(),
      );
      await screenshot(page, `upload-hostile-names-${slug}`);
      await page.getByRole('button', { name: 'Upload' }).click();
      await page.getByText('Upload complete and verified').waitFor({ timeout: 60_000 });

      const prefix = cycleKeyPrefix(project.keyPrefix, cycle.s3Prefix);
      const listing = await bucketListing(server, project, prefix);
      const keyOf = (relativePath: string) =>
        prefix + (relativePath === decomposed.relativePath ? decomposed.key : relativePath);
      const sent = folder.files.filter((file) => [...accepted, decomposed.relativePath].includes(file.relativePath));
      expect([...listing.keys()].sort()).toEqual(sent.map((file) => keyOf(file.relativePath)).sort());
      for (const file of sent) expect(await objectSha256(server, project, keyOf(file.relativePath))).toBe(file.sha256);
      await page.close();
    });
  }
});
