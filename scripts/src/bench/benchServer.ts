/**
 * The app as `pnpm bench:server` runs it: its own process (clients are other machines in real life, so the
 * benchmark's client does not share the server's CPU), PostgreSQL from DATABASE_URL, the embedded S3 server.
 * The bucket listing that `finish` reconciles against is simulated: the benchmark's folder (BENCH_FILES files of
 * fieldFile), 1,000 keys a page, as if every file had arrived. 300k real objects would take the embedded
 * server ~10 minutes to hold; every SQL statement of the reconcile still runs for real. Prints `{url, token}` on one line when ready.
 */
import { openPostgres, schema } from '@data-uploader/drizzle';
import { buildApp } from '@data-uploader/server/app';
import { createApiToken } from '@data-uploader/server/auth/apiTokens';
import { readConfig } from '@data-uploader/server/config';
import { Storage } from '@data-uploader/server/s3/storage';
import { createFirstAdmin } from '@data-uploader/server/services/bootstrap';
import { fieldFile } from './fieldFolder.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const config = readConfig({ ...process.env, LOG_LEVEL: 'silent', PORT: '0' });
const database = await openPostgres(config.DATABASE_URL as string);
const storage = await Storage.open(config);
const count = Number(process.env.BENCH_FILES ?? 0);
// Made a page at a time, as S3 sends them: holding the whole folder would burden the server's heap (and its
// garbage collector) in a way no real listing does.
storage.listObjects = async function* (_project, prefix) {
  for (let first = 0; first < count; first += 1000) {
    const page = [];
    for (let i = first; i < Math.min(count, first + 1000); i++) {
      const file = fieldFile(i);
      page.push({ key: `${prefix}${file.relativePath}`, size: file.size, etag: '' });
    }
    yield page;
  }
};
const app = await buildApp({ config, db: database.db, storage });
const url = await app.listen({ port: 0, host: '127.0.0.1' });
await createFirstAdmin(database.db);
await database.db.update(schema.users).set({ mustChangePassword: false });
const [admin] = await database.db.select({ id: schema.users.id }).from(schema.users).limit(1);
const { token } = await createApiToken(database.db, admin?.id as string, 'bench');
console.log(JSON.stringify({ url, token, pid: process.pid }));
process.once('SIGTERM', async () => {
  await app.close();
  await Promise.all([database.close(), storage.close()]);
  process.exit(0);
});
