import type { Db } from '@data-uploader/drizzle';
import { schema } from '@data-uploader/drizzle';
import { discover } from '@data-uploader/scripts/cli/discovery';
import { UploadDriver } from '@data-uploader/scripts/driver/uploadDriver';
import { eq, sql } from 'drizzle-orm';
import { currentUserColumns } from '../auth/user.ts';
import type { ContextInput } from '../context.ts';
import { createContextInner } from '../context.ts';
import { beginUploadSession } from '../services/uploadSessions.ts';
import type { AuthedContext } from '../trpc.ts';
import { localApi } from './localApi.ts';

const { importJobs, uploadSessions, users } = schema;

/** Files sent at once from the server's disk; parts and small files together, as the CLI does. */
const concurrency = 8;
/** Tries of one import before it is marked failed; the queue waits longer before each retry. */
export const importAttempts = 6;
const cancelCheckMs = 2000;

type Deps = Omit<ContextInput, 'user'> & { db: Db };

/**
 * Runs one import: as the admin who started it, continues the job's upload session (or begins one the first
 * time), lists the folder, and sends it through the upload protocol — plan, presigned PUTs and parts from the
 * server's disk, confirm, finish. A retry after a crash plans again and the ledger skips what arrived.
 */
export async function runImport(deps: Deps, jobId: string, signal: AbortSignal): Promise<void> {
  const [job] = await deps.db.select().from(importJobs).where(eq(importJobs.id, jobId));
  if (!job || job.status === 'cancelled' || job.status === 'completed') return;
  const [user] = await deps.db
    .select({ ...currentUserColumns, disabledAt: users.disabledAt })
    .from(users)
    .where(eq(users.id, job.userId));
  if (!user || user.disabledAt) return finishJob(deps.db, jobId, 'failed', 'The person who started it is disabled');
  await deps.db
    .update(importJobs)
    .set({
      status: 'running',
      startedAt: sql`coalesce(${importJobs.startedAt}, now())`,
      attempts: sql`${importJobs.attempts} + 1`,
    })
    .where(eq(importJobs.id, jobId));

  const ctx = createContextInner({ ...deps, user }) as AuthedContext;
  const sessionId = await sessionOf(ctx, job);
  const stop = new AbortController();
  signal.addEventListener('abort', () => stop.abort(signal.reason), { once: true });
  const watcher = setInterval(async () => {
    const [row] = await deps.db.select({ status: importJobs.status }).from(importJobs).where(eq(importJobs.id, jobId));
    if (row?.status === 'cancelled') stop.abort(new Error('cancelled'));
  }, cancelCheckMs);
  try {
    const found = await discover(job.resolvedPath);
    await deps.db.update(importJobs).set({ filesFound: found.files.length }).where(eq(importJobs.id, jobId));
    const api = localApi(deps, user);
    const driver = new UploadDriver({ api, concurrency, signal: stop.signal });
    const result = await driver.upload({
      projectId: job.projectId,
      cycleId: job.cycleId,
      files: found.files,
      label: job.label,
      sessionId,
    });
    const failed = result.failed.length;
    await finishJob(
      deps.db,
      jobId,
      'completed',
      failed ? `${failed} files failed; run the import again to retry them` : null,
    );
  } catch (error) {
    if (stop.signal.aborted && !signal.aborted) {
      await localApi(deps, user)
        .uploads.abort.mutate({ sessionId })
        .catch(() => undefined);
      return;
    }
    if (!signal.aborted && job.attempts + 1 >= importAttempts) {
      await finishJob(deps.db, jobId, 'failed', error instanceof Error ? error.message : String(error));
    }
    throw error;
  } finally {
    clearInterval(watcher);
  }
}

async function sessionOf(ctx: AuthedContext, job: typeof importJobs.$inferSelect): Promise<string> {
  if (job.sessionId) {
    const [session] = await ctx.db
      .select({ status: uploadSessions.status })
      .from(uploadSessions)
      .where(eq(uploadSessions.id, job.sessionId));
    if (session?.status === 'active') return job.sessionId;
  }
  const session = await beginUploadSession(ctx, {
    projectId: job.projectId,
    cycleId: job.cycleId,
    label: job.label,
    source: 'job',
    client: `import of ${job.path}`,
  });
  await ctx.db.update(importJobs).set({ sessionId: session.id }).where(eq(importJobs.id, job.id));
  return session.id;
}

export async function finishJob(db: Db, jobId: string, status: 'completed' | 'failed', error: string | null) {
  await db
    .update(importJobs)
    .set({ status, error, finishedAt: sql`now()` })
    .where(sql`${importJobs.id} = ${jobId} and ${importJobs.status} <> 'cancelled'`);
}
