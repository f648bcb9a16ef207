/**
 * `pnpm s3:policy <bucket> [--prefix campaigns/2025]`: prints the least-privilege IAM policy for the
 * server's credentials on one project's bucket.
 */
import { parseArgs } from 'node:util';
import { bucketNameProblem } from '@data-uploader/shared';
import { uploadPolicy } from './s3/policy.ts';

const { values, positionals } = parseArgs({ options: { prefix: { type: 'string' } }, allowPositionals: true });
const [bucket] = positionals;
const problem = bucket ? bucketNameProblem(bucket) : 'is missing';
if (!bucket || problem) {
  console.error(`usage: pnpm s3:policy <bucket> [--prefix PREFIX]\nThe bucket name ${problem}.`);
  process.exit(2);
}
console.log(JSON.stringify(uploadPolicy(bucket, values.prefix), null, 2));
