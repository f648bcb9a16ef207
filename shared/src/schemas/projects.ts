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

/** An S3-compatible endpoint; credentials never travel in it. */
export const endpoint = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(2048)
  .refine(
    (url) => !/[?#]/.test(url) && !/^https?:\/\/[^/]*@/i.test(url),
    'must not contain credentials, a query or a fragment',
  );

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
