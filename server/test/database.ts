import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type Database, openPglite, openPostgres } from '@data-uploader/drizzle';
import pg from 'pg';
import { inject } from 'vitest';

export type TestDatabase = Database & { name: string };

/**
 * A database of this test file's own, migrated: a clone of the run's PostgreSQL template when the run has
 * DATABASE_URL, or of the PGlite template otherwise (or when `kind` asks for PGlite).
 */
export async function createTestDatabase(kind: 'default' | 'pglite' = 'default'): Promise<TestDatabase> {
  const templateUrl = inject('templateDatabaseUrl');
  if (kind === 'pglite' || !templateUrl) {
    const archive = await readFile(inject('pgliteTemplatePath'));
    const database = await openPglite({ loadDataDir: new Blob([archive]) });
    return { ...database, name: 'pglite' };
  }
  const template = new URL(templateUrl);
  const name = `du_test_${randomBytes(6).toString('hex')}`;
  // Cloning needs a connection to another database than the template: the run's own.
  const adminUrl = process.env.DATABASE_URL ?? templateUrl;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${template.pathname.slice(1)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(templateUrl);
  url.pathname = `/${name}`;
  const database = await openPostgres(url.toString());
  return {
    ...database,
    name,
    async close() {
      await database.close();
      const dropper = new pg.Client({ connectionString: adminUrl });
      await dropper.connect();
      await dropper.query(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}
