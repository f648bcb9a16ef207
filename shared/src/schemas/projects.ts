import { z } from 'zod';
import { bucketNameProblem, regionProblem } from '../bucket.ts';
import { keyPrefixProblem } from '../prefix.ts';
import { id, plainText } from './common.ts';

const checked = (problem: (value: string) => string | null) => (value: string, ctx: z.RefinementCtx) => {
  const message = problem(value);
  if (message) ctx.addIssue({ code: 'custom', message });
};

export const bucketName = z.string().trim().superRefine(checked(bucketNameProblem));
export const region = z.string().trim().superRefine(checked(regionProblem));

// Every runtime shared/ runs in (browsers, Node) has the WHATWG URL; its lib types are not loaded here, so
// this module-local declaration types just the part used.
declare const URL: new (
  url: string,
) => { username: string; password: string; search: string; hash: string; origin: string; pathname: string };

/**
 * An S3-compatible endpoint, stored as the URL parser reads it (`https://s3.example.com/base`). Credentials,
 * queries and fragments are refused however they are spelled (`https:///user:secret@host` hides them from a
 * naive check but not from the parser).
 */
export const endpoint = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(2048)
  .transform((url, ctx) => {
    const parsed = parseUrl(url);
    if (!parsed) {
      ctx.addIssue({ code: 'custom', message: 'must be an http(s) URL' });
      return z.NEVER;
    }
    if (parsed.username || parsed.password || parsed.search || parsed.hash || /[?#]/.test(url)) {
      ctx.addIssue({ code: 'custom', message: 'must not contain credentials, a query or a fragment' });
      return z.NEVER;
    }
    return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
  });

function parseUrl(url: string) {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

export const keyPrefix = z.string().trim().superRefine(checked(keyPrefixProblem));

export const createProjectInput = z.object({
  name: plainText(100),
  bucket: bucketName,
  region: region.default('us-east-1'),
  endpoint: endpoint.nullish(),
  keyPrefix: keyPrefix.nullish(),
});

export const updateProjectInput = z.object({
  id,
  name: plainText(100).optional(),
  bucket: bucketName.optional(),
  region: region.optional(),
  endpoint: endpoint.nullish(),
  keyPrefix: keyPrefix.nullish(),
});

export const listProjectsInput = z.object({ includeArchived: z.boolean().default(false) }).default({
  includeArchived: false,
});
