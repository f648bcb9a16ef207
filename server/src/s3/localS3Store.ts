import type { RequestListener } from 'node:http';
import { createRequire } from 'node:module';

/**
 * The slice of s3rver 3.7.1 the front relies on. s3rver is CommonJS without type declarations, and the
 * front reuses its store (paths, CORS model, part assembly) instead of guessing its on-disk layout, so
 * these are the only s3rver internals the project depends on; the version is pinned in package.json.
 */
export interface S3rverStore {
  getBucket(bucket: string): Promise<object | null>;
  /** `<dir>/<bucket>/<key dirs>/<name>._S3rver_<resource>`; with no key: `<dir>/<bucket>/._S3rver_<resource>`. */
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  getSubresource(bucket: string, key: undefined, type: 'cors'): Promise<S3rverCorsConfig | null>;
  putSubresource(bucket: string, key: string | undefined, resource: object): Promise<void>;
  deleteSubresource(bucket: string, key: string | undefined, type: string): Promise<void>;
  deleteBucket(bucket: string): Promise<void>;
  /** Concatenates the listed part files into the object and removes the upload folder. */
  putObjectMultipart(
    bucket: string,
    uploadId: string,
    parts: Array<{ number: number; etag: string }>,
  ): Promise<{ md5: string; size: number }>;
  /** Writes an object's metadata (only the headers S3 keeps) and its MD5, which s3rver serves as the ETag. */
  putMetadata(
    bucket: string,
    key: string,
    headers: Record<string, string | string[] | undefined>,
    md5: string,
  ): Promise<void>;
}

/** s3rver's parsed PutBucketCors document (lib/models/config.js), wildcards already turned into RegExps. */
export interface S3rverCorsConfig {
  rules: CorsRule[];
}

export interface CorsRule {
  hasWildcardOrigin: boolean;
  allowedOrigins: RegExp[];
  allowedMethods: string[];
  allowedHeaders: RegExp[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

export interface S3rverApp {
  store: S3rverStore;
  /** Koa's request handler; the front owns the HTTP server, s3rver never listens itself. */
  callback(): RequestListener;
}

type S3rverConstructor = new (options: { directory: string; silent: boolean; vhostBuckets: boolean }) => S3rverApp;

export function createS3rver(directory: string): S3rverApp {
  const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;
  // Path-style only: the app and the CLI always use forcePathStyle with an IP endpoint.
  const app = new S3rver({ directory, silent: true, vhostBuckets: false });
  cacheBucketConfigs(app.store);
  return app;
}

/**
 * Keeps each bucket's configuration documents (CORS, website) in memory. s3rver reads both from disk on every
 * request, and the front reads CORS on every preflight: with thousands of small files, those reads were the
 * largest part of the embedded server's CPU. Every change to them goes through this same store, which empties
 * the cache, so what it answers is always what is on disk.
 */
function cacheBucketConfigs(store: S3rverStore) {
  const cache = new Map<string, Promise<S3rverCorsConfig | null>>();
  const read = store.getSubresource.bind(store);
  store.getSubresource = (bucket, key, type) => {
    if (key !== undefined) return read(bucket, key, type);
    const name = `${bucket}/${type}`;
    let config = cache.get(name);
    if (!config) {
      config = read(bucket, key, type);
      cache.set(name, config);
      config.catch(() => cache.delete(name));
    }
    return config;
  };
  const emptyingCache =
    <A extends unknown[]>(change: (...args: A) => Promise<void>) =>
    async (...args: A) => {
      cache.clear();
      try {
        await change(...args);
      } finally {
        cache.clear(); // a read that began during the change may have cached the old document
      }
    };
  store.putSubresource = emptyingCache(store.putSubresource.bind(store));
  store.deleteSubresource = emptyingCache(store.deleteSubresource.bind(store));
  store.deleteBucket = emptyingCache(store.deleteBucket.bind(store));
}
