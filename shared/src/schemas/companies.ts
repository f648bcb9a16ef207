import { z } from 'zod';
import { plainText, username } from './common.ts';

export const companySlug = z
  .string()
  .trim()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/, 'must be 1 to 40 lowercase letters, digits or inner hyphens');

export const createCompanyInput = z.object({
  name: plainText(100),
  slug: companySlug.optional(),
  adminUsername: username,
});
