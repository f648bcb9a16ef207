import { S3ServiceException } from '@aws-sdk/client-s3';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server';

/** Refusals about the bucket itself: a retry changes nothing until an admin fixes the project or the store. */
const bucketRefusals: Record<string, string> = {
  NoSuchBucket: 'the project’s bucket does not exist (S3 answered NoSuchBucket); an admin can check the bucket name',
  AccessDenied: 'S3 refused the server’s credentials for the project’s bucket (AccessDenied); see `pnpm s3:policy`',
  InvalidAccessKeyId: 'S3 does not know the server’s access key (InvalidAccessKeyId)',
  SignatureDoesNotMatch: 'S3 refused the server’s secret key (SignatureDoesNotMatch)',
  PermanentRedirect: 'the project’s bucket is in another region than configured (PermanentRedirect)',
};

/** Network failures on the way to S3: worth a retry a little later. */
const unreachable = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE']);

/**
 * What an S3 failure behind a call means for the caller, in words an admin can act on, instead of a bare
 * "Internal server error": null for anything that is not S3's doing.
 */
export function describeS3Failure(error: unknown): { code: TRPC_ERROR_CODE_KEY; message: string } | null {
  if (error instanceof S3ServiceException) {
    const refusal = bucketRefusals[error.name];
    if (refusal) return { code: 'PRECONDITION_FAILED', message: `S3 storage: ${refusal}` };
    if (error.$metadata.httpStatusCode && error.$metadata.httpStatusCode >= 500) {
      return { code: 'SERVICE_UNAVAILABLE', message: `S3 storage answered ${error.name}; try again shortly` };
    }
    return null;
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && unreachable.has(code)) {
    return { code: 'SERVICE_UNAVAILABLE', message: `S3 storage cannot be reached (${code}); try again shortly` };
  }
  return null;
}
