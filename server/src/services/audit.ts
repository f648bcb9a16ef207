import { type Db, schema } from '@data-uploader/drizzle';
import type { CurrentUser } from '../auth/user.ts';

/** Records an admin action; `target` names what it acted on (`project:<id>`). */
export async function recordAudit(
  db: Db,
  actor: Pick<CurrentUser, 'id' | 'companyId'>,
  action: string,
  target: string,
  details: Record<string, unknown> = {},
) {
  await db.insert(schema.auditLog).values({ companyId: actor.companyId, userId: actor.id, action, target, details });
}
