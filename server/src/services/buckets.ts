import { type Db, schema, sqlRows } from '@data-uploader/drizzle';
import { TRPCError } from '@trpc/server';
import { sql } from 'drizzle-orm';
import type { ProjectBucket } from '../s3/storage.ts';
import type { AuthedContext } from '../trpc.ts';

const { files, cycles, projects } = schema;

/** The origin browsers will upload from: the one this request came from, else the configured or served one. */
function appOrigin(ctx: AuthedContext): string {
  const { origin, host, secure } = ctx.request;
  return (
    origin ?? ctx.config.APP_ORIGINS[0] ?? `${secure ? 'https' : 'http'}://${host ?? `localhost:${ctx.config.PORT}`}`
  );
}

const withoutTrailingSlash = (url: string) => url.replace(/\/+$/, '');

/**
 * The server talks to a project's endpoint with its own credentials, so an admin may only pick endpoints the
 * operator allowed (S3_ALLOWED_ENDPOINTS, besides S3_ENDPOINT and the embedded server): any other URL would let
 * a company admin make the server call internal addresses.
 */
function checkEndpointAllowed(ctx: AuthedContext, endpoint: string | null) {
  if (endpoint === null) return;
  const allowed = [ctx.config.S3_ENDPOINT, ctx.storage.embedded?.endpoint, ...ctx.config.S3_ALLOWED_ENDPOINTS]
    .filter((url): url is string => url !== undefined)
    .map(withoutTrailingSlash);
  if (!allowed.includes(withoutTrailingSlash(endpoint))) {
    throw new TRPCError({
      code: 'BAD_REQUEST',
      message: `The endpoint ${endpoint} is not one the operator allowed (S3_ALLOWED_ENDPOINTS)`,
    });
  }
}

const overlaps = (a: string | null, b: string | null) =>
  !a || !b || a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);

/**
 * A bucket belongs to one company, and within it no two projects write under overlapping key prefixes: the
 * server signs with one set of credentials, so this is what keeps one company's uploads from overwriting
 * another's objects. Run inside the transaction that saves the project; the lock makes two admins claiming one
 * bucket at once take turns.
 */
export async function claimBucket(
  tx: Pick<Db, 'execute'>,
  ctx: AuthedContext,
  wanted: ProjectBucket & { keyPrefix: string | null; projectId: string | null },
) {
  checkEndpointAllowed(ctx, wanted.endpoint);
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`bucket:${wanted.bucket}`}))`);
  const users = await sqlRows<{ id: string; company_id: string; name: string; key_prefix: string | null }>(
    tx,
    sql`select id, company_id, name, key_prefix from ${projects}
        where bucket = ${wanted.bucket} and coalesce(endpoint, '') = ${wanted.endpoint ?? ''}
          and id is distinct from ${wanted.projectId}::uuid`,
  );
  if (users.some((project) => project.company_id !== ctx.user.companyId)) {
    throw new TRPCError({ code: 'CONFLICT', message: `The bucket "${wanted.bucket}" belongs to another company` });
  }
  const clash = users.find((project) => overlaps(project.key_prefix, wanted.keyPrefix));
  if (clash) {
    throw new TRPCError({
      code: 'CONFLICT',
      message: `Project "${clash.name}" already writes to "${wanted.bucket}"${clash.key_prefix ? ` under "${clash.key_prefix}"` : ''}; give this project a key prefix that does not overlap`,
    });
  }
}

/** Whether any file was ever planned in a project: from then on its bucket, endpoint and key prefix are fixed. */
export async function projectHasFiles(tx: Pick<Db, 'execute'>, projectId: string): Promise<boolean> {
  const rows = await sqlRows<{ one: number }>(
    tx,
    sql`select 1 as one from ${files} join ${cycles} on ${cycles.id} = ${files.cycleId}
        where ${cycles.projectId} = ${projectId} limit 1`,
  );
  return rows.length > 0;
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
