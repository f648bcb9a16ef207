import { TRPCError } from '@trpc/server';
import type { ProjectBucket } from '../s3/storage.ts';
import type { AuthedContext } from '../trpc.ts';

/** The origin browsers will upload from: the one this request came from, else the configured or served one. */
function appOrigin(ctx: AuthedContext): string {
  const { origin, host, secure } = ctx.request;
  return (
    origin ?? ctx.config.APP_ORIGINS[0] ?? `${secure ? 'https' : 'http'}://${host ?? `localhost:${ctx.config.PORT}`}`
  );
}

/**
 * Makes sure browsers can upload to a project's bucket before the project is saved. On the embedded server
 * the bucket is simply created with the upload CORS rule; on a real store it is checked, and the admin is
 * told exactly what to fix (missing bucket, 403 credentials, wrong region, CORS).
 */
export async function ensureUploadableBucket(ctx: AuthedContext, project: ProjectBucket): Promise<void> {
  // A project with its own endpoint is a store of its own, checked like any real one.
  if (ctx.storage.embedded && !project.endpoint) {
    await ctx.storage.ensureEmbeddedBucket(project);
    return;
  }
  const problems = await ctx.storage.bucketProblems(project, appOrigin(ctx));
  if (problems.length > 0) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: problems.join(' ') });
}
