import path from 'node:path';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  GetBucketCorsCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutBucketCorsCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { type Config, usesEmbeddedS3 } from '../config.ts';
import { type LocalS3, startLocalS3 } from './localS3.ts';
import { type BucketTarget, objectUrl, Presigner } from './presigner.ts';

/** A multipart upload S3 holds open. */
export interface MultipartUpload {
  key: string;
  uploadId: string;
  initiated: Date;
}

/** The bucket fields of a project row. */
export interface ProjectBucket {
  bucket: string;
  region: string;
  endpoint: string | null;
}

/** What browsers need of a bucket's CORS rule for Uppy's presigned uploads, Abort (DELETE) included. */
export const uploadCorsRule = (origins: string[]) => ({
  AllowedOrigins: origins,
  AllowedMethods: ['GET', 'PUT', 'POST', 'HEAD', 'DELETE'],
  AllowedHeaders: ['*'],
  ExposeHeaders: ['ETag'],
  MaxAgeSeconds: 3600,
});

export interface ListedObject {
  key: string;
  size: number;
  /** As S3 lists it, quotes included: the MD5 of a single PUT, `md5(part MD5s)-N` of a multipart upload. */
  etag: string;
}

/**
 * Object storage: the S3 clients the server itself uses, the presigner for clients' URLs, and the embedded
 * S3 server when no external store is configured.
 */
export class Storage {
  readonly presigner: Presigner;
  readonly #clients = new Map<string, S3Client>();

  private constructor(
    private readonly config: Config,
    readonly embedded: LocalS3 | null,
  ) {
    this.presigner = new Presigner(this.#baseClient().config.credentials);
  }

  static async open(config: Config): Promise<Storage> {
    const embedded = usesEmbeddedS3(config)
      ? await startLocalS3({ dataDir: path.resolve(config.DATA_DIR, 's3'), port: config.EMBEDDED_S3_PORT })
      : null;
    return new Storage(config, embedded);
  }

  get kind(): 'embedded' | 'external' {
    return this.embedded ? 'embedded' : 'external';
  }

  #credentials() {
    if (this.embedded) {
      return { accessKeyId: this.embedded.accessKeyId, secretAccessKey: this.embedded.secretAccessKey };
    }
    const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = this.config;
    if (accessKeyId && secretAccessKey)
      return { accessKeyId, secretAccessKey, sessionToken: this.config.AWS_SESSION_TOKEN };
    return undefined;
  }

  #defaultEndpoint(): string | undefined {
    return this.embedded?.endpoint ?? this.config.S3_ENDPOINT;
  }

  /** Where the server itself talks to the project's bucket. */
  targetFor(project: ProjectBucket): BucketTarget {
    const endpoint = project.endpoint ?? this.#defaultEndpoint();
    return {
      bucket: project.bucket,
      region: this.embedded ? this.embedded.region : project.region,
      endpoint,
      forcePathStyle: this.config.S3_FORCE_PATH_STYLE ?? endpoint !== undefined,
    };
  }

  /** Where browsers and the CLI send bytes: the same, unless a public endpoint is configured. */
  publicTargetFor(project: ProjectBucket): BucketTarget {
    const target = this.targetFor(project);
    return project.endpoint || !this.config.S3_PUBLIC_ENDPOINT
      ? target
      : { ...target, endpoint: this.config.S3_PUBLIC_ENDPOINT };
  }

  #baseClient(): S3Client {
    return this.client({
      bucket: '',
      region: this.embedded?.region ?? this.config.AWS_REGION,
      endpoint: this.#defaultEndpoint(),
      forcePathStyle: true,
    });
  }

  client(target: BucketTarget): S3Client {
    const cacheKey = `${target.region} ${target.endpoint ?? ''} ${target.forcePathStyle}`;
    let client = this.#clients.get(cacheKey);
    if (!client) {
      client = new S3Client({
        region: target.region,
        endpoint: target.endpoint,
        forcePathStyle: target.forcePathStyle,
        credentials: this.#credentials(),
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        // An admin's mistyped endpoint must fail in seconds, not hang a request.
        requestHandler: { connectionTimeout: 5000, requestTimeout: 60_000 },
      });
      this.#clients.set(cacheKey, client);
    }
    return client;
  }

  /** On the embedded server a project's bucket is made (with the upload CORS rule) so it works at once. */
  async ensureEmbeddedBucket(project: ProjectBucket): Promise<void> {
    if (!this.embedded) return;
    const target = this.targetFor(project);
    const s3 = this.client(target);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: target.bucket }));
    } catch (error) {
      if (!(error instanceof S3ServiceException && /BucketAlready(Exists|OwnedByYou)/.test(error.name))) throw error;
    }
    await s3.send(
      new PutBucketCorsCommand({ Bucket: target.bucket, CORSConfiguration: { CORSRules: [uploadCorsRule(['*'])] } }),
    );
  }

  /** Pages through every object under a prefix, 1,000 at a time, without holding the listing. */
  async *listObjects(project: ProjectBucket, prefix: string): AsyncGenerator<ListedObject[]> {
    const target = this.targetFor(project);
    const s3 = this.client(target);
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: target.bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: 1000 }),
      );
      yield (page.Contents ?? []).map((object) => ({
        key: object.Key ?? '',
        size: Number(object.Size ?? 0),
        etag: object.ETag ?? '',
      }));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** The multipart uploads in progress under a prefix, a page at a time, with when each was started. */
  async *listMultipartUploads(project: ProjectBucket, prefix: string): AsyncGenerator<MultipartUpload[]> {
    const target = this.targetFor(project);
    const s3 = this.client(target);
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await s3.send(
        new ListMultipartUploadsCommand({
          Bucket: target.bucket,
          Prefix: prefix,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      );
      yield (page.Uploads ?? []).map((upload) => ({
        key: upload.Key ?? '',
        uploadId: upload.UploadId ?? '',
        initiated: upload.Initiated ?? new Date(0),
      }));
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
  }

  async abortMultipartUpload(project: ProjectBucket, key: string, uploadId: string): Promise<void> {
    const target = this.targetFor(project);
    try {
      await this.client(target).send(
        new AbortMultipartUploadCommand({ Bucket: target.bucket, Key: key, UploadId: uploadId }),
      );
    } catch (error) {
      if (!(error instanceof S3ServiceException && error.name === 'NoSuchUpload')) throw error;
    }
  }

  /** Whether S3 still holds a multipart upload (it may have been aborted by a lifecycle rule or a clean-up). */
  async multipartUploadExists(project: ProjectBucket, key: string, uploadId: string): Promise<boolean> {
    const target = this.targetFor(project);
    try {
      await this.client(target).send(
        new ListPartsCommand({ Bucket: target.bucket, Key: key, UploadId: uploadId, MaxParts: 1 }),
      );
      return true;
    } catch (error) {
      if (error instanceof S3ServiceException && error.name === 'NoSuchUpload') return false;
      throw error;
    }
  }

  /** Reachable means S3 answered at all: a least-privilege key may be refused ListBuckets and still work. */
  async health(): Promise<'ok' | 'unreachable'> {
    try {
      await this.#baseClient().send(new ListBucketsCommand({}));
      return 'ok';
    } catch (error) {
      return error instanceof S3ServiceException && error.$metadata.httpStatusCode !== undefined ? 'ok' : 'unreachable';
    }
  }

  async bucketProblems(project: ProjectBucket, appOrigin: string): Promise<string[]> {
    const target = this.targetFor(project);
    return checkBucket(this.client(target), target, appOrigin);
  }

  async close(): Promise<void> {
    for (const client of this.#clients.values()) client.destroy();
    await this.embedded?.stop();
  }
}

/**
 * What an admin must fix before browsers can upload to a bucket: it exists, the server's credentials reach
 * it, and its CORS rule lets the app's origin PUT/POST/DELETE and read ETag. Empty when all is well.
 */
/** Whether the store answers a browser's CORS preflight from the app for every method an upload uses. */
async function preflightAllows(project: BucketTarget, appOrigin: string): Promise<boolean> {
  const url = objectUrl(project, '.data-uploader-cors-check');
  for (const method of ['PUT', 'POST', 'DELETE', 'GET']) {
    const answer = await fetch(url, {
      method: 'OPTIONS',
      headers: {
        origin: appOrigin,
        'access-control-request-method': method,
        'access-control-request-headers': 'content-type',
      },
      signal: AbortSignal.timeout(10_000),
    }).catch(() => null);
    const origin = answer?.headers.get('access-control-allow-origin');
    const methods = answer?.headers.get('access-control-allow-methods') ?? '';
    if (!answer?.ok || (origin !== '*' && origin !== appOrigin)) return false;
    if (methods && !methods.split(',').some((allowed) => allowed.trim().toUpperCase() === method)) return false;
  }
  return true;
}

async function checkBucket(s3: S3Client, project: BucketTarget, appOrigin: string): Promise<string[]> {
  const where = project.endpoint ? `at ${project.endpoint}` : `in region ${project.region}`;
  try {
    await s3.send(new HeadBucketCommand({ Bucket: project.bucket }));
  } catch (error) {
    const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
    if (status === 404) return [`Bucket "${project.bucket}" does not exist ${where}. Create it first.`];
    if (status === 403) {
      return [
        `The server's credentials may not access bucket "${project.bucket}" (403 Forbidden). Grant them the policy printed by \`pnpm s3:policy ${project.bucket}\`.`,
      ];
    }
    if (status === 301 || status === 400) {
      return [
        `Bucket "${project.bucket}" is not in region ${project.region}; set the project's region to the bucket's.`,
      ];
    }
    return [
      `Cannot reach bucket "${project.bucket}" ${where}: ${error instanceof Error ? error.message : String(error)}`,
    ];
  }
  const fix = `Apply the upload CORS rule with \`pnpm s3:cors ${project.bucket} --origin ${appOrigin}\`.`;
  let rules: Array<{ AllowedOrigins?: string[]; AllowedMethods?: string[]; ExposeHeaders?: string[] }> = [];
  try {
    rules = (await s3.send(new GetBucketCorsCommand({ Bucket: project.bucket }))).CORSRules ?? [];
  } catch (error) {
    const name = error instanceof S3ServiceException ? error.name : null;
    if (name !== 'NoSuchCORSConfiguration' && name !== 'NotImplemented') {
      return [
        `Could not read the CORS rule of bucket "${project.bucket}" ${where} (${name ?? 'an answer that is not S3'}). Grant s3:GetBucketCORS.`,
      ];
    }
  }
  const rule = rules.find((r) => r.AllowedOrigins?.some((origin) => origin === '*' || origin === appOrigin));
  // Some S3-compatible stores (MinIO's community edition) have one server-wide CORS rule and no bucket rules:
  // there the store is asked the way a browser asks, with a preflight.
  if (!rule && project.endpoint && (await preflightAllows(project, appOrigin))) return [];
  if (!rule)
    return [`Bucket "${project.bucket}" has no CORS rule for ${appOrigin}, so browsers will see CORS errors. ${fix}`];
  const problems: string[] = [];
  const missing = ['GET', 'PUT', 'POST', 'DELETE'].filter((method) => !rule.AllowedMethods?.includes(method));
  if (missing.length)
    problems.push(`The bucket's CORS rule for ${appOrigin} lacks the methods ${missing.join(', ')}. ${fix}`);
  if (!rule.ExposeHeaders?.some((header) => header.toLowerCase() === 'etag')) {
    problems.push(
      `The bucket's CORS rule does not expose the ETag header, so multipart uploads cannot complete. ${fix}`,
    );
  }
  return problems;
}
