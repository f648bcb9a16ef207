import { schema } from '@data-uploader/drizzle';
import {
  beginUploadInput,
  confirmInput,
  failInput,
  planInput,
  sessionIdInput,
  signBatchInput,
  signInput,
} from '@data-uploader/shared';
import { TRPCError } from '@trpc/server';
import { loadCycle, loadProject } from '../services/access.ts';
import { confirmFiles, failFiles } from '../services/ledger.ts';
import { planBatch } from '../services/planning.ts';
import { abortSession, finishSession } from '../services/reconcile.ts';
import { signMany, signOne } from '../services/signing.ts';
import { loadUploadSession, loadWritableSession, recordActivity } from '../services/uploadSessions.ts';
import { authedProcedure, router } from '../trpc.ts';

const { uploadSessions } = schema;

/**
 * The upload protocol (DESIGN.md): begin → plan in batches → sign (Uppy) / signBatch (CLI) → the client sends
 * bytes straight to S3 → confirm / fail → finish, which reconciles the ledger against the bucket.
 */
export const uploadsRouter = router({
  begin: authedProcedure.input(beginUploadInput).mutation(async ({ ctx, input }) => {
    const project = await loadProject(ctx, input.projectId);
    const cycle = await loadCycle(ctx, input.cycleId);
    if (cycle.projectId !== project.id)
      throw new TRPCError({ code: 'NOT_FOUND', message: 'Cycle not found in this project' });
    if (project.archivedAt) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'The project is archived' });
    if (cycle.status !== 'open') {
      throw new TRPCError({
        code: 'PRECONDITION_FAILED',
        message: `Cycle ${cycle.name} is closed; an admin can reopen it`,
      });
    }
    const [session] = await ctx.db
      .insert(uploadSessions)
      .values({
        companyId: ctx.user.companyId,
        projectId: project.id,
        cycleId: cycle.id,
        userId: ctx.user.id,
        source: input.source,
        label: input.label,
        client: input.client,
      })
      .returning({ id: uploadSessions.id });
    if (!session) throw new Error('insert returned nothing');
    return loadUploadSession(ctx, session.id);
  }),

  plan: authedProcedure.input(planInput).mutation(async ({ ctx, input }) => {
    const writable = await loadWritableSession(ctx, input.sessionId);
    const files = await planBatch(ctx.db, writable, input.files, {
      overwrite: input.overwrite,
      leaseMinutes: ctx.config.UPLOAD_LEASE_MINUTES,
      policy: {
        multipartThreshold: ctx.config.MULTIPART_THRESHOLD_MIB * 1024 * 1024,
        partSize: ctx.config.PART_SIZE_MIB * 1024 * 1024,
      },
    });
    await recordActivity(ctx, input.sessionId);
    return { files };
  }),

  /** Backs Uppy 6's `signRequest`: `signRequest: (request) => trpc.uploads.sign.mutate({ sessionId, ...request })`. */
  sign: authedProcedure.input(signInput).mutation(async ({ ctx, input }) => {
    const writable = await loadWritableSession(ctx, input.sessionId);
    const signed = await signOne(ctx.db, ctx.storage, writable, input, ctx.config.PRESIGN_EXPIRES_SECONDS);
    await recordActivity(ctx, input.sessionId);
    return signed;
  }),

  signBatch: authedProcedure.input(signBatchInput).mutation(async ({ ctx, input }) => {
    const writable = await loadWritableSession(ctx, input.sessionId);
    const urls = await signMany(ctx.db, ctx.storage, writable, input.requests, ctx.config.PRESIGN_EXPIRES_SECONDS);
    await recordActivity(ctx, input.sessionId);
    return { urls, expiresIn: ctx.config.PRESIGN_EXPIRES_SECONDS };
  }),

  confirm: authedProcedure.input(confirmInput).mutation(async ({ ctx, input }) => {
    const writable = await loadWritableSession(ctx, input.sessionId, 'record');
    const confirmed = await confirmFiles(ctx.db, writable, input.files);
    await recordActivity(ctx, input.sessionId);
    return confirmed;
  }),

  fail: authedProcedure.input(failInput).mutation(async ({ ctx, input }) => {
    const writable = await loadWritableSession(ctx, input.sessionId, 'record');
    const failed = await failFiles(ctx.db, ctx.storage, writable, input.files);
    await recordActivity(ctx, input.sessionId);
    return failed;
  }),

  /** Closes the session after checking every file against the bucket; answers the verified result. */
  finish: authedProcedure.input(sessionIdInput).mutation(async ({ ctx, input }) => {
    const writable = await loadWritableSession(ctx, input.sessionId, 'record');
    await finishSession(ctx.db, ctx.storage, writable);
    return loadUploadSession(ctx, input.sessionId);
  }),

  abort: authedProcedure.input(sessionIdInput).mutation(async ({ ctx, input }) => {
    const writable = await loadWritableSession(ctx, input.sessionId, 'record');
    await abortSession(ctx.db, ctx.storage, writable);
    return loadUploadSession(ctx, input.sessionId);
  }),
});
