import { describe, expect, it } from 'vitest';
import { uploadPolicy } from './policy.ts';

describe('uploadPolicy', () => {
  it('limits object actions to the prefix and listing to the same prefix', () => {
    const policy = uploadPolicy('birds-2025', 'campaigns/2025/');
    const [objects, listing, bucket] = policy.Statement;
    expect(objects?.Resource).toBe('arn:aws:s3:::birds-2025/campaigns/2025/*');
    expect(objects?.Action).toEqual(['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts']);
    expect(listing?.Resource).toBe('arn:aws:s3:::birds-2025');
    expect(listing?.Condition).toEqual({ StringLike: { 's3:prefix': ['campaigns/2025/*'] } });
    expect(bucket?.Action).toContain('s3:GetBucketCORS');
  });

  it('grants the whole bucket when the project has no key prefix, and never deletion of objects', () => {
    const policy = uploadPolicy('birds-2025');
    expect(policy.Statement[0]?.Resource).toBe('arn:aws:s3:::birds-2025/*');
    expect(policy.Statement[1]).not.toHaveProperty('Condition');
    expect(JSON.stringify(policy)).not.toMatch(/DeleteObject|s3:\*/);
  });
});
