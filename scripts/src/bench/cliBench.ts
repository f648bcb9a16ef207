import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { partCount, partRange } from '@data-uploader/shared';
import pLimit from 'p-limit';

import { type Api, createApi } from '../driver/api.ts';
import { UploadDriver } from '../driver/uploadDriver.ts';
import { median, run, startReporting, stopChildren } from './childProcesses.ts';
import { scratchDatabase } from './scratchDatabase.ts';

const MiB = 1024 * 1024;
const thisFile = fileURLToPath(import.meta.url);
const repoRoot = path.resolve(path.dirname(thisFile), '../../..');

/** The child: the app with a real bucket listing; prints `{url, token, s3}` on one line when ready. */
async function serve() {
  const { openPostgres, schema } = await import('@data-uploader/drizzle');
  const { buildApp } = await import('@data-uploader/server/app');
  const { createApiToken } = await import('@data-uploader/server/auth/apiTokens');
  const { readConfig } = await import('@data-uploader/server/config');
  const { Storage } = await import('@data-uploader/server/s3/storage');
  const { createFirstAdmin } = await import('@data-uploader/server/services/bootstrap');
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const config = readConfig({ ...process.env, LOG_LEVEL: 'warn', PORT: '0' });
  const database = await openPostgres(config.DATABASE_URL as string);
  const storage = await Storage.open(config);
  const app = await buildApp({ config, db: database.db, storage });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  await createFirstAdmin(database.db);
  await database.db.update(schema.users).set({ mustChangePassword: false });
  const [admin] = await database.db.select({ id: schema.users.id }).from(schema.users).limit(1);
  const { token } = await createApiToken(database.db, admin?.id as string, 'bench');
  console.log(JSON.stringify({ url, token, s3: storage.embedded?.endpoint }));
  process.once('SIGTERM', async () => {
    await app.close();
    await Promise.all([database.close(), storage.close()]);
    process.exit(0);
  });
}

async function startServer(databaseUrl: string, dataDir: string) {
  return startReporting<{ url: string; token: string; s3: string }>(thisFile, {
    ...process.env,
    CLI_BENCH_ROLE: 'server',
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
  });
}

/** `count` random files of `size` bytes, 1,000 to a subfolder. */
async function smallFolder(dir: string, count: number, size: number) {
  for (let i = 0; i < count; i++) {
    const sub = path.join(dir, `d${String(Math.floor(i / 1000)).padStart(2, '0')}`);
    if (i % 1000 === 0) await mkdir(sub, { recursive: true });
    await writeFile(path.join(sub, `f${String(i).padStart(5, '0')}.bin`), randomBytes(size));
  }
}

async function bigFile(file: string, bytes: number) {
  const handle = await open(file, 'w');
  try {
    for (let written = 0; written < bytes; written += 64 * MiB) {
      await handle.write(randomBytes(Math.min(64 * MiB, bytes - written)));
    }
  } finally {
    await handle.close();
  }
}

async function newCycle(api: Api, projectId: string) {
  return api.cycles.create.mutate({ projectId });
}

/**
 * The bare presigned-multipart driver: create, all parts with plain fetch at `parallelism`, complete. Each part
 * carries its Content-MD5, signed into its URL, as every client of this product's S3 must (S3 then refuses a
 * damaged part); no retries, no ledger checksum, no confirm.
 */
async function bareMultipart(api: Api, projectId: string, file: string, size: number, parallelism: number) {
  const cycle = await newCycle(api, projectId);
  const session = await api.uploads.begin.mutate({ projectId, cycleId: cycle.id, source: 'cli' });
  const { files } = await api.uploads.plan.mutate({
    sessionId: session.id,
    files: [{ relativePath: 'big.bin', size, lastModified: Date.now() }],
  });
  const entry = files[0];
  if (entry?.decision !== 'upload' || !entry.partSize) throw new Error('big.bin was not planned as multipart');
  const { key, partSize } = entry;
  const start = performance.now();
  const create = await api.uploads.sign.mutate({ sessionId: session.id, method: 'POST', key });
  const created = await fetch(create.url, { method: 'POST', headers: create.headers });
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(await created.text())?.[1];
  if (!uploadId) throw new Error(`CreateMultipartUpload answered ${created.status} without an UploadId`);
  const numbers = Array.from({ length: partCount(size, partSize) }, (_, i) => i + 1);
  const etags = new Map<number, string>();
  const limit = pLimit(parallelism);
  const handle = await open(file, 'r');
  try {
    await Promise.all(
      numbers.map((partNumber) =>
        limit(async () => {
          const range = partRange(partNumber, size, partSize);
          const body = new Uint8Array(range.end - range.start);
          await handle.read(body, 0, body.byteLength, range.start);
          const contentMd5 = createHash('md5').update(body).digest('base64');
          const { urls } = await api.uploads.signBatch.mutate({
            sessionId: session.id,
            requests: [{ key, uploadId, partNumber, contentMd5 }],
          });
          const signed = urls[0] as { url: string; headers: Record<string, string> };
          const response = await fetch(signed.url, { method: 'PUT', headers: signed.headers, body });
          await response.arrayBuffer();
          if (!response.ok) throw new Error(`part ${partNumber}: ${response.status}`);
          etags.set(partNumber, response.headers.get('etag') ?? '');
        }),
      ),
    );
  } finally {
    await handle.close();
  }
  const complete = await api.uploads.sign.mutate({ sessionId: session.id, method: 'POST', key, uploadId });
  const xmlBody = `<CompleteMultipartUpload>${numbers
    .map((n) => `<Part><PartNumber>${n}</PartNumber><ETag>${etags.get(n)}</ETag></Part>`)
    .join('')}</CompleteMultipartUpload>`;
  const completed = await fetch(complete.url, {
    method: 'POST',
    headers: { 'content-type': 'application/xml' },
    body: xmlBody,
  });
  const text = await completed.text();
  if (!completed.ok || text.includes('<Error>')) throw new Error(`Complete failed: ${completed.status} ${text}`);
  return { ms: performance.now() - start, partSize, parts: numbers.length };
}

async function main() {
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const count = Number(process.env.BENCH_FILES ?? 10_000);
  const fileSize = Number(process.env.BENCH_FILE_KIB ?? 16) * 1024;
  const bigBytes = Number(process.env.BENCH_BIG_MIB ?? 2048) * MiB;
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
  const only = process.env.BENCH_ONLY;
  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

  const temp = await mkdtemp(path.join(tmpdir(), 'du-clibench-'));
  let scratch: Awaited<ReturnType<typeof scratchDatabase>> | undefined;
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = () => {
    cleaning ??= (async () => {
      stopChildren();
      await server?.stop().catch(() => {});
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

  try {
    scratch = await scratchDatabase(adminUrl, 'du_clibench');
    server = await startServer(scratch.url, path.join(temp, 'data'));
    const api = createApi(server.url, { token: server.token });
    const project = await api.projects.create.mutate({ name: 'CLI bench', bucket: 'cli-bench' });
    const rcloneEnv: NodeJS.ProcessEnv = { ...process.env, RCLONE_CONFIG: path.join(temp, 'rclone.conf') };
    delete rcloneEnv.AWS_CA_BUNDLE;
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
    const rcloneCount = async (prefix: string) => {
      const { stdout, ms } = await run('rclone', ['size', '--json', `peer:cli-bench/${prefix}/`], rcloneEnv);
      return { ...(JSON.parse(stdout) as { count: number; bytes: number }), ms };
    };
    const { stdout: version } = await run('rclone', ['version'], rcloneEnv);
    console.log(
      `bench:cli — ${runs} runs each, concurrency/transfers ${concurrency}, server ${server.url}, embedded S3 ${server.s3}, ${version.split('\n')[0]}`,
    );

    const rows: Array<{ label: string; values: number[]; unit: string }> = [];
    const ratios: Array<{ label: string; ratio: number; target: number }> = [];

    if (only !== 'big') {
      const dir = path.join(temp, 'small');
      await smallFolder(dir, count, fileSize);
      const cli = { ours: [] as number[], head: [] as number[], noHead: [] as number[], noHeadList: [] as number[] };
      const cliEnv = {
        ...process.env,
        DATA_UPLOADER_SERVER: server.url,
        DATA_UPLOADER_TOKEN: server.token,
        XDG_CONFIG_HOME: path.join(temp, 'config'),
      };
      // What every CLI run pays before its first request: node + tsx loading the CLI.
      const startup = await run(
        process.execPath,
        ['--import', 'tsx', path.join(repoRoot, 'scripts/src/cli/main.ts'), '--help'],
        cliEnv,
      );
      console.log(`  CLI start-up alone (node --import tsx main.ts --help): ${(startup.ms / 1000).toFixed(2)} s`);
      for (let i = 1; i <= runs; i++) {
        const cycle = await newCycle(api, project.id);
        const ours = await run(
          process.execPath,
          [
            '--import',
            'tsx',
            path.join(repoRoot, 'scripts/src/cli/main.ts'),
            'upload',
            dir,
            '--project',
            project.name,
            '--cycle',
            cycle.name,
            '--concurrency',
            String(concurrency),
            '--json',
          ],
          cliEnv,
        );
        const finished = ours.stdout
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as { type: string; ok?: boolean; session?: { filesDone: number } })
          .find((event) => event.type === 'finished');
        if (!finished?.ok || finished.session?.filesDone !== count) {
          throw new Error(`CLI run ${i} did not finish ${count} files: ${JSON.stringify(finished)}`);
        }
        const head = await run(
          'rclone',
          ['copy', dir, `peer:cli-bench/rclone-head-${i}/`, '--transfers', String(concurrency), '--checkers', '16'],
          rcloneEnv,
        );
        const headCheck = await rcloneCount(`rclone-head-${i}`);
        const noHead = await run(
          'rclone',
          [
            'copy',
            dir,
            `peer:cli-bench/rclone-nohead-${i}/`,
            '--transfers',
            String(concurrency),
            '--checkers',
            '16',
            '--s3-no-head',
          ],
          rcloneEnv,
        );
        const noHeadCheck = await rcloneCount(`rclone-nohead-${i}`);
        for (const check of [headCheck, noHeadCheck]) {
          if (check.count !== count) throw new Error(`rclone run ${i}: the listing holds ${check.count} objects`);
        }
        cli.ours.push(count / (ours.ms / 1000));
        cli.head.push(count / (head.ms / 1000));
        cli.noHead.push(count / (noHead.ms / 1000));
        cli.noHeadList.push(count / ((noHead.ms + noHeadCheck.ms) / 1000));
        console.log(
          `  small run ${i}: ours ${(ours.ms / 1000).toFixed(2)} s (cycle ${cycle.name}, ${finished.session.filesDone} verified by finish)` +
            ` | rclone ${(head.ms / 1000).toFixed(2)} s | rclone --s3-no-head ${(noHead.ms / 1000).toFixed(2)} s` +
            ` + listing ${(noHeadCheck.ms / 1000).toFixed(2)} s`,
        );
      }
      rows.push(
        { label: `ours: CLI upload (plan+PUT+confirm+finish/listing)`, values: cli.ours, unit: 'files/s' },
        { label: 'rclone copy (PUT+HEAD each)', values: cli.head, unit: 'files/s' },
        { label: 'rclone copy --s3-no-head', values: cli.noHead, unit: 'files/s' },
        { label: 'rclone copy --s3-no-head + rclone size', values: cli.noHeadList, unit: 'files/s' },
      );
      ratios.push(
        { label: 'ours / rclone (HEAD each)', ratio: median(cli.ours) / median(cli.head), target: 1.2 },
        {
          label: 'ours / rclone --s3-no-head + listing',
          ratio: median(cli.ours) / median(cli.noHeadList),
          target: 1.2,
        },
        { label: 'ours / rclone --s3-no-head (no verify)', ratio: median(cli.ours) / median(cli.noHead), target: 1.2 },
      );
      await rm(dir, { recursive: true, force: true });
    }

    if (only !== 'small') {
      const file = path.join(temp, 'big.bin');
      await bigFile(file, bigBytes);
      const { size, mtimeMs } = await stat(file);
      const big = { ours: [] as number[], bare: [] as number[] };
      let partSize = 0;
      for (let i = 1; i <= runs; i++) {
        const cycle = await newCycle(api, project.id);
        const driver = new UploadDriver({ api, concurrency });
        const start = performance.now();
        const result = await driver.upload({
          projectId: project.id,
          cycleId: cycle.id,
          files: [{ relativePath: 'big.bin', absolutePath: file, size, lastModified: Math.floor(mtimeMs) }],
        });
        const oursMs = performance.now() - start;
        if (result.failed.length > 0 || result.session?.filesDone !== 1 || result.session.bytesDone !== size) {
          throw new Error(
            `our big upload ${i} failed: ${JSON.stringify(result.failed)} ${JSON.stringify(result.session)}`,
          );
        }
        const bare = await bareMultipart(api, project.id, file, size, concurrency);
        partSize = bare.partSize;
        big.ours.push(size / MiB / (oursMs / 1000));
        big.bare.push(size / MiB / (bare.ms / 1000));
        console.log(
          `  big run ${i}: ours ${(oursMs / 1000).toFixed(2)} s | bare ${(bare.ms / 1000).toFixed(2)} s (${bare.parts} × ${bare.partSize / MiB} MiB parts)`,
        );
      }
      const label = `${size / MiB} MiB, ${partSize / MiB} MiB parts × ${concurrency}`;
      rows.push(
        { label: `ours: UploadDriver multipart (${label})`, values: big.ours, unit: 'MiB/s' },
        { label: 'bare presigned multipart (fetch + Content-MD5, no retry/confirm)', values: big.bare, unit: 'MiB/s' },
      );
      ratios.push({ label: 'ours / bare multipart', ratio: median(big.ours) / median(big.bare), target: 0.9 });
    }

    console.log('');
    console.log(`| ${'benchmark'.padEnd(60)} | ${'median'.padStart(14)} | runs`);
    console.log(`|${'-'.repeat(62)}|${'-'.repeat(16)}|------`);
    for (const row of rows) {
      const values = row.values.map((v) => v.toFixed(1)).join(', ');
      console.log(
        `| ${row.label.padEnd(60)} | ${`${median(row.values).toFixed(1)} ${row.unit}`.padStart(14)} | ${values}`,
      );
    }
    console.log('');
    for (const { label, ratio, target } of ratios) {
      console.log(
        `${label.padEnd(42)} ×${ratio.toFixed(2)}  (target ≥ ×${target}: ${ratio >= target ? 'met' : 'MISSED'})`,
      );
    }
  } finally {
    await cleanup();
  }
}

if (process.env.CLI_BENCH_ROLE === 'server') await serve();
else await main();
