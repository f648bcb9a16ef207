import { createHash } from 'node:crypto';
import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { type Db, schema } from '@data-uploader/drizzle';
import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { createApiToken } from '../src/auth/apiTokens.ts';
import { ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY } from '../src/s3/localS3.ts';
import { AppProcess, freePort } from './appProcess.ts';
import { apiClient, seedCompany } from './harness.ts';
import { MiB, writeFolder } from './uploadFixtures.ts';

/*
 * What the server and database fault tests share: a field folder, the app in its own process with a company
 * seeded before it starts, and the check that bucket, ledger and source agree byte for byte.
 */

/** Some hundreds of small recordings in sensor folders and one file of three parts, under a temporary `root`. */
export async function fieldFolder() {
  const spec = Array.from({ length: 300 }, (_, i) => ({
    relativePath: `S${i % 4}/20250601_${String(i).padStart(6, '0')}.WAV`,
    size: 1024 + ((i * 7919) % 16_384),
  }));
  spec.push({ relativePath: 'CAM1/clip.MP4', size: 12 * MiB });
  return writeFolder(spec);
}

/** The app on a port of its own and a data folder; multipart from 5 MiB so the large file has parts to cut between. */
export async function appOn(dataDir: string, env: Record<string, string> = {}) {
  return new AppProcess(await freePort(), {
    DATA_DIR: dataDir,
    MULTIPART_THRESHOLD_MIB: '5',
    PART_SIZE_MIB: '5',
    ...env,
  });
}

/** A company with an admin and an uploader, each with an API token, written before the app first starts. */
export async function seed(db: Db) {
  const company = await seedCompany(db, 'faults');
  const admin = await createApiToken(db, company.users.admin.id, 'setup');
  const user = await createApiToken(db, company.users.user.id, 'uploader');
  return { adminToken: admin.token, userToken: user.token };
}

export async function projectAndCycle(app: AppProcess, adminToken: string) {
  const admin = apiClient(app.url, { token: adminToken });
  const project = await admin.projects.create.mutate({ name: 'Faults', bucket: 'faults-bucket' });
  const cycle = await admin.cycles.create.mutate({ projectId: project.id });
  return { project, cycle };
}

/** Every object of the bucket under a prefix with its size and SHA-256, and the multipart uploads left open. */
export async function bucketContents(s3Port: number, bucket: string, prefix: string) {
  const s3 = new S3Client({
    endpoint: `http://127.0.0.1:${s3Port}`,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
  });
  try {
    const objects = new Map<string, { size: number; sha256: string }>();
    const { Uploads = [] } = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        const body = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }));
        const bytes = (await body.Body?.transformToByteArray()) ?? new Uint8Array();
        objects.set(object.Key as string, {
          size: object.Size ?? -1,
          sha256: createHash('sha256').update(bytes).digest('hex'),
        });
      }
      token = page.NextContinuationToken;
    } while (token);
    return { objects, openUploads: Uploads.length };
  } finally {
    s3.destroy();
  }
}

export async function ledgerOf(db: Db, cycleId: string) {
  return db
    .select({ key: schema.files.s3Key, size: schema.files.size, status: schema.files.status })
    .from(schema.files)
    .where(eq(schema.files.cycleId, cycleId));
}

export type Folder = Awaited<ReturnType<typeof fieldFolder>>;
export type Bucket = Awaited<ReturnType<typeof bucketContents>>;

/** Nothing lost, nothing extra: the bucket holds every source file's bytes, and the ledger says exactly that. */
export function expectEverythingStored(
  folder: Folder,
  prefix: string,
  bucket: Bucket,
  ledger: Awaited<ReturnType<typeof ledgerOf>>,
) {
  const source = new Map(
    folder.files.map((file) => [`${prefix}/${file.relativePath}`, { size: file.size, sha256: file.sha256 }]),
  );
  expect(bucket.objects).toEqual(source);
  expect(bucket.openUploads).toBe(0);
  expect(ledger.filter((row) => row.status !== 'completed')).toEqual([]);
  expect(new Map(ledger.map((row) => [row.key, row.size]))).toEqual(
    new Map([...bucket.objects].map(([key, { size }]) => [key, size])),
  );
  expect(ledger).toHaveLength(folder.files.length);
}
