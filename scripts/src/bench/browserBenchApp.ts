/**
 * The app as `pnpm bench:browser` runs it: its own process, PostgreSQL from DATABASE_URL, the embedded S3 server
 * under DATA_DIR with a real bucket listing, and the built web app from BENCH_CLIENT_DIR (as server/src/main.ts
 * serves client/dist). The first admin's password is already changed. Prints `{url, token, s3, username,
 * password}` on one line when ready; stops on SIGTERM.
 */
import { openPostgres, schema } from '@data-uploader/drizzle';
import { buildApp } from '@data-uploader/server/app';
import { createApiToken } from '@data-uploader/server/auth/apiTokens';
import { readConfig } from '@data-uploader/server/config';
import { Storage } from '@data-uploader/server/s3/storage';
import { createFirstAdmin } from '@data-uploader/server/services/bootstrap';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const clientDir = process.env.BENCH_CLIENT_DIR;
if (!clientDir) throw new Error('BENCH_CLIENT_DIR must name the built web app');
const config = readConfig({ ...process.env, LOG_LEVEL: 'warn', PORT: '0' });
const database = await openPostgres(config.DATABASE_URL as string);
const storage = await Storage.open(config);
const app = await buildApp({ config, db: database.db, storage, clientDir });
const url = await app.listen({ port: 0, host: '127.0.0.1' });
const admin = await createFirstAdmin(database.db);
if (!admin) throw new Error('the scratch database already had people');
await database.db.update(schema.users).set({ mustChangePassword: false });
const [user] = await database.db.select({ id: schema.users.id }).from(schema.users).limit(1);
const { token } = await createApiToken(database.db, user?.id as string, 'bench');
console.log(JSON.stringify({ url, token, s3: storage.embedded?.endpoint, ...admin }));
process.once('SIGTERM', async () => {
  await app.close();
  await Promise.all([database.close(), storage.close()]);
  process.exit(0);
});
