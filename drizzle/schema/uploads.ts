import { sql } from 'drizzle-orm';
import { bigint, bigserial, index, integer, jsonb, pgEnum, pgTable, text, unique, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, timestampTz } from './columns.ts';
import { companies } from './companies.ts';
import { cycles, projects } from './projects.ts';
import { users } from './users.ts';

export const uploadSource = pgEnum('upload_source', ['browser', 'cli', 'job']);
// `finishing` while a finish or abort runs: writers see the session is no longer active and stop.
export const uploadSessionStatus = pgEnum('upload_session_status', [
  'active',
  'finishing',
  'completed',
  'completed_with_errors',
  'aborted',
]);
export const fileStatus = pgEnum('file_status', ['pending', 'uploading', 'completed', 'failed']);

const counter = (name: string) => bigint(name, { mode: 'number' }).notNull().default(0);

export const uploadSessions = pgTable(
  'upload_sessions',
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
    source: uploadSource('source').notNull(),
    label: text('label').notNull().default(''),
    status: uploadSessionStatus('status').notNull().default('active'),
    filesTotal: counter('files_total'),
    bytesTotal: counter('bytes_total'),
    filesDone: counter('files_done'),
    bytesDone: counter('bytes_done'),
    filesSkipped: counter('files_skipped'),
    filesFailed: counter('files_failed'),
    client: text('client').notNull().default(''),
    startedAt: createdAt(),
    /** Last plan, sign or confirm: what tells a live session from a stalled one. */
    lastActivityAt: timestampTz('last_activity_at').notNull().defaultNow(),
    finishedAt: timestampTz('finished_at'),
  },
  (t) => [
    index('upload_sessions_cycle_started_idx').on(t.cycleId, t.startedAt.desc()),
    index('upload_sessions_project_started_idx').on(t.projectId, t.startedAt.desc()),
    index('upload_sessions_company_started_idx').on(t.companyId, t.startedAt.desc()),
  ],
);

/**
 * The upload ledger: one row per file of a cycle, whoever uploaded it and however often. Its cycle and session
 * ids carry no foreign keys: their per-row checks made up a third of the cost of planning new files (measured:
 * 165 vs 107 ms per 5,000 inserted rows), rows are only ever written by planning inside a session it has just
 * loaded, and cycles and sessions are never deleted.
 */
export const files = pgTable(
  'files',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    cycleId: uuid('cycle_id').notNull(),
    /** COLLATE "C" (migration 0005, which drizzle-kit does not describe): compared byte by byte, as S3 keys are. */
    relativePath: text('relative_path').notNull(),
    s3Key: text('s3_key').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    lastModified: timestampTz('last_modified'),
    contentType: text('content_type'),
    sensorSerial: text('sensor_serial'),
    recordedAt: timestampTz('recorded_at'),
    status: fileStatus('status').notNull().default('pending'),
    uploadId: text('upload_id'),
    partSize: integer('part_size'),
    etag: text('etag'),
    checksum: text('checksum'),
    attempts: integer('attempts').notNull().default(0),
    error: text('error'),
    sessionId: uuid('session_id').notNull(),
    completedAt: timestampTz('completed_at'),
    /**
     * When the owning session last planned or signed this file. Another session may take the file over only
     * when this lease has run out or the owner is no longer active, so one key never has two writers.
     */
    claimedAt: timestampTz('claimed_at').notNull().defaultNow(),
    /** The last reconcile that found the object in the bucket with the expected size. */
    verifiedAt: timestampTz('verified_at'),
  },
  (t) => [
    unique('files_cycle_path_key').on(t.cycleId, t.relativePath),
    index('files_session_status_idx').on(t.sessionId, t.status),
  ],
);

/**
 * Which files a session answered `skip` for, so that planning the same folder again in the same session (a
 * browser re-drop, a restarted CLI) counts each skipped file once. A counting aid, written in bulk: one row per
 * plan batch with the batch's file ids sorted, and their range, so a batch is checked only against the earlier
 * batches whose ids it could share (a row per file made recording the skips of a 300k-file re-plan cost as much as
 * looking the files up). No foreign keys, whose per-row checks would double the cost of planning an
 * already-uploaded folder.
 */
export const uploadSessionSkips = pgTable(
  'upload_session_skips',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    sessionId: uuid('session_id').notNull(),
    firstFileId: bigint('first_file_id', { mode: 'number' }).notNull(),
    lastFileId: bigint('last_file_id', { mode: 'number' }).notNull(),
    fileIds: bigint('file_ids', { mode: 'number' }).array().notNull(),
  },
  (t) => [index('upload_session_skips_session_idx').on(t.sessionId, t.firstFileId)],
);

export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    companyId: uuid('company_id').references(() => companies.id),
    userId: uuid('user_id').references(() => users.id),
    action: text('action').notNull(),
    target: text('target').notNull(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    at: timestampTz('at').notNull().defaultNow(),
  },
  (t) => [index('audit_log_company_at_idx').on(t.companyId, t.at.desc())],
);
