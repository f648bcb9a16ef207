import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** `pnpm start` as a newcomer runs it: the real entry point, embedded PGlite under DATA_DIR, no DATABASE_URL. */
function startApp(env: Record<string, string>): Promise<Started> {
  const { DATABASE_URL: _, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
    cwd: root,
    env: { ...inherited, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /Data Uploader on (http:\/\/\S+)/.exec(output)?.[1];
      if (url) resolve({ child, url, output: () => output });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening:\n${output}`)));
  });
}

function stopApp(started: Started): Promise<void> {
  return new Promise((resolve) => {
    if (started.child.exitCode !== null) return resolve();
    started.child.once('exit', () => resolve());
    started.child.kill('SIGTERM');
  });
}

function runToExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const { DATABASE_URL: _, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
    cwd: root,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

/** Plain JSON over HTTP, as curl would send it, with a cookie jar of one cookie. */
function curlLike(baseUrl: string) {
  let cookie = '';
  return async (procedure: string, input?: unknown) => {
    const response = await fetch(`${baseUrl}/trpc/${procedure}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
      body: JSON.stringify(input ?? {}),
    });
    const setCookie = response.headers.getSetCookie()[0];
    if (setCookie) cookie = setCookie.split(';')[0] ?? '';
    return {
      status: response.status,
      body: (await response.json()) as { result?: { data: unknown }; error?: { message: string } },
    };
  };
}

describe('pnpm start on embedded defaults', () => {
  let dataDir: string;
  let first: Started;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'du-start-'));
    first = await startApp({ DATA_DIR: dataDir });
  });
  afterAll(async () => {
    if (first) await stopApp(first);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints the first admin password once and answers /healthz', async () => {
    expect(first.output()).toMatch(/password: [a-z2-7]{5}(-[a-z2-7]{5}){3}/);
    const health = await fetch(`${first.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, db: 'ok', s3: 'ok' });
  });

  it('walks the newcomer path: sign in, change password, create a project, a cycle and a viewer who may not create projects', async () => {
    const password = /password: (\S+)/.exec(first.output())?.[1] ?? '';
    const admin = curlLike(first.url);
    expect((await admin('auth.login', { username: 'admin', password })).status).toBe(200);
    expect((await admin('projects.create', { name: 'Birds', bucket: 'birds-2025' })).status).toBe(403);
    expect(
      (await admin('auth.changePassword', { currentPassword: password, newPassword: 'a new long password' })).status,
    ).toBe(200);
    const project = await admin('projects.create', { name: 'Birds', bucket: 'birds-2025' });
    expect(project.status).toBe(200);
    const projectId = (project.body.result?.data as { id: string } | undefined)?.id;
    const cycle = await admin('cycles.create', { projectId });
    expect(cycle.body.result?.data).toMatchObject({ name: 'C1', s3Prefix: 'C1', status: 'open' });
    const created = await admin('users.create', {
      username: 'vera',
      role: 'viewer',
      temporaryPassword: 'vera temporary pw',
    });
    expect(created.status).toBe(200);

    const viewer = curlLike(first.url);
    await viewer('auth.login', { username: 'vera', password: 'vera temporary pw' });
    const changed = await viewer('auth.changePassword', {
      currentPassword: 'vera temporary pw',
      newPassword: 'a password of her own',
    });
    expect(changed.status).toBe(200);
    const refused = await viewer('projects.create', { name: 'Mine', bucket: 'mine-bucket' });
    expect(refused.status).toBe(403);
    expect(refused.body.error?.message).toMatch(/role/);
  });

  it('keeps its data across a restart and prints no new password', async () => {
    await stopApp(first);
    const second = await startApp({ DATA_DIR: dataDir });
    try {
      expect(second.output()).not.toMatch(/password/);
      const admin = curlLike(second.url);
      expect((await admin('auth.login', { username: 'admin', password: 'a new long password' })).status).toBe(200);
    } finally {
      await stopApp(second);
    }
  });
});

describe('configuration', () => {
  it.each([
    ['PORT', { PORT: 'eighty' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://localhost/db' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
  ])('stops start-up naming %s when its value is bad', async (variable, env) => {
    const { code, output } = await runToExit(env);
    expect(code).toBe(1);
    expect(output).toContain(`${variable}:`);
    expect(output).not.toContain('Data Uploader on');
  });
});
