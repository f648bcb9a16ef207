import { schema } from '@data-uploader/drizzle';
import { byId, listJobsInput, startImportInput } from '@data-uploader/shared';
import { TRPCError } from '@trpc/server';
import { and, desc, eq, inArray } from 'drizzle-orm';
import { ImportPathError, resolveImportPath } from '../jobs/importPath.ts';
import { loadCycle, loadProject } from '../services/access.ts';
import { type AuthedContext, authedProcedure, router } from '../trpc.ts';

const { cycles, importJobs, projects, uploadSessions, users } = schema;

function jobsOf(ctx: AuthedContext) {
  if (!ctx.jobs) {
    throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'Background jobs are not running on this server' });
  }
  return ctx.jobs;
}

/** Server-side imports of folders on the server's disk, run in the background with the usual ledger. */
export const jobsRouter = router({
  startImport: authedProcedure.input(startImportInput).mutation(async ({ ctx, input }) => {
    const project = await loadProject(ctx, input.projectId);
    const cycle = await loadCycle(ctx, input.cycleId);
    if (cycle.projectId !== project.id)
      throw new TRPCError({ code: 'NOT_FOUND', message: 'Cycle not found in this project' });
    if (project.archivedAt || cycle.status !== 'open') {
      throw new TRPCError({
        code: 'PRECONDITION_FAILED',
        message: 'Imports go into an open cycle of a project that is not archived',
      });
    }
    const jobs = jobsOf(ctx);
    let resolvedPath: string;
    try {
      resolvedPath = await resolveImportPath(ctx.config.IMPORT_ROOTS, input.path);
    } catch (error) {
      if (error instanceof ImportPathError) throw new TRPCError({ code: 'BAD_REQUEST', message: error.message });
      throw error;
    }
    const [job] = await ctx.db
      .insert(importJobs)
      .values({
        companyId: ctx.user.companyId,
        projectId: project.id,
        cycleId: cycle.id,
        userId: ctx.user.id,
        path: input.path,
        resolvedPath,
        label: input.label,
      })
      .returning({ id: importJobs.id, status: importJobs.status });
    if (!job) throw new Error('insert returned nothing');
    await jobs.enqueueImport(job.id);
    return job;
  }),

  list: authedProcedure.input(listJobsInput).query(async ({ ctx, input }) => {
    if (input.projectId) await loadProject(ctx, input.projectId);
    return ctx.db
      .select({
        id: importJobs.id,
        projectId: importJobs.projectId,
        projectName: projects.name,
        cycleId: importJobs.cycleId,
        cycleName: cycles.name,
        username: users.username,
        path: importJobs.path,
        label: importJobs.label,
        status: importJobs.status,
        error: importJobs.error,
        attempts: importJobs.attempts,
        filesFound: importJobs.filesFound,
        sessionId: importJobs.sessionId,
        filesDone: uploadSessions.filesDone,
        filesSkipped: uploadSessions.filesSkipped,
        filesFailed: uploadSessions.filesFailed,
        bytesDone: uploadSessions.bytesDone,
        createdAt: importJobs.createdAt,
        startedAt: importJobs.startedAt,
        finishedAt: importJobs.finishedAt,
      })
      .from(importJobs)
      .innerJoin(projects, eq(projects.id, importJobs.projectId))
      .innerJoin(cycles, eq(cycles.id, importJobs.cycleId))
      .innerJoin(users, eq(users.id, importJobs.userId))
      .leftJoin(uploadSessions, eq(uploadSessions.id, importJobs.sessionId))
      .where(
        and(
          eq(importJobs.companyId, ctx.user.companyId),
          input.projectId ? eq(importJobs.projectId, input.projectId) : undefined,
        ),
      )
      .orderBy(desc(importJobs.createdAt))
      .limit(input.limit);
  }),

  /** A queued job never starts; a running one stops within seconds and its session is aborted. */
  cancel: authedProcedure.input(byId).mutation(async ({ ctx, input }) => {
    const [job] = await ctx.db
      .update(importJobs)
      .set({ status: 'cancelled', finishedAt: new Date() })
      .where(
        and(
          eq(importJobs.id, input.id),
          eq(importJobs.companyId, ctx.user.companyId),
          inArray(importJobs.status, ['queued', 'running']),
        ),
      )
      .returning({ id: importJobs.id, status: importJobs.status });
    if (job) return job;
    const [existing] = await ctx.db
      .select({ status: importJobs.status })
      .from(importJobs)
      .where(and(eq(importJobs.id, input.id), eq(importJobs.companyId, ctx.user.companyId)));
    if (!existing) throw new TRPCError({ code: 'NOT_FOUND', message: 'Import job not found' });
    throw new TRPCError({ code: 'PRECONDITION_FAILED', message: `The job is already ${existing.status}` });
  }),
});
