import { type Db, schema, sqlRows } from '@data-uploader/drizzle';
import type { planEntry } from '@data-uploader/shared';
import {
  cycleKeyPrefix,
  decideFile,
  type FileDecision,
  type LedgerEntry,
  maxKeyBytes,
  normaliseRelativePath,
  type PartPolicy,
  recordingTime,
  sizeProblem,
  utf8ByteLength,
} from '@data-uploader/shared';
import { TRPCError } from '@trpc/server';
import { and, eq, type SQL, sql } from 'drizzle-orm';
import type { z } from 'zod';
import { arrayLiteral } from './arrayLiteral.ts';
import { isUniqueViolation } from './conflicts.ts';
import { idIn, ledgerByPaths } from './ledgerLookup.ts';
import type { WritableSession } from './uploadSessions.ts';

const { files, uploadSessionSkips, uploadSessions } = schema;

type PlanEntry = z.infer<typeof planEntry>;

/** The answer for one file of a plan batch, in the order the files were sent. */
export type PlannedFile =
  | { relativePath: string; decision: 'skip'; size: number }
  | {
      relativePath: string;
      decision: 'upload';
      key: string;
      size: number;
      method: 'single' | 'multipart';
      partSize: number | null;
    }
  | { relativePath: string; decision: 'resume'; key: string; size: number; uploadId: string; partSize: number }
  | { relativePath: string; decision: 'conflict'; size: number; existingSize: number; reason: string }
  | { relativePath: string; decision: 'invalid'; reason: string };

interface ValidFile {
  index: number;
  path: string;
  key: string;
  size: number;
  /** Milliseconds since the epoch; PostgreSQL makes the timestamp (a Date per file costs a 300k-file plan). */
  lastModified: number | null;
  contentType: string | null;
  sensorSerial: string | null;
  /** Set once the file is planned for upload: the file itself becomes its new ledger row, no copy per file. */
  partSize: number | null;
}

/**
 * The time in a file's name (`YYYYMMDD_HHMMSS`), taken as UTC like the insight views' days; read only for the rows
 * a plan writes.
 */
function recordedAtOf(path: string): string | null {
  const time = recordingTime(path.slice(path.lastIndexOf('/') + 1));
  return time ? `${time}Z` : null;
}

/** Checks one file's name and size: the reason it cannot be uploaded, or its normalised form. */
function checkFile(entry: PlanEntry, index: number, prefix: string): ValidFile | string {
  const normalised = normaliseRelativePath(entry.relativePath);
  if (!normalised.ok) return normalised.reason;
  const problem = sizeProblem(entry.size);
  if (problem) return problem;
  const key = prefix + normalised.path;
  const bytes = utf8ByteLength(key);
  if (bytes > maxKeyBytes) return `makes an S3 key of ${bytes} bytes; S3 allows ${maxKeyBytes}`;
  return {
    index,
    path: normalised.path,
    key,
    size: entry.size,
    lastModified: entry.lastModified ?? null,
    contentType: entry.contentType || null,
    sensorSerial: normalised.sensorSerial,
    partSize: null,
  };
}

/** Checks names and sizes; one bad file is answered `invalid` and never fails the batch. */
function validate(entries: PlanEntry[], prefix: string) {
  const answers: PlannedFile[] = new Array(entries.length);
  const valid: ValidFile[] = [];
  const seen = new Set<string>();
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index] as PlanEntry;
    const checked = checkFile(entry, index, prefix);
    if (typeof checked === 'string' || seen.has(checked.path)) {
      const reason = typeof checked === 'string' ? checked : 'appears twice in this batch';
      answers[index] = { relativePath: entry.relativePath, decision: 'invalid', reason };
      continue;
    }
    seen.add(checked.path);
    valid.push(checked);
  }
  return { answers, valid };
}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/**
 * A ledger row as planning reads it: what `decideFile` needs, and the row's id and version for a claim.
 */
interface LedgerRow extends LedgerEntry {
  id: string;
  /** The row version, so a claim succeeds only if nobody changed the row since it was read. */
  version: string;
  /** Already this session's row. */
  owned: boolean;
}

/** A ledger row as the lookup answers it, with its place in the batch (counting from 1). */
type FoundRow = [
  ordinal: number,
  id: string,
  version: string,
  owned: boolean,
  size: number,
  status: LedgerEntry['status'],
  uploadId: string | null,
  partSize: number | null,
  s3Key: string,
  heldByOtherSession: boolean,
];

const ledgerRowOf = ([, id, version, owned, size, status, uploadId, partSize, s3Key, held]: FoundRow): LedgerRow => ({
  id,
  version,
  owned,
  size,
  status,
  uploadId,
  partSize,
  s3Key,
  heldByOtherSession: held,
});

/**
 * The ledger rows of these files, by their place in `valid`, read without locks: a skip writes nothing, and a
 * claim is only written if the row is still the version read here (see `claimExisting`), so two planners cannot
 * both take a file. The rows come back as one JSON array of arrays, parsed natively: the driver's rows cost the
 * server more than the lookup itself, and PostgreSQL builds arrays faster than objects (measured on a 300k-file
 * re-plan: a quarter less CPU in all than driver rows). The key is only read to resume a multipart upload, so only
 * rows with an upload id carry it.
 */
async function ledgerRows(tx: Tx, sessionId: string, cycleId: string, valid: ValidFile[], leaseMinutes: number) {
  const columns = sql`v.ordinal, f.id, f.size, f.status, f.s3_key, f.upload_id, f.part_size, f.session_id,
    f.claimed_at, f.row_version`;
  const paths = valid.map((file) => file.path);
  const [found] = await sqlRows<{ rows: FoundRow[] }>(
    tx,
    sql`
    select coalesce(json_agg(json_build_array(
      x.ordinal, x.id::text, x.row_version, x.session_id = ${sessionId}, x.size, x.status, x.upload_id, x.part_size,
      case when x.upload_id is not null then x.s3_key else '' end,
      x.session_id <> ${sessionId} and s.status = 'active' and x.claimed_at > now() - make_interval(mins => ${leaseMinutes})
    )), '[]') as rows
    from (${ledgerByPaths(cycleId, paths, columns)}) x join ${uploadSessions} s on s.id = x.session_id`,
  );
  const byPlace = new Array<LedgerRow | undefined>(valid.length);
  for (const row of found?.rows ?? []) byPlace[row[0] - 1] = ledgerRowOf(row);
  return byPlace;
}

// Object literals written out, not spread from a common base: this runs for each of 300k files.
function answerFor(file: ValidFile, decision: FileDecision): PlannedFile {
  const { path: relativePath, size } = file;
  switch (decision.decision) {
    case 'skip':
      return { relativePath, size, decision: 'skip' };
    case 'conflict':
      return { relativePath, size, decision: 'conflict', existingSize: decision.existingSize, reason: decision.reason };
    case 'resume':
      return {
        relativePath,
        size,
        decision: 'resume',
        key: decision.key,
        uploadId: decision.uploadId,
        partSize: decision.partSize,
      };
    case 'upload':
      return {
        relativePath,
        size,
        decision: 'upload',
        key: decision.key,
        method: decision.method,
        partSize: decision.partSize,
      };
  }
}

/**
 * Counts each file a session skips once, however often the same folder is planned in it: the batch's ids are
 * recorded as one row, less those an earlier batch of the session recorded. The session row is locked first (the
 * lock its counters are updated under anyway), so two batches of one session that skip the same file count it once.
 */
async function recordSkips(tx: Tx, sessionId: string, fileIds: string[]): Promise<number> {
  if (fileIds.length === 0) return 0;
  const sorted = fileIds.map(Number).sort((a, b) => a - b);
  const ids = arrayLiteral(sorted);
  await tx.execute(sql`select 1 from ${uploadSessions} where id = ${sessionId} for no key update`);
  const [added] = await sqlRows<{ count: number }>(
    tx,
    sql`with earlier as (
          select unnest(file_ids) as id from ${uploadSessionSkips}
          where session_id = ${sessionId} and first_file_id <= ${sorted.at(-1)} and last_file_id >= ${sorted[0]}
        ),
        fresh as (
          select coalesce(array_agg(b.id order by b.id), '{}') as ids from unnest(${ids}::bigint[]) as b(id)
          where not exists (select 1 from earlier where earlier.id = b.id)
        ),
        added as (
          insert into ${uploadSessionSkips} (session_id, first_file_id, last_file_id, file_ids)
          select ${sessionId}, ids[1], ids[cardinality(ids)], ids from fresh where cardinality(ids) > 0
        )
        select cardinality(ids) as count from fresh`,
  );
  return added?.count ?? 0;
}

/** What a batch adds to its session's counters. */
interface BatchCounts {
  newFiles: number;
  newBytes: number;
  skipped: number;
  retriedFailures: number;
}

/** How many paths of a batch `likelyAllNew` looks up. */
const samplePaths = 32;

/**
 * Whether none of a sample of these paths is in the ledger yet: then the whole batch is most likely new (a first
 * upload, or the part of a folder an interrupted session had not reached), and it is inserted without looking
 * up every path first. A guess only: a path the sample missed makes the insert fail on the unique index, and the
 * batch is planned against the ledger after all.
 */
async function likelyAllNew(tx: Tx, cycleId: string, valid: ValidFile[]) {
  const step = Math.max(1, Math.floor(valid.length / samplePaths));
  const sample = valid.filter((_, place) => place % step === 0).map((file) => file.path);
  const [found] = await sqlRows<{ found: boolean }>(
    tx,
    sql`select exists (${ledgerByPaths(cycleId, sample, sql`1`)}) as found`,
  );
  return found?.found === false;
}

/**
 * Plans a batch none of whose paths is in the ledger: every file is uploaded and gets a new row. Answers
 * undefined, having written nothing, when a path was there after all (another session's, or one the sample of
 * `likelyAllNew` missed).
 */
async function planAllNew(
  tx: Tx,
  sessionId: string,
  cycleId: string,
  valid: ValidFile[],
  answers: PlannedFile[],
  options: { overwrite: boolean; policy: PartPolicy },
): Promise<BatchCounts | undefined> {
  const decisions = valid.map((file) => decideFile(file, undefined, options.overwrite, options.policy));
  for (let place = 0; place < valid.length; place++) {
    const decision = decisions[place] as FileDecision & { decision: 'upload' };
    (valid[place] as ValidFile).partSize = decision.partSize;
  }
  if (!(await insertPlain(tx, sessionId, cycleId, valid))) return undefined;
  let newBytes = 0;
  for (let place = 0; place < valid.length; place++) {
    const file = valid[place] as ValidFile;
    answers[file.index] = answerFor(file, decisions[place] as FileDecision);
    newBytes += file.size;
  }
  return { newFiles: valid.length, newBytes, skipped: 0, retriedFailures: 0 };
}

/**
 * Plans a batch against the ledger rows of its paths: skips, conflicts, resumes and re-uploads decided per file,
 * new files inserted and existing rows claimed for this session.
 */
async function planAgainstLedger(
  tx: Tx,
  sessionId: string,
  cycleId: string,
  valid: ValidFile[],
  answers: PlannedFile[],
  options: { overwrite: boolean; leaseMinutes: number; policy: PartPolicy },
): Promise<BatchCounts> {
  const ledger = await ledgerRows(tx, sessionId, cycleId, valid, options.leaseMinutes);
  const inserts: ValidFile[] = [];
  const claims: Claim[] = [];
  const skippedIds: string[] = [];

  for (let place = 0; place < valid.length; place++) {
    const file = valid[place] as ValidFile;
    const row = ledger[place];
    const decision = decideFile(file, row, options.overwrite, options.policy);
    answers[file.index] = answerFor(file, decision);
    if (decision.decision === 'skip' && row && !row.owned) skippedIds.push(row.id);
    if (decision.decision === 'upload' || decision.decision === 'resume') {
      const uploadId = decision.decision === 'resume' ? decision.uploadId : null;
      file.key = decision.key;
      file.partSize = decision.partSize;
      if (row) {
        claims.push({
          ...file,
          id: row.id,
          version: row.version,
          uploadId,
          owned: row.owned,
          failed: row.status === 'failed',
        });
      } else {
        inserts.push(file);
      }
    }
  }

  claims.sort((a, b) => Number(a.id) - Number(b.id));
  const lost = new Set([
    ...(await insertNew(tx, sessionId, cycleId, inserts)),
    ...(await claimExisting(tx, sessionId, claims)),
  ]);
  const counts: BatchCounts = { newFiles: 0, newBytes: 0, skipped: 0, retriedFailures: 0 };
  const written: Array<ValidFile & { owned?: boolean; failed?: boolean }> = [...inserts, ...claims];
  for (const file of written) {
    if (lost.has(file.path)) {
      answers[file.index] = {
        relativePath: file.path,
        decision: 'conflict',
        size: file.size,
        existingSize: file.size,
        reason: 'another upload session planned this file at the same moment; plan it again',
      };
    } else if (!file.owned) {
      // Files new to this session count toward its totals; its own files were counted when first planned.
      counts.newFiles++;
      counts.newBytes += file.size;
    } else if (file.failed) {
      counts.retriedFailures++;
    }
  }
  counts.skipped = await recordSkips(tx, sessionId, skippedIds);
  return counts;
}

/**
 * Plans one batch against the ledger and writes it: new files get rows, files taken over (re-uploads,
 * resumes, files of sessions that went away) are claimed by this session, and the session's activity is
 * recorded. Bulk statements only: a batch of 5,000 is a handful of queries, never one per file.
 */
export async function planBatch(
  db: Db,
  { session, place }: WritableSession,
  entries: PlanEntry[],
  options: { overwrite: boolean; leaseMinutes: number; policy: PartPolicy },
): Promise<PlannedFile[]> {
  const { answers, valid } = validate(entries, cycleKeyPrefix(place.keyPrefix, place.cyclePrefix));
  if (valid.length === 0) {
    await db.update(uploadSessions).set({ lastActivityAt: sql`now()` }).where(eq(uploadSessions.id, session.id));
    return answers;
  }

  // Batches plan in parallel, also within one cycle: every batch takes its row locks in one order (new paths
  // sorted, then existing rows by id, then the session row last), so two batches that share files wait for
  // each other instead of deadlocking.
  return db.transaction(async (tx) => {
    const counts =
      ((await likelyAllNew(tx, session.cycleId, valid)) &&
        (await planAllNew(tx, session.id, session.cycleId, valid, answers, options))) ||
      (await planAgainstLedger(tx, session.id, session.cycleId, valid, answers, options));
    // Last, and only while the session is active: a finish marks it `finishing` first, so either this batch
    // commits before the finish reads the ledger (the finish waits for this row) or it is rolled back. The
    // activity goes in the same write: a second transaction per batch queued for this row behind the batches in
    // flight.
    const counted = await tx
      .update(uploadSessions)
      .set({
        lastActivityAt: sql`now()`,
        filesTotal: sql`${uploadSessions.filesTotal} + ${counts.newFiles}`,
        bytesTotal: sql`${uploadSessions.bytesTotal} + ${counts.newBytes}`,
        filesSkipped: sql`${uploadSessions.filesSkipped} + ${counts.skipped}`,
        filesFailed: sql`${uploadSessions.filesFailed} - ${counts.retriedFailures}`,
      })
      .where(and(eq(uploadSessions.id, session.id), eq(uploadSessions.status, 'active')))
      .returning({ id: uploadSessions.id });
    if (counted.length === 0) {
      throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'This upload session is closing or closed' });
    }
    return answers;
  });
}

/**
 * One column of a batch as a single array parameter, for `unnest`: one statement for thousands of rows. Joins
 * against such a batch also filter the ledger with `= any(…)` of the same keys, so PostgreSQL probes the index
 * instead of hashing the whole ledger (which made a 300k-file reconcile quadratic).
 */
const column = <T>(rows: T[], pick: (row: T) => string | number | null) => arrayLiteral(rows.map(pick));

/**
 * New ledger rows, in two parts: the batch as rows with their ids (`batch`), and the insert that reads them from
 * `source`. Ids follow the plan order (the order a session's files are listed in), rows go in by path: the lock
 * order that keeps concurrent planners of one cycle from deadlocking.
 */
function newRows(sessionId: string, cycleId: string, rows: ValidFile[]) {
  const batch = sql`
    select nextval('files_id_seq') as id, v.*
    from unnest(${column(rows, (r) => r.path)}::text[], ${column(rows, (r) => r.key)}::text[],
                ${column(rows, (r) => r.size)}::bigint[], ${column(rows, (r) => r.lastModified)}::bigint[],
                ${column(rows, (r) => r.contentType)}::text[], ${column(rows, (r) => r.sensorSerial)}::text[],
                ${column(rows, (r) => r.partSize)}::int[], ${column(rows, (r) => recordedAtOf(r.path))}::timestamptz[])
      as v(path, key, size, modified, type, serial, part_size, recorded_at)`;
  const insertFrom = (source: SQL) => sql`
    insert into ${files} (id, cycle_id, session_id, relative_path, s3_key, size, last_modified, content_type, sensor_serial, part_size, recorded_at)
    select id, ${cycleId}, ${sessionId}, path, key, size, to_timestamp(modified / 1000.0), type, serial, part_size, recorded_at
    from ${source}
    order by path collate "C"`;
  return { batch, insertFrom };
}

/**
 * Inserts new ledger rows in a savepoint; answers false, having inserted none, if any of their paths is there.
 * Nearly always none is: a plain insert costs less than ON CONFLICT's speculative insertion of every row
 * (measured: 50 instead of 70 ms of PostgreSQL's CPU per 5,000 rows). PostgreSQL logs the duplicate key when one
 * is. The batch is a subquery here, not a WITH (which PostgreSQL would copy into a store of its own first).
 */
async function insertPlain(tx: Tx, sessionId: string, cycleId: string, rows: ValidFile[]) {
  const { batch, insertFrom } = newRows(sessionId, cycleId, rows);
  try {
    await tx.transaction((savepoint) => savepoint.execute(insertFrom(sql`(${batch}) batch`)));
    return true;
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    return false;
  }
}

/**
 * Inserts new ledger rows; answers the paths another transaction inserted first. Only when the plain insert meets
 * such a path does the batch go in again with ON CONFLICT, and only the paths that were not inserted come back
 * (reading 5,000 inserted paths back per batch cost more than inserting them).
 */
async function insertNew(tx: Tx, sessionId: string, cycleId: string, rows: ValidFile[]) {
  if (rows.length === 0 || (await insertPlain(tx, sessionId, cycleId, rows))) return new Set<string>();
  const { batch, insertFrom } = newRows(sessionId, cycleId, rows);
  const present = await sqlRows<{ path: string }>(
    tx,
    sql`with batch as (${batch}),
    inserted as (${insertFrom(sql`batch`)} on conflict (cycle_id, relative_path) do nothing returning relative_path)
    select path from batch except select relative_path from inserted`,
  );
  return new Set(present.map((row) => row.path));
}

interface Claim extends ValidFile {
  id: string;
  version: string;
  uploadId: string | null;
  /** Already this session's row (a re-plan), and whether it had failed. */
  owned: boolean;
  failed: boolean;
}

/**
 * Hands existing rows to this session: a resume keeps its multipart upload, anything else starts over. A row
 * changed since it was read (another planner got there first) is left alone; its path is answered back.
 */
async function claimExisting(tx: Tx, sessionId: string, rows: Claim[]) {
  if (rows.length === 0) return new Set<string>();
  const claimed = await sqlRows<{ relative_path: string }>(
    tx,
    sql`
    update ${files} set
      session_id = ${sessionId}, claimed_at = now(), s3_key = v.key, size = v.size, last_modified = to_timestamp(v.modified / 1000.0),
      content_type = v.type, sensor_serial = v.serial, part_size = v.part_size, upload_id = v.upload_id,
      status = case when v.upload_id is null then 'pending'::file_status else 'uploading'::file_status end,
      etag = null, checksum = null, error = null, completed_at = null, verified_at = null
    from unnest(${column(rows, (r) => r.id)}::bigint[], ${column(rows, (r) => r.version)}::text[],
                ${column(rows, (r) => r.key)}::text[], ${column(rows, (r) => r.size)}::bigint[],
                ${column(rows, (r) => r.lastModified)}::bigint[],
                ${column(rows, (r) => r.contentType)}::text[], ${column(rows, (r) => r.sensorSerial)}::text[],
                ${column(rows, (r) => r.partSize)}::int[], ${column(rows, (r) => r.uploadId)}::text[])
      as v(id, version, key, size, modified, type, serial, part_size, upload_id)
    where ${idIn(rows.map((r) => r.id))} and ${files}.id = v.id and ${files}.xmin::text = v.version
    returning ${files}.relative_path`,
  );
  const done = new Set(claimed.map((row) => row.relative_path));
  return new Set(rows.filter((row) => !done.has(row.path)).map((row) => row.path));
}
