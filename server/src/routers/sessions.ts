import { schema } from '@data-uploader/drizzle';
import { listSessionsInput, sessionFilesInput } from '@data-uploader/shared';
import { and, asc, desc, eq, gt, sql } from 'drizzle-orm';
import { loadCycle, loadProject } from '../services/access.ts';
import { loadUploadSession, uploadSessionColumns } from '../services/uploadSessions.ts';
import { authedProcedure, router } from '../trpc.ts';

const { cycles, files, projects, uploadSessions, users } = schema;

const durationSeconds = (session: { startedAt: Date; finishedAt: Date | null; lastActivityAt: Date }) =>
  Math.round(((session.finishedAt ?? session.lastActivityAt).getTime() - session.startedAt.getTime()) / 1000);

/** Where a session sits in the history, at the database's full (microsecond) precision, ties broken by id. */
const cursor = sql<string>`to_char(${uploadSessions.startedAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '|' || ${uploadSessions.id}`;

/** Upload history: sessions of the company, newest first, with their counters and where they went. */
export const sessionsRouter = router({
  list: authedProcedure.input(listSessionsInput).query(async ({ ctx, input }) => {
    if (input.projectId) await loadProject(ctx, input.projectId);
    if (input.cycleId) await loadCycle(ctx, input.cycleId);
    const [beforeStart, beforeId] = input.before?.split('|') ?? [];
    const rows = await ctx.db
      .select({ ...uploadSessionColumns, projectName: projects.name, cycleName: cycles.name, cursor })
      .from(uploadSessions)
      .innerJoin(users, eq(users.id, uploadSessions.userId))
      .innerJoin(projects, eq(projects.id, uploadSessions.projectId))
      .innerJoin(cycles, eq(cycles.id, uploadSessions.cycleId))
      .where(
        and(
          eq(uploadSessions.companyId, ctx.user.companyId),
          input.projectId ? eq(uploadSessions.projectId, input.projectId) : undefined,
          input.cycleId ? eq(uploadSessions.cycleId, input.cycleId) : undefined,
          beforeStart && beforeId
            ? sql`(${uploadSessions.startedAt}, ${uploadSessions.id}) < (${beforeStart}::timestamptz, ${beforeId}::uuid)`
            : undefined,
        ),
      )
      .orderBy(desc(uploadSessions.startedAt), desc(uploadSessions.id))
      .limit(input.limit);
    return rows.map((row) => ({ ...row, durationSeconds: durationSeconds(row) }));
  }),

  get: authedProcedure.input(sessionFilesInput.pick({ id: true })).query(async ({ ctx, input }) => {
    const session = await loadUploadSession(ctx, input.id);
    return { ...session, durationSeconds: durationSeconds(session) };
  }),

  /** A session's files, paged by id and filterable by status. */
  files: authedProcedure.input(sessionFilesInput).query(async ({ ctx, input }) => {
    const session = await loadUploadSession(ctx, input.id);
    return ctx.db
      .select({
        id: files.id,
        relativePath: files.relativePath,
        s3Key: files.s3Key,
        size: files.size,
        status: files.status,
        error: files.error,
        attempts: files.attempts,
        sensorSerial: files.sensorSerial,
        completedAt: files.completedAt,
        verifiedAt: files.verifiedAt,
      })
      .from(files)
      .where(
        and(
          eq(files.sessionId, session.id),
          input.status ? eq(files.status, input.status) : undefined,
          input.after !== undefined ? gt(files.id, input.after) : undefined,
        ),
      )
      .orderBy(asc(files.id))
      .limit(input.limit);
  }),
});
