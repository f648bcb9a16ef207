/**
 * `pnpm s3:cors <bucket> --origin https://uploads.example.org [--origin …] [--dry-run]`: applies the CORS
 * rule browsers need for presigned uploads (GET PUT POST HEAD DELETE, ETag exposed) to a bucket, with the
 * server's S3 settings (S3_ENDPOINT, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or the default chain).
 */
import { parseArgs } from 'node:util';
import { GetBucketCorsCommand, PutBucketCorsCommand, S3Client } from '@aws-sdk/client-s3';
import { uploadCorsRule } from '@data-uploader/server/s3/storage';
import { bucketNameProblem } from '@data-uploader/shared';

const { values, positionals } = parseArgs({
  options: { origin: { type: 'string', multiple: true }, 'dry-run': { type: 'boolean' }, region: { type: 'string' } },
  allowPositionals: true,
});
const [bucket] = positionals;
const origins = values.origin ?? [];
const badOrigin = origins.find((origin) => !/^https?:\/\/[^/\s]+$/.test(origin));
if (!bucket || bucketNameProblem(bucket) || origins.length === 0 || badOrigin) {
  console.error('usage: pnpm s3:cors <bucket> --origin https://app.example.org [--origin …] [--region R] [--dry-run]');
  if (bucket && bucketNameProblem(bucket)) console.error(`The bucket name ${bucketNameProblem(bucket)}.`);
  if (badOrigin) console.error(`"${badOrigin}" is not an origin (scheme://host[:port], no path).`);
  process.exit(2);
}
const configuration = { CORSRules: [uploadCorsRule(origins)] };
if (values['dry-run']) {
  console.log(JSON.stringify(configuration, null, 2));
  process.exit(0);
}
const endpoint = process.env.S3_ENDPOINT;
const s3 = new S3Client({
  region: values.region ?? process.env.AWS_REGION ?? 'us-east-1',
  endpoint,
  forcePathStyle: endpoint !== undefined,
  requestChecksumCalculation: 'WHEN_REQUIRED',
});
await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: configuration }));
const applied = await s3.send(new GetBucketCorsCommand({ Bucket: bucket }));
console.log(`CORS of ${bucket} is now:\n${JSON.stringify(applied.CORSRules, null, 2)}`);
