import { type Db, schema, sqlRows } from '@data-uploader/drizzle';
import { sql } from 'drizzle-orm';
import type { WritableSession } from './uploadSessions.ts';

const { files, uploadSessions } = schema;

/**
 * Records files the client says arrived (Uppy's upload-success, the CLI's finished PUTs). They count as done
 * now; `finish` checks each against the bucket before the session's result is final. Keys that are not
 * planned in this session are answered back, not recorded.
 */
export async function confirmFiles(
  db: Db,
  { session }: WritableSession,
  confirmations: Array<{ key: string; etag?: string; sha256?: string }>,
) {
  const confirmed = await sqlRows<{ s3_key: string; size: string }>(
    db,
    sql`
    with updated as (
      update ${files} set status = 'completed', etag = v.etag, checksum = coalesce(v.sha256, ${files}.checksum),
        error = null, completed_at = now()
      from unnest(${sql.param(confirmations.map((c) => c.key))}::text[],
                  ${sql.param(confirmations.map((c) => c.etag ?? null))}::text[],
                  ${sql.param(confirmations.map((c) => c.sha256?.toLowerCase() ?? null))}::text[]) as v(key, etag, sha256)
      where ${files}.cycle_id = ${session.cycleId} and ${files}.session_id = ${session.id}
        and ${files}.s3_key = v.key and ${files}.status <> 'completed'
      returning ${files}.s3_key, ${files}.size
    ), counted as (
      update ${uploadSessions} set files_done = files_done + (select count(*) from updated),
        bytes_done = bytes_done + (select coalesce(sum(size), 0) from updated)
      where id = ${session.id}
    )
    select s3_key, size from updated`,
  );
  const done = new Set(confirmed.map((row) => row.s3_key));
  const known = await keysOfSession(
    db,
    session,
    confirmations.map((c) => c.key).filter((key) => !done.has(key)),
  );
  return {
    confirmed: done.size,
    alreadyCompleted: known.size,
    unknown: confirmations.map((c) => c.key).filter((key) => !done.has(key) && !known.has(key)),
  };
}

async function keysOfSession(db: Db, session: WritableSession['session'], keys: string[]) {
  if (keys.length === 0) return new Set<string>();
  const rows = await sqlRows<{ s3_key: string }>(
    db,
    sql`
    select s3_key from ${files}
    where cycle_id = ${session.cycleId} and session_id = ${session.id} and s3_key = any(${sql.param(keys)}::text[])`,
  );
  return new Set(rows.map((row) => row.s3_key));
}

/** Records files that failed on the client, with the reason the person will see. */
export async function failFiles(db: Db, { session }: WritableSession, failures: Array<{ key: string; error: string }>) {
  const failed = await sqlRows<{ s3_key: string }>(
    db,
    sql`
    with updated as (
      update ${files} set status = 'failed', error = v.error, attempts = ${files}.attempts + 1
      from unnest(${sql.param(failures.map((f) => f.key))}::text[], ${sql.param(failures.map((f) => f.error))}::text[]) as v(key, error)
      where ${files}.cycle_id = ${session.cycleId} and ${files}.session_id = ${session.id}
        and ${files}.s3_key = v.key and ${files}.status <> 'completed'
      returning ${files}.s3_key
    ), counted as (
      update ${uploadSessions} set files_failed = files_failed + (select count(*) from updated) where id = ${session.id}
    )
    select s3_key from updated`,
  );
  const recorded = new Set(failed.map((row) => row.s3_key));
  return { failed: recorded.size, unknown: failures.map((f) => f.key).filter((key) => !recorded.has(key)) };
}
