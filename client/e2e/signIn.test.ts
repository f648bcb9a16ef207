import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFirstAdmin } from '../../server/src/services/bootstrap.ts';
import { launchBrowser, screenshot, startApp } from './browser.ts';

let server: Awaited<ReturnType<typeof startApp>>;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startApp(), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('signing in', () => {
  it('asks for a new password at the first sign-in with the printed one, then opens the projects', async () => {
    const first = await createFirstAdmin(server.db);
    if (!first) throw new Error('the database already had people');
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForURL(/\/sign-in/);
    await screenshot(page, 'sign-in');
    await page.getByLabel('Username').fill(first.username);
    await page.getByLabel('Password').fill(first.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/change-password$/);
    await screenshot(page, 'change-password');

    await page.getByLabel('Current password').fill(first.password);
    const withUsername = `${first.username} is my password`;
    await page.getByLabel('New password', { exact: true }).fill(withUsername);
    await page.getByLabel('New password again').fill(withUsername);
    await page.getByRole('button', { name: 'Save password' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toBe('The new password must not contain the username');

    const chosen = 'a long password of my own';
    await page.getByLabel('New password', { exact: true }).fill(chosen);
    await page.getByLabel('New password again').fill(chosen);
    await page.getByRole('button', { name: 'Save password' }).click();
    await page.waitForURL((url) => url.pathname === '/');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/sign-in/);

    await page.getByLabel('Username').fill(first.username);
    await page.getByLabel('Password').fill(chosen);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === '/');
    await page.close();
  });

  it('shows the server’s answer to a wrong password next to the form and stays on the sign-in page', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/sign-in`);
    await page.getByLabel('Username').fill('nobody');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('Wrong username or password');
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await screenshot(page, 'sign-in-error');
    await page.close();
  });
});
