import { buildApp } from './app.ts';
import { ConfigError, readConfig } from './config.ts';
import { openDatabase } from './database.ts';
import { createFirstAdmin } from './services/bootstrap.ts';

async function main() {
  const config = readConfig();
  const started = performance.now();
  const database = await openDatabase(config);
  const app = await buildApp({ config, db: database.db, logger: { level: config.LOG_LEVEL } });

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
    await database.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const address = await app.listen({ port: config.PORT, host: config.HOST });
  const where = config.DATABASE_URL ? 'PostgreSQL' : `PGlite in ${config.DATA_DIR}/pglite`;
  const readyMs = Math.round(performance.now() - started);
  console.log(`Data Uploader on ${address} (database: ${where}, ready in ${readyMs} ms)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
