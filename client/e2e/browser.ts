import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../../server/test/harness.ts';

const clientDist = fileURLToPath(new URL('../dist', import.meta.url));
/** Screenshots of the main pages, kept after the run for a person to look at. */
export const artifactsDir = fileURLToPath(new URL('./artifacts', import.meta.url));

/** The app as `pnpm start` runs it (built web app, embedded S3 server), with a database of its own. */
export function startApp(env: Record<string, string> = {}, { jobs = false } = {}): Promise<TestServer> {
  return startTestServer(env, 'default', { clientDir: clientDist, jobs });
}

/** Debian's Chromium; a browser is never downloaded. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}

export async function screenshot(page: Page, name: string) {
  await mkdir(artifactsDir, { recursive: true });
  await page.screenshot({ path: path.join(artifactsDir, `${name}.png`), fullPage: true });
}

/**
 * A real folder drop: the browser's own drag-and-drop path through the DevTools protocol, so the page gets a
 * trusted drop whose item is a directory entry, as when a person drags a folder from the file manager.
 */
export async function dropFolder(page: Page, selector: string, directory: string) {
  const box = await page.locator(selector).boundingBox();
  if (!box) throw new Error(`${selector} is not visible`);
  const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  const cdp = await page.context().newCDPSession(page);
  const data = { items: [], files: [directory], dragOperationsMask: 1 };
  for (const type of ['dragEnter', 'dragOver', 'drop'] as const) {
    await cdp.send('Input.dispatchDragEvent', { type, ...at, data });
  }
  await cdp.detach();
}

/**
 * A folder chosen with the Dashboard's "browse folders" button: Chromium lists the folder itself, as after its
 * file dialog, and the page gets the files with their `webkitRelativePath`.
 */
export function chooseFolder(page: Page, directory: string) {
  return chooseInDashboard(page, true, [directory]);
}

/** Files chosen with the Dashboard's "browse files" button. */
export function chooseFiles(page: Page, files: string[]) {
  return chooseInDashboard(page, false, files);
}

async function chooseInDashboard(page: Page, folder: boolean, paths: string[]) {
  await page.locator('.uppy-Dashboard-inner').waitFor();
  const cdp = await page.context().newCDPSession(page);
  const { result } = await cdp.send('Runtime.evaluate', {
    expression: `[...document.querySelectorAll('.uppy-Dashboard input[type=file]')].find((input) => input.webkitdirectory === ${folder})`,
  });
  if (!result.objectId) throw new Error(`the Dashboard has no ${folder ? 'folder' : 'file'} input`);
  await cdp.send('DOM.setFileInputFiles', { objectId: result.objectId, files: paths });
  await cdp.detach();
}

/** Signs in through the sign-in page. */
export async function signInAs(page: Page, baseUrl: string, username: string, password: string) {
  await page.goto(`${baseUrl}/sign-in`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname !== '/sign-in');
}

/** The number in one of the plan's stat boxes ("New", "Resumable", …), as shown. */
export async function planStat(page: Page, label: string): Promise<string> {
  return (await page.locator(`[data-stat="${label}"] strong`).textContent()) ?? '';
}
