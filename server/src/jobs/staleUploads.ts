import type { Db } from '@data-uploader/drizzle';
import { schema, sqlRows } from '@data-uploader/drizzle';
import { sql } from 'drizzle-orm';
import type { Storage } from '../s3/storage.ts';

const { files, projects, uploadSessions } = schema;

export interface CleanUpResult {
  aborted: number;
  kept: number;
}

/**
 * Aborts multipart uploads that no active session owns and that are older than `olderThanHours`, in every
 * project's bucket under its key prefix, and marks their ledger rows: S3 bills the parts of an abandoned upload
 * for ever otherwise. An upload a live session may still resume is never touched, however old.
 */
export async function cleanStaleUploads(db: Db, storage: Storage, olderThanHours: number): Promise<CleanUpResult> {
  const cutoff = Date.now() - olderThanHours * 3600_000;
  const result: CleanUpResult = { aborted: 0, kept: 0 };
  const places = await db
    .select({
      bucket: projects.bucket,
      region: projects.region,
      endpoint: projects.endpoint,
      keyPrefix: projects.keyPrefix,
    })
    .from(projects);
  for (const place of places) {
    for await (const page of storage.listMultipartUploads(place, place.keyPrefix ? `${place.keyPrefix}/` : '')) {
      const old = page.filter((upload) => upload.initiated.getTime() < cutoff);
      result.kept += page.length - old.length;
      if (old.length === 0) continue;
      const live = await liveUploadIds(
        db,
        old.map((upload) => upload.uploadId),
      );
      const aborted: string[] = [];
      for (const upload of old) {
        if (live.has(upload.uploadId)) {
          result.kept += 1;
          continue;
        }
        await storage.abortMultipartUpload(place, upload.key, upload.uploadId);
        aborted.push(upload.uploadId);
      }
      await markAborted(db, aborted);
      result.aborted += aborted.length;
    }
  }
  return result;
}

/** The ledger rows of aborted uploads, in one statement per page: a completed row keeps its state. */
async function markAborted(db: Db, uploadIds: string[]) {
  if (uploadIds.length === 0) return;
  await db.execute(sql`
    update ${files}
    set upload_id = null,
        status = case when status = 'completed' then status else 'failed' end,
        error = case when status = 'completed' then error
                     else 'its multipart upload was abandoned and aborted by the clean-up; upload it again' end
    where upload_id = any(${sql.param(uploadIds)}::text[])`);
}

/** The upload ids a session that is still active has recorded: those stay, whatever their age. */
async function liveUploadIds(db: Db, uploadIds: string[]): Promise<Set<string>> {
  const rows = await sqlRows<{ upload_id: string }>(
    db,
    sql`select f.upload_id from ${files} f join ${uploadSessions} s on s.id = f.session_id
        where f.upload_id = any(${sql.param(uploadIds)}::text[]) and s.status in ('active', 'finishing')`,
  );
  return new Set(rows.map((row) => row.upload_id));
}
