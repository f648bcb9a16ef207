import { XMLParser } from 'fast-xml-parser';
import pRetry, { AbortError } from 'p-retry';

/** An S3 answer worth trying again: server errors, throttling (503 SlowDown, 429) and request timeouts. */
export class TransientS3Error extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** An S3 answer that no retry will change (403 signature, 404 NoSuchUpload, 400 InvalidPart…). */
export class TerminalS3Error extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
  }
}

const xml = new XMLParser({ ignoreAttributes: true, parseTagValue: false, isArray: (name) => name === 'Part' });

function errorCode(body: string): { code: string; message: string } {
  const parsed = xml.parse(body) as { Error?: { Code?: string; Message?: string } };
  return { code: parsed.Error?.Code ?? 'Unknown', message: parsed.Error?.Message ?? body.slice(0, 200) };
}

export interface RetryPolicy {
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { retries: 6, minTimeoutMs: 200, maxTimeoutMs: 20_000 };

export interface TransferOptions {
  signal?: AbortSignal;
  retry?: RetryPolicy;
  onRetry?: (error: Error) => void;
  /**
   * The body again, fresh from disk: with it, a BadDigest answer is retried with these bytes (without it,
   * BadDigest is final). It may throw p-retry's AbortError to stop, e.g. when the file changed meanwhile.
   */
  reread?: () => Promise<Uint8Array>;
}

/**
 * One HTTP request to a presigned S3 URL, retried with exponential backoff and full jitter on network errors
 * and transient answers (SlowDown backs off the same way, as S3 asks), and on BadDigest when the body can be
 * read again. Terminal answers fail at once.
 */
export async function s3Request(
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: Uint8Array | string },
  options: TransferOptions = {},
): Promise<Response> {
  const policy = options.retry ?? defaultRetryPolicy;
  let body = init.body;
  let corrupted = false;
  return pRetry(
    async () => {
      if (corrupted && options.reread) body = await options.reread();
      let response: Response;
      try {
        response = await fetch(url, { ...init, body, signal: options.signal });
      } catch (error) {
        if (options.signal?.aborted) throw new AbortError(options.signal.reason ?? 'aborted');
        throw error;
      }
      // The body is read here, inside the retry: a connection cut while S3's answer travels is a network error too.
      if (response.ok) return new Response(await response.text(), response);
      const { code, message } = errorCode(await response.text());
      // S3 refused a body whose MD5 differs from the signed Content-MD5: it was damaged on the way, or in memory.
      corrupted = code === 'BadDigest' && options.reread !== undefined;
      if (
        corrupted ||
        response.status >= 500 ||
        response.status === 429 ||
        code === 'SlowDown' ||
        code === 'RequestTimeout'
      ) {
        throw new TransientS3Error(`${response.status} ${code}: ${message}`, response.status);
      }
      throw new AbortError(new TerminalS3Error(`${response.status} ${code}: ${message}`, response.status, code));
    },
    {
      retries: policy.retries,
      minTimeout: policy.minTimeoutMs,
      maxTimeout: policy.maxTimeoutMs,
      randomize: true,
      signal: options.signal,
      onFailedAttempt: ({ error }) => options.onRetry?.(error),
    },
  );
}

/** PUT a body (a whole small file, or one part) and answer the ETag S3 gave it. */
export async function putBytes(
  url: string,
  headers: Record<string, string>,
  body: Uint8Array,
  options: TransferOptions,
): Promise<string> {
  const response = await s3Request(url, { method: 'PUT', headers, body }, options);
  return response.headers.get('etag') ?? '';
}

export async function createMultipartUpload(url: string, headers: Record<string, string>, options: TransferOptions) {
  const response = await s3Request(url, { method: 'POST', headers }, options);
  const parsed = xml.parse(await response.text()) as { InitiateMultipartUploadResult?: { UploadId?: string } };
  const uploadId = parsed.InitiateMultipartUploadResult?.UploadId;
  if (!uploadId) throw new TerminalS3Error('CreateMultipartUpload answered no UploadId', response.status, 'NoUploadId');
  return uploadId;
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
  size: number;
}

/**
 * One page (up to 1,000) of the parts S3 already holds of a multipart upload, and the marker of the next page
 * when there is one: a file may have up to 10,000 parts.
 */
export async function listParts(
  url: string,
  options: TransferOptions,
): Promise<{ parts: UploadedPart[]; nextPartNumberMarker?: number }> {
  const response = await s3Request(url, { method: 'GET' }, options);
  const parsed = xml.parse(await response.text()) as {
    ListPartsResult?: {
      Part?: Array<{ PartNumber: string; ETag: string; Size: string }>;
      IsTruncated?: string;
      NextPartNumberMarker?: string;
    };
  };
  const result = parsed.ListPartsResult;
  const parts = (result?.Part ?? []).map((part) => ({
    partNumber: Number(part.PartNumber),
    etag: part.ETag,
    size: Number(part.Size),
  }));
  const truncated = result?.IsTruncated === 'true' && result.NextPartNumberMarker !== undefined;
  return { parts, nextPartNumberMarker: truncated ? Number(result.NextPartNumberMarker) : undefined };
}

export async function completeMultipartUpload(url: string, parts: UploadedPart[], options: TransferOptions) {
  const body = `<CompleteMultipartUpload>${[...parts]
    .sort((a, b) => a.partNumber - b.partNumber)
    .map((part) => `<Part><PartNumber>${part.partNumber}</PartNumber><ETag>${part.etag}</ETag></Part>`)
    .join('')}</CompleteMultipartUpload>`;
  let answerLost = false;
  let response: Response;
  try {
    response = await s3Request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/xml' }, body },
      {
        ...options,
        onRetry: (error) => {
          answerLost = true;
          options.onRetry?.(error);
        },
      },
    );
  } catch (error) {
    // An attempt whose answer never arrived may have completed the upload, and S3 then forgets its id. The object
    // is most likely there: no ETag is known, and the session's finish checks the bucket before counting it.
    if (answerLost && error instanceof TerminalS3Error && error.code === 'NoSuchUpload') return '';
    throw error;
  }
  // S3 may answer 200 with an <Error> body when Complete fails late.
  const text = await response.text();
  if (text.includes('<Error>')) {
    const { code, message } = errorCode(text);
    throw new TerminalS3Error(`${code}: ${message}`, response.status, code);
  }
  return (
    (xml.parse(text) as { CompleteMultipartUploadResult?: { ETag?: string } }).CompleteMultipartUploadResult?.ETag ?? ''
  );
}
