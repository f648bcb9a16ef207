/**
 * `pnpm bench:server`: the upload protocol's server side at campaign scale, over real HTTP against
 * PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test; a scratch database is made and
 * dropped). For N in 30k, 100k, 300k files:
 *   plan (empty ledger) → plan again (full ledger, all skip… after finish) → signBatch → finish.
 * The finish reconcile lists the bucket through Storage.listObjects; creating 300k real objects would take the
 * embedded server ~10 minutes, so the listing is fed from the planned keys (only the listing is simulated;
 * every database statement of the reconcile runs for real). Times are medians where repeated.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openPostgres } from '@data-uploader/drizzle';
import { buildApp } from '@data-uploader/server/app';
import { createApiToken } from '@data-uploader/server/auth/apiTokens';
import { readConfig } from '@data-uploader/server/config';
import { Storage } from '@data-uploader/server/s3/storage';
import { createFirstAdmin } from '@data-uploader/server/services/bootstrap';
import { maxPlanBatch, maxSignBatch } from '@data-uploader/shared';
import pLimit from 'p-limit';
import pg from 'pg';
import { createApi } from '../driver/api.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const sizes = (process.env.BENCH_SIZES ?? '30000,100000,300000').split(',').map(Number);
const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

async function scratchDatabase() {
  const name = `du_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      if (process.env.BENCH_KEEP) console.error(`  kept database ${name}`);
      else await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

function fieldFolder(count: number) {
  // 50 sensors, recordings every 10 minutes, as an AudioMoth campaign writes them.
  return Array.from({ length: count }, (_, i) => {
    const sensor = `SENSOR_${String(i % 50).padStart(3, '0')}`;
    const minute = Math.floor(i / 50) * 10;
    const day = new Date(Date.UTC(2025, 8, 1) + minute * 60_000).toISOString().replace(/[-:]/g, '').slice(0, 15);
    return {
      relativePath: `${sensor}/${day.replace('T', '_')}.WAV`,
      size: 1_000_000 + (i % 1000),
      lastModified: Date.now(),
    };
  });
}

async function timed<T>(work: () => Promise<T>, label = ''): Promise<[T, number]> {
  const start = performance.now();
  const result = await work();
  const ms = performance.now() - start;
  if (process.env.BENCH_VERBOSE) console.error(`  ${label} ${seconds(ms)}`);
  return [result, ms];
}

async function benchOne(count: number) {
  const scratch = await scratchDatabase();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'du-bench-'));
  const config = readConfig({ LOG_LEVEL: 'silent', DATA_DIR: dataDir, DATABASE_URL: scratch.url });
  const database = await openPostgres(scratch.url);
  const storage = await Storage.open(config);
  const folder = fieldFolder(count);
  // Simulated listing (see the header): the planned keys with their sizes, 1,000 a page.
  storage.listObjects = async function* (_project, prefix) {
    for (let i = 0; i < folder.length; i += 1000) {
      yield folder.slice(i, i + 1000).map((file) => ({ key: `${prefix}${file.relativePath}`, size: file.size }));
    }
  };
  const app = await buildApp({ config, db: database.db, storage });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    await createFirstAdmin(database.db);
    const [admin] = await database.db.query.users.findMany({ limit: 1 });
    await database.db.update((await import('@data-uploader/drizzle')).schema.users).set({ mustChangePassword: false });
    const { token } = await createApiToken(database.db, admin?.id as string, 'bench');
    const api = createApi(url, { token });
    const project = await api.projects.create.mutate({ name: 'Bench', bucket: 'bench-bucket' });
    const cycle = await api.cycles.create.mutate({ projectId: project.id });

    // BENCH_PLAN_IN_FLIGHT batches are sent at once (1 = strictly one after another).
    const inFlight = pLimit(Number(process.env.BENCH_PLAN_IN_FLIGHT ?? 1));
    const planAll = async (sessionId: string) => {
      const decisions = new Map<string, number>();
      const batches = [];
      for (let i = 0; i < folder.length; i += maxPlanBatch) batches.push(folder.slice(i, i + maxPlanBatch));
      await Promise.all(
        batches.map((batch) =>
          inFlight(async () => {
            const { files } = await api.uploads.plan.mutate({ sessionId, files: batch });
            for (const file of files) decisions.set(file.decision, (decisions.get(file.decision) ?? 0) + 1);
          }),
        ),
      );
      return Object.fromEntries(decisions);
    };

    const first = await api.uploads.begin.mutate({ projectId: project.id, cycleId: cycle.id, source: 'cli' });
    const [emptyPlan, emptyMs] = await timed(() => planAll(first.id), 'plan empty');

    const keys = folder.map((file) => `C1/${file.relativePath}`);
    const signKeys = keys.slice(0, Math.min(keys.length, 50_000));
    const [, signMs] = await timed(async () => {
      if (process.env.BENCH_VERBOSE) console.error('  signing');
      for (let i = 0; i < signKeys.length; i += maxSignBatch) {
        await api.uploads.signBatch.mutate({
          sessionId: first.id,
          requests: signKeys.slice(i, i + maxSignBatch).map((key) => ({ key })),
        });
      }
    });

    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 50);
    const rssBefore = process.memoryUsage().rss;
    const [finished, finishMs] = await timed(() => api.uploads.finish.mutate({ sessionId: first.id }), 'finish');
    clearInterval(sampler);

    const second = await api.uploads.begin.mutate({ projectId: project.id, cycleId: cycle.id, source: 'cli' });
    const [fullPlan, fullMs] = await timed(() => planAll(second.id), 'plan full');

    return {
      count,
      emptyMs,
      emptyPlan,
      fullMs,
      fullPlan,
      signPerSecond: Math.round(signKeys.length / (signMs / 1000)),
      finishMs,
      finished: finished.filesDone,
      rssBefore,
      peakRss,
    };
  } finally {
    await app.close();
    await storage.close();
    await database.close();
    await scratch.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

console.log(
  `bench:server on PostgreSQL, ${sizes.join(' / ')} files, plan batches of ${maxPlanBatch}, ${process.env.BENCH_PLAN_IN_FLIGHT ?? 1} in flight`,
);
const rows = [];
for (const count of sizes) {
  const row = await benchOne(count);
  rows.push(row);
  console.log(
    `${String(count).padStart(7)} files | plan empty ledger ${seconds(row.emptyMs)} (${JSON.stringify(row.emptyPlan)})` +
      ` | plan full ledger ${seconds(row.fullMs)} (${JSON.stringify(row.fullPlan)})` +
      ` | signBatch ${row.signPerSecond} URLs/s | finish ${seconds(row.finishMs)} (${row.finished} verified)` +
      ` | RSS ${mb(row.rssBefore)} → peak ${mb(row.peakRss)} during finish`,
  );
}
const [small, large] = [rows[0], rows.at(-1)];
if (small && large && large !== small) {
  const ratio = large.count / small.count;
  console.log(
    `growth ×${ratio} files → plan empty ×${(large.emptyMs / small.emptyMs).toFixed(1)}, plan full ×${(large.fullMs / small.fullMs).toFixed(1)}, finish ×${(large.finishMs / small.finishMs).toFixed(1)} (linear ≈ ×${ratio})`,
  );
}
