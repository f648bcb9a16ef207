import { z } from 'zod';
import { id } from './common.ts';

export const startImportInput = z.object({
  projectId: id,
  cycleId: id,
  /** An absolute folder on the server, inside one of the operator's IMPORT_ROOTS. */
  path: z.string().min(1, 'is required').max(4096),
  label: z.string().trim().max(200).default(''),
});

export const listJobsInput = z
  .object({ projectId: id.optional(), limit: z.number().int().min(1).max(200).default(50) })
  .default({ limit: 50 });

export const setWebhookInput = z.object({
  id,
  /** Called with a signed POST when an upload session of the project finishes; null removes it. */
  url: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .max(2048)
    .nullable(),
});
