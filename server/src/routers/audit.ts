import { schema } from '@data-uploader/drizzle';
import { listAuditInput } from '@data-uploader/shared';
import { and, desc, eq, lt } from 'drizzle-orm';
import { authedProcedure, router } from '../trpc.ts';

const { auditLog, users } = schema;

export const auditRouter = router({
  /** The company's admin actions, newest first. */
  list: authedProcedure.input(listAuditInput).query(({ ctx, input }) =>
    ctx.db
      .select({
        id: auditLog.id,
        action: auditLog.action,
        target: auditLog.target,
        details: auditLog.details,
        at: auditLog.at,
        username: users.username,
      })
      .from(auditLog)
      .leftJoin(users, eq(users.id, auditLog.userId))
      .where(
        and(eq(auditLog.companyId, ctx.user.companyId), input.beforeId ? lt(auditLog.id, input.beforeId) : undefined),
      )
      .orderBy(desc(auditLog.id))
      .limit(input.limit),
  ),
});
