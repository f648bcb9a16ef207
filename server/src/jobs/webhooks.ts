import { createHmac } from 'node:crypto';
import type { Db } from '@data-uploader/drizzle';
import { schema } from '@data-uploader/drizzle';
import { eq } from 'drizzle-orm';
import { uploadSessionColumns } from '../services/uploadSessions.ts';

const { projects, uploadSessions, users } = schema;

export const signatureHeader = 'x-data-uploader-signature';

/** `sha256=<hex>` of the exact body, as GitHub-style webhook receivers check it. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** The project's webhook and what to tell it about a finished session, or null when it has none. */
export async function webhookFor(db: Db, sessionId: string) {
  const [row] = await db
    .select({ ...uploadSessionColumns, webhookUrl: projects.webhookUrl, webhookSecret: projects.webhookSecret })
    .from(uploadSessions)
    .innerJoin(users, eq(users.id, uploadSessions.userId))
    .innerJoin(projects, eq(projects.id, uploadSessions.projectId))
    .where(eq(uploadSessions.id, sessionId));
  if (!row?.webhookUrl || !row.webhookSecret) return null;
  const { webhookUrl, webhookSecret, ...session } = row;
  return { url: webhookUrl, secret: webhookSecret, body: JSON.stringify({ event: 'session.finished', session }) };
}

/** One delivery; anything but a 2xx answer throws, and the queue retries with backoff. */
export async function deliver(webhook: { url: string; secret: string; body: string }) {
  const response = await fetch(webhook.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'data-uploader-webhook',
      'x-data-uploader-event': 'session.finished',
      [signatureHeader]: signBody(webhook.secret, webhook.body),
    },
    body: webhook.body,
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`The webhook answered ${response.status}`);
}
