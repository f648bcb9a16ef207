import { type Db, schema, sqlRows } from '@data-uploader/drizzle';
import { relativePathOfKey } from '@data-uploader/shared';
import { sql } from 'drizzle-orm';
import pLimit from 'p-limit';
import type { Storage } from '../s3/storage.ts';
import { idIn, ledgerByPaths } from './ledgerLookup.ts';
import type { WritableSession } from './uploadSessions.ts';

const { files, uploadSessions } = schema;

/**
 * This session's ledger rows for these keys, with the position of each key in the batch. Keys become
 * (cycle, path) probes of the ledger's unique index; a key outside the cycle, or of a file another session
 * has since taken over, matches nothing.
 */
async function sessionRowsByKey({ session, place }: WritableSession, db: Db, keys: string[]) {
  const paths = keys.map((key) => relativePathOfKey(key, place.keyPrefix, place.cyclePrefix));
  const rows = await sqlRows<{ id: string; ordinal: string; status: string }>(
    db,
    sql`${ledgerByPaths(session.cycleId, paths, sql`f.id, v.ordinal, f.status`)}
        where f.session_id = ${session.id} and f.s3_key = (${sql.param(keys)}::text[])[v.ordinal]`,
  );
  return rows.map((row) => ({
    id: row.id,
    index: Number(row.ordinal) - 1,
    status: row.status,
    completed: row.status === 'completed',
  }));
}

/**
 * Records files the client says arrived (Uppy's upload-success, the CLI's finished PUTs). They count as done
 * now; `finish` checks each against the bucket before the session's result is final. Keys that are not
 * planned in this session are answered back, not recorded.
 */
export async function confirmFiles(
  db: Db,
  writable: WritableSession,
  confirmations: Array<{ key: string; etag?: string; sha256?: string }>,
) {
  const rows = await sessionRowsByKey(
    writable,
    db,
    confirmations.map((c) => c.key),
  );
  const open = rows.filter((row) => !row.completed);
  const [counted] = await sqlRows<{ files: string }>(
    db,
    sql`
    with updated as (
      update ${files} set status = 'completed', etag = v.etag, checksum = coalesce(v.sha256, ${files}.checksum),
        error = null, completed_at = now()
      from unnest(${sql.param(open.map((row) => row.id))}::bigint[],
                  ${sql.param(open.map((row) => confirmations[row.index]?.etag ?? null))}::text[],
                  ${sql.param(open.map((row) => confirmations[row.index]?.sha256?.toLowerCase() ?? null))}::text[],
                  ${sql.param(open.map((row) => row.status))}::text[])
        as v(id, etag, sha256, was)
      where ${idIn(open.map((row) => row.id))} and ${files}.id = v.id and ${files}.status <> 'completed'
        and ${files}.session_id = ${writable.session.id}
        and exists (select 1 from ${uploadSessions} s where s.id = ${writable.session.id} and s.status = 'active')
      returning ${files}.size, v.was
    ), counted as (
      update ${uploadSessions} set files_done = files_done + (select count(*) from updated),
        bytes_done = bytes_done + (select coalesce(sum(size), 0) from updated),
        files_failed = files_failed - (select count(*) from updated where was = 'failed')
      where id = ${writable.session.id}
    )
    select count(*) as files from updated`,
  );
  const known = new Set(rows.map((row) => row.index));
  return {
    confirmed: Number(counted?.files ?? 0),
    alreadyCompleted: rows.length - open.length,
    unknown: confirmations.filter((_, index) => !known.has(index)).map((c) => c.key),
  };
}

/**
 * Records files that failed on the client, with the reason the person will see. A failed multipart file whose
 * upload S3 no longer holds (aborted by a lifecycle rule, say) forgets its uploadId, so the next plan starts it
 * afresh instead of answering `resume` with an upload that cannot be resumed.
 */
export async function failFiles(
  db: Db,
  storage: Storage,
  writable: WritableSession,
  failures: Array<{ key: string; error: string }>,
) {
  const rows = await sessionRowsByKey(
    writable,
    db,
    failures.map((f) => f.key),
  );
  const open = rows.filter((row) => !row.completed);
  const [counted] = await sqlRows<{ files: string }>(
    db,
    sql`
    with updated as (
      update ${files} set status = 'failed', error = v.error, attempts = ${files}.attempts + 1
      from unnest(${sql.param(open.map((row) => row.id))}::bigint[],
                  ${sql.param(open.map((row) => failures[row.index]?.error ?? ''))}::text[],
                  ${sql.param(open.map((row) => row.status))}::text[]) as v(id, error, was)
      where ${idIn(open.map((row) => row.id))} and ${files}.id = v.id and ${files}.status <> 'completed'
        and ${files}.session_id = ${writable.session.id}
        and exists (select 1 from ${uploadSessions} s where s.id = ${writable.session.id} and s.status = 'active')
      returning ${files}.id, v.was
    ), counted as (
      update ${uploadSessions} set files_failed = files_failed + (select count(*) from updated where was <> 'failed')
      where id = ${writable.session.id}
    )
    select count(*) as files from updated`,
  );
  await forgetVanishedUploads(
    db,
    storage,
    writable,
    open.map((row) => row.id),
  );
  const known = new Set(rows.map((row) => row.index));
  return {
    failed: Number(counted?.files ?? 0),
    unknown: failures.filter((_, index) => !known.has(index)).map((f) => f.key),
  };
}

async function forgetVanishedUploads(db: Db, storage: Storage, { place }: WritableSession, ids: string[]) {
  if (ids.length === 0) return;
  const multipart = await sqlRows<{ id: string; s3_key: string; upload_id: string }>(
    db,
    sql`select id, s3_key, upload_id from ${files} where ${idIn(ids)} and upload_id is not null`,
  );
  const limit = pLimit(8);
  const vanished = (
    await Promise.all(
      multipart.map((row) =>
        limit(async () => ((await storage.multipartUploadExists(place, row.s3_key, row.upload_id)) ? null : row.id)),
      ),
    )
  ).filter((id) => id !== null);
  if (vanished.length > 0) await db.execute(sql`update ${files} set upload_id = null where ${idIn(vanished)}`);
}
