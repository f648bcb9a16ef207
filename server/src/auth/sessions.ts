import { type Db, schema } from '@data-uploader/drizzle';
import { and, eq, isNull, ne } from 'drizzle-orm';
import { newSecretToken, parseSecretToken, secretMatches } from './secret.ts';
import { type CurrentUser, currentUserColumns } from './user.ts';

const { authSessions, users } = schema;

export const sessionCookieName = 'du_session';

const day = 24 * 60 * 60 * 1000;
export const sessionLifetimeMs = 30 * day;
// Sliding expiry: a session used in its last 15 days is pushed out to 30 again.
const renewWhenLeftMs = 15 * day;

export interface ClientInfo {
  userAgent: string;
  address: string;
}

export async function createSession(db: Db, userId: string, client: ClientInfo) {
  const { id, token, secretHash } = newSecretToken();
  const expiresAt = new Date(Date.now() + sessionLifetimeMs);
  await db.insert(authSessions).values({
    id,
    secretHash,
    userId,
    expiresAt,
    userAgent: client.userAgent.slice(0, 512),
    address: client.address,
  });
  return { id, token, expiresAt };
}

export interface ValidSession {
  sessionId: string;
  expiresAt: Date;
  renewed: boolean;
  user: CurrentUser;
}

/** Checks a session cookie; null for anything malformed, unknown, tampered, expired or disabled. */
export async function validateSessionToken(db: Db, token: string): Promise<ValidSession | null> {
  const parsed = parseSecretToken(token);
  if (!parsed) return null;
  const [row] = await db
    .select({ ...currentUserColumns, secretHash: authSessions.secretHash, expiresAt: authSessions.expiresAt })
    .from(authSessions)
    .innerJoin(users, eq(users.id, authSessions.userId))
    .where(and(eq(authSessions.id, parsed.id), isNull(users.disabledAt)));
  if (!row || !secretMatches(parsed.secret, row.secretHash)) return null;
  const now = Date.now();
  if (row.expiresAt.getTime() <= now) {
    await db.delete(authSessions).where(eq(authSessions.id, parsed.id));
    return null;
  }
  const { secretHash: _, expiresAt, ...user } = row;
  const renewed = expiresAt.getTime() - now < renewWhenLeftMs;
  const nextExpiry = renewed ? new Date(now + sessionLifetimeMs) : expiresAt;
  await db
    .update(authSessions)
    .set({ lastSeenAt: new Date(now), expiresAt: nextExpiry })
    .where(eq(authSessions.id, parsed.id));
  return { sessionId: parsed.id, expiresAt: nextExpiry, renewed, user };
}

export async function invalidateSession(db: Db, sessionId: string): Promise<void> {
  await db.delete(authSessions).where(eq(authSessions.id, sessionId));
}

/** Ends every session of a person, or every one but `keep`. */
export async function invalidateUserSessions(db: Db, userId: string, keep?: string): Promise<void> {
  const condition = keep
    ? and(eq(authSessions.userId, userId), ne(authSessions.id, keep))
    : eq(authSessions.userId, userId);
  await db.delete(authSessions).where(condition);
}
