import { z } from 'zod';
import { id } from './common.ts';

/** One planning call takes at most this many files; a client plans a 300k-file folder in batches. */
export const maxPlanBatch = 5000;
/** One signBatch call presigns at most this many URLs. */
export const maxSignBatch = 5000;
/** One confirm or fail call records at most this many files. */
export const maxConfirmBatch = 5000;

export const uploadSource = z.enum(['browser', 'cli', 'job']);

export const beginUploadInput = z.object({
  projectId: id,
  cycleId: id,
  label: z.string().trim().max(200).default(''),
  // 'job' is reserved for the server's own import jobs.
  source: z.enum(['browser', 'cli']).default('browser'),
  /** Free text about the uploading program (`data-uploader/1.2 linux`), for support. */
  client: z.string().max(200).default(''),
});

const lastModified = z.union([
  z.number().int().min(0).max(8.64e15),
  z.iso.datetime({ offset: true }).transform((iso) => Date.parse(iso)),
]);

export const planEntry = z.object({
  /** The path inside the chosen folder, e.g. `950349/20250909_092000.WAV`; checked per file, never fatal. */
  // Generous on purpose: an over-long name is answered `invalid` with its reason, not a failed batch.
  relativePath: z.string().max(65_536),
  size: z.number().int().min(0),
  /** Milliseconds since the epoch (as `File.lastModified`), or an ISO timestamp. */
  lastModified: lastModified.optional(),
  contentType: z.string().max(255).optional(),
});

export const planInput = z.object({
  sessionId: id,
  files: z.array(planEntry).min(1).max(maxPlanBatch, `at most ${maxPlanBatch} files per call`),
  /** Re-upload files already completed with another size (otherwise they are reported as conflicts). */
  overwrite: z.boolean().default(false),
});

/**
 * A body's MD5 in base64, as the Content-MD5 header carries it. Signed into a PUT URL, it makes S3 refuse any
 * body with another MD5 (400 BadDigest) and any request without the header (the signature no longer matches).
 */
export const contentMd5 = z.string().regex(/^[A-Za-z0-9+/]{21}[AQgw]==$/, 'must be the base64 of a 16-byte MD5');

const partNumber = z.number().int().min(1, 'must be 1 to 10,000').max(10_000, 'must be 1 to 10,000');

/**
 * What Uppy 6's `signRequest` passes (@uppy/aws-s3 `PresignableRequest`), plus the session it belongs to:
 * PUT object, POST create-multipart, PUT part, POST complete, GET list-parts, DELETE abort.
 */
export const signInput = z.object({
  sessionId: id,
  method: z.enum(['PUT', 'POST', 'GET', 'DELETE']),
  key: z.string().min(1).max(2048),
  uploadId: z.string().min(1).max(1024).optional(),
  partNumber: partNumber.optional(),
  contentType: z.string().max(255).optional(),
  expiresIn: z.number().int().positive().optional(),
  /** ListParts only: the page after this part number (S3 answers at most 1,000 parts a page). */
  partNumberMarker: z.number().int().min(0).max(10_000).optional(),
  /** PUT only (object or part): the body's MD5, signed in, so the client must send it as Content-MD5. */
  contentMd5: contentMd5.optional(),
});

export const signBatchInput = z.object({
  sessionId: id,
  requests: z
    .array(
      z.object({
        key: z.string().min(1).max(2048),
        /** With `uploadId`: an UploadPart URL; without: a PutObject URL. */
        uploadId: z.string().min(1).max(1024).optional(),
        partNumber: partNumber.optional(),
        /** The body's MD5, signed in: the client must send it as Content-MD5, and S3 refuses another body. */
        contentMd5: contentMd5.optional(),
      }),
    )
    .min(1)
    .max(maxSignBatch, `at most ${maxSignBatch} URLs per call`),
  /**
   * Browsers: answer whole-file uploads as S3 POST Object forms (`fields`, sent as multipart/form-data), which
   * cross origins without a CORS preflight. Parts stay PUT URLs; so does everything when the server's store has
   * form uploads turned off (S3_FORM_UPLOADS=false).
   */
  form: z.boolean().optional(),
});

export const confirmInput = z.object({
  sessionId: id,
  files: z
    .array(
      z.object({
        key: z.string().min(1).max(2048),
        etag: z.string().max(200).optional(),
        /** Hex SHA-256 of the whole file, when the client computed one. */
        sha256: z
          .string()
          .regex(/^[0-9a-f]{64}$/i, 'must be 64 hex digits')
          .optional(),
      }),
    )
    .min(1)
    .max(maxConfirmBatch, `at most ${maxConfirmBatch} files per call`),
});

export const failInput = z.object({
  sessionId: id,
  files: z
    .array(z.object({ key: z.string().min(1).max(2048), error: z.string().max(2000) }))
    .min(1)
    .max(maxConfirmBatch, `at most ${maxConfirmBatch} files per call`),
});

export const sessionIdInput = z.object({ sessionId: id });

export const fileStatus = z.enum(['pending', 'uploading', 'completed', 'failed']);

export const listSessionsInput = z.object({
  projectId: id.optional(),
  cycleId: id.optional(),
  limit: z.number().int().min(1).max(200).default(50),
  /** The `cursor` of the last session of the previous page, for the next page. */
  before: z
    .string()
    .refine((cursor) => {
      const [start = '', id = '', ...rest] = cursor.split('|');
      return (
        rest.length === 0 &&
        /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(start) &&
        z.iso.datetime({ precision: 6 }).safeParse(start).success &&
        z.uuid().safeParse(id).success
      );
    }, 'must be a cursor from sessions.list')
    .optional(),
});

export const sessionFilesInput = z.object({
  id,
  status: fileStatus.optional(),
  limit: z.number().int().min(1).max(1000).default(200),
  /** Id of the last file of the previous page. */
  after: z.number().int().min(0).optional(),
});
