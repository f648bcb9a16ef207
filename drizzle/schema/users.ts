import { boolean, index, pgEnum, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, timestampTz } from './columns.ts';
import { companies } from './companies.ts';

export const userRole = pgEnum('user_role', ['viewer', 'user', 'admin']);

export const users = pgTable(
  'users',
  {
    id: id(),
    companyId: uuid('company_id')
      .notNull()
      .references(() => companies.id),
    username: text('username').notNull().unique(),
    passwordHash: text('password_hash').notNull(),
    role: userRole('role').notNull(),
    isOperator: boolean('is_operator').notNull().default(false),
    mustChangePassword: boolean('must_change_password').notNull().default(true),
    disabledAt: timestampTz('disabled_at'),
    createdAt: createdAt(),
  },
  (t) => [index('users_company_idx').on(t.companyId)],
);
