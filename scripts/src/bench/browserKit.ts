/**
 * Tools of `pnpm bench:browser`: Debian's Chromium through the client's playwright-core (never a downloaded
 * browser), a real folder drop through the DevTools protocol, the in-page probes (long tasks, the drop's time,
 * the first request to S3), the JS heap after a GC, a CPU profile summary, the client's Vite for building pages,
 * and a tiny static server for the pages that are not the app.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

type Playwright = typeof import('../../../client/node_modules/playwright-core/index.js');
export type Browser = import('../../../client/node_modules/playwright-core/index.js').Browser;
export type BrowserContext = import('../../../client/node_modules/playwright-core/index.js').BrowserContext;
export type Page = import('../../../client/node_modules/playwright-core/index.js').Page;

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const clientRoot = path.join(repoRoot, 'client');
/** playwright-core and vite are the client's devDependencies: load them as the client would. */
const fromClient = createRequire(path.join(clientRoot, 'package.json'));

export function loadPlaywright(): Playwright {
  return fromClient('playwright-core') as Playwright;
}

export interface ViteBuild {
  build(config: Record<string, unknown>): Promise<unknown>;
}

export async function loadVite(): Promise<ViteBuild> {
  return (await import(pathToFileURL(fromClient.resolve('vite')).href)) as ViteBuild;
}

/** Debian's Chromium with the flags of client/e2e/browser.ts. */
export function launchChromium(): Promise<Browser> {
  return loadPlaywright().chromium.launch({
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

/**
 * A real folder drop (as client/e2e/browser.ts does it): dragEnter, dragOver and drop with data.files = [dir],
 * so the page gets a trusted drop whose item is a directory entry. Answers the Node time just before the drop.
 */
export async function dropFolder(page: Page, selector: string, directory: string): Promise<number> {
  const box = await page.locator(selector).boundingBox();
  if (!box) throw new Error(`${selector} is not visible`);
  const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  const cdp = await page.context().newCDPSession(page);
  const before = await dispatchDrop(
    (type, params) => cdp.send('Input.dispatchDragEvent', { type, ...params }),
    at,
    directory,
  );
  await cdp.detach();
  return before;
}

type DragEventSender = (
  type: 'dragEnter' | 'dragOver' | 'drop',
  params: { x: number; y: number; data: DragData },
) => Promise<unknown>;

interface DragData {
  items: [];
  files: string[];
  dragOperationsMask: number;
}

/** dragEnter, dragOver and drop of `directory` at `at` through CDP; answers the Node time just before the drop. */
export async function dispatchDrop(send: DragEventSender, at: { x: number; y: number }, directory: string) {
  const data: DragData = { items: [], files: [directory], dragOperationsMask: 1 };
  await send('dragEnter', { ...at, data });
  await send('dragOver', { ...at, data });
  const before = performance.now();
  await send('drop', { ...at, data });
  return before;
}

/** What the probes collect in the page (`window.__bench`). */
export interface Probes {
  longtasks: Array<{ start: number; duration: number }>;
  /** performance.now() of the drop event, seen first (window, capture phase). */
  dropAt: number | null;
  /** startTime of the first request to S3 (resource timing). */
  firstS3: number | null;
  [mark: string]: unknown;
}

/** The probes' source: runs in the page before any of its scripts. */
const probeSource = `(prefix) => {
  const bench = { longtasks: [], dropAt: null, firstS3: null };
  window.__bench = bench;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) bench.longtasks.push({ start: entry.startTime, duration: entry.duration });
  }).observe({ type: 'longtask', buffered: true });
  window.addEventListener('drop', () => { bench.dropAt ??= performance.now(); }, true);
  if (prefix) {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if (entry.name.startsWith(prefix) && (bench.firstS3 === null || entry.startTime < bench.firstS3)) {
          bench.firstS3 = entry.startTime;
        }
      }
    }).observe({ type: 'resource', buffered: true });
  }
}`;

/**
 * Installed before any page script: a long-task observer (buffered), the drop's time, and the first request
 * whose address starts with `s3Prefix` (resource timing; entries appear when the request ends). Page code is
 * kept as source text: this package is type-checked without the DOM library.
 */
export async function installProbes(context: BrowserContext, s3Prefix: string | null) {
  await context.addInitScript({ content: probeScript(s3Prefix) });
}

/** The probes as a script to run before the page's own (see installProbes). */
export function probeScript(s3Prefix: string | null): string {
  // With its slash: the app's own address may start with the S3 server's (ports 3000 and 30001).
  return `(${probeSource})(${JSON.stringify(s3Prefix === null ? null : `${s3Prefix}/`)});`;
}

export function probes(page: Page): Promise<Probes> {
  return page.evaluate('window.__bench') as Promise<Probes>;
}

export interface TaskSummary {
  longestMs: number;
  longestAtMs: number;
  over50: number;
  over200: number;
  sumOver50Ms: number;
  top: Array<{ atMs: number; ms: number }>;
}

/** The long tasks that started in [from, to] (page time); `atMs` is relative to `from`. */
export function summariseTasks(tasks: Probes['longtasks'], from: number, to: number): TaskSummary {
  const inside = tasks.filter((task) => task.start >= from - 1 && task.start <= to);
  const sorted = [...inside].sort((a, b) => b.duration - a.duration);
  return {
    longestMs: sorted[0]?.duration ?? 0,
    longestAtMs: sorted[0] ? sorted[0].start - from : 0,
    over50: inside.length,
    over200: inside.filter((task) => task.duration > 200).length,
    sumOver50Ms: inside.reduce((sum, task) => sum + task.duration, 0),
    top: sorted.slice(0, 5).map((task) => ({ atMs: task.start - from, ms: task.duration })),
  };
}

/** JS heap of the page after a full GC (CDP), in bytes. */
export async function heapAfterGc(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  const before = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number };
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('HeapProfiler.collectGarbage');
  const after = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number };
  await cdp.detach();
  return { beforeGc: before.usedSize, afterGc: after.usedSize };
}

/** Main-thread time the renderer spent (CDP Performance metrics), to be read before and after a phase. */
export async function mainThreadMeter(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable', { timeDomain: 'timeTicks' });
  const read = async () => {
    const { metrics } = (await cdp.send('Performance.getMetrics')) as {
      metrics: Array<{ name: string; value: number }>;
    };
    const of = (name: string) => (metrics.find((metric) => metric.name === name)?.value ?? 0) * 1000;
    return {
      task: of('TaskDuration'),
      script: of('ScriptDuration'),
      layout: of('LayoutDuration') + of('RecalcStyleDuration'),
    };
  };
  const start = await read();
  return {
    async stop() {
      const end = await read();
      await cdp.detach();
      return {
        taskMs: end.task - start.task,
        scriptMs: end.script - start.script,
        layoutMs: end.layout - start.layout,
      };
    },
  };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

/** Where a position of a served script comes from, if known (a source map); null to keep the minified name. */
export type SourceResolver = (url: string, line: number, column: number) => string | null;

/**
 * A sampling CPU profile of the page's main thread; `stop` answers the top functions by self and total time,
 * named through `resolve` (source maps) when it knows the script.
 */
export async function cpuProfile(page: Page, resolve: SourceResolver = () => null) {
  const cdp = await page.context().newCDPSession(page);
  const now = async () => (await page.evaluate('performance.now()')) as number;
  return startProfiler(
    (method, params) => cdp.send(method as 'Profiler.enable', params),
    now,
    resolve,
    () => cdp.detach(),
  );
}

/** A DevTools protocol session: a page's, or a worker's (bareChromium's attachWorkers). */
export type CdpSend = (method: string, params?: Record<string, unknown>) => Promise<unknown>;

/**
 * A sampling CPU profile of the thread behind `send` (a page's main thread, a worker); `now` reads that thread's
 * performance.now(), which windows are given in.
 */
export async function startProfiler(
  send: CdpSend,
  now: () => Promise<number>,
  resolve: SourceResolver = () => null,
  detach: () => Promise<void> = async () => undefined,
) {
  await send('Profiler.enable');
  await send('Profiler.setSamplingInterval', { interval: 500 });
  await send('Profiler.start');
  // The profile's clock, in page time (performance.now()), within a round trip.
  const pageStart = await now();
  return {
    /** Top functions overall, and within each window of page time (e.g. the longest tasks). */
    async stop(top = 15, windows: Array<{ from: number; to: number }> = []) {
      const { profile } = (await send('Profiler.stop')) as {
        profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
      };
      await detach();
      const byId = new Map(profile.nodes.map((node) => [node.id, node]));
      const parent = new Map<number, number>();
      for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
      const label = (node: ProfileNode) => {
        const { functionName, url, lineNumber, columnNumber } = node.callFrame;
        const file = url ? url.slice(url.lastIndexOf('/') + 1).replace(/\?.*$/, '') : '';
        const source = url ? resolve(url, lineNumber, columnNumber) : null;
        if (source) return `${functionName || '(anonymous)'} ${source}`;
        return `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}:${columnNumber + 1}` : ''}`;
      };
      // Sample i is taken at the sum of the deltas up to i; the time until the next sample is charged to it.
      const samples: Array<{ id: number; at: number; ms: number }> = [];
      let clock = 0;
      profile.samples.forEach((id, index) => {
        clock += (profile.timeDeltas[index] ?? 0) / 1000;
        samples.push({ id, at: pageStart + clock, ms: (profile.timeDeltas[index + 1] ?? 0) / 1000 });
      });
      const summarise = (chosen: typeof samples, count: number) => {
        const self = new Map<string, number>();
        const total = new Map<string, number>();
        let all = 0;
        for (const { id, ms } of chosen) {
          const node = byId.get(id);
          if (!node) continue;
          all += ms;
          const name = label(node);
          self.set(name, (self.get(name) ?? 0) + ms);
          const seen = new Set<string>();
          for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
            const frame = byId.get(at);
            if (!frame) break;
            const frameName = label(frame);
            if (seen.has(frameName)) continue;
            seen.add(frameName);
            total.set(frameName, (total.get(frameName) ?? 0) + ms);
          }
        }
        const rank = (map: Map<string, number>) =>
          [...map.entries()]
            .sort((a, b) => b[1] - a[1])
            .slice(0, count)
            .map(([name, ms]) => ({ name, ms }));
        return { sampledMs: all, self: rank(self), total: rank(total) };
      };
      return {
        ...summarise(samples, top),
        windows: windows.map((window) => ({
          ...window,
          ...summarise(
            samples.filter((sample) => sample.at >= window.from && sample.at <= window.to),
            8,
          ),
        })),
      };
    },
  };
}

interface TraceEvent {
  ph: string;
  name: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  /** CPU time of the thread during the event, when the trace has it. */
  tdur?: number;
  args?: { name?: string };
}

/**
 * Calls `visit` with each event of a JSON trace (`{"traceEvents":[{…},…]…}`), scanning the bytes for the
 * array's objects; only objects whose text holds `mustContain` are parsed.
 */
function forEachTraceEvent(buffer: Buffer, mustContain: string | null, visit: (event: TraceEvent) => void) {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let objectStart = -1;
  for (let i = buffer.indexOf('[') + 1; i > 0 && i < buffer.length; i++) {
    const byte = buffer[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (byte === 0x5c) escaped = true;
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) {
      inString = true;
    } else if (byte === 0x7b) {
      if (depth === 0) objectStart = i;
      depth += 1;
    } else if (byte === 0x7d) {
      depth -= 1;
      if (depth === 0) {
        const found = mustContain === null || buffer.subarray(objectStart, i + 1).includes(mustContain);
        if (found) visit(JSON.parse(buffer.toString('utf8', objectStart, i + 1)) as TraceEvent);
      }
    } else if (byte === 0x5d && depth === 0) {
      return;
    }
  }
}

/**
 * A Chromium trace (devtools.timeline, toplevel, v8.execute) while it runs; `stop` answers where the renderer's
 * main thread spent its time by trace event, self time (a task's own time outside the events nested in it:
 * `ThreadControllerImpl::RunTask` self time is native work the timeline does not name).
 */
export async function traceMainThread(browser: Browser, page: Page) {
  await browser.startTracing(page, {
    categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'toplevel', 'v8.execute'],
    screenshots: false,
  });
  return {
    async stop(top = 15, longTasks = 3) {
      // A long trace is larger than a string may be: its events are parsed one by one from the bytes.
      const buffer = await browser.stopTracing();
      const mains = new Set<string>();
      forEachTraceEvent(buffer, 'thread_name', (event) => {
        if (event.ph === 'M' && event.args?.name === 'CrRendererMain') mains.add(`${event.pid}:${event.tid}`);
      });
      const byThread = new Map<string, Array<{ name: string; start: number; end: number; cpu?: number }>>();
      const open = new Map<string, TraceEvent[]>();
      forEachTraceEvent(buffer, null, (event) => {
        const thread = `${event.pid}:${event.tid}`;
        if (!mains.has(thread)) return;
        const intervals = byThread.get(thread) ?? [];
        byThread.set(thread, intervals);
        if (event.ph === 'X' && event.dur !== undefined) {
          intervals.push({
            name: event.name,
            start: event.ts,
            end: event.ts + event.dur,
            ...(event.tdur === undefined ? {} : { cpu: event.tdur }),
          });
        } else if (event.ph === 'B') {
          const begun = open.get(thread) ?? [];
          begun.push(event);
          open.set(thread, begun);
        } else if (event.ph === 'E') {
          const begun = open.get(thread)?.pop();
          if (begun) intervals.push({ name: begun.name, start: begun.ts, end: event.ts });
        }
      });
      // The page's renderer is the busiest main thread.
      const intervals = [...byThread.values()].sort((a, b) => b.length - a.length)[0] ?? [];
      intervals.sort((a, b) => a.start - b.start || b.end - a.end);
      const closed: Array<{ name: string; start: number; self: number }> = [];
      const tasks: Array<{ start: number; end: number; cpu?: number }> = [];
      const stack: Array<{ name: string; start: number; end: number; self: number }> = [];
      const close = (until: number) => {
        while (stack.length > 0 && (stack[stack.length - 1] as { end: number }).end <= until) {
          const done = stack.pop() as { name: string; start: number; self: number };
          closed.push({ name: done.name, start: done.start, self: done.self / 1000 });
        }
      };
      for (const interval of intervals) {
        close(interval.start);
        const duration = interval.end - interval.start;
        const parent = stack[stack.length - 1];
        if (parent) parent.self -= Math.min(duration, parent.end - interval.start);
        else tasks.push(interval);
        stack.push({ ...interval, self: duration });
      }
      close(Number.POSITIVE_INFINITY);
      const rank = (chosen: typeof closed, count: number) => {
        const self = new Map<string, number>();
        for (const { name, self: ms } of chosen) self.set(name, (self.get(name) ?? 0) + ms);
        return [...self.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, count)
          .map(([name, ms]) => ({ name, ms }));
      };
      const longest = [...tasks].sort((a, b) => b.end - b.start - (a.end - a.start)).slice(0, longTasks);
      return {
        busyMs: tasks.reduce((sum, task) => sum + (task.end - task.start) / 1000, 0),
        /** The thread's CPU time in those tasks, when the trace has it. */
        cpuMs: tasks.some((task) => task.cpu !== undefined)
          ? tasks.reduce((sum, task) => sum + (task.cpu ?? 0) / 1000, 0)
          : null,
        top: rank(closed, top),
        /** The longest top-level tasks, each with its own events by self time (`atMs` from the trace's first task). */
        longest: longest.map((task) => ({
          atMs: (task.start - (tasks[0]?.start ?? 0)) / 1000,
          ms: (task.end - task.start) / 1000,
          /** The thread's CPU time in it: far less than `ms` when other processes had the cores. */
          cpuMs: task.cpu === undefined ? null : task.cpu / 1000,
          top: rank(
            closed.filter((event) => event.start >= task.start && event.start < task.end),
            8,
          ),
        })),
      };
    },
  };
}

const base64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Decodes a source map's `mappings` (Base64 VLQ) into segments per generated line: [column, source, line, column, name?]. */
function decodeMappings(mappings: string): number[][][] {
  const lines: number[][][] = [];
  const state = [0, 0, 0, 0, 0];
  for (const lineText of mappings.split(';')) {
    const segments: number[][] = [];
    state[0] = 0;
    for (const segmentText of lineText.split(',')) {
      if (!segmentText) continue;
      const fields: number[] = [];
      let value = 0;
      let shift = 0;
      for (const char of segmentText) {
        const digit = base64.indexOf(char);
        value += (digit & 31) << shift;
        if (digit & 32) {
          shift += 5;
          continue;
        }
        fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
        value = 0;
        shift = 0;
      }
      const segment = fields.map((field, index) => {
        state[index] = (state[index] as number) + field;
        return state[index] as number;
      });
      segments.push(segment);
    }
    lines.push(segments);
  }
  return lines;
}

/**
 * Names profile positions of the built web app by its source maps (`*.js.map` beside the scripts in
 * `assetsDir`, made with Vite's `sourcemap: 'hidden'`, so the page itself is unchanged): `file:line (name)`,
 * the path shortened to the package or to src/.
 */
export function sourceMapResolver(assetsDir: string): SourceResolver {
  const maps = new Map<string, { sources: string[]; names: string[]; lines: number[][][] } | null>();
  const load = (file: string) => {
    if (!maps.has(file)) {
      try {
        const raw = JSON.parse(readFileSync(path.join(assetsDir, `${file}.map`), 'utf8')) as {
          sources: string[];
          names: string[];
          mappings: string;
        };
        maps.set(file, { sources: raw.sources, names: raw.names, lines: decodeMappings(raw.mappings) });
      } catch {
        maps.set(file, null);
      }
    }
    return maps.get(file) ?? null;
  };
  return (url, line, column) => {
    const file = url.slice(url.lastIndexOf('/') + 1).replace(/\?.*$/, '');
    if (!file.endsWith('.js')) return null;
    const map = load(file);
    const segments = map?.lines[line];
    if (!map || !segments) return null;
    let found: number[] | undefined;
    for (const segment of segments) {
      if ((segment[0] as number) > column) break;
      found = segment;
    }
    if (!found || found.length < 4) return null;
    const source = (map.sources[found[1] as number] ?? '?')
      .replace(/^.*node_modules\/(?!\.pnpm)/, '')
      .replace(/^(\.\.\/)+/, '');
    const name = found.length > 4 ? ` (${map.names[found[4] as number]})` : '';
    return `${source}:${(found[2] as number) + 1}${name}`;
  };
}

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Serves the files under `root` on 127.0.0.1 (any free port). */
export async function staticServer(root: string) {
  const server = createServer(async (request, response) => {
    const pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    const file = path.join(root, path.normalize(pathname).replace(/^(\.\.[/\\])+/, ''));
    const found = file.startsWith(root) ? await stat(file).catch(() => null) : null;
    if (!found?.isFile()) {
      response.writeHead(404).end('not found');
      return;
    }
    response.writeHead(200, {
      'content-type': types[path.extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
    });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the static server has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
