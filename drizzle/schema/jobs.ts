import { bigint, index, pgEnum, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, timestampTz } from './columns.ts';
import { companies } from './companies.ts';
import { cycles, projects } from './projects.ts';
import { uploadSessions } from './uploads.ts';
import { users } from './users.ts';

export const importJobStatus = pgEnum('import_job_status', ['queued', 'running', 'completed', 'failed', 'cancelled']);

/**
 * An import of a folder on the server's own disk (a card-reader station, a network share), run by a worker
 * through pg-boss. The queue keeps the job's delivery state; this row keeps what people see and the upload
 * session the job sends through, so a restarted worker continues that session.
 */
export const importJobs = pgTable(
  'import_jobs',
  {
    id: id(),
    companyId: uuid('company_id')
      .notNull()
      .references(() => companies.id),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id),
    cycleId: uuid('cycle_id')
      .notNull()
      .references(() => cycles.id),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    /** The folder as the admin gave it, and as resolved (symlinks followed) when it was checked. */
    path: text('path').notNull(),
    resolvedPath: text('resolved_path').notNull(),
    label: text('label').notNull().default(''),
    status: importJobStatus('status').notNull().default('queued'),
    sessionId: uuid('session_id').references(() => uploadSessions.id),
    filesFound: bigint('files_found', { mode: 'number' }),
    attempts: bigint('attempts', { mode: 'number' }).notNull().default(0),
    error: text('error'),
    createdAt: createdAt(),
    startedAt: timestampTz('started_at'),
    finishedAt: timestampTz('finished_at'),
  },
  (t) => [index('import_jobs_company_created_idx').on(t.companyId, t.createdAt)],
);
