import { schema } from '@data-uploader/drizzle';
import { TRPCError } from '@trpc/server';
import { and, eq, sql } from 'drizzle-orm';
import type { AuthedContext } from '../trpc.ts';
import { loadCycle, loadProject } from './access.ts';

const { cycles, projects, uploadSessions, users } = schema;

export const uploadSessionColumns = {
  id: uploadSessions.id,
  projectId: uploadSessions.projectId,
  cycleId: uploadSessions.cycleId,
  userId: uploadSessions.userId,
  username: users.username,
  source: uploadSessions.source,
  label: uploadSessions.label,
  status: uploadSessions.status,
  filesTotal: uploadSessions.filesTotal,
  bytesTotal: uploadSessions.bytesTotal,
  filesDone: uploadSessions.filesDone,
  bytesDone: uploadSessions.bytesDone,
  filesSkipped: uploadSessions.filesSkipped,
  filesFailed: uploadSessions.filesFailed,
  client: uploadSessions.client,
  startedAt: uploadSessions.startedAt,
  finishedAt: uploadSessions.finishedAt,
  lastActivityAt: uploadSessions.lastActivityAt,
};

/** An upload session of the caller's company; a foreign or missing id answers NOT_FOUND. */
export async function loadUploadSession(ctx: AuthedContext, id: string) {
  const [session] = await ctx.db
    .select(uploadSessionColumns)
    .from(uploadSessions)
    .innerJoin(users, eq(users.id, uploadSessions.userId))
    .where(and(eq(uploadSessions.id, id), eq(uploadSessions.companyId, ctx.user.companyId)));
  if (!session) throw new TRPCError({ code: 'NOT_FOUND', message: 'Upload session not found' });
  return session;
}

export type UploadSession = Awaited<ReturnType<typeof loadUploadSession>>;

/**
 * The session, its cycle and project, for a call that writes to it: only the person who started it may, and
 * only while it is active. Sending more (plan, sign) also needs the cycle open and the project not archived;
 * recording what was sent and closing the session stay possible.
 */
export async function loadWritableSession(ctx: AuthedContext, id: string, purpose: 'send' | 'record' = 'send') {
  const session = await loadUploadSession(ctx, id);
  if (session.userId !== ctx.user.id) {
    throw new TRPCError({ code: 'FORBIDDEN', message: `This upload session belongs to ${session.username}` });
  }
  if (session.status !== 'active') {
    throw new TRPCError({
      code: 'PRECONDITION_FAILED',
      message: `This upload session is ${session.status}; begin a new one`,
    });
  }
  const [place] = await ctx.db
    .select({
      cyclePrefix: cycles.s3Prefix,
      cycleName: cycles.name,
      cycleStatus: cycles.status,
      archivedAt: projects.archivedAt,
      bucket: projects.bucket,
      region: projects.region,
      endpoint: projects.endpoint,
      keyPrefix: projects.keyPrefix,
    })
    .from(cycles)
    .innerJoin(projects, eq(projects.id, cycles.projectId))
    .where(eq(cycles.id, session.cycleId));
  if (!place) throw new TRPCError({ code: 'NOT_FOUND', message: 'Cycle not found' });
  if (purpose === 'send' && (place.cycleStatus !== 'open' || place.archivedAt)) {
    const why = place.archivedAt ? 'the project is archived' : `cycle ${place.cycleName} is closed`;
    throw new TRPCError({ code: 'PRECONDITION_FAILED', message: `No more files can be sent: ${why}` });
  }
  return { session, place };
}

/** Records that a call on the session succeeded: what tells a live session from a stalled one. */
export async function recordActivity(ctx: AuthedContext, sessionId: string) {
  await ctx.db.update(uploadSessions).set({ lastActivityAt: sql`now()` }).where(eq(uploadSessions.id, sessionId));
}

export type WritableSession = Awaited<ReturnType<typeof loadWritableSession>>;

export interface BeginSession {
  projectId: string;
  cycleId: string;
  label: string;
  source: 'browser' | 'cli' | 'job';
  client: string;
}

/** A new upload session of the caller into an open cycle of a project that is not archived. */
export async function beginUploadSession(ctx: AuthedContext, input: BeginSession) {
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
}
