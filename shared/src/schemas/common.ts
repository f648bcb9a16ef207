import { z } from 'zod';

/** Visible text for names and labels: trimmed, bounded, no control characters. */
export const plainText = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((text) => !/\p{Cc}/u.test(text), 'must not contain control characters');

export const id = z.uuid('must be a UUID');
export const byId = z.object({ id });

export const username = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9._@-]{2,63}$/, 'must be 3 to 64 characters: letters, digits, ".", "_", "@" or "-"');

/** A new password; long passphrases welcome, an upper bound keeps hashing cheap. */
export const newPassword = z
  .string()
  .min(12, 'must be at least 12 characters')
  .max(256, 'must be at most 256 characters');

export const page = z.object({
  limit: z.number().int().min(1).max(500).default(100),
  offset: z.number().int().min(0).default(0),
});
