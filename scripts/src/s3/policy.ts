/**
 * The least-privilege IAM policy the server's credentials need for one project's bucket (and key prefix):
 * presigning uploads (PutObject covers CreateMultipartUpload, UploadPart and CompleteMultipartUpload), listing
 * and aborting multipart uploads, listing the prefix to reconcile, and reading/writing the bucket's CORS rule.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
 */
export function uploadPolicy(bucket: string, keyPrefix?: string) {
  const prefix = keyPrefix ? `${keyPrefix.replace(/\/+$/, '')}/` : '';
  const bucketArn = `arn:aws:s3:::${bucket}`;
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'UploadObjects',
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        Resource: `${bucketArn}/${prefix}*`,
      },
      {
        Sid: 'ReconcileAndCleanUp',
        Effect: 'Allow',
        Action: ['s3:ListBucket', 's3:ListBucketMultipartUploads'],
        Resource: bucketArn,
        ...(prefix ? { Condition: { StringLike: { 's3:prefix': [`${prefix}*`] } } } : {}),
      },
      {
        Sid: 'CheckBucket',
        Effect: 'Allow',
        Action: ['s3:GetBucketLocation', 's3:GetBucketCORS', 's3:PutBucketCORS'],
        Resource: bucketArn,
      },
    ],
  };
}
