import { schema } from '@data-uploader/drizzle';
import { createTokenInput, revokeTokenInput } from '@data-uploader/shared';
import { TRPCError } from '@trpc/server';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { createApiToken } from '../auth/apiTokens.ts';
import { authedProcedure, router } from '../trpc.ts';

const { apiTokens } = schema;

export const tokensRouter = router({
  list: authedProcedure.query(({ ctx }) =>
    ctx.db
      .select({
        id: apiTokens.id,
        name: apiTokens.name,
        createdAt: apiTokens.createdAt,
        lastUsedAt: apiTokens.lastUsedAt,
        revokedAt: apiTokens.revokedAt,
      })
      .from(apiTokens)
      .where(eq(apiTokens.userId, ctx.user.id))
      .orderBy(desc(apiTokens.createdAt)),
  ),

  /** The token itself is in this answer only; the server keeps just its hash. */
  create: authedProcedure
    .input(createTokenInput)
    .mutation(({ ctx, input }) => createApiToken(ctx.db, ctx.user.id, input.name)),

  revoke: authedProcedure.input(revokeTokenInput).mutation(async ({ ctx, input }) => {
    const revoked = await ctx.db
      .update(apiTokens)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiTokens.id, input.id), eq(apiTokens.userId, ctx.user.id), isNull(apiTokens.revokedAt)))
      .returning({ id: apiTokens.id });
    if (revoked.length === 0) throw new TRPCError({ code: 'NOT_FOUND', message: 'Token not found or already revoked' });
    return { ok: true };
  }),
});
