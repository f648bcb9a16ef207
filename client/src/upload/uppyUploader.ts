import AwsS3 from '@uppy/aws-s3';
import Uppy, { type Meta } from '@uppy/core';
import type { trpc } from '../trpc.ts';

/** What each file in the Uppy window carries: the key and method the plan decided on the server. */
export interface WindowMeta extends Meta {
  relativePath: string;
  key: string;
  multipart: boolean;
  partSize: number;
}

export interface UploaderOptions {
  api: typeof trpc;
  sessionId: () => string | null;
}

/** Multipart files Uppy uploads at once: the browser's six connections per host. */
const filesAtOnce = 6;

/**
 * Uppy with the S3 plugin on our signing procedure, for the multipart files (putLane.ts sends the others). Keys
 * come from the plan (never from Uppy), part size too, so a resumed upload lists the same part numbers it started
 * with.
 */
export function createUploader({ api, sessionId }: UploaderOptions) {
  const partSizes = new Map<number, number>();
  const uppy = new Uppy<WindowMeta, Record<string, never>>({ autoProceed: false, allowMultipleUploadBatches: true });
  uppy.use(AwsS3<WindowMeta, Record<string, never>>, {
    limit: filesAtOnce,
    allowedMetaFields: false,
    shouldUseMultipart: (file) => file.meta.multipart,
    // Uppy asks by size only; a size maps to one part size under one server policy.
    getChunkSize: ({ size }) => partSizes.get(size) ?? 0,
    generateObjectKey: (file) => file.meta.key,
    async signRequest(request) {
      const id = sessionId();
      if (!id) throw new Error('No upload session');
      return api.uploads.sign.mutate({ sessionId: id, ...request });
    },
  });
  return { uppy, partSizes };
}
