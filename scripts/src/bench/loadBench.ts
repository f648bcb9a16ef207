/**
 * `pnpm bench:load`: many clients at once against one server (its own process, PostgreSQL from DATABASE_URL,
 * default postgres://postgres@127.0.0.1:5432/test; a scratch database is made and dropped). Each client begins a
 * session and plans and signs its own 2,000 files; clients share cycles five by five, as a field team would.
 * Two rounds: `paced`, where a client moves the bytes of each signed batch before it signs the next (a pause
 * standing in for the transfer), and `burst`, where every client calls back to back. Prints per-call latency
 * (p50/p99/max) of plan and signBatch, errors, and the server's resident memory across the run.
 * BENCH_LOAD_CLIENTS, BENCH_LOAD_FILES, BENCH_LOAD_PLAN_BATCH, BENCH_LOAD_SIGN_BATCH, BENCH_LOAD_PAUSE_MS tune it.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createApi } from '../driver/api.ts';
import { startReporting, stopChildren } from './childProcesses.ts';
import { fieldFolder } from './fieldFolder.ts';
import { scratchDatabase } from './scratchDatabase.ts';

const clientCount = Number(process.env.BENCH_LOAD_CLIENTS ?? 50);
const filesPerClient = Number(process.env.BENCH_LOAD_FILES ?? 2000);
const planBatch = Number(process.env.BENCH_LOAD_PLAN_BATCH ?? 500);
const signBatch = Number(process.env.BENCH_LOAD_SIGN_BATCH ?? 100);
const rampMs = Number(process.env.BENCH_LOAD_RAMP_MS ?? 10_000);
const pauseMs = Number(process.env.BENCH_LOAD_PAUSE_MS ?? 1000);
const clientsPerCycle = 5;
const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

type Procedure = 'plan' | 'signBatch';

/** Latencies of every call, per procedure, and the errors, of one round. */
class Tally {
  readonly latencies: Record<Procedure, number[]> = { plan: [], signBatch: [] };
  readonly errors: string[] = [];

  async time<T>(procedure: Procedure, call: () => Promise<T>): Promise<T | undefined> {
    const start = performance.now();
    try {
      return await call();
    } catch (error) {
      this.errors.push(`${procedure}: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    } finally {
      this.latencies[procedure].push(performance.now() - start);
    }
  }
}

function percentile(values: number[], fraction: number) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? Number.NaN;
}

const ms = (value: number) => `${value.toFixed(0)} ms`;
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** One client: begin, plan its files batch by batch, then sign them batch by batch, pausing after each. */
async function runClient(
  api: ReturnType<typeof createApi>,
  place: { projectId: string; cycleId: string },
  sensorOffset: number,
  tally: Tally,
  pause: number,
) {
  const folder = fieldFolder(filesPerClient).map((file) => ({
    ...file,
    relativePath: file.relativePath.replace(/^SENSOR_(\d+)/, (_, n) => `SENSOR_${Number(n) + sensorOffset}`),
  }));
  const session = await api.uploads.begin.mutate({ ...place, source: 'cli', label: 'load' });
  const keys: string[] = [];
  for (let i = 0; i < folder.length; i += planBatch) {
    const planned = await tally.time('plan', () =>
      api.uploads.plan.mutate({ sessionId: session.id, files: folder.slice(i, i + planBatch) }),
    );
    for (const file of planned?.files ?? []) if (file.decision === 'upload') keys.push(file.key);
  }
  for (let i = 0; i < keys.length; i += signBatch) {
    const requests = keys.slice(i, i + signBatch).map((key) => ({ key }));
    await tally.time('signBatch', () => api.uploads.signBatch.mutate({ sessionId: session.id, requests }));
    if (pause > 0) await sleep(pause);
  }
  await api.uploads.abort.mutate({ sessionId: session.id });
  return keys.length;
}

async function round(
  name: string,
  url: string,
  token: string,
  pid: number,
  pacing: { ramp: number; pause: number },
  clients = clientCount,
) {
  const api = createApi(url, { token });
  const places: Array<{ projectId: string; cycleId: string }> = [];
  for (let i = 0; i < Math.ceil(clients / clientsPerCycle); i++) {
    const project = await api.projects.create.mutate({ name: `Load ${name} ${i}`, bucket: `load-${name}-${i}` });
    const cycle = await api.cycles.create.mutate({ projectId: project.id });
    places.push({ projectId: project.id, cycleId: cycle.id });
  }
  const tally = new Tally();
  const rssStart = await rssOf(pid);
  let rssPeak = rssStart;
  const sampler = setInterval(async () => {
    rssPeak = Math.max(rssPeak, await rssOf(pid).catch(() => 0));
  }, 100);
  const start = performance.now();
  const planned = await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      await sleep((pacing.ramp * i) / clients);
      return runClient(
        createApi(url, { token }),
        places[Math.floor(i / clientsPerCycle)] as (typeof places)[number],
        (i % clientsPerCycle) * 50,
        tally,
        pacing.pause,
      );
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const calls = tally.latencies.plan.length + tally.latencies.signBatch.length;
  clearInterval(sampler);
  const rssEnd = await rssOf(pid);
  console.log(
    `${name.padEnd(6)} | ${clients} clients × ${filesPerClient} files in ${seconds.toFixed(1)} s | errors ${tally.errors.length}` +
      ` | ${planned.reduce((sum, count) => sum + count, 0)} files planned and signed | ${(calls / seconds).toFixed(0)} calls/s`,
  );
  for (const procedure of ['plan', 'signBatch'] as const) {
    const values = tally.latencies[procedure];
    const size = procedure === 'plan' ? planBatch : signBatch;
    console.log(
      `       | ${procedure.padEnd(9)} ${values.length} calls of ${size}: p50 ${ms(percentile(values, 0.5))}` +
        ` · p99 ${ms(percentile(values, 0.99))} · max ${ms(Math.max(...values))}`,
    );
  }
  console.log(`       | server RSS ${mb(rssStart)} at start → peak ${mb(rssPeak)} → ${mb(rssEnd)} at end`);
  for (const error of tally.errors.slice(0, 5)) console.log(`       | error: ${error}`);
}

process.once('SIGINT', () => {
  stopChildren();
  process.exit(130);
});

const scratch = await scratchDatabase(adminUrl, 'du_load');
const dataDir = await mkdtemp(path.join(tmpdir(), 'du-load-'));
const server = await startReporting<{ url: string; token: string; pid: number }>(
  fileURLToPath(new URL('./benchServer.ts', import.meta.url)),
  { ...process.env, DATABASE_URL: scratch.url, DATA_DIR: dataDir, BENCH_FILES: '0' },
);
try {
  console.log(
    `bench:load on PostgreSQL: ${clientCount} clients, ${filesPerClient} files each, ${clientsPerCycle} clients per cycle;` +
      ` plan ${planBatch} / signBatch ${signBatch} files per call`,
  );
  console.log(`paced: arrivals over ${rampMs / 1000} s, ${pauseMs} ms per signed batch; burst: all at once, no pause`);
  // One client first, unmeasured, so the measured rounds do not time the server's JIT warming up.
  await round('warmup', server.url, server.token, server.pid, { ramp: 0, pause: 0 }, 1);
  await round('paced', server.url, server.token, server.pid, { ramp: rampMs, pause: pauseMs });
  await round('burst', server.url, server.token, server.pid, { ramp: 0, pause: 0 });
} finally {
  await server.stop();
  await scratch.drop();
  await rm(dataDir, { recursive: true, force: true });
}
