import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, seedCompany, testPassword } from '../../server/test/harness.ts';
import { projectWithCycle, putAndConfirm, tokenOf } from '../../server/test/uploadFixtures.ts';
import { launchBrowser, screenshot, signInAs, startApp } from './browser.ts';

let server: Awaited<ReturnType<typeof startApp>>;
let browser: Browser;
let company: Awaited<ReturnType<typeof seedCompany>>;
let projectId = '';
let sessionId = '';

/** Three sensors over three days; AM-01 sent nothing on 2 June, and one file planned on 4 June never arrived. */
const folder = [
  { relativePath: 'AM-01/20250601_000000.WAV', size: 11 },
  { relativePath: 'AM-01/20250601_120000.WAV', size: 11 },
  { relativePath: 'AM-01/20250603_000000.WAV', size: 11 },
  { relativePath: 'AM-02/20250601_000000.WAV', size: 12 },
  { relativePath: 'AM-02/20250602_000000.WAV', size: 12 },
  { relativePath: 'AM-02/20250603_000000.WAV', size: 12 },
  { relativePath: 'AM-02/20250603_120000.WAV', size: 12 },
  { relativePath: 'CAM07/IMG_0001.JPG', size: 13, lastModified: Date.parse('2025-06-02T12:00:00Z') },
];
const neverSent = { relativePath: 'AM-01/20250604_000000.WAV', size: 11 };

beforeAll(async () => {
  [server, browser] = await Promise.all([startApp(), launchBrowser()]);
  company = await seedCompany(server.db, 'ins');
  const { project, cycle } = await projectWithCycle(server, company, 'insight-birds');
  projectId = project.id;
  const api = apiClient(server.url, { token: await tokenOf(server, company.users.user.id) });
  const session = await api.uploads.begin.mutate({ projectId, cycleId: cycle.id, label: 'June cards' });
  sessionId = session.id;
  const { files } = await api.uploads.plan.mutate({ sessionId, files: [...folder, neverSent] });
  const entries = files.flatMap((file) =>
    'key' in file && file.relativePath !== neverSent.relativePath
      ? [{ key: file.key, body: new Uint8Array(file.size) }]
      : [],
  );
  expect(entries).toHaveLength(folder.length);
  await putAndConfirm(api, sessionId, entries);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('insight page', () => {
  it('shows the coverage heat-map, sensor × day, with the files that arrived and the gaps hatched', async () => {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await signInAs(page, server.url, company.users.viewer.username, testPassword);
    await page.goto(`${server.url}/projects/${projectId}`);
    await page.getByRole('link', { name: 'Insight' }).click();
    await page.waitForURL(/\/insight$/);
    const heatmap = page.getByRole('table', { name: /Files that arrived per sensor/ });
    await heatmap.waitFor();

    const counts = await page.$$eval('table.heatmap tbody tr', (rows) =>
      rows.map((row) => [
        row.querySelector('th')?.textContent,
        ...[...row.querySelectorAll('td')].map((cell) => Number(cell.dataset.files)),
      ]),
    );
    expect(counts).toEqual([
      ['AM-01', 2, 0, 1],
      ['AM-02', 1, 1, 2],
      ['CAM07', 0, 1, 0],
    ]);
    expect(await page.$$eval('table.heatmap thead th', (cells) => cells.map((cell) => cell.textContent))).toEqual([
      'Sensor',
      '06-01',
      '06-02',
      '06-03',
    ]);
    const gap = page.locator('td[data-sensor="AM-01"][data-day="2025-06-02"]');
    expect(await gap.getAttribute('class')).toBe('empty');
    expect(await gap.getAttribute('title')).toBe('AM-01, 2025-06-02: 0 files');
    expect(await page.locator('td[data-sensor="AM-02"][data-day="2025-06-03"]').getAttribute('title')).toBe(
      'AM-02, 2025-06-03: 2 files (24 B)',
    );
    // The charts are uPlot canvases, one per figure: cycles (files, bytes), success rate, file types.
    await expect.poll(() => page.locator('figure.chart canvas').count()).toBe(4);
    await screenshot(page, 'insight');
    await page.context().close();
  });

  it('shows a session’s throughput per minute on its page', async () => {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await signInAs(page, server.url, company.users.viewer.username, testPassword);
    await page.goto(`${server.url}/sessions/${sessionId}`);
    await page.getByText('Throughput per minute').waitFor();
    expect(await page.locator('figure.chart canvas').count()).toBe(1);
    await screenshot(page, 'session-throughput');
    await page.context().close();
  });
});
