import { schema } from '@data-uploader/drizzle';
import {
  byId,
  createCycleInput,
  cyclePrefixFromName,
  listCyclesInput,
  nextCycleName,
  updateCycleInput,
  verifyCycleInput,
} from '@data-uploader/shared';
import { TRPCError } from '@trpc/server';
import { asc, count, eq, sql } from 'drizzle-orm';
import { cycleColumns, loadCycle, loadProject } from '../services/access.ts';
import { recordAudit } from '../services/audit.ts';
import { unlessTaken } from '../services/conflicts.ts';
import { verifyCycle } from '../services/verification.ts';
import { type AuthedContext, authedProcedure, router } from '../trpc.ts';

const { cycles, files } = schema;

const completed = sql`${files.status} = 'completed'`;

async function setStatus(ctx: AuthedContext, id: string, status: 'open' | 'closed') {
  const cycle = await loadCycle(ctx, id);
  const closedAt = status === 'closed' ? (cycle.closedAt ?? new Date()) : null;
  await ctx.db.update(cycles).set({ status, closedAt }).where(eq(cycles.id, cycle.id));
  await recordAudit(ctx.db, ctx.user, status === 'closed' ? 'cycle.close' : 'cycle.reopen', `cycle:${cycle.id}`);
  return { ...cycle, status, closedAt };
}

async function takenCycleNames(ctx: AuthedContext, projectId: string) {
  const rows = await ctx.db
    .select({ name: cycles.name, prefix: cycles.s3Prefix })
    .from(cycles)
    .where(eq(cycles.projectId, projectId));
  return rows.flatMap((row) => [row.name, row.prefix]);
}

export const cyclesRouter = router({
  list: authedProcedure.input(listCyclesInput).query(async ({ ctx, input }) => {
    const project = await loadProject(ctx, input.projectId);
    return ctx.db
      .select(cycleColumns)
      .from(cycles)
      .where(eq(cycles.projectId, project.id))
      .orderBy(asc(cycles.createdAt));
  }),

  /**
   * What the ledger holds for each cycle of a project: files and bytes planned, how many of them arrived
   * (`completed`) and how many failed. Every cycle gets a row, zeros when nothing was planned yet.
   */
  totals: authedProcedure.input(listCyclesInput).query(async ({ ctx, input }) => {
    const project = await loadProject(ctx, input.projectId);
    return ctx.db
      .select({
        cycleId: cycles.id,
        filesTotal: count(files.id),
        filesCompleted: sql<number>`count(*) filter (where ${completed})`.mapWith(Number),
        filesFailed: sql<number>`count(*) filter (where ${files.status} = 'failed')`.mapWith(Number),
        bytesTotal: sql<number>`coalesce(sum(${files.size}), 0)`.mapWith(Number),
        bytesCompleted: sql<number>`coalesce(sum(${files.size}) filter (where ${completed}), 0)`.mapWith(Number),
      })
      .from(cycles)
      .leftJoin(files, eq(files.cycleId, cycles.id))
      .where(eq(cycles.projectId, project.id))
      .groupBy(cycles.id)
      .orderBy(asc(cycles.createdAt));
  }),

  get: authedProcedure.input(byId).query(({ ctx, input }) => loadCycle(ctx, input.id)),

  /**
   * Compares the cycle's ledger with its bucket: every file completed in the ledger must be there with its
   * size and recorded ETag, and nothing else under the cycle's prefix. Lists the first `limit` differences
   * and counts them all; `total` 0 means they agree.
   */
  verify: authedProcedure.input(verifyCycleInput).query(async ({ ctx, input }) => {
    const cycle = await loadCycle(ctx, input.id);
    const project = await loadProject(ctx, cycle.projectId);
    const place = { ...project, cyclePrefix: cycle.s3Prefix };
    return { cycleId: cycle.id, ...(await verifyCycle(ctx.db, ctx.storage, cycle.id, place, input.limit)) };
  }),

  /**
   * The S3 prefix is derived from the name once, here, and never changes afterwards: files already in
   * the bucket under it stay where the ledger says they are, even if the cycle is renamed.
   */
  create: authedProcedure.input(createCycleInput).mutation(async ({ ctx, input }) => {
    const project = await loadProject(ctx, input.projectId);
    if (project.archivedAt) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'The project is archived' });
    const name = input.name ?? nextCycleName(await takenCycleNames(ctx, project.id));
    const s3Prefix = cyclePrefixFromName(name);
    if (!s3Prefix) {
      throw new TRPCError({
        code: 'BAD_REQUEST',
        message: `The name "${name}" gives no usable S3 prefix; use letters or digits`,
      });
    }
    const [cycle] = await unlessTaken(
      () =>
        ctx.db
          .insert(cycles)
          .values({ projectId: project.id, name, s3Prefix, notes: input.notes ?? '' })
          .returning(cycleColumns),
      `A cycle named "${name}" or with the S3 prefix "${s3Prefix}" already exists in this project`,
    );
    if (!cycle) throw new Error('insert returned nothing');
    await recordAudit(ctx.db, ctx.user, 'cycle.create', `cycle:${cycle.id}`, { name, s3Prefix, projectId: project.id });
    return cycle;
  }),

  update: authedProcedure.input(updateCycleInput).mutation(async ({ ctx, input }) => {
    const { id, ...changes } = input;
    const cycle = await loadCycle(ctx, id);
    if (changes.name === undefined && changes.notes === undefined) {
      throw new TRPCError({ code: 'BAD_REQUEST', message: 'Nothing to change' });
    }
    const [updated] = await unlessTaken(
      () => ctx.db.update(cycles).set(changes).where(eq(cycles.id, cycle.id)).returning(cycleColumns),
      `A cycle named "${changes.name}" already exists in this project`,
    );
    await recordAudit(ctx.db, ctx.user, 'cycle.update', `cycle:${cycle.id}`, changes);
    return updated ?? cycle;
  }),

  close: authedProcedure.input(byId).mutation(({ ctx, input }) => setStatus(ctx, input.id, 'closed')),
  reopen: authedProcedure.input(byId).mutation(({ ctx, input }) => setStatus(ctx, input.id, 'open')),
});
