import { schema } from '@data-uploader/drizzle';
import { createCompanyInput } from '@data-uploader/shared';
import { asc, count, eq } from 'drizzle-orm';
import { hashPassword } from '../auth/password.ts';
import { generatePassword } from '../auth/secret.ts';
import { recordAudit } from '../services/audit.ts';
import { unlessTaken } from '../services/conflicts.ts';
import { authedProcedure, router } from '../trpc.ts';

const { companies, users } = schema;

const slugFromName = (name: string) =>
  name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '') || `company-${crypto.randomUUID().slice(0, 8)}`;

export const companiesRouter = router({
  list: authedProcedure.query(({ ctx }) =>
    ctx.db
      .select({
        id: companies.id,
        name: companies.name,
        slug: companies.slug,
        createdAt: companies.createdAt,
        users: count(users.id),
      })
      .from(companies)
      .leftJoin(users, eq(users.companyId, companies.id))
      .groupBy(companies.id)
      .orderBy(asc(companies.name)),
  ),

  /** Creates a company with its first admin, whose temporary password is in this answer only. */
  create: authedProcedure.input(createCompanyInput).mutation(async ({ ctx, input }) => {
    const temporaryPassword = generatePassword();
    const passwordHash = await hashPassword(temporaryPassword);
    const slug = input.slug ?? slugFromName(input.name);
    const company = await unlessTaken(
      () =>
        ctx.db.transaction(async (tx) => {
          const [company] = await tx
            .insert(companies)
            .values({ name: input.name, slug })
            .returning({ id: companies.id, name: companies.name, slug: companies.slug });
          if (!company) throw new Error('insert returned nothing');
          await tx.insert(users).values({
            companyId: company.id,
            username: input.adminUsername,
            passwordHash,
            role: 'admin',
            mustChangePassword: true,
          });
          return company;
        }),
      `A company with slug "${slug}" or a user "${input.adminUsername}" already exists`,
    );
    await recordAudit(ctx.db, ctx.user, 'company.create', `company:${company.id}`, {
      name: company.name,
      admin: input.adminUsername,
    });
    return { company, admin: { username: input.adminUsername, temporaryPassword } };
  }),
});
