import { type Db, schema } from '@data-uploader/drizzle';
import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { newSecretToken, parseSecretToken, secretMatches } from './secret.ts';
import { type CurrentUser, currentUserColumns } from './user.ts';

const { apiTokens, users } = schema;

/** Visible prefix so that leaked tokens are easy to recognise and to scan for. */
export const apiTokenPrefix = 'du_';

export async function createApiToken(db: Db, userId: string, name: string) {
  const { id, token, secretHash } = newSecretToken(apiTokenPrefix);
  const [row] = await db
    .insert(apiTokens)
    .values({ id, userId, name, tokenHash: secretHash })
    .returning({ id: apiTokens.id, name: apiTokens.name, createdAt: apiTokens.createdAt });
  return { ...(row as NonNullable<typeof row>), token };
}

/** Checks a bearer token and records its use; null for malformed, unknown, tampered or revoked ones. */
export async function validateApiToken(db: Db, token: string): Promise<{ tokenId: string; user: CurrentUser } | null> {
  const parsed = parseSecretToken(token, apiTokenPrefix);
  if (!parsed) return null;
  const [row] = await db
    .select({ ...currentUserColumns, tokenHash: apiTokens.tokenHash })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(and(eq(apiTokens.id, parsed.id), isNull(apiTokens.revokedAt), isNull(users.disabledAt)));
  if (!row || !secretMatches(parsed.secret, row.tokenHash)) return null;
  // At most one write a minute per token: a CLI signing thousands of batches must not write on each.
  await db
    .update(apiTokens)
    .set({ lastUsedAt: sql`now()` })
    .where(
      and(
        eq(apiTokens.id, parsed.id),
        or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, sql`now() - interval '1 minute'`)),
      ),
    );
  const { tokenHash: _, ...user } = row;
  return { tokenId: parsed.id, user };
}
