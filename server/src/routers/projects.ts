import { schema } from '@data-uploader/drizzle';
import { byId, createProjectInput, listProjectsInput, updateProjectInput } from '@data-uploader/shared';
import { TRPCError } from '@trpc/server';
import { and, asc, count, eq, isNull } from 'drizzle-orm';
import { cycleColumns, loadProject, projectColumns } from '../services/access.ts';
import { recordAudit } from '../services/audit.ts';
import { ensureUploadableBucket } from '../services/buckets.ts';
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
    await ensureUploadableBucket(ctx, { bucket: input.bucket, region: input.region, endpoint: input.endpoint ?? null });
    const [project] = await unlessTaken(
      () =>
        ctx.db
          .insert(projects)
          .values({ ...input, companyId: ctx.user.companyId })
          .returning(projectColumns),
      nameTaken(input.name),
    );
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
    const bucketChanged = ['bucket', 'region', 'endpoint'].some(
      (field) => changes[field as keyof typeof changes] !== undefined,
    );
    if (bucketChanged) {
      await ensureUploadableBucket(ctx, {
        bucket: changes.bucket ?? project.bucket,
        region: changes.region ?? project.region,
        endpoint: changes.endpoint === undefined ? project.endpoint : changes.endpoint,
      });
    }
    const [updated] = await unlessTaken(
      () => ctx.db.update(projects).set(changes).where(eq(projects.id, project.id)).returning(projectColumns),
      nameTaken(changes.name),
    );
    await recordAudit(ctx.db, ctx.user, 'project.update', `project:${project.id}`, changes);
    return updated ?? project;
  }),

  archive: authedProcedure.input(byId).mutation(({ ctx, input }) => setArchived(ctx, input.id, true)),
  unarchive: authedProcedure.input(byId).mutation(({ ctx, input }) => setArchived(ctx, input.id, false)),
});
