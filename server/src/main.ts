import { fileURLToPath } from 'node:url';
import { buildApp } from './app.ts';
import { ConfigError, readConfig } from './config.ts';
import type { JobQueue } from './context.ts';
import { openDatabase } from './database.ts';
import { Jobs } from './jobs/jobs.ts';
import { openStorage } from './s3/embeddedPort.ts';
import { createFirstAdmin } from './services/bootstrap.ts';

async function main() {
  const config = readConfig();
  // Node 20 is what this machine runs; the SDK's nag about Node 22 is noted in the README, not printed per start.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const started = performance.now();
  const [database, storage] = await Promise.all([openDatabase(config), openStorage(config)]);
  // The job queue is set up once the app listens (its first start on PGlite takes seconds and would hold up
  // every other query on PGlite's single connection); a first enqueue waits for it.
  let jobsStarted: (jobs: Promise<Jobs>) => void = () => undefined;
  const jobsStarting = new Promise<Jobs>((resolve) => {
    jobsStarted = resolve;
  });
  const jobs: JobQueue = {
    enqueueImport: async (id) => (await jobsStarting).enqueueImport(id),
    sessionFinished: (id) =>
      jobsStarting.then(
        (started) => started.sessionFinished(id),
        () => undefined,
      ),
  };
  const app = await buildApp({
    config,
    db: database.db,
    storage,
    jobs,
    logger: { level: config.LOG_LEVEL },
    clientDir: fileURLToPath(new URL('../../client/dist', import.meta.url)),
  });

  const firstAdmin = await createFirstAdmin(database.db);
  if (firstAdmin) {
    console.log(
      [
        '',
        '  First start: created the company "My company" and its operator.',
        `  Sign in as "${firstAdmin.username}" with password: ${firstAdmin.password}`,
        '  It is shown only this once and must be changed at first sign-in.',
        '',
      ].join('\n'),
    );
  }

  const stop = async () => {
    await app.close();
    await (await jobsStarting.catch(() => null))?.stop();
    await Promise.all([database.close(), storage.close()]);
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const address = await app.listen({ port: config.PORT, host: config.HOST });
  jobsStarted(
    Jobs.start({ config, database, storage, onError: (error) => console.error('job queue:', error.message) }),
  );
  jobsStarting.catch((error: unknown) => console.error('job queue failed to start:', error));
  const databaseWhere = config.DATABASE_URL ? 'PostgreSQL' : `PGlite in ${config.DATA_DIR}/pglite`;
  const s3 = storage.embedded ? `embedded S3 at ${storage.embedded.endpoint}, data in ${config.DATA_DIR}/s3` : 'S3';
  const readyMs = Math.round(performance.now() - started);
  console.log(`Data Uploader on ${address} (database: ${databaseWhere}; storage: ${s3}; ready in ${readyMs} ms)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
