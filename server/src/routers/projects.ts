import { randomBytes } from 'node:crypto';
import { schema } from '@data-uploader/drizzle';
import {
  byId,
  createProjectInput,
  listProjectsInput,
  setWebhookInput,
  updateProjectInput,
} from '@data-uploader/shared';
import { TRPCError } from '@trpc/server';
import { and, asc, count, eq, isNull } from 'drizzle-orm';
import { cycleColumns, loadProject, projectColumns } from '../services/access.ts';
import { recordAudit } from '../services/audit.ts';
import { claimBucket, ensureUploadableBucket, projectHasFiles } from '../services/buckets.ts';
import { unlessTaken } from '../services/conflicts.ts';
import { type AuthedContext, authedProcedure, router } from '../trpc.ts';

const { cycles, projects } = schema;

const nameTaken = (name: string | undefined) => `A project named "${name}" already exists in your company`;

async function setArchived(ctx: AuthedContext, id: string, archived: boolean) {
  const project = await loadProject(ctx, id);
  const archivedAt = archived ? (project.archivedAt ?? new Date()) : null;
  await ctx.db.update(projects).set({ archivedAt }).where(eq(projects.id, project.id));
  await recordAudit(ctx.db, ctx.user, archived ? 'project.archive' : 'project.unarchive', `project:${project.id}`);
  return { ...project, archivedAt };
}

export const projectsRouter = router({
  list: authedProcedure.input(listProjectsInput).query(({ ctx, input }) =>
    ctx.db
      .select({ ...projectColumns, cycles: count(cycles.id) })
      .from(projects)
      .leftJoin(cycles, eq(cycles.projectId, projects.id))
      .where(
        and(
          eq(projects.companyId, ctx.user.companyId),
          input.includeArchived ? undefined : isNull(projects.archivedAt),
        ),
      )
      .groupBy(projects.id)
      .orderBy(asc(projects.name)),
  ),

  get: authedProcedure.input(byId).query(async ({ ctx, input }) => {
    const project = await loadProject(ctx, input.id);
    const projectCycles = await ctx.db
      .select(cycleColumns)
      .from(cycles)
      .where(eq(cycles.projectId, project.id))
      .orderBy(asc(cycles.createdAt));
    return { ...project, cycles: projectCycles };
  }),

  create: authedProcedure.input(createProjectInput).mutation(async ({ ctx, input }) => {
    const bucket = { bucket: input.bucket, region: input.region, endpoint: input.endpoint ?? null };
    const project = await ctx.db.transaction(async (tx) => {
      await claimBucket(tx, ctx, { ...bucket, keyPrefix: input.keyPrefix ?? null, projectId: null });
      const [created] = await unlessTaken(
        () =>
          tx
            .insert(projects)
            .values({ ...input, companyId: ctx.user.companyId })
            .returning(projectColumns),
        nameTaken(input.name),
      );
      // Last, so a refused name or bucket claim leaves the store untouched; a bucket problem rolls back the row.
      await ensureUploadableBucket(ctx, bucket);
      return created;
    });
    if (!project) throw new Error('insert returned nothing');
    await recordAudit(ctx.db, ctx.user, 'project.create', `project:${project.id}`, input);
    return project;
  }),

  update: authedProcedure.input(updateProjectInput).mutation(async ({ ctx, input }) => {
    const { id, ...changes } = input;
    const project = await loadProject(ctx, id);
    if (Object.values(changes).every((value) => value === undefined)) {
      throw new TRPCError({ code: 'BAD_REQUEST', message: 'Nothing to change' });
    }
    const place = {
      bucket: changes.bucket ?? project.bucket,
      region: changes.region ?? project.region,
      endpoint: changes.endpoint === undefined ? project.endpoint : changes.endpoint,
      keyPrefix: changes.keyPrefix === undefined ? project.keyPrefix : changes.keyPrefix,
    };
    const moved = (['bucket', 'region', 'endpoint', 'keyPrefix'] as const).some((f) => place[f] !== project[f]);
    const updated = await ctx.db.transaction(async (tx) => {
      if (moved) {
        if (await projectHasFiles(tx, project.id)) {
          throw new TRPCError({
            code: 'PRECONDITION_FAILED',
            message:
              'Files were uploaded to this project: its bucket, region, endpoint and key prefix stay as they are',
          });
        }
        await claimBucket(tx, ctx, { ...place, projectId: project.id });
      }
      const [row] = await unlessTaken(
        () => tx.update(projects).set(changes).where(eq(projects.id, project.id)).returning(projectColumns),
        nameTaken(changes.name),
      );
      if (moved) await ensureUploadableBucket(ctx, place);
      return row;
    });
    await recordAudit(ctx.db, ctx.user, 'project.update', `project:${project.id}`, changes);
    return updated ?? project;
  }),

  archive: authedProcedure.input(byId).mutation(({ ctx, input }) => setArchived(ctx, input.id, true)),
  unarchive: authedProcedure.input(byId).mutation(({ ctx, input }) => setArchived(ctx, input.id, false)),

  /** Sets (or removes) the project's webhook; a new signing secret is made and shown only in this answer. */
  setWebhook: authedProcedure.input(setWebhookInput).mutation(async ({ ctx, input }) => {
    const project = await loadProject(ctx, input.id);
    const secret = input.url ? randomBytes(32).toString('hex') : null;
    await ctx.db
      .update(projects)
      .set({ webhookUrl: input.url, webhookSecret: secret })
      .where(eq(projects.id, project.id));
    await recordAudit(ctx.db, ctx.user, 'project.setWebhook', `project:${project.id}`, { url: input.url });
    return { url: input.url, secret };
  }),
});
