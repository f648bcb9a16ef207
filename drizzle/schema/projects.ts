import { index, pgEnum, pgTable, text, unique, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, timestampTz } from './columns.ts';
import { companies } from './companies.ts';

export const projects = pgTable(
  'projects',
  {
    id: id(),
    companyId: uuid('company_id')
      .notNull()
      .references(() => companies.id),
    name: text('name').notNull(),
    bucket: text('bucket').notNull(),
    region: text('region').notNull(),
    endpoint: text('endpoint'),
    keyPrefix: text('key_prefix'),
    /** Called (signed with the secret) when an upload session of the project finishes. */
    webhookUrl: text('webhook_url'),
    webhookSecret: text('webhook_secret'),
    createdAt: createdAt(),
    archivedAt: timestampTz('archived_at'),
  },
  (t) => [unique('projects_company_name_key').on(t.companyId, t.name), index('projects_company_idx').on(t.companyId)],
);

export const cycleStatus = pgEnum('cycle_status', ['open', 'closed']);

export const cycles = pgTable(
  'cycles',
  {
    id: id(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id),
    name: text('name').notNull(),
    s3Prefix: text('s3_prefix').notNull(),
    status: cycleStatus('status').notNull().default('open'),
    notes: text('notes').notNull().default(''),
    createdAt: createdAt(),
    closedAt: timestampTz('closed_at'),
  },
  (t) => [
    unique('cycles_project_name_key').on(t.projectId, t.name),
    unique('cycles_project_prefix_key').on(t.projectId, t.s3Prefix),
  ],
);
