import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import * as schema from './schema/index.ts';

export { schema };

/** One database type for PostgreSQL (node-postgres) and the embedded PGlite alike. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** PostgreSQL only: where the job queue (pg-boss) connects with a pool of its own. */
  connectionString?: string;
  /** PGlite only: the instance the job queue shares (it has a single connection). */
  pglite?: PGlite;
  close(): Promise<void>;
}

const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

/** Connects to PostgreSQL and applies every pending migration. */
export async function openPostgres(connectionString: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString, max: 10 });
  // A client that loses its connection (server restart, pg_terminate_backend) emits 'error'; without a listener
  // that would crash the process. The pool listens while a client is idle (and drops it); a client checked out
  // between two statements of a transaction has nobody listening, so each gets a listener of its own: its
  // pending and next queries fail (a 5xx the caller retries) and the pool drops it when it is released.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = drizzlePg({ client: pool, schema });
  await migratePg(db, { migrationsFolder });
  return { db, kind: 'postgres', connectionString, close: () => pool.end() };
}

export interface PgliteOptions {
  /** Data directory; in memory when absent. */
  dataDir?: string;
  /** A `dumpDataDir()` archive to start from (a migrated template is ~10× faster than initdb). */
  loadDataDir?: Blob | File;
}

/** Opens the in-process PGlite database and applies every pending migration. */
export async function openPglite(options: PgliteOptions = {}): Promise<Database & { pglite: PGlite }> {
  const pglite = await PGlite.create(options.dataDir, options.loadDataDir ? { loadDataDir: options.loadDataDir } : {});
  const db = drizzlePglite({ client: pglite, schema });
  await migratePglite(db, { migrationsFolder });
  return { db, kind: 'pglite', pglite, close: () => pglite.close() };
}

/**
 * Rows of a raw SQL statement (bulk `unnest` writes, `for update` reads). Both drivers answer `{ rows }`;
 * the shared Db type cannot say so, hence the one cast here.
 */
export async function sqlRows<Row>(db: { execute(query: SQL): PromiseLike<unknown> }, query: SQL): Promise<Row[]> {
  const result = (await db.execute(query)) as { rows: Row[] };
  return result.rows;
}
export { sql } from 'drizzle-orm';
