import { schema } from '@data-uploader/drizzle';
import { changePasswordInput, loginInput, revokeSessionInput } from '@data-uploader/shared';
import { TRPCError } from '@trpc/server';
import { and, desc, eq, gt } from 'drizzle-orm';
import { hashPassword, verifyPassword } from '../auth/password.ts';
import { createSession, invalidateSession, invalidateUserSessions } from '../auth/sessions.ts';
import { releaseLoginAttempt, reserveLoginAttempt } from '../auth/throttle.ts';
import type { Context } from '../context.ts';
import { authedProcedure, publicProcedure, router } from '../trpc.ts';

const { authSessions, companies, users } = schema;

const throttleLimits = (ctx: Context) => ({
  perUsername: ctx.config.LOGIN_MAX_FAILURES_PER_USERNAME,
  perAddress: ctx.config.LOGIN_MAX_FAILURES_PER_ADDRESS,
  windowMinutes: ctx.config.LOGIN_THROTTLE_MINUTES,
});

const wrongCredentials = () => new TRPCError({ code: 'UNAUTHORIZED', message: 'Wrong username or password' });

async function startSession(ctx: Context, userId: string) {
  const session = await createSession(ctx.db, userId, ctx.request);
  ctx.cookie?.set(session.token, session.expiresAt);
  return session;
}

export const authRouter = router({
  /** Same answer, in the same time, for an unknown user, a disabled one and a wrong password. */
  login: publicProcedure.input(loginInput).mutation(async ({ ctx, input }) => {
    const wait = await reserveLoginAttempt(ctx.db, throttleLimits(ctx), input.username, ctx.request.address);
    if (wait > 0) {
      throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `Too many failed sign-ins; try again in ${wait} min` });
    }
    const [user] = await ctx.db
      .select({ id: users.id, passwordHash: users.passwordHash, disabledAt: users.disabledAt })
      .from(users)
      .where(eq(users.username, input.username));
    const passwordOk = await verifyPassword(user?.passwordHash, input.password);
    if (!user || !passwordOk || user.disabledAt) throw wrongCredentials();
    await releaseLoginAttempt(ctx.db, input.username, ctx.request.address);
    const session = await startSession(ctx, user.id);
    return { expiresAt: session.expiresAt.toISOString() };
  }),

  logout: authedProcedure.mutation(async ({ ctx }) => {
    if (ctx.credential?.kind === 'session') await invalidateSession(ctx.db, ctx.credential.id);
    ctx.cookie?.clear();
    return { ok: true };
  }),

  me: authedProcedure.query(async ({ ctx }) => {
    const [company] = await ctx.db
      .select({ id: companies.id, name: companies.name, slug: companies.slug })
      .from(companies)
      .where(eq(companies.id, ctx.user.companyId));
    const { companyId: _, ...user } = ctx.user;
    return { ...user, company: company ?? null };
  }),

  /** Ends every session of the person (on every device) and starts a fresh one for this browser. */
  changePassword: authedProcedure.input(changePasswordInput).mutation(async ({ ctx, input }) => {
    const [row] = await ctx.db
      .select({ passwordHash: users.passwordHash })
      .from(users)
      .where(eq(users.id, ctx.user.id));
    if (!(await verifyPassword(row?.passwordHash, input.currentPassword))) {
      throw new TRPCError({ code: 'BAD_REQUEST', message: 'The current password is wrong' });
    }
    if (input.newPassword.toLowerCase().includes(ctx.user.username)) {
      throw new TRPCError({ code: 'BAD_REQUEST', message: 'The new password must not contain the username' });
    }
    const passwordHash = await hashPassword(input.newPassword);
    await ctx.db.update(users).set({ passwordHash, mustChangePassword: false }).where(eq(users.id, ctx.user.id));
    await invalidateUserSessions(ctx.db, ctx.user.id);
    if (ctx.credential?.kind === 'session') await startSession(ctx, ctx.user.id);
    return { ok: true };
  }),

  sessions: authedProcedure.query(async ({ ctx }) => {
    const rows = await ctx.db
      .select({
        id: authSessions.id,
        createdAt: authSessions.createdAt,
        lastSeenAt: authSessions.lastSeenAt,
        expiresAt: authSessions.expiresAt,
        userAgent: authSessions.userAgent,
        address: authSessions.address,
      })
      .from(authSessions)
      .where(and(eq(authSessions.userId, ctx.user.id), gt(authSessions.expiresAt, new Date())))
      .orderBy(desc(authSessions.lastSeenAt));
    const currentId = ctx.credential?.kind === 'session' ? ctx.credential.id : null;
    return rows.map((row) => ({ ...row, current: row.id === currentId }));
  }),

  revokeSession: authedProcedure.input(revokeSessionInput).mutation(async ({ ctx, input }) => {
    const deleted = await ctx.db
      .delete(authSessions)
      .where(and(eq(authSessions.id, input.id), eq(authSessions.userId, ctx.user.id)))
      .returning({ id: authSessions.id });
    if (deleted.length === 0) throw new TRPCError({ code: 'NOT_FOUND', message: 'Session not found' });
    if (ctx.credential?.kind === 'session' && ctx.credential.id === input.id) ctx.cookie?.clear();
    return { ok: true };
  }),
});
