import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, seedCompany, testPassword } from '../../server/test/harness.ts';
import { tokenOf } from '../../server/test/uploadFixtures.ts';
import { launchBrowser, screenshot, signInAs, startApp } from './browser.ts';

let server: Awaited<ReturnType<typeof startApp>>;
let browser: Browser;
let company: Awaited<ReturnType<typeof seedCompany>>;

beforeAll(async () => {
  [server, browser] = await Promise.all([startApp(), launchBrowser()]);
  company = await seedCompany(server.db, 'adm');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function pageOf(role: 'admin' | 'user' | 'viewer'): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await signInAs(page, server.url, company.users[role].username, testPassword);
  return page;
}

describe('admin pages', () => {
  let projectPath = '';

  it('lets an admin create a project (the server’s complaint shown at the field) and a cycle', async () => {
    const page = await pageOf('admin');
    await page.getByRole('button', { name: 'New project' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Birds 2026');
    await page.getByLabel('Bucket', { exact: true }).fill('Birds_2026');
    await page.getByRole('button', { name: 'Create project' }).click();
    await expect
      .poll(() => page.getByText('may contain only lowercase letters, digits, dots and hyphens').count())
      .toBeGreaterThan(0);
    await screenshot(page, 'project-form-error');

    await page.getByLabel('Bucket', { exact: true }).fill('birds-2026');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.waitForURL(/\/projects\/[0-9a-f-]{36}$/);
    projectPath = new URL(page.url()).pathname;
    await page.getByRole('button', { name: 'Create cycle' }).click();
    await page.getByRole('link', { name: 'Upload to cycle C1' }).waitFor();
    await screenshot(page, 'project');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Projects' }).click();
    await page.getByRole('link', { name: 'Birds 2026' }).waitFor();
    await screenshot(page, 'projects');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
    await page.getByText(company.users.viewer.username).waitFor();
    await screenshot(page, 'users');
    await page.context().close();
  });

  it('shows a viewer everything of the company but no upload or admin controls', async () => {
    const page = await pageOf('viewer');
    await page.getByRole('link', { name: 'Birds 2026' }).waitFor();
    expect(await page.getByRole('button', { name: 'New project' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Users' }).count()).toBe(0);

    await page.goto(server.url + projectPath);
    await page.getByRole('link', { name: 'History of cycle C1' }).waitFor();
    expect(await page.getByRole('link', { name: 'Upload to cycle C1' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Create cycle' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /archive/i }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /close cycle/i }).count()).toBe(0);
    await screenshot(page, 'project-viewer');

    await page.getByRole('link', { name: 'History of cycle C1' }).click();
    await page.waitForURL(/\/history/);
    const cycleId = new URL(page.url()).searchParams.get('cycleId');
    await page.goto(`${server.url}${projectPath}/cycles/${cycleId}/upload`);
    await page.getByText('your role does not upload').waitFor();
    expect(await page.locator('.uppy-Dashboard').count()).toBe(0);
    await page.context().close();
  });

  it('shows the upload history and a session with its files', async () => {
    const user = apiClient(server.url, { token: await tokenOf(server, company.users.user.id) });
    const [project] = await user.projects.list.query({});
    if (!project) throw new Error('no project');
    const { cycles } = await user.projects.get.query({ id: project.id });
    const session = await user.uploads.begin.mutate({
      projectId: project.id,
      cycleId: cycles[0]?.id ?? '',
      label: 'Site 3',
      source: 'cli',
    });
    await user.uploads.plan.mutate({
      sessionId: session.id,
      files: [{ relativePath: 'S1/20250909_092000.WAV', size: 10 }],
    });
    await user.uploads.abort.mutate({ sessionId: session.id });

    const page = await pageOf('viewer');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
    await page.getByText('Site 3').waitFor();
    await screenshot(page, 'history');
    await page.goto(`${server.url}/sessions/${session.id}`);
    await page.getByText('S1/20250909_092000.WAV').waitFor();
    await screenshot(page, 'session');
    await page.goto(`${server.url}/account`);
    await page.getByRole('heading', { name: /API tokens/i }).waitFor();
    await screenshot(page, 'account');
    await page.context().close();
  });
});
