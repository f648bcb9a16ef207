import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Database, openPglite, openPostgres } from '@data-uploader/drizzle';
import type { Config } from './config.ts';

/** PostgreSQL when DATABASE_URL is set, otherwise the embedded PGlite kept under DATA_DIR/pglite. */
export async function openDatabase(config: Config): Promise<Database> {
  if (config.DATABASE_URL) return openPostgres(config.DATABASE_URL);
  const dataDir = path.resolve(config.DATA_DIR, 'pglite');
  mkdirSync(dataDir, { recursive: true });
  return openPglite({ dataDir });
}
