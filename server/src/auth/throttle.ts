import { type Db, schema, sqlRows } from '@data-uploader/drizzle';
import { inArray, sql } from 'drizzle-orm';

const { loginThrottle } = schema;

export interface ThrottleLimits {
  perUsername: number;
  perAddress: number;
  windowMinutes: number;
}

const userKey = (username: string) => `user:${username}`;
const addressKey = (address: string) => `addr:${address}`;

/**
 * Counts a sign-in attempt against its username and its address in fixed windows, BEFORE the password is
 * checked, so attempts sent at the same moment cannot all slip past the limit while argon2 runs. A refused
 * attempt counts nothing. Answers the minutes until the caller may try again, or 0 when it may go ahead.
 */
export async function reserveLoginAttempt(db: Db, limits: ThrottleLimits, username: string, address: string) {
  const counters = [
    { key: userKey(username), limit: limits.perUsername },
    { key: addressKey(address), limit: limits.perAddress },
  ];
  try {
    await db.transaction(async (tx) => {
      for (const { key, limit } of counters) {
        if (!(await countAttempt(tx, key, limit, limits.windowMinutes))) throw new LockedOut(key);
      }
    });
    return 0;
  } catch (error) {
    if (!(error instanceof LockedOut)) throw error;
    const [row] = await sqlRows<{ minutes_left: string }>(
      db,
      sql`select ceil(extract(epoch from (window_started_at + make_interval(mins => ${limits.windowMinutes}) - now())) / 60)
            as minutes_left from ${loginThrottle} where key = ${error.key}`,
    );
    return Math.max(1, Number(row?.minutes_left ?? 1));
  }
}

class LockedOut extends Error {
  constructor(readonly key: string) {
    super(`locked out: ${key}`);
  }
}

/** Adds one attempt unless the window is full; the conflict clause's WHERE makes "full" answer no row. */
async function countAttempt(db: Pick<Db, 'execute'>, key: string, limit: number, windowMinutes: number) {
  const expired = sql`${loginThrottle.windowStartedAt} <= now() - make_interval(mins => ${windowMinutes})`;
  const rows = await sqlRows<{ failures: number }>(
    db,
    sql`
    insert into ${loginThrottle} (key, failures, window_started_at) values (${key}, 1, now())
    on conflict (key) do update set
      failures = case when ${expired} then 1 else ${loginThrottle.failures} + 1 end,
      window_started_at = case when ${expired} then now() else ${loginThrottle.windowStartedAt} end
    where ${expired} or ${loginThrottle.failures} < ${limit}
    returning failures`,
  );
  return rows.length > 0;
}

/** A successful sign-in clears the username's count and gives the address its attempt back. */
export async function releaseLoginAttempt(db: Db, username: string, address: string) {
  await db.delete(loginThrottle).where(inArray(loginThrottle.key, [userKey(username)]));
  await db.execute(
    sql`update ${loginThrottle} set failures = greatest(failures - 1, 0) where key = ${addressKey(address)}`,
  );
}
