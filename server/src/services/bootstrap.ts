import { type Db, schema } from '@data-uploader/drizzle';
import { sql } from 'drizzle-orm';
import { hashPassword } from '../auth/password.ts';
import { generatePassword } from '../auth/secret.ts';

/**
 * First run: with no users at all, creates the first company and its operator `admin` with a random
 * password that must be changed at first sign-in. Returns that password once, or null when people exist.
 * The advisory lock keeps two instances starting together from both doing it.
 */
export async function createFirstAdmin(db: Db): Promise<{ username: string; password: string } | null> {
  const password = generatePassword();
  const passwordHash = await hashPassword(password);
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(872365001)`);
    const [existing] = await tx.select({ id: schema.users.id }).from(schema.users).limit(1);
    if (existing) return null;
    const [company] = await tx
      .insert(schema.companies)
      .values({ name: 'My company', slug: 'my-company' })
      .returning({ id: schema.companies.id });
    if (!company) throw new Error('could not create the first company');
    await tx.insert(schema.users).values({
      companyId: company.id,
      username: 'admin',
      passwordHash,
      role: 'admin',
      isOperator: true,
      mustChangePassword: true,
    });
    return { username: 'admin', password };
  });
}
