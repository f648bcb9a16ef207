import { z } from 'zod';

export const listAuditInput = z
  .object({
    limit: z.number().int().min(1).max(500).default(100),
    /** Entries older than this id, for paging backwards. */
    beforeId: z.number().int().positive().optional(),
  })
  .default({ limit: 100 });
