import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openPglite, openPostgres } from '@data-uploader/drizzle';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** PostgreSQL: a migrated template database every test file clones. */
    templateDatabaseUrl: string | null;
    /** PGlite: a migrated data directory archive every test file loads. */
    pgliteTemplatePath: string;
  }
}

export function databaseUrlWithName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/**
 * Migrates once per run and hands every test file a template: a fresh PostgreSQL database is a
 * `CREATE DATABASE … TEMPLATE` away (~0.1 s), a fresh PGlite a data-dir archive away (~0.5 s instead of
 * 2–3 s of initdb).
 */
export default async function setup(project: TestProject) {
  const cleanups: Array<() => Promise<void>> = [];

  const folder = await mkdtemp(path.join(tmpdir(), 'du-pglite-template-'));
  const pglite = await openPglite();
  const archive = await pglite.pglite.dumpDataDir('gzip');
  await pglite.close();
  const pgliteTemplatePath = path.join(folder, 'template.tar.gz');
  await writeFile(pgliteTemplatePath, Buffer.from(await archive.arrayBuffer()));
  cleanups.push(() => rm(folder, { recursive: true, force: true }));
  project.provide('pgliteTemplatePath', pgliteTemplatePath);

  const adminUrl = process.env.DATABASE_URL;
  if (adminUrl) {
    const name = `du_template_${process.pid}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`drop database if exists ${name}`);
    await admin.query(`create database ${name}`);
    const template = await openPostgres(databaseUrlWithName(adminUrl, name));
    await template.close();
    cleanups.push(async () => {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    });
    project.provide('templateDatabaseUrl', databaseUrlWithName(adminUrl, name));
  } else {
    project.provide('templateDatabaseUrl', null);
  }

  return async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
}
