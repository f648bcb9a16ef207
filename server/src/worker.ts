import { ConfigError, readConfig } from './config.ts';
import { openDatabase } from './database.ts';
import { Jobs } from './jobs/jobs.ts';
import { Storage } from './s3/storage.ts';

/**
 * `pnpm worker`: the background jobs without the web server, for deployments that want them apart. Several
 * workers (and servers) share the queue in PostgreSQL; set RUN_WORKERS=false on the web servers then.
 */
async function main() {
  const config = readConfig();
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  if (!config.DATABASE_URL)
    throw new ConfigError('pnpm worker needs DATABASE_URL: PGlite cannot be shared between processes');
  const [database, storage] = await Promise.all([openDatabase(config), Storage.open(config)]);
  const jobs = await Jobs.start(
    { config, database, storage, onError: (error) => console.error('job queue:', error.message) },
    { work: true },
  );
  console.log('Data Uploader worker running (imports, clean-up, webhooks)');
  const stop = async () => {
    await jobs.stop();
    await Promise.all([database.close(), storage.close()]);
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
