import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCompany, testPassword } from '../../server/test/harness.ts';
import { MiB, projectWithCycle, writeFolder } from '../../server/test/uploadFixtures.ts';
import { dropFolder, launchBrowser, planStat, signInAs, startApp } from './browser.ts';

/**
 * The web app works under the server's Content-Security-Policy: a whole upload (plan, small files, a multipart
 * file straight to the S3 server on another origin), the insight pages and the API reference, with no
 * violation reported by the page and none logged by the browser.
 */

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

/** A page that records every CSP violation: the page's `securitypolicyviolation` events and the console's reports. */
async function watchedPage(): Promise<{ page: Page; violations: string[] }> {
  const page = await browser.newPage();
  const violations: string[] = [];
  await page.exposeFunction('reportViolation', (text: string) => violations.push(text));
  // Runs in the page (as text: these tests are compiled without the DOM's types).
  await page.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (event) => {
      window.reportViolation(event.violatedDirective + ' blocked ' + event.blockedURI + ' (' + event.sourceFile + ':' + event.lineNumber + ')');
    });`,
  });
  page.on('console', (message) => {
    if (/Content.Security.Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  return { page, violations };
}

describe('the Content-Security-Policy', () => {
  it('is sent with the web app and allows the S3 server the browser uploads to', async () => {
    const response = await fetch(`${server.url}/`);
    const policy = response.headers.get('content-security-policy') ?? '';
    const embedded = server.storage.embedded?.endpoint;
    expect(embedded).toBeDefined();
    expect(policy).toMatch(/default-src 'self'/);
    expect(policy).toMatch(new RegExp(`connect-src 'self'[^;]* ${embedded}`));
    expect(policy).not.toMatch(/'unsafe-inline'|'unsafe-eval'/);
  });

  it('blocks nothing during an upload of small files and a multipart file, nor on the insight pages', async () => {
    const company = await seedCompany(server.db, 'csp');
    const { project, cycle } = await projectWithCycle(server, company, 'csp-bucket');
    const folder = await writeFolder([
      { relativePath: 'S1/20250909_092000.WAV', size: 40_000 },
      { relativePath: 'S1/20250909_093000.WAV', size: 1 },
      { relativePath: 'S2/20250909_092000.WAV', size: 6 * MiB + 3 },
    ]);
    const { page, violations } = await watchedPage();
    // A violation the page itself causes must be seen, or an empty list below would prove nothing.
    await page.goto(`${server.url}/sign-in`);
    await page.evaluate(() => fetch('https://blocked.invalid/').catch(() => undefined));
    await expect.poll(() => violations.join()).toContain('blocked.invalid');

    await signInAs(page, server.url, company.users.user.username, testPassword);
    await page.goto(`${server.url}/projects/${project.id}/cycles/${cycle.id}/upload`);
    await dropFolder(page, '.uppy-Dashboard-inner', folder.root);
    await expect.poll(() => planStat(page, 'New')).toBe('3');
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByText('Upload complete and verified').waitFor({ timeout: 90_000 });
    expect(await page.getByTestId('result').textContent()).toMatch(/^3 files .* verified in the bucket/);

    for (const address of [`/projects/${project.id}`, `/projects/${project.id}/insight`]) {
      await page.goto(`${server.url}${address}`);
      await page.waitForLoadState('networkidle');
    }
    await page.goto(`${server.url}/api/docs`);
    await page.getByRole('heading', { name: 'Data Uploader API' }).waitFor();
    // The reference page's inline style applies (its hash is in the policy): code blocks get a grey background.
    const background = await page.evaluate(`getComputedStyle(document.querySelector('pre')).backgroundColor`);
    expect(background).toBe('rgb(245, 245, 245)');
    expect(violations.filter((violation) => !violation.includes('blocked.invalid'))).toEqual([]);
    await page.close();
  });
});
