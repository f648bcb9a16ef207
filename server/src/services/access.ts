import { schema } from '@data-uploader/drizzle';
import { TRPCError } from '@trpc/server';
import { and, eq } from 'drizzle-orm';
import type { AuthedContext } from '../trpc.ts';

const { cycles, projects, users } = schema;

/**
 * The one choke point for tenant data: rows are found by id only inside the caller's company. A foreign
 * id answers NOT_FOUND exactly like a missing one, so ids of other companies cannot even be probed.
 */
function notFound(what: string): never {
  throw new TRPCError({ code: 'NOT_FOUND', message: `${what} not found` });
}

export const projectColumns = {
  id: projects.id,
  name: projects.name,
  bucket: projects.bucket,
  region: projects.region,
  endpoint: projects.endpoint,
  keyPrefix: projects.keyPrefix,
  /** The URL only; its signing secret is shown once, when it is set. */
  webhookUrl: projects.webhookUrl,
  createdAt: projects.createdAt,
  archivedAt: projects.archivedAt,
};

export async function loadProject(ctx: AuthedContext, id: string) {
  const [project] = await ctx.db
    .select(projectColumns)
    .from(projects)
    .where(and(eq(projects.id, id), eq(projects.companyId, ctx.user.companyId)));
  return project ?? notFound('Project');
}

export const cycleColumns = {
  id: cycles.id,
  projectId: cycles.projectId,
  name: cycles.name,
  s3Prefix: cycles.s3Prefix,
  status: cycles.status,
  notes: cycles.notes,
  createdAt: cycles.createdAt,
  closedAt: cycles.closedAt,
};

export async function loadCycle(ctx: AuthedContext, id: string) {
  const [cycle] = await ctx.db
    .select(cycleColumns)
    .from(cycles)
    .innerJoin(projects, eq(projects.id, cycles.projectId))
    .where(and(eq(cycles.id, id), eq(projects.companyId, ctx.user.companyId)));
  return cycle ?? notFound('Cycle');
}

export const userColumns = {
  id: users.id,
  username: users.username,
  role: users.role,
  isOperator: users.isOperator,
  mustChangePassword: users.mustChangePassword,
  disabledAt: users.disabledAt,
  createdAt: users.createdAt,
};

export async function loadUser(ctx: AuthedContext, id: string) {
  const [user] = await ctx.db
    .select(userColumns)
    .from(users)
    .where(and(eq(users.id, id), eq(users.companyId, ctx.user.companyId)));
  return user ?? notFound('User');
}
