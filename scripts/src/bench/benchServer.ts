/**
 * The app as `pnpm bench:server` runs it: its own process (clients are other machines in real life, so the
 * benchmark's client does not share the server's CPU), PostgreSQL from DATABASE_URL, the embedded S3 server.
 * The bucket listing that `finish` reconciles against is simulated from the ledger (every planned key is "in the
 * bucket", 1,000 per page in key order): 300k real objects would take the embedded server ~10 minutes to hold,
 * and every SQL statement of the reconcile still runs for real. Prints `{url, token}` on one line when ready.
 */
import { openPostgres, schema, sql, sqlRows } from '@data-uploader/drizzle';
import { buildApp } from '@data-uploader/server/app';
import { createApiToken } from '@data-uploader/server/auth/apiTokens';
import { readConfig } from '@data-uploader/server/config';
import { Storage } from '@data-uploader/server/s3/storage';
import { createFirstAdmin } from '@data-uploader/server/services/bootstrap';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const config = readConfig({ ...process.env, LOG_LEVEL: 'silent', PORT: '0' });
const database = await openPostgres(config.DATABASE_URL as string);
const storage = await Storage.open(config);
storage.listObjects = async function* (_project, prefix) {
  let after = '';
  for (;;) {
    const page = await sqlRows<{ relative_path: string; size: string }>(
      database.db,
      sql`select relative_path, size from ${schema.files}
          where cycle_id = (select id from ${schema.cycles} limit 1) and relative_path > ${after}
          order by relative_path limit 1000`,
    );
    if (page.length === 0) return;
    after = page.at(-1)?.relative_path ?? '';
    yield page.map((row) => ({ key: `${prefix}${row.relative_path}`, size: Number(row.size) }));
  }
};
const app = await buildApp({ config, db: database.db, storage });
const url = await app.listen({ port: 0, host: '127.0.0.1' });
await createFirstAdmin(database.db);
await database.db.update(schema.users).set({ mustChangePassword: false });
const [admin] = await database.db.select({ id: schema.users.id }).from(schema.users).limit(1);
const { token } = await createApiToken(database.db, admin?.id as string, 'bench');
console.log(JSON.stringify({ url, token }));
process.once('SIGTERM', async () => {
  await app.close();
  await Promise.all([database.close(), storage.close()]);
  process.exit(0);
});
