import { type Db, schema, sqlRows } from '@data-uploader/drizzle';
import { cycleKeyPrefix } from '@data-uploader/shared';
import { TRPCError } from '@trpc/server';
import { and, eq, sql } from 'drizzle-orm';
import pLimit from 'p-limit';
import type { MultipartUpload, Storage } from '../s3/storage.ts';
import { idIn, ledgerByPaths } from './ledgerLookup.ts';
import type { WritableSession } from './uploadSessions.ts';

const { files, uploadSessionSkips, uploadSessions } = schema;

/**
 * Closes a session and makes the ledger say only what the bucket holds. The cycle's prefix is listed page by
 * page (1,000 keys, one bulk update each, so memory stays flat at 300k objects):
 * - this session's files found with their expected size become completed, the others failed;
 * - files completed earlier (by any session) that are gone or changed size become failed.
 */
export async function finishSession(db: Db, storage: Storage, writable: WritableSession) {
  return closing(db, writable.session.id, () => reconcile(db, storage, writable));
}

async function reconcile(db: Db, storage: Storage, { session, place }: WritableSession) {
  const [{ stamp } = { stamp: '' }] = await sqlRows<{ stamp: string }>(db, sql`select now()::text as stamp`);
  const prefix = cycleKeyPrefix(place.keyPrefix, place.cyclePrefix);
  for await (const page of storage.listObjects(place, prefix)) {
    if (page.length === 0) continue;
    const found = await sqlRows<{ id: string }>(
      db,
      sql`${ledgerByPaths(
        session.cycleId,
        page.map((object) => object.key.slice(prefix.length)),
        sql`f.id`,
      )}
      where f.s3_key = (${sql.param(page.map((o) => o.key))}::text[])[v.ordinal]
        and f.size = (${sql.param(page.map((o) => o.size))}::bigint[])[v.ordinal]`,
    );
    if (found.length === 0) continue;
    await db.execute(sql`
      update ${files} set verified_at = greatest(${files}.verified_at, ${stamp}::timestamptz),
        status = case when ${files}.session_id = ${session.id} then 'completed'::file_status else ${files}.status end,
        completed_at = case when ${files}.session_id = ${session.id} then coalesce(${files}.completed_at, now())
                            else ${files}.completed_at end,
        error = case when ${files}.session_id = ${session.id} then null else ${files}.error end
      where ${idIn(found.map((row) => row.id))}`);
  }
  const unseen = sql`(${files}.verified_at is null or ${files}.verified_at < ${stamp}::timestamptz)`;
  await db.execute(sql`
    update ${files} set status = 'failed', error = 'not in the bucket with the expected size when the session finished'
    where ${files}.cycle_id = ${session.cycleId} and ${files}.session_id = ${session.id} and ${unseen}`);
  const lost = await sqlRows<{ session_id: string }>(
    db,
    sql`
    update ${files} set status = 'failed', error = 'missing from the bucket, or changed size, at a later reconcile'
    where ${files}.cycle_id = ${session.cycleId} and ${files}.status = 'completed'
      and ${files}.completed_at < ${stamp}::timestamptz and ${unseen}
    returning ${files}.session_id`,
  );
  // Earlier sessions that lost files now say so too: their counters and result follow the ledger.
  for (const earlier of new Set(lost.map((row) => row.session_id))) {
    if (earlier !== session.id) await recountAfterLoss(db, earlier);
  }
  await abortOrphanUploads(db, storage, { session, place });
  return settleCounters(db, session.id, 'finish');
}

/**
 * Aborts the multipart uploads under the cycle's prefix that no client can use any more: a CreateMultipartUpload
 * whose answer was lost on its way leaves an upload the client never learned of, and its retry makes another.
 * The reconciled ledger decides, and only two kinds are certain garbage:
 * - an upload on a completed file: signing refuses every request for a completed file, and a session that
 *   claims the file again (overwrite) makes its row pending before it can create an upload;
 * - an upload on a file of this session that is not completed, other than the one its row records: a later
 *   plan resumes the recorded one only.
 * Uploads on files another session holds, and on keys the ledger does not know, wait for the stale-upload
 * clean-up. Each page is listed before its rows are read, so no upload is judged on a row older than itself.
 * With nothing open this is one listing request. A refused abort or listing never fails the finish.
 */
async function abortOrphanUploads(db: Db, storage: Storage, { session, place }: WritableSession) {
  const prefix = cycleKeyPrefix(place.keyPrefix, place.cyclePrefix);
  const limit = pLimit(8);
  try {
    for await (const page of storage.listMultipartUploads(place, prefix)) {
      if (page.length === 0) continue;
      const orphans = await sqlRows<{ ordinal: string }>(
        db,
        sql`${ledgerByPaths(
          session.cycleId,
          page.map((upload) => upload.key.slice(prefix.length)),
          sql`v.ordinal`,
        )}
        where f.s3_key = (${sql.param(page.map((upload) => upload.key))}::text[])[v.ordinal]
          and (f.status = 'completed'
               or (f.session_id = ${session.id}
                   and f.upload_id is distinct from (${sql.param(page.map((upload) => upload.uploadId))}::text[])[v.ordinal]))`,
      );
      const uploads = orphans.map((row) => page[Number(row.ordinal) - 1] as MultipartUpload);
      await Promise.all(
        uploads.map((upload) =>
          limit(() =>
            storage.abortMultipartUpload(place, upload.key, upload.uploadId).catch((error: unknown) => {
              console.warn(
                `finish: could not abort orphan upload ${upload.uploadId} of ${upload.key}: ${reason(error)}`,
              );
            }),
          ),
        ),
      );
    }
  } catch (error) {
    console.warn(`finish: open uploads under ${prefix} left to the stale-upload clean-up: ${reason(error)}`);
  }
}

const reason = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/**
 * A session's result from the ledger: its own files, plus the files it skipped as already uploaded that a
 * reconcile has since found missing — a session never reports as there what is not.
 */
async function ledgerTotals(db: Db, sessionId: string) {
  const [totals] = await sqlRows<{ done: string; bytes: string; failed: string; lost_skips: string }>(
    db,
    sql`
      select count(*) filter (where status = 'completed') as done,
             coalesce(sum(size) filter (where status = 'completed'), 0) as bytes,
             count(*) filter (where status = 'failed') as failed,
             (select count(*) from ${uploadSessionSkips} k cross join unnest(k.file_ids) as skipped(id)
               join ${files} f on f.id = skipped.id
               where k.session_id = ${sessionId} and f.status = 'failed' and f.session_id <> ${sessionId}) as lost_skips
      from ${files} where session_id = ${sessionId}`,
  );
  return {
    filesDone: Number(totals?.done ?? 0),
    bytesDone: Number(totals?.bytes ?? 0),
    filesFailed: Number(totals?.failed ?? 0) + Number(totals?.lost_skips ?? 0),
  };
}

/** A session whose files went missing at a later reconcile: counters recounted, `completed` becomes `…_with_errors`. */
async function recountAfterLoss(db: Db, sessionId: string) {
  const totals = await ledgerTotals(db, sessionId);
  await db
    .update(uploadSessions)
    .set({
      ...totals,
      status: sql`case when ${uploadSessions.status} = 'completed' and ${totals.filesFailed} > 0
                   then 'completed_with_errors'::upload_session_status else ${uploadSessions.status} end`,
    })
    .where(eq(uploadSessions.id, sessionId));
}

/**
 * Runs a finish or abort with the session marked `finishing` first: plans still in flight complete before (they
 * hold the session row), later plans, confirms and fails see it is no longer active, and a second finish is
 * refused. If the work fails (S3 unreachable, say) the session is active again, so the client can retry.
 */
async function closing<T>(db: Db, sessionId: string, work: () => Promise<T>): Promise<T> {
  const claimed = await db
    .update(uploadSessions)
    .set({ status: 'finishing' })
    .where(and(eq(uploadSessions.id, sessionId), eq(uploadSessions.status, 'active')))
    .returning({ id: uploadSessions.id });
  if (claimed.length === 0) {
    throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'This upload session is already closing or closed' });
  }
  try {
    return await work();
  } catch (error) {
    await db
      .update(uploadSessions)
      .set({ status: 'active' })
      .where(and(eq(uploadSessions.id, sessionId), eq(uploadSessions.status, 'finishing')));
    throw error;
  }
}

/** Recounts a closing session from its ledger rows, so its counters are exactly what the ledger says. */
async function settleCounters(db: Db, sessionId: string, how: 'finish' | 'abort') {
  const totals = await ledgerTotals(db, sessionId);
  const status = how === 'abort' ? 'aborted' : totals.filesFailed > 0 ? 'completed_with_errors' : 'completed';
  await db
    .update(uploadSessions)
    .set({ status, ...totals, finishedAt: sql`now()` })
    .where(eq(uploadSessions.id, sessionId));
  return status;
}

/** Aborts the session's unfinished multipart uploads in S3 and closes it; finished files stay. */
export async function abortSession(db: Db, storage: Storage, writable: WritableSession) {
  return closing(db, writable.session.id, () => abortUploads(db, storage, writable));
}

async function abortUploads(db: Db, storage: Storage, { session, place }: WritableSession) {
  const open = await sqlRows<{ id: string; s3_key: string; upload_id: string }>(
    db,
    sql`
    select id, s3_key, upload_id from ${files}
    where session_id = ${session.id} and upload_id is not null and status <> 'completed'`,
  );
  const limit = pLimit(8);
  await Promise.all(open.map((row) => limit(() => storage.abortMultipartUpload(place, row.s3_key, row.upload_id))));
  await db.execute(sql`
    update ${files} set status = 'failed', error = 'upload session aborted', upload_id = null
    where session_id = ${session.id} and status <> 'completed'`);
  return settleCounters(db, session.id, 'abort');
}
