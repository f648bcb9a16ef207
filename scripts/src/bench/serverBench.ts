/**
 * `pnpm bench:server`: the upload protocol's server side at campaign scale, over real HTTP against
 * PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test; a scratch database is made and
 * dropped), the server in its own process (benchServer.ts, which also explains the simulated bucket listing).
 * For N in 30k, 100k, 300k files: plan (empty ledger) → signBatch (50k URLs) → finish (reconcile) → plan again
 * (full ledger, all skip). BENCH_SIZES, BENCH_PLAN_IN_FLIGHT (default: as many as the CLI sends), BENCH_VERBOSE, BENCH_KEEP
 * tune it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { maxPlanBatch, maxSignBatch } from '@data-uploader/shared';
import pLimit from 'p-limit';
import pg from 'pg';

import { createApi } from '../driver/api.ts';
import { planBatchesInFlight } from '../driver/uploadDriver.ts';
import { appNodeFlags } from './childProcesses.ts';
import { fieldFolder } from './fieldFolder.ts';
import { cpuByProcessGroup, cpuPerUnit } from './processCpu.ts';
import { scratchDatabase } from './scratchDatabase.ts';

const sizes = (process.env.BENCH_SIZES ?? '30000,100000,300000').split(',').map(Number);
const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
/** CPU seconds by process group, from `cpuPerUnit(…, 1000)`. */
const cpuSeconds = (parts: Array<{ group: string; ms: number }>) =>
  parts.map(({ group, ms }) => `${group} ${ms.toFixed(2)} s`).join(', ');
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

async function timed<T>(work: () => Promise<T>, label = ''): Promise<[T, number]> {
  const start = performance.now();
  const result = await work();
  const ms = performance.now() - start;
  if (process.env.BENCH_VERBOSE) console.error(`  ${label} ${seconds(ms)}`);
  return [result, ms];
}

/** Starts the app in its own process (benchServer.ts) on a scratch database; answers its URL, token and pid. */
async function startServer(databaseUrl: string, dataDir: string, count: number) {
  const child = spawn(
    process.execPath,
    [...appNodeFlags, '--import', 'tsx', fileURLToPath(new URL('./benchServer.ts', import.meta.url))],
    {
      env: { ...process.env, DATABASE_URL: databaseUrl, DATA_DIR: dataDir, BENCH_FILES: String(count) },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  const { url, token } = JSON.parse(line) as { url: string; token: string };
  const stop = async () => {
    child.kill('SIGTERM');
    await once(child, 'exit');
  };
  return { url, token, pid: child.pid as number, stop };
}

/**
 * Writes out what earlier work left dirty (the previous size's rows, a dropped database), so a timed phase does
 * not pay for it: the runs of one benchmark otherwise differed by a second on this machine.
 */
async function checkpoint(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('checkpoint');
  } finally {
    await client.end();
  }
}

/** Resident memory of a process, from /proc. */
async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

async function benchOne(count: number) {
  const scratch = await scratchDatabase(adminUrl, 'du_bench');
  const dataDir = await mkdtemp(path.join(tmpdir(), 'du-bench-'));
  const server = await startServer(scratch.url, dataDir, count);
  const folder = fieldFolder(count);
  try {
    const api = createApi(server.url, { token: server.token });
    const project = await api.projects.create.mutate({ name: 'Bench', bucket: 'bench-bucket' });
    const cycle = await api.cycles.create.mutate({ projectId: project.id });

    // The server's time is measured, as if the client were another machine (it is here, on the same two
    // cores, in real life it is not): request bodies are written before the clock starts and answers are read as
    // text, parsed after it stops. BENCH_PLAN_IN_FLIGHT batches are sent at once (1 = one after another).
    const inFlight = pLimit(Number(process.env.BENCH_PLAN_IN_FLIGHT ?? planBatchesInFlight));
    const planAll = async (sessionId: string) => {
      const bodies: string[] = [];
      for (let i = 0; i < folder.length; i += maxPlanBatch) {
        bodies.push(JSON.stringify({ sessionId, files: folder.slice(i, i + maxPlanBatch) }));
      }
      const cpuBefore = await cpuByProcessGroup();
      const [answers, ms] = await timed(() =>
        Promise.all(
          bodies.map((body) =>
            inFlight(async () => {
              const response = await fetch(`${server.url}/trpc/uploads.plan`, {
                method: 'POST',
                headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` },
                body,
              });
              const text = await response.text();
              if (!response.ok) throw new Error(`plan answered ${response.status}: ${text.slice(0, 300)}`);
              return text;
            }),
          ),
        ),
      );
      const cpu = cpuPerUnit(cpuBefore, await cpuByProcessGroup(), 1000);
      const decisions = new Map<string, number>();
      for (const text of answers) {
        const { files } = (JSON.parse(text) as { result: { data: { files: Array<{ decision: string }> } } }).result
          .data;
        for (const file of files) decisions.set(file.decision, (decisions.get(file.decision) ?? 0) + 1);
      }
      return [Object.fromEntries(decisions), ms, cpu] as const;
    };

    const first = await api.uploads.begin.mutate({ projectId: project.id, cycleId: cycle.id, source: 'cli' });
    await checkpoint(adminUrl);
    const [emptyPlan, emptyMs, emptyCpu] = await planAll(first.id);

    const keys = folder.map((file) => `C1/${file.relativePath}`);
    const signKeys = keys.slice(0, Math.min(keys.length, 50_000));
    const [, signMs] = await timed(async () => {
      for (let i = 0; i < signKeys.length; i += maxSignBatch) {
        await api.uploads.signBatch.mutate({
          sessionId: first.id,
          requests: signKeys.slice(i, i + maxSignBatch).map((key) => ({ key })),
        });
      }
    }, 'signBatch');

    const rssBefore = await rssOf(server.pid);
    let peakRss = rssBefore;
    const sampler = setInterval(async () => {
      peakRss = Math.max(peakRss, await rssOf(server.pid).catch(() => 0));
    }, 50);
    const [finished, finishMs] = await timed(() => api.uploads.finish.mutate({ sessionId: first.id }), 'finish');
    clearInterval(sampler);

    const second = await api.uploads.begin.mutate({ projectId: project.id, cycleId: cycle.id, source: 'cli' });
    await checkpoint(adminUrl);
    const [fullPlan, fullMs, fullCpu] = await planAll(second.id);

    return {
      count,
      emptyMs,
      emptyPlan,
      emptyCpu,
      fullMs,
      fullPlan,
      fullCpu,
      signPerSecond: Math.round(signKeys.length / (signMs / 1000)),
      finishMs,
      finished: finished.filesDone,
      rssBefore,
      peakRss,
    };
  } finally {
    await server.stop();
    await scratch.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

console.log(
  `bench:server on PostgreSQL, ${sizes.join(' / ')} files, plan batches of ${maxPlanBatch}, ${process.env.BENCH_PLAN_IN_FLIGHT ?? planBatchesInFlight} in flight (as the CLI sends them)`,
);
const rows = [];
for (const count of sizes) {
  const row = await benchOne(count);
  rows.push(row);
  console.log(
    `${String(count).padStart(7)} files | plan empty ledger ${seconds(row.emptyMs)} (${JSON.stringify(row.emptyPlan)}, CPU ${cpuSeconds(row.emptyCpu)})` +
      ` | plan full ledger ${seconds(row.fullMs)} (${JSON.stringify(row.fullPlan)}, CPU ${cpuSeconds(row.fullCpu)})` +
      ` | signBatch ${row.signPerSecond} URLs/s | finish ${seconds(row.finishMs)} (${row.finished} verified)` +
      ` | server RSS ${mb(row.rssBefore)} → peak ${mb(row.peakRss)} during finish`,
  );
}
const [small, large] = [rows[0], rows.at(-1)];
if (small && large && large !== small) {
  const ratio = large.count / small.count;
  console.log(
    `growth ×${ratio} files → plan empty ×${(large.emptyMs / small.emptyMs).toFixed(1)}, plan full ×${(large.fullMs / small.fullMs).toFixed(1)}, finish ×${(large.finishMs / small.finishMs).toFixed(1)} (linear ≈ ×${ratio})`,
  );
}
