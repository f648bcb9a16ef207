import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';

import { type Api, createApi } from '../driver/api.ts';
import { type BareChromium, dropFolderBare, launchBareChromium } from './bareChromium.ts';
import {
  type Browser,
  type CdpSend,
  clientRoot,
  cpuProfile,
  dropFolder,
  heapAfterGc,
  installProbes,
  launchChromium,
  loadVite,
  mainThreadMeter,
  type Page,
  type Probes,
  probeScript,
  sourceMapResolver,
  startProfiler,
  staticServer,
  summariseTasks,
  type TaskSummary,
  traceMainThread,
} from './browserKit.ts';
import { writeComparisonPages } from './browserPages.ts';
import { median, run, startReporting, stopChildren } from './childProcesses.ts';
import { fieldFolder } from './fieldFolder.ts';
import { cpuByProcessGroup, cpuPerUnit, cpuText } from './processCpu.ts';
import { scratchDatabase } from './scratchDatabase.ts';

const MB = 1_000_000;
const here = path.dirname(fileURLToPath(import.meta.url));
const dropZone = '.uppy-Dashboard-inner';
const numberOf = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const msText = (ms: number) => (Number.isFinite(ms) ? `${Math.round(ms)} ms` : '–');
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
const count = (n: number) => n.toLocaleString('en');
/** Other work on this machine skews every figure: each part says what the load was when it started. */
const load = () =>
  `load average ${loadavg()
    .map((value) => value.toFixed(1))
    .join(' ')}`;
const tasksText = (tasks: TaskSummary) =>
  `longest task ${msText(tasks.longestMs)} (at +${s(tasks.longestAtMs)}), ${tasks.over50} tasks > 50 ms ` +
  `(${s(tasks.sumOver50Ms)} in all), ${tasks.over200} > 200 ms`;

function printTrace(trace: Awaited<ReturnType<Awaited<ReturnType<typeof traceMainThread>>['stop']>>) {
  const cpu = trace.cpuMs === null ? '' : `, of which the thread ran ${s(trace.cpuMs)}`;
  console.log(
    `      trace of the renderer's main thread (${s(trace.busyMs)} in top-level tasks${cpu}); wall time by event (self):`,
  );
  for (const { name, ms } of trace.top) console.log(`        ${msText(ms).padStart(8)}  ${name}`);
  for (const task of trace.longest) {
    console.log(
      `      longest traced task at +${s(task.atMs)} (${msText(task.ms)}` +
        `${task.cpuMs === null ? '' : `, of which the thread ran ${msText(task.cpuMs)}`}): ` +
        task.top.map(({ name, ms }) => `${name} ${msText(ms)}`).join('; '),
    );
  }
}

/** The children's user and system time from the last line of bash's `times` (`0m1.234s 0m0.567s`), in ms. */
function childCpuMs(stdout: string): number {
  const last = stdout.trim().split('\n').at(-1) ?? '';
  return [...last.matchAll(/(\d+)m([\d.]+)s/g)].reduce(
    (sum, [, minutes, seconds]) => sum + (Number(minutes) * 60 + Number(seconds)) * 1000,
    0,
  );
}

/** The upload page's end: every file of the folder uploaded and verified, or the run is not a figure. */
function checkResult(bench: Probes, files: number) {
  if (bench.resultTitle !== 'Upload complete and verified' || !String(bench.resultText).startsWith(count(files))) {
    throw new Error(`the upload page ended with "${bench.resultTitle}": ${bench.resultText}`);
  }
}

interface App {
  url: string;
  token: string;
  s3: string;
  username: string;
  password: string;
  stop(): Promise<void>;
}

function startApp(databaseUrl: string, dataDir: string, clientDir: string): Promise<App> {
  return startReporting<Omit<App, 'stop'>>(path.join(here, 'browserBenchApp.ts'), {
    ...process.env,
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    BENCH_CLIENT_DIR: clientDir,
  });
}

/** `count` files named as a 50-sensor field campaign (fieldFolder), sizes from `sizeOf`, random bytes. */
async function writeFieldFolder(dir: string, total: number, sizeOf: (index: number) => number) {
  const start = performance.now();
  const names = fieldFolder(total).map((file) => file.relativePath);
  await Promise.all(
    [...new Set(names.map((name) => name.slice(0, name.indexOf('/'))))].map((sensor) =>
      mkdir(path.join(dir, sensor), { recursive: true }),
    ),
  );
  const limit = pLimit(64);
  let bytes = 0;
  await Promise.all(
    names.map((name, index) =>
      limit(() => {
        const size = sizeOf(index);
        bytes += size;
        return writeFile(path.join(dir, name), randomBytes(size));
      }),
    ),
  );
  return { dir, files: total, bytes, ms: performance.now() - start };
}

/**
 * Watches the upload page's DOM (a MutationObserver; the page renders at most once a frame) and notes, in
 * page time: the Upload button showing, the scan having found every file (the badge's count), the first and the
 * last plan answer on screen (every file counted in the plan stats and the badge gone), and the result.
 */
const watcherSource = `(total) => {
  const bench = window.__bench;
  const digits = (text) => Number((text || '').replace(/[^0-9]/g, ''));
  const check = () => {
    const now = performance.now();
    if (bench.dropAt === null) return;
    const button = [...document.querySelectorAll('button.primary')].find((b) => b.textContent.trim() === 'Upload');
    if (button) bench.buttonAt ??= now;
    const badge = document.querySelector('#plan-title .badge');
    const stats = [...document.querySelectorAll('[data-testid=plan-stats] .stat strong')].map((el) => digits(el.textContent));
    const planned = stats.slice(0, 5).reduce((sum, n) => sum + n, 0);
    bench.planned = planned;
    bench.newFiles = stats[0];
    if (badge) {
      bench.found = digits(badge.textContent);
      if (bench.found >= total) bench.scannedAt ??= now;
    }
    if (planned > 0) bench.firstPlannedAt ??= now;
    if (stats.length > 0 && !badge && planned >= total) {
      bench.scannedAt ??= now;
      bench.plannedAt ??= now;
    }
    const result = document.querySelector('#result-title');
    if (result) {
      bench.resultAt ??= now;
      bench.resultTitle = result.textContent;
      bench.resultText = document.querySelector('[data-testid=result]')?.textContent;
    }
  };
  new MutationObserver(check).observe(document.body, { subtree: true, childList: true, characterData: true });
}`;

const mark = (bench: Probes, name: string) => {
  const value = bench[name];
  if (typeof value !== 'number' || bench.dropAt === null) return null;
  return value - bench.dropAt;
};

interface RequestEntry {
  kind: string;
  /** Node time when the page sent it / when it ended (CDP events as they arrive). */
  sentAt: number;
  endAt: number | null;
  /** Browser-side duration from the CDP timestamps, sent → loaded. */
  durationMs: number | null;
  failed?: string;
}

/**
 * The page's requests through the DevTools protocol (Playwright does not show CORS preflights): tRPC calls by
 * procedure, requests to S3 as `S3 <method>`, preflights included. Times are read with `startMs`/`endMs` from
 * the origin set later (just before the drop).
 */
async function recordRequests(page: Page, s3: string) {
  const entries: RequestEntry[] = [];
  const byId = new Map<string, { entry: RequestEntry; timestamp: number }>();
  let origin = 0;
  const kindOf = (method: string, url: string, type: string | undefined) => {
    if (url.startsWith(s3)) return `S3 ${type === 'Preflight' || method === 'OPTIONS' ? 'preflight' : method}`;
    const match = /\/trpc\/([^?]+)/.exec(url);
    return match ? (match[1] as string) : null;
  };
  const cdp = await page.context().newCDPSession(page);
  cdp.on('Network.requestWillBeSent', (event) => {
    const kind = kindOf(event.request.method, event.request.url, event.type);
    if (!kind || byId.has(event.requestId)) return;
    const entry: RequestEntry = { kind, sentAt: performance.now(), endAt: null, durationMs: null };
    entries.push(entry);
    byId.set(event.requestId, { entry, timestamp: event.timestamp });
  });
  cdp.on('Network.loadingFinished', (event) => {
    const open = byId.get(event.requestId);
    if (!open) return;
    open.entry.endAt = performance.now();
    open.entry.durationMs = (event.timestamp - open.timestamp) * 1000;
    byId.delete(event.requestId);
  });
  cdp.on('Network.loadingFailed', (event) => {
    const open = byId.get(event.requestId);
    if (!open) return;
    open.entry.endAt = performance.now();
    open.entry.durationMs = (event.timestamp - open.timestamp) * 1000;
    open.entry.failed = event.errorText;
    byId.delete(event.requestId);
  });
  await cdp.send('Network.enable');
  // A tRPC batch names every procedure in its path, comma-separated.
  const is = (kind: string) => (entry: RequestEntry) => entry.kind.split(',').includes(kind);
  const timed = (entry: RequestEntry) => ({
    ...entry,
    startMs: entry.sentAt - origin,
    endMs: entry.endAt === null ? null : entry.endAt - origin,
  });
  return {
    setOrigin(at: number) {
      origin = at;
    },
    first: (kind: string) => {
      const entry = entries.find(is(kind));
      return entry && timed(entry);
    },
    all: (kind: string) => entries.filter(is(kind)).map(timed),
    kinds() {
      const counts = new Map<string, number>();
      for (const entry of entries) counts.set(entry.kind, (counts.get(entry.kind) ?? 0) + 1);
      return counts;
    },
  };
}

async function main() {
  const bigFiles = numberOf('BENCH_BROWSER_FILES', 100_000);
  const uppyFiles = numberOf('BENCH_BROWSER_UPPY_FILES', 10_000);
  const smallFiles = numberOf('BENCH_BROWSER_SMALL_FILES', 10_000);
  const smallBytes = numberOf('BENCH_BROWSER_SMALL_KIB', 16) * 1024;
  const repeats = numberOf('BENCH_BROWSER_REPEATS', 1);
  const runs = numberOf('BENCH_BROWSER_RUNS', 3);
  const transfers = numberOf('BENCH_TRANSFERS', 16);
  const bareOpen = numberOf('BENCH_BROWSER_BARE_OPEN', 64);
  const only = new Set((process.env.BENCH_BROWSER_ONLY ?? 'big,uppy,small').split(','));
  const profile = Boolean(process.env.BENCH_BROWSER_PROFILE);
  const devtools = Boolean(process.env.BENCH_BROWSER_DEVTOOLS);
  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

  const temp = await mkdtemp(path.join(tmpdir(), 'du-browserbench-'));
  let scratch: Awaited<ReturnType<typeof scratchDatabase>> | undefined;
  let app: App | undefined;
  let browser: Browser | undefined;
  let statics: Awaited<ReturnType<typeof staticServer>> | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = () => {
    cleaning ??= (async () => {
      await browser?.close().catch(() => {});
      await statics?.close().catch(() => {});
      await app?.stop().catch(() => {});
      stopChildren();
      await scratch?.drop().catch((error) => console.error(`could not drop the scratch database: ${error}`));
      if (process.env.BENCH_KEEP) console.error(`  kept ${temp}`);
      else await rm(temp, { recursive: true, force: true });
    })();
    return cleaning;
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, async () => {
      console.error(`\n${signal}: cleaning up`);
      await cleanup();
      process.exit(130);
    });
  }

  const summary: Array<{ label: string; values: number[]; unit: string; target: string; met: boolean | null }> = [];
  const figure = (label: string, values: number[], unit: string, target = '', met: boolean | null = null) =>
    summary.push({ label, values, unit, target, met });

  try {
    const setupStart = performance.now();
    let clientDir = process.env.BENCH_BROWSER_CLIENT_DIR;
    const { build } = await loadVite();
    if (!clientDir) {
      clientDir = path.join(temp, 'web');
      // The client's own vite.config.ts, into a folder of this run: client/dist may be rebuilt by a test run meanwhile.
      // Hidden source maps only name the profile's functions: the served scripts are unchanged.
      await build({
        root: clientRoot,
        logLevel: 'warn',
        build: {
          outDir: clientDir,
          emptyOutDir: true,
          sourcemap: 'hidden',
          // Rolldown's note on slow plugins (a busy machine) is not a figure of this benchmark.
          rolldownOptions: { checks: { bundlerTimings: false } },
        },
      });
    }
    const resolveSource = sourceMapResolver(path.join(clientDir, 'assets'));
    const staticRoot = path.join(temp, 'static');
    await writeComparisonPages(staticRoot, temp);
    const buildMs = performance.now() - setupStart;
    scratch = await scratchDatabase(adminUrl, 'du_browserbench');
    [app, browser, statics] = await Promise.all([
      startApp(scratch.url, path.join(temp, 'data'), clientDir),
      launchChromium(),
      staticServer(staticRoot),
    ]);
    const server = app;
    const chromium = browser;
    const pages = statics;
    const api: Api = createApi(server.url, { token: server.token });
    const project = await api.projects.create.mutate({ name: 'Browser bench', bucket: 'browser-bench' });
    const rcloneEnv: NodeJS.ProcessEnv = { ...process.env, RCLONE_CONFIG: path.join(temp, 'rclone.conf') };
    delete rcloneEnv.AWS_CA_BUNDLE;
    const { stdout: rcloneVersion } = await run('rclone', ['version'], rcloneEnv);
    console.log(
      `bench:browser — Chromium ${chromium.version()} headless (Debian), app ${server.url} (own process, PostgreSQL, ` +
        `embedded S3 ${server.s3}), ${rcloneVersion.split('\n')[0]}; web app and stock-Uppy page built in ${s(buildMs)}; ` +
        `${load()}`,
    );

    /** A fresh context signed in on the upload page of a new cycle, with the probes installed. */
    const uploadPage = async () => {
      const cycle = await api.cycles.create.mutate({ projectId: project.id });
      const context = await chromium.newContext({ viewport: { width: 1280, height: 900 } });
      await installProbes(context, server.s3);
      const page = await context.newPage();
      await page.goto(`${server.url}/sign-in`);
      await page.getByLabel('Username').fill(server.username);
      await page.getByLabel('Password').fill(server.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL((url) => url.pathname !== '/sign-in');
      await page.goto(`${server.url}/projects/${project.id}/cycles/${cycle.id}/upload`);
      await page.locator(dropZone).waitFor();
      return { context, page, cycle };
    };
    const comparisonPage = async (file: string, selector: string) => {
      const context = await chromium.newContext({ viewport: { width: 1280, height: 900 } });
      await installProbes(context, null);
      const page = await context.newPage();
      await page.goto(`${pages.url}/${file}`);
      await page.locator(selector).waitFor();
      return { context, page };
    };
    // Polled with evaluate, not waitForFunction: the app's CSP forbids the eval that waitForFunction needs.
    const waitFor = async (
      page: { evaluate(expression: string): Promise<unknown> },
      expression: string,
      timeout: number,
    ) => {
      const until = performance.now() + timeout;
      while (!(await page.evaluate(expression))) {
        if (performance.now() > until) throw new Error(`timed out after ${s(timeout)} waiting for ${expression}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return (await page.evaluate('window.__bench')) as Probes;
    };
    /**
     * The most any page can do here: the same Chromium (no Playwright) PUTs `files` bodies of `bytes` each from
     * memory to presigned URLs of a new session, `transfers` at a time, with nothing read, hashed or recorded.
     */
    const bareCeiling = async (bare: BareChromium, files: number, bytes: number, transfers: number) => {
      const cycle = await api.cycles.create.mutate({ projectId: project.id });
      const session = await api.uploads.begin.mutate({ projectId: project.id, cycleId: cycle.id, source: 'cli' });
      const urls: string[] = [];
      const names = fieldFolder(files).map((file) => file.relativePath);
      for (let start = 0; start < files; start += 5000) {
        const batch = names.slice(start, start + 5000).map((relativePath) => ({ relativePath, size: bytes }));
        const { files: planned } = await api.uploads.plan.mutate({ sessionId: session.id, files: batch });
        const keys = planned.map((file) => ('key' in file ? file.key : ''));
        const signed = await api.uploads.signBatch.mutate({
          sessionId: session.id,
          requests: keys.map((key) => ({ key })),
        });
        urls.push(...signed.urls.map((url) => url.url));
      }
      const page = await bare.newPage();
      await page.goto(`${server.url}/healthz`);
      const before = await cpuByProcessGroup(true);
      const ms = await page.evaluate<number>(`(async (urls, bytes, transfers) => {
        const body = new Uint8Array(bytes);
        let next = 0;
        const start = performance.now();
        await Promise.all(Array.from({ length: transfers }, async () => {
          while (next < urls.length) {
            const response = await fetch(urls[next++], { method: 'PUT', body });
            if (!response.ok) throw new Error('S3 answered ' + response.status);
          }
        }));
        return performance.now() - start;
      })(${JSON.stringify(urls)}, ${bytes}, ${transfers})`);
      const cpu = cpuPerUnit(before, await cpuByProcessGroup(true), files);
      await page.close();
      return { ms, cpu };
    };
    /**
     * The small-file upload in Chromium without Playwright (bareChromium.ts): signed in, a new cycle's upload
     * page, the folder dropped, Upload clicked; answers the probes and the CPU each process group spent per file.
     */
    const bareUpload = async (bare: BareChromium, dir: string, files: number, profiled = false) => {
      const cycle = await api.cycles.create.mutate({ projectId: project.id });
      const page = await bare.newPage(probeScript(server.s3));
      if (profiled) await page.attachWorkers();
      await page.goto(`${server.url}/sign-in`);
      const credentials = JSON.stringify({ username: server.username, password: server.password });
      const signedIn = await page.evaluate(
        `fetch('/trpc/auth.login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: ${JSON.stringify(credentials)} }).then((r) => r.status)`,
      );
      if (signedIn !== 200) throw new Error(`signing in answered ${signedIn}`);
      await page.goto(`${server.url}/projects/${project.id}/cycles/${cycle.id}/upload`);
      await waitFor(page, `document.querySelector(${JSON.stringify(dropZone)}) !== null`, 60_000);
      await page.evaluate(`(${watcherSource})(${files})`);
      const now = (send: CdpSend) => async () =>
        (
          (await send('Runtime.evaluate', { expression: 'performance.now()', returnByValue: true })) as {
            result: { value: number };
          }
        ).result.value;
      const mainProfile = profiled ? await startProfiler(page.send, now(page.send), resolveSource) : null;
      const before = await cpuByProcessGroup(true);
      await dropFolderBare(page, dropZone, dir);
      const putWorker = profiled ? await page.worker('putWorker') : null;
      const workerProfile = putWorker ? await startProfiler(putWorker.send, now(putWorker.send), resolveSource) : null;
      const clickUpload = `(() => {
        const button = [...document.querySelectorAll('button.primary')].find((b) => b.textContent.trim() === 'Upload');
        button?.click();
        return Boolean(button);
      })()`;
      await waitFor(page, clickUpload, 60_000);
      const bench = await waitFor(page, 'window.__bench.resultAt != null', 300_000 + files * 100);
      const cpu = cpuPerUnit(before, await cpuByProcessGroup(true), files);
      const profiles = [
        { thread: 'main thread', profile: await mainProfile?.stop(20) },
        { thread: 'put worker', profile: await workerProfile?.stop(20) },
      ];
      await page.close();
      return { bench, cpu, profiles };
    };

    if (only.has('big')) {
      const folder = await writeFieldFolder(path.join(temp, 'tiny'), bigFiles, (i) => 16 + ((i * 7919) % 1009));
      console.log(
        `\n1. ${count(bigFiles)} tiny files (${mb(folder.bytes)}, 16 B – 1 KiB, 50 sensor folders) written in ${s(folder.ms)}; ${load()}`,
      );
      const planTimeout = 60_000 + bigFiles * 10;
      const bare: number[] = [];
      const scanned: number[] = [];
      const planned: number[] = [];
      const ratios: number[] = [];
      const longest: number[] = [];
      const heaps: number[] = [];
      const firstPut: number[] = [];
      const firstPutTasks: number[] = [];
      const passes = profile ? repeats + 1 : repeats;
      for (let i = 1; i <= passes; i++) {
        const profiled = profile && i === passes;
        if (!profiled) {
          // Bare enumeration, the same API, nothing else.
          const { context, page } = await comparisonPage(`bare.html?open=${bareOpen}`, '#zone');
          const meter = await mainThreadMeter(page);
          await dropFolder(page, '#zone', folder.dir);
          const bench = await waitFor(page, 'window.__bench.enumerated || window.__bench.error', planTimeout);
          const busy = await meter.stop();
          const enumerated = bench.enumerated as { files: number; at: number } | undefined;
          if (!enumerated || enumerated.files !== bigFiles) {
            throw new Error(`the bare page enumerated ${JSON.stringify(enumerated)} (${bench.error})`);
          }
          const ms = enumerated.at - (bench.dropAt as number);
          const tasks = summariseTasks(bench.longtasks, bench.dropAt as number, enumerated.at);
          const heap = await heapAfterGc(page);
          await context.close();
          bare.push(ms);
          console.log(
            `  [${i}] bare page (webkitGetAsEntry + readEntries + file() each, ${bareOpen} at once): ${count(enumerated.files)} files in ${s(ms)}; ` +
              `${tasksText(tasks)}; main thread busy ${s(busy.taskMs)} (script ${s(busy.scriptMs)}); heap after GC ${mb(heap.afterGc)}`,
          );
        }

        // (b)(c)(d): scan + plan, Upload not clicked, nothing sent.
        {
          const { context, page } = await uploadPage();
          await page.evaluate(`(${watcherSource})(${bigFiles})`);
          const requests = await recordRequests(page, server.s3);
          const meter = await mainThreadMeter(page);
          const profiler = profiled ? await cpuProfile(page, resolveSource) : null;
          const tracer = profiled ? await traceMainThread(chromium, page) : null;
          requests.setOrigin(await dropFolder(page, dropZone, folder.dir));
          const bench = await waitFor(page, 'window.__bench.plannedAt != null', planTimeout);
          const busy = await meter.stop();
          const tasks = summariseTasks(bench.longtasks, bench.dropAt as number, bench.plannedAt as number);
          const cpu = await profiler?.stop(
            20,
            tasks.top.slice(0, 3).map((task) => ({
              from: (bench.dropAt as number) + task.atMs,
              to: (bench.dropAt as number) + task.atMs + task.ms,
            })),
          );
          const trace = await tracer?.stop(20);
          const heap = await heapAfterGc(page);
          await context.close();
          if (bench.newFiles !== bigFiles) throw new Error(`the plan shows ${bench.newFiles} new files`);
          const scanMs = mark(bench, 'scannedAt') as number;
          const planMs = mark(bench, 'plannedAt') as number;
          const plans = requests.all('uploads.plan');
          const planDurations = plans.map((entry) => entry.durationMs ?? 0);
          const label = profiled ? `[profiled] upload page` : `[${i}] upload page`;
          console.log(
            `  ${label}, Upload not clicked: scanned ${s(scanMs)}, planned ${s(planMs)} (first plan answer on screen ` +
              `${s(mark(bench, 'firstPlannedAt') ?? 0)}); ${tasksText(tasks)}`,
          );
          console.log(
            `      main thread busy ${s(busy.taskMs)} (script ${s(busy.scriptMs)}, style+layout ${s(busy.layoutMs)}); ` +
              `JS heap ${mb(heap.beforeGc)} before GC, ${mb(heap.afterGc)} after; ${plans.length} plan calls, ` +
              `${msText(median(planDurations))} median / ${msText(Math.max(...planDurations))} max each, ` +
              `${s(planDurations.reduce((a, b) => a + b, 0))} in all; first plan sent at ${s(plans[0]?.startMs ?? 0)}, ` +
              `last answered at ${s(Math.max(...plans.map((entry) => entry.endMs ?? 0)))}`,
          );
          if (cpu) {
            console.log(`      CPU profile (${s(cpu.sampledMs)} sampled); top self time:`);
            for (const { name, ms } of cpu.self) console.log(`        ${msText(ms).padStart(8)}  ${name}`);
            console.log('      top total (inclusive) time:');
            for (const { name, ms } of cpu.total) console.log(`        ${msText(ms).padStart(8)}  ${name}`);
            for (const window of cpu.windows) {
              console.log(
                `      in the long task at +${s(window.from - (bench.dropAt as number))} (${msText(window.to - window.from)}, ` +
                  `${msText(window.sampledMs)} sampled): self ${window.self.map(({ name, ms }) => `${name} ${msText(ms)}`).join('; ')}`,
              );
              console.log(
                `        inclusive: ${window.total
                  .slice(1)
                  .map(({ name, ms }) => `${name} ${msText(ms)}`)
                  .join('; ')}`,
              );
            }
          }
          if (trace) printTrace(trace);
          if (!profiled) {
            scanned.push(scanMs);
            planned.push(planMs);
            ratios.push(planMs / (bare[bare.length - 1] as number));
            longest.push(tasks.longestMs);
            heaps.push(heap.afterGc);
          }
        }
        if (profiled) continue;

        // (a): drop → first request to S3, Upload clicked as soon as it shows.
        {
          const { context, page } = await uploadPage();
          await page.evaluate(`(${watcherSource})(${bigFiles})`);
          const requests = await recordRequests(page, server.s3);
          // Seen by Playwright, which also watches the page's workers (the page's resource timing does not).
          const firstS3 = new Promise<number>((resolve) => {
            page.on('request', (request) => {
              if (request.url().startsWith(`${server.s3}/`)) resolve(performance.now());
            });
          });
          const origin = await dropFolder(page, dropZone, folder.dir);
          requests.setOrigin(origin);
          await page.getByRole('button', { name: 'Upload', exact: true }).click({ timeout: 60_000 });
          const clickedMs = performance.now() - origin;
          const timeout = new Promise<number>((_, reject) =>
            setTimeout(() => reject(new Error('no request to S3 within 120 s of the drop')), 120_000).unref(),
          );
          const pageMs = (await Promise.race([firstS3, timeout])) - origin;
          const bench = await waitFor(page, 'true', 1000);
          const dropAt = bench.dropAt as number;
          const tasks = summariseTasks(bench.longtasks, dropAt, dropAt + pageMs);
          await context.close();
          firstPut.push(pageMs);
          firstPutTasks.push(tasks.longestMs);
          const step = (kind: string) => {
            const entry = requests.first(kind);
            return entry ? `${s(entry.startMs)}→${entry.endMs === null ? '…' : s(entry.endMs)}` : '–';
          };
          console.log(
            `  [${i}] drop → first S3 request: ${s(pageMs)} (the first request to S3 sent, as Playwright sees it); ` +
              `'Upload' clicked at ${s(clickedMs)} (button on screen at ${s(mark(bench, 'buttonAt') ?? 0)}); ${tasksText(tasks)}`,
          );
          console.log(
            `      timeline from the drop (request sent→answered): uploads.begin ${step('uploads.begin')}, first ` +
              `uploads.plan ${step('uploads.plan')}, first uploads.signBatch ${step('uploads.signBatch')}, ` +
              `first S3 preflight ${step('S3 preflight')}, first S3 PUT ${step('S3 PUT')}`,
          );
        }
      }
      if (repeats > 0) {
        figure('1a drop → first S3 request (Upload clicked asap)', firstPut, 's', '≤ 5 s', median(firstPut) <= 5000);
        figure('1a longest task, drop → first S3 request', firstPutTasks, 'ms', '(info)');
        figure('1b longest task, drop → scanned+planned', longest, 'ms', '≤ 200 ms', median(longest) <= 200);
        figure('1c bare enumeration (same API)', bare, 's');
        figure('1c upload page: drop → scanned', scanned, 's');
        figure('1c upload page: drop → scanned+planned', planned, 's');
        figure('1c ratio planned / bare', ratios, '×', '≤ 1.3×', median(ratios) <= 1.3);
        figure('1d JS heap after GC, planned', heaps, 'MB', '≤ 400 MB', median(heaps) <= 400 * MB);
      }
      await rm(folder.dir, { recursive: true, force: true });
    }

    if (only.has('uppy')) {
      const folder = await writeFieldFolder(path.join(temp, 'uppy'), uppyFiles, () => 16);
      console.log(
        `\n2. stock Uppy (@uppy/core + @uppy/dashboard, no windowing, no uploader): ${count(uppyFiles)} × 16 B files ` +
          `dropped on its Dashboard (written in ${s(folder.ms)}); ${load()}`,
      );
      const added: number[] = [];
      const rendered: number[] = [];
      const longest: number[] = [];
      for (let i = 1; i <= repeats; i++) {
        const { context, page } = await comparisonPage('stock/index.html', dropZone);
        await page.waitForFunction('window.__bench.ready === true');
        const meter = await mainThreadMeter(page);
        await dropFolder(page, dropZone, folder.dir);
        const bench = await waitFor(page, 'window.__bench.rendered != null', 120_000 + uppyFiles * 50);
        const busy = await meter.stop();
        const heap = await heapAfterGc(page);
        await context.close();
        const filesAdded = bench.filesAdded as { at: number; count: number };
        if (filesAdded.count !== uppyFiles || bench.inState !== uppyFiles) {
          throw new Error(`stock Uppy added ${filesAdded.count} files (${bench.inState} in state)`);
        }
        const addedMs = filesAdded.at - (bench.dropAt as number);
        const renderedMs = mark(bench, 'rendered') as number;
        const tasks = summariseTasks(bench.longtasks, bench.dropAt as number, bench.rendered as number);
        added.push(addedMs);
        rendered.push(renderedMs);
        longest.push(tasks.longestMs);
        console.log(
          `  [${i}] drop → files-added ${s(addedMs)} (Uppy's folder read until addFiles ${s(mark(bench, 'addFilesStart') ?? 0)}, ` +
            `addFiles ${s((bench.addFilesEnd as number) - (bench.addFilesStart as number))}); rendered ${s(renderedMs)}; ` +
            `${tasksText(tasks)}; main thread busy ${s(busy.taskMs)}; heap after GC ${mb(heap.afterGc)}`,
        );
      }
      figure(`2 stock Uppy ${count(uppyFiles)}: drop → files-added`, added, 's', '(baseline)');
      figure(`2 stock Uppy ${count(uppyFiles)}: drop → rendered`, rendered, 's', '(baseline)');
      figure(`2 stock Uppy ${count(uppyFiles)}: longest task`, longest, 'ms', '(baseline)');
      await rm(folder.dir, { recursive: true, force: true });
    }

    if (only.has('small')) {
      const folder = await writeFieldFolder(path.join(temp, 'small'), smallFiles, () => smallBytes);
      console.log(
        `\n3. ${count(smallFiles)} × ${smallBytes / 1024} KiB (written in ${s(folder.ms)}): the upload page (drop → ` +
          `"Upload complete and verified", Upload clicked asap) vs rclone copy --transfers ${transfers}, same S3 server; ${load()}`,
      );
      await run(
        'rclone',
        [
          'config',
          'create',
          'peer',
          's3',
          'provider=Other',
          `endpoint=${server.s3}`,
          'access_key_id=S3RVER',
          'secret_access_key=S3RVER',
          'force_path_style=true',
          'region=us-east-1',
        ],
        rcloneEnv,
      );
      const ours: number[] = [];
      const ceiling: number[] = [];
      const theirs: number[] = [];
      const bare = await launchBareChromium();
      let rcloneRuns = 0;
      /** rclone into a folder of its own; its time and the CPU per file of each process group, rclone's own too. */
      const rcloneCopy = async () => {
        rcloneRuns += 1;
        const target = `peer:browser-bench/rclone-${rcloneRuns}/`;
        const before = await cpuByProcessGroup();
        // bash's `times` prints the CPU its children used: rclone's own, read after it has ended.
        const rclone = await run(
          'bash',
          ['-c', 'rclone "$@" && times', 'rclone', 'copy', folder.dir, target, '--transfers', String(transfers)],
          rcloneEnv,
        );
        const cpu = cpuPerUnit(before, await cpuByProcessGroup(), smallFiles);
        cpu.push({ group: 'rclone', ms: childCpuMs(rclone.stdout) / smallFiles });
        const { stdout } = await run('rclone', ['size', '--json', target], rcloneEnv);
        const listed = JSON.parse(stdout) as { count: number };
        if (listed.count !== smallFiles)
          throw new Error(`rclone run ${rcloneRuns}: the listing holds ${listed.count} objects`);
        return { ms: rclone.ms, cpu };
      };
      const rate = (ms: number) => `${s(ms)} (${(smallFiles / (ms / 1000)).toFixed(1)} files/s)`;
      for (let i = 1; i <= runs; i++) {
        // The machine's speed drifts over minutes: the page and rclone go back to back, each first in turn.
        const rcloneFirst = i % 2 === 0;
        const early = rcloneFirst ? await rcloneCopy() : null;
        const page = await bareUpload(bare, folder.dir, smallFiles);
        const rclone = early ?? (await rcloneCopy());
        checkResult(page.bench, smallFiles);
        const ms = mark(page.bench, 'resultAt') as number;
        ours.push(smallFiles / (ms / 1000));
        theirs.push(smallFiles / (rclone.ms / 1000));
        const bound = await bareCeiling(bare, smallFiles, smallBytes, transfers);
        ceiling.push(smallFiles / (bound.ms / 1000));
        console.log(`  [${i}] ${rcloneFirst ? 'rclone, then the page' : 'the page, then rclone'}`);
        const tasks = summariseTasks(page.bench.longtasks, page.bench.dropAt as number, page.bench.resultAt as number);
        console.log(`      browser without DevTools watching: ${rate(ms)}, CPU per file ${cpuText(page.cpu)}`);
        console.log(`      its main thread: ${tasksText(tasks)}`);
        console.log(`      rclone ${rate(rclone.ms)}, CPU per file ${cpuText(rclone.cpu)}`);
        console.log(
          `      a bare page, fetch PUT × ${transfers} from memory: ${rate(bound.ms)}, CPU per file ${cpuText(bound.cpu)}`,
        );
      }
      if (profile) {
        const { bench, profiles } = await bareUpload(bare, folder.dir, smallFiles, true);
        checkResult(bench, smallFiles);
        console.log(`  [profiled, without DevTools network events] browser ${s(mark(bench, 'resultAt') as number)}`);
        for (const { thread, profile: cpu } of profiles) {
          if (!cpu) continue;
          console.log(`      CPU profile of the ${thread} (${s(cpu.sampledMs)} sampled); top self time:`);
          for (const { name, ms } of cpu.self) console.log(`        ${msText(ms).padStart(8)}  ${name}`);
          console.log('      top total (inclusive) time:');
          for (const { name, ms } of cpu.total) console.log(`        ${msText(ms).padStart(8)}  ${name}`);
        }
      }
      // With BENCH_BROWSER_DEVTOOLS (or _PROFILE), one run under Playwright, which watches the page's network
      // (its requests by kind, their times) and its main thread; DevTools' events double the browser's CPU per
      // request, so this run is no figure.
      if (devtools || profile) {
        const { context, page } = await uploadPage();
        await page.evaluate(`(${watcherSource})(${smallFiles})`);
        const requests = await recordRequests(page, server.s3);
        const meter = await mainThreadMeter(page);
        const profiler = profile ? await cpuProfile(page, resolveSource) : null;
        const tracer = profile ? await traceMainThread(chromium, page) : null;
        const cpuBefore = await cpuByProcessGroup();
        requests.setOrigin(await dropFolder(page, dropZone, folder.dir));
        await page.getByRole('button', { name: 'Upload', exact: true }).click({ timeout: 60_000 });
        const bench = await waitFor(page, 'window.__bench.resultAt != null', 300_000 + smallFiles * 100);
        const browserCpu = cpuPerUnit(cpuBefore, await cpuByProcessGroup(), smallFiles);
        const busy = await meter.stop();
        const cpu = await profiler?.stop(20);
        const trace = await tracer?.stop(20);
        await context.close();
        checkResult(bench, smallFiles);
        const browserMs = mark(bench, 'resultAt') as number;
        const tasks = summariseTasks(bench.longtasks, bench.dropAt as number, bench.resultAt as number);
        const confirms = requests.all('uploads.confirm');
        const signBatches = requests.all('uploads.signBatch');
        const finish = requests.first('uploads.finish');
        const callsOf = (kind: string) => requests.all(kind).length;
        const medianMs = (entries: Array<{ durationMs: number | null }>) =>
          msText(median(entries.map((entry) => entry.durationMs ?? 0)));
        console.log(
          `  [with Playwright, DevTools network events on] browser ${rate(browserMs)}; planned at ` +
            `${s(mark(bench, 'plannedAt') ?? 0)}, finish sent at ${s(finish?.startMs ?? 0)} and answered at ${s(finish?.endMs ?? 0)}`,
        );
        // The put worker's own requests (the files) are not the page's: DevTools shows the app's calls here.
        console.log(
          `      app calls: ${signBatches.length} signBatch (${medianMs(signBatches)} median), ` +
            `${callsOf('uploads.sign')} sign, ${callsOf('uploads.plan')} plan, ${confirms.length} confirm ` +
            `(${medianMs(confirms)} median)`,
        );
        console.log(`      CPU per file: ${cpuText(browserCpu)}`);
        console.log(`      requests: ${[...requests.kinds()].map(([kind, n]) => `${kind} ×${n}`).join(', ')}`);
        console.log(
          `      ${tasksText(tasks)}; main thread busy ${s(busy.taskMs)} (script ${s(busy.scriptMs)}, ` +
            `style+layout ${s(busy.layoutMs)})`,
        );
        if (cpu) {
          console.log(`      CPU profile of the page, drop → verified (${s(cpu.sampledMs)} sampled); top self time:`);
          for (const { name, ms } of cpu.self) console.log(`        ${msText(ms).padStart(8)}  ${name}`);
          console.log('      top total (inclusive) time:');
          for (const { name, ms } of cpu.total) console.log(`        ${msText(ms).padStart(8)}  ${name}`);
        }
        if (trace) printTrace(trace);
      }
      await bare.close();
      figure('3 browser upload page, drop → verified', ours, 'files/s');
      figure(`3 bare page, fetch PUT × ${transfers} (browser ceiling)`, ceiling, 'files/s', '(info)');
      figure(`3 rclone copy --transfers ${transfers}`, theirs, 'files/s');
      const ratio = ours.map((value, index) => value / (theirs[index] as number));
      figure('3 ratio browser / rclone', ratio, '×', '≥ 0.7×', median(ratio) >= 0.7);
      const ofCeiling = ours.map((value, index) => value / (ceiling[index] as number));
      figure('3 ratio browser / bare page', ofCeiling, '×', '(info)');
      const ceilingRatio = ceiling.map((value, index) => value / (theirs[index] as number));
      figure('3 ratio bare page / rclone', ceilingRatio, '×', '(info)');
    }

    console.log('');
    const unitValue = (value: number, unit: string) =>
      unit === 's'
        ? (value / 1000).toFixed(2)
        : unit === 'MB'
          ? (value / MB).toFixed(1)
          : unit === '×'
            ? value.toFixed(2)
            : unit === 'ms'
              ? Math.round(value).toString()
              : value.toFixed(1);
    console.log(`| ${'figure'.padEnd(52)} | ${'median'.padStart(14)} | ${'target'.padEnd(10)} | met    | runs`);
    console.log(`|${'-'.repeat(54)}|${'-'.repeat(16)}|${'-'.repeat(12)}|--------|------`);
    for (const row of summary) {
      const met = row.met === null ? '' : row.met ? 'yes' : 'MISSED';
      console.log(
        `| ${row.label.padEnd(52)} | ${`${unitValue(median(row.values), row.unit)} ${row.unit}`.padStart(14)} | ` +
          `${row.target.padEnd(10)} | ${met.padEnd(6)} | ${row.values.map((v) => unitValue(v, row.unit)).join(', ')}`,
      );
    }
  } finally {
    await cleanup();
  }
}

await main();
