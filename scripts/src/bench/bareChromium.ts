import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dispatchDrop } from './browserKit.ts';

/*
 * Chromium as a person runs it, for the figures where the browser's own cost is what is measured. Playwright
 * turns on DevTools' network events for every page and worker it attaches to; measured here on 16 KiB PUTs, that
 * doubled the CPU the browser and renderer processes spent per request. This driver speaks the DevTools protocol
 * over one WebSocket and uses only Target, Page, Runtime and Input: nothing watches the network.
 * Node 20 needs --experimental-websocket for the WebSocket global (package.json's bench:browser passes it).
 */

interface Pending {
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
}

export interface BarePage {
  send<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
  /** Runs an expression in the page (awaiting a promise) and answers its value. */
  evaluate<T = unknown>(expression: string): Promise<T>;
  /** Loads `url` and waits for its load event. */
  goto(url: string): Promise<void>;
  /** The page's dedicated workers from now on (and those already running), each with a protocol session. */
  attachWorkers(): Promise<void>;
  /** The first attached worker whose script URL holds `urlPart`, once it has started. */
  worker(urlPart: string): Promise<BareWorker>;
  close(): Promise<void>;
}

export interface BareWorker {
  url: string;
  send<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
}

export interface BareChromium {
  newPage(initScript?: string): Promise<BarePage>;
  close(): Promise<void>;
}

export async function launchBareChromium(): Promise<BareChromium> {
  const profile = await mkdtemp(path.join(tmpdir(), 'du-bare-chromium-'));
  const child = spawn(
    process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--remote-debugging-port=0',
      `--user-data-dir=${profile}`,
      'about:blank',
    ],
    { stdio: 'ignore' },
  );
  try {
    const endpoint = await debuggingEndpoint(profile, child);
    const socket = new WebSocket(endpoint);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve(), { once: true });
      socket.addEventListener('error', () => reject(new Error(`could not reach ${endpoint}`)), { once: true });
    });
    return connect(socket, child, profile);
  } catch (error) {
    child.kill();
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
}

/** Chromium writes its port and browser path to DevToolsActivePort in the profile once it listens. */
async function debuggingEndpoint(profile: string, child: ChildProcess): Promise<string> {
  const until = performance.now() + 30_000;
  while (performance.now() < until) {
    if (child.exitCode !== null) throw new Error(`chromium exited ${child.exitCode} before it listened`);
    const text = await readFile(path.join(profile, 'DevToolsActivePort'), 'utf8').catch(() => '');
    const [port, browserPath] = text.split('\n');
    if (port && browserPath) return `ws://127.0.0.1:${port}${browserPath}`;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('chromium did not open its debugging port within 30 s');
}

function connect(socket: WebSocket, child: ChildProcess, profile: string): BareChromium {
  let nextId = 1;
  const pending = new Map<number, Pending>();
  const listeners = new Map<string, Set<(params: unknown) => void>>();
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as {
      id?: number;
      result?: unknown;
      error?: { message: string };
      method?: string;
      params?: unknown;
      sessionId?: string;
    };
    if (message.id !== undefined) {
      const waiting = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) waiting?.reject(new Error(message.error.message));
      else waiting?.resolve(message.result);
      return;
    }
    for (const listener of listeners.get(`${message.sessionId ?? ''}:${message.method}`) ?? []) {
      listener(message.params);
    }
  });
  // Chromium may exit on Browser.close before it answers: a call the socket will never answer fails.
  socket.addEventListener('close', () => {
    for (const waiting of pending.values()) waiting.reject(new Error('the DevTools connection closed'));
    pending.clear();
  });
  const send = <T>(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<T> => {
    const id = nextId++;
    if (socket.readyState !== WebSocket.OPEN) return Promise.reject(new Error('the DevTools connection is closed'));
    socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return new Promise<T>((resolve, reject) => pending.set(id, { resolve: resolve as (r: unknown) => void, reject }));
  };
  const onEvent = (sessionId: string, method: string, listener: (params: unknown) => void) => {
    const name = `${sessionId}:${method}`;
    listeners.set(name, (listeners.get(name) ?? new Set()).add(listener));
  };
  const nextEvent = (sessionId: string, method: string) =>
    new Promise<unknown>((resolve) => {
      const name = `${sessionId}:${method}`;
      const set = listeners.get(name) ?? new Set();
      const listener = (params: unknown) => {
        set.delete(listener);
        resolve(params);
      };
      set.add(listener);
      listeners.set(name, set);
    });

  return {
    async newPage(initScript) {
      const { targetId } = await send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
      const { sessionId } = await send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
      await send('Page.enable', {}, sessionId);
      const workers: BareWorker[] = [];
      const workerWaits: Array<() => void> = [];
      onEvent(sessionId, 'Target.attachedToTarget', (params) => {
        const { sessionId: workerSession, targetInfo } = params as {
          sessionId: string;
          targetInfo: { type: string; url: string };
        };
        if (targetInfo.type !== 'worker') return;
        workers.push({ url: targetInfo.url, send: (method, params) => send(method, params, workerSession) });
        for (const wake of workerWaits.splice(0)) wake();
      });
      if (initScript) await send('Page.addScriptToEvaluateOnNewDocument', { source: initScript }, sessionId);
      const page: BarePage = {
        send: (method, params) => send(method, params, sessionId),
        async evaluate<T>(expression: string) {
          const answer = await send<{
            result: { value: T };
            exceptionDetails?: { exception?: { description?: string } };
          }>('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, sessionId);
          if (answer.exceptionDetails) {
            throw new Error(answer.exceptionDetails.exception?.description ?? 'the page threw');
          }
          return answer.result.value;
        },
        async goto(url) {
          const loaded = nextEvent(sessionId, 'Page.loadEventFired');
          await send('Page.navigate', { url }, sessionId);
          await loaded;
        },
        async attachWorkers() {
          await send(
            'Target.setAutoAttach',
            { autoAttach: true, waitForDebuggerOnStart: false, flatten: true },
            sessionId,
          );
        },
        async worker(urlPart) {
          for (;;) {
            const found = workers.find((worker) => worker.url.includes(urlPart));
            if (found) return found;
            await new Promise<void>((wake) => workerWaits.push(wake));
          }
        },
        async close() {
          await send('Target.closeTarget', { targetId });
        },
      };
      return page;
    },
    async close() {
      await send('Browser.close').catch(() => undefined);
      socket.close();
      if (child.exitCode === null) await Promise.race([once(child, 'exit'), new Promise((r) => setTimeout(r, 5000))]);
      child.kill('SIGKILL');
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** A trusted folder drop onto the element `selector` (see browserKit's dropFolder); answers the Node time of it. */
export async function dropFolderBare(page: BarePage, selector: string, directory: string): Promise<number> {
  const box = await page.evaluate<{ x: number; y: number } | null>(
    `(() => { const r = document.querySelector(${JSON.stringify(selector)})?.getBoundingClientRect();
      return r ? { x: r.x + r.width / 2, y: r.y + r.height / 2 } : null; })()`,
  );
  if (!box) throw new Error(`${selector} is not on the page`);
  return dispatchDrop((type, params) => page.send('Input.dispatchDragEvent', { type, ...params }), box, directory);
}
