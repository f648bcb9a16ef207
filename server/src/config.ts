import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const flag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

const environment = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** PostgreSQL; without it the embedded PGlite under DATA_DIR is used. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// connection string')
    .optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  /**
   * Extra origins the browser may call from (comma-separated), for a proxy whose public address differs
   * from the Host header the app sees. The app's own origin is always allowed.
   */
  APP_ORIGINS: z
    .string()
    .default('')
    .transform((list) =>
      list
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url({ protocol: /^https?$/ }))),
  /**
   * Honour X-Forwarded-For/-Proto from a reverse proxy (client address, https, so the session cookie is
   * `Secure`): `true` for any proxy, or the proxy's addresses and CIDR ranges (comma-separated).
   */
  TRUST_PROXY: z
    .string()
    .default('false')
    .transform((value): boolean | string[] => {
      if (['true', '1'].includes(value)) return true;
      if (['false', '0'].includes(value)) return false;
      return value
        .split(',')
        .map((address) => address.trim())
        .filter(Boolean);
    })
    .refine(
      (value) => typeof value === 'boolean' || value.every((address) => /^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(address)),
      {
        message: 'must be true, false, or IP addresses / CIDR ranges separated by commas',
      },
    ),
  /**
   * A request's headers and body must arrive within this many seconds, against clients that send slowly on
   * purpose. Answering may take longer (a finish reconcile of a big cycle thinks for a while).
   */
  REQUEST_TIMEOUT_SECONDS: z.coerce.number().min(1).max(3600).default(30),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOGIN_MAX_FAILURES_PER_USERNAME: z.coerce.number().int().positive().default(10),
  LOGIN_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().positive().default(100),
  LOGIN_THROTTLE_MINUTES: z.coerce.number().int().positive().default(15),
  /**
   * An S3-compatible store (MinIO, Ceph, R2…). With neither this nor AWS credentials configured, an
   * embedded S3 server is started under DATA_DIR/s3.
   */
  S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  /** Endpoints besides S3_ENDPOINT that admins may give a project (comma-separated URLs). */
  S3_ALLOWED_ENDPOINTS: z
    .string()
    .default('')
    .transform((list) =>
      list
        .split(',')
        .map((url) => url.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url({ protocol: /^https?$/ }))),
  /** Port of the embedded S3 server on 127.0.0.1 (0: any free port). */
  EMBEDDED_S3_PORT: port.default(0),
  /** Where browsers and the CLI send bytes, when that differs from S3_ENDPOINT (a proxy, a CDN, a test fault injector). */
  S3_PUBLIC_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  /** Path-style addressing (`endpoint/bucket/key`); the default for S3_ENDPOINT stores, virtual-hosted on AWS. */
  S3_FORCE_PATH_STYLE: flag.optional(),
  AWS_REGION: z
    .string()
    .regex(/^[a-z0-9-]{1,32}$/, 'must be a region code such as eu-west-1')
    .default('us-east-1'),
  AWS_ACCESS_KEY_ID: z.string().min(1).optional(),
  AWS_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  AWS_SESSION_TOKEN: z.string().min(1).optional(),
  /** Use AWS's default credential chain (instance role, AWS_PROFILE…) instead of the embedded server. */
  S3_USE_DEFAULT_CREDENTIALS: flag.default(false),
  /**
   * Browsers send whole small files as S3 POST Object forms, one request each instead of a CORS preflight and a
   * PUT. Turn off for a store without POST Object (Cloudflare R2): browsers then PUT every file.
   */
  S3_FORM_UPLOADS: flag.default(true),
  /** Lifetime of presigned URLs. */
  PRESIGN_EXPIRES_SECONDS: z.coerce.number().int().min(60).max(604_800).default(3600),
  /** Files larger than this go multipart (resumable by parts); S3 allows single PUTs up to 5 GiB. */
  MULTIPART_THRESHOLD_MIB: z.coerce.number().int().min(5).max(5120).default(64),
  /** Part size of new multipart uploads (grown when a file would need more than 10,000 parts). */
  PART_SIZE_MIB: z.coerce.number().int().min(5).max(5120).default(16),
  /** A file planned or signed by one session is not handed to another for this long (one writer per key). */
  UPLOAD_LEASE_MINUTES: z.coerce.number().int().positive().default(10),
  /**
   * Folders on this server that admins may import from (comma-separated absolute paths): a card-reader
   * station's mount, a network share. Empty: no imports.
   */
  IMPORT_ROOTS: z
    .string()
    .default('')
    .transform((list) =>
      list
        .split(',')
        .map((root) => root.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().startsWith('/', 'must be absolute paths'))),
  /** Run the background workers (imports, clean-up, webhooks) in this process; `pnpm worker` runs them alone. */
  RUN_WORKERS: flag.default(true),
  /** A multipart upload no active session owns is aborted after this many hours. */
  STALE_UPLOAD_HOURS: z.coerce.number().positive().default(24),
});

export type Config = z.infer<typeof environment>;

/** The embedded S3 server runs unless an external store or AWS credentials are configured. */
export function usesEmbeddedS3(config: Config): boolean {
  return !config.S3_ENDPOINT && !config.AWS_ACCESS_KEY_ID && !config.S3_USE_DEFAULT_CREDENTIALS;
}

export class ConfigError extends Error {}

/** Reads the configuration once; a bad value stops start-up with the variable's name. */
export function readConfig(env: Record<string, string | undefined> = process.env): Config {
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = environment
    .refine((env) => !env.AWS_ACCESS_KEY_ID === !env.AWS_SECRET_ACCESS_KEY, {
      message: 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together',
      path: ['AWS_SECRET_ACCESS_KEY'],
    })
    .safeParse(set);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}
