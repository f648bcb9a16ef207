import { type Db, schema } from '@data-uploader/drizzle';
import { inArray, sql } from 'drizzle-orm';

const { loginThrottle } = schema;

export interface ThrottleLimits {
  perUsername: number;
  perAddress: number;
  windowMinutes: number;
}

const keysFor = (username: string, address: string) => [`user:${username}`, `addr:${address}`] as const;

/**
 * Failed sign-ins are counted in fixed windows per username and per address. Minutes until the caller
 * may try again, or 0 when neither counter is over its limit.
 */
export async function minutesLockedOut(db: Db, limits: ThrottleLimits, username: string, address: string) {
  const [userKey, addressKey] = keysFor(username, address);
  const rows = await db
    .select({
      key: loginThrottle.key,
      failures: loginThrottle.failures,
      minutesLeft: sql<number>`ceil(extract(epoch from (${loginThrottle.windowStartedAt} + make_interval(mins => ${limits.windowMinutes}) - now())) / 60)`,
    })
    .from(loginThrottle)
    .where(inArray(loginThrottle.key, [userKey, addressKey]));
  let wait = 0;
  for (const row of rows) {
    const limit = row.key === userKey ? limits.perUsername : limits.perAddress;
    const minutesLeft = Number(row.minutesLeft);
    if (minutesLeft > 0 && row.failures >= limit) wait = Math.max(wait, minutesLeft);
  }
  return wait;
}

export async function recordLoginFailure(db: Db, limits: ThrottleLimits, username: string, address: string) {
  const expired = sql`${loginThrottle.windowStartedAt} <= now() - make_interval(mins => ${limits.windowMinutes})`;
  await db
    .insert(loginThrottle)
    .values(keysFor(username, address).map((key) => ({ key, failures: 1, windowStartedAt: sql`now()` })))
    .onConflictDoUpdate({
      target: loginThrottle.key,
      set: {
        failures: sql`case when ${expired} then 1 else ${loginThrottle.failures} + 1 end`,
        windowStartedAt: sql`case when ${expired} then now() else ${loginThrottle.windowStartedAt} end`,
      },
    });
}

/** A successful sign-in clears the username's counter; the address keeps counting its failures. */
export async function clearLoginFailures(db: Db, username: string) {
  await db.delete(loginThrottle).where(inArray(loginThrottle.key, [`user:${username}`]));
}
