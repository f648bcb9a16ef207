import {
  beginUploadInput,
  confirmInput,
  failInput,
  planInput,
  sessionIdInput,
  signBatchInput,
  signInput,
} from '@data-uploader/shared';
import { confirmFiles, failFiles } from '../services/ledger.ts';
import { planBatch } from '../services/planning.ts';
import { abortSession, finishSession } from '../services/reconcile.ts';
import { signMany, signOne } from '../services/signing.ts';
import {
  beginUploadSession,
  loadUploadSession,
  loadWritableSession,
  recordActivity,
} from '../services/uploadSessions.ts';
import { authedProcedure, router } from '../trpc.ts';

/**
 * The upload protocol (DESIGN.md): begin → plan in batches → sign (Uppy) / signBatch (CLI) → the client sends
 * bytes straight to S3 → confirm / fail → finish, which reconciles the ledger against the bucket.
 */
export const uploadsRouter = router({
  begin: authedProcedure
    .input(beginUploadInput)
    .mutation(({ ctx, input }) => beginUploadSession(ctx, { ...input, source: input.source })),

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
    const urls = await signMany(ctx.db, ctx.storage, writable, input.requests, {
      expiresIn: ctx.config.PRESIGN_EXPIRES_SECONDS,
      form: (input.form ?? false) && ctx.config.S3_FORM_UPLOADS,
    });
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
    await ctx.jobs?.sessionFinished(input.sessionId);
    return loadUploadSession(ctx, input.sessionId);
  }),

  abort: authedProcedure.input(sessionIdInput).mutation(async ({ ctx, input }) => {
    const writable = await loadWritableSession(ctx, input.sessionId, 'record');
    await abortSession(ctx.db, ctx.storage, writable);
    return loadUploadSession(ctx, input.sessionId);
  }),
});
