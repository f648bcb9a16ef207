import { schema } from '@data-uploader/drizzle';
import { byId, changeRoleInput, createUserInput, type Role } from '@data-uploader/shared';
import { TRPCError } from '@trpc/server';
import { and, asc, eq, isNull, or } from 'drizzle-orm';
import { hashPassword } from '../auth/password.ts';
import { generatePassword } from '../auth/secret.ts';
import { invalidateUserSessions } from '../auth/sessions.ts';
import { loadUser, userColumns } from '../services/access.ts';
import { recordAudit } from '../services/audit.ts';
import { unlessTaken } from '../services/conflicts.ts';
import { type AuthedContext, authedProcedure, router } from '../trpc.ts';

const { apiTokens, users } = schema;

/**
 * Applies a change to a person that may take them out of the company's active admins (demotion, disabling)
 * only if another active admin remains. The company's admin rows and the target are locked in one statement,
 * in id order, so two admins demoting each other at once neither deadlock nor both succeed.
 */
async function unlessLastAdmin(ctx: AuthedContext, userId: string, change: Partial<typeof users.$inferInsert>) {
  await ctx.db.transaction(async (tx) => {
    const locked = await tx
      .select({ id: users.id, role: users.role, disabledAt: users.disabledAt })
      .from(users)
      .where(and(eq(users.companyId, ctx.user.companyId), or(eq(users.role, 'admin'), eq(users.id, userId))))
      .orderBy(asc(users.id))
      .for('update');
    const activeAdmin = (row: (typeof locked)[number]) => row.role === 'admin' && row.disabledAt === null;
    const target = locked.find((row) => row.id === userId);
    const leavesAdmins = (change.role !== undefined && change.role !== 'admin') || Boolean(change.disabledAt);
    const othersRemain = locked.some((row) => row.id !== userId && activeAdmin(row));
    if (target && activeAdmin(target) && leavesAdmins && !othersRemain) {
      throw new TRPCError({
        code: 'PRECONDITION_FAILED',
        message: 'The last admin of a company cannot be demoted or disabled',
      });
    }
    await tx.update(users).set(change).where(eq(users.id, userId));
  });
}

/** The instance operator is managed only by an operator: a company admin must not take over the instance. */
async function loadManageableUser(ctx: AuthedContext, id: string) {
  const user = await loadUser(ctx, id);
  if (user.isOperator && !ctx.user.isOperator) {
    throw new TRPCError({ code: 'FORBIDDEN', message: 'Only an operator may change the operator account' });
  }
  return user;
}

/** A new temporary password; the person's sessions end and their API tokens are revoked (the reset may follow a compromise). */
async function setTemporaryPassword(ctx: AuthedContext, userId: string) {
  const temporaryPassword = generatePassword();
  const passwordHash = await hashPassword(temporaryPassword);
  await ctx.db.update(users).set({ passwordHash, mustChangePassword: true }).where(eq(users.id, userId));
  await invalidateUserSessions(ctx.db, userId);
  await ctx.db
    .update(apiTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)));
  return temporaryPassword;
}

export const usersRouter = router({
  list: authedProcedure.query(({ ctx }) =>
    ctx.db.select(userColumns).from(users).where(eq(users.companyId, ctx.user.companyId)).orderBy(asc(users.username)),
  ),

  create: authedProcedure.input(createUserInput).mutation(async ({ ctx, input }) => {
    const temporaryPassword = input.temporaryPassword ?? generatePassword();
    const passwordHash = await hashPassword(temporaryPassword);
    const [user] = await unlessTaken(
      () =>
        ctx.db
          .insert(users)
          .values({ companyId: ctx.user.companyId, username: input.username, passwordHash, role: input.role })
          .returning(userColumns),
      `The username "${input.username}" is taken`,
    );
    if (!user) throw new Error('insert returned nothing');
    await recordAudit(ctx.db, ctx.user, 'user.create', `user:${user.id}`, { username: user.username, role: user.role });
    return { user, temporaryPassword };
  }),

  changeRole: authedProcedure.input(changeRoleInput).mutation(async ({ ctx, input }) => {
    const user = await loadManageableUser(ctx, input.id);
    await unlessLastAdmin(ctx, user.id, { role: input.role as Role });
    await recordAudit(ctx.db, ctx.user, 'user.changeRole', `user:${user.id}`, { from: user.role, to: input.role });
    return { ...user, role: input.role };
  }),

  disable: authedProcedure.input(byId).mutation(async ({ ctx, input }) => {
    const user = await loadManageableUser(ctx, input.id);
    const disabledAt = user.disabledAt ?? new Date();
    await unlessLastAdmin(ctx, user.id, { disabledAt });
    await invalidateUserSessions(ctx.db, user.id);
    await recordAudit(ctx.db, ctx.user, 'user.disable', `user:${user.id}`, { username: user.username });
    return { ...user, disabledAt };
  }),

  enable: authedProcedure.input(byId).mutation(async ({ ctx, input }) => {
    const user = await loadManageableUser(ctx, input.id);
    await ctx.db.update(users).set({ disabledAt: null }).where(eq(users.id, user.id));
    await recordAudit(ctx.db, ctx.user, 'user.enable', `user:${user.id}`, { username: user.username });
    return { ...user, disabledAt: null };
  }),

  /** A new temporary password, shown once; the person's sessions end and they must choose a new one. */
  resetPassword: authedProcedure.input(byId).mutation(async ({ ctx, input }) => {
    const user = await loadManageableUser(ctx, input.id);
    const temporaryPassword = await setTemporaryPassword(ctx, user.id);
    await recordAudit(ctx.db, ctx.user, 'user.resetPassword', `user:${user.id}`, { username: user.username });
    return { user: { ...user, mustChangePassword: true }, temporaryPassword };
  }),
});
