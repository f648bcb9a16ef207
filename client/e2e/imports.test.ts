import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCompany, testPassword } from '../../server/test/harness.ts';
import { projectWithCycle, writeFolder } from '../../server/test/uploadFixtures.ts';
import { launchBrowser, screenshot, signInAs, startApp } from './browser.ts';

let server: Awaited<ReturnType<typeof startApp>>;
let browser: Browser;
let importRoot: string;

beforeAll(async () => {
  importRoot = await mkdtemp(path.join(tmpdir(), 'du-e2e-imports-'));
  [server, browser] = await Promise.all([startApp({ IMPORT_ROOTS: importRoot }, { jobs: true }), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await rm(importRoot, { recursive: true, force: true });
});

describe('server imports in the web app', () => {
  it('lets an admin import a folder on the server and watch it complete; a path outside is refused on the form', async () => {
    const company = await seedCompany(server.db, 'imp');
    await projectWithCycle(server, company, 'imp-bucket');
    const written = await writeFolder(
      Array.from({ length: 12 }, (_, i) => ({ relativePath: `S1/20250909_0${i + 10}000.WAV`, size: 500 + i })),
    );
    const folder = path.join(importRoot, 'SD_01');
    await rename(written.root, folder);

    const page = await browser.newPage();
    await signInAs(page, server.url, company.users.admin.username, testPassword);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Imports' }).click();
    await page.getByLabel('Project').selectOption({ label: 'Project imp-bucket' });
    await page.getByLabel('Cycle').selectOption({ label: 'C1' });

    await page.getByLabel('Folder on the server').fill('/etc');
    await page.getByRole('button', { name: 'Start import' }).click();
    await expect.poll(() => page.getByText('is outside the folders this server may import from').count()).toBe(1);

    await page.getByLabel('Folder on the server').fill(folder);
    await page.getByRole('button', { name: 'Start import' }).click();
    const row = page.getByRole('row', { name: new RegExp(folder) });
    await row.getByText('completed').waitFor({ timeout: 60_000 });
    expect(await row.textContent()).toMatch(/12 \/ 12/);
    await screenshot(page, 'imports');
    await page.close();
  });
});
