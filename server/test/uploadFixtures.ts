import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { LocalFile } from '@data-uploader/scripts/driver/uploadDriver';
import { createApiToken } from '../src/auth/apiTokens.ts';
import type { ProjectBucket } from '../src/s3/storage.ts';
import { apiClient, type SeededCompany, type TestServer } from './harness.ts';

export const MiB = 1024 * 1024;

/** A folder of random files on disk, as an SD-card dump looks: sensor folders with recordings. */
export async function writeFolder(spec: Array<{ relativePath: string; size: number }>) {
  const root = await mkdtemp(path.join(tmpdir(), 'du-folder-'));
  const files: Array<LocalFile & { sha256: string }> = [];
  for (const { relativePath, size } of spec) {
    const absolutePath = path.join(root, relativePath);
    await mkdir(path.dirname(absolutePath), { recursive: true });
    const bytes = randomBytes(size);
    await writeFile(absolutePath, bytes);
    files.push({
      relativePath,
      absolutePath,
      size,
      lastModified: Date.now(),
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
  }
  return { root, files };
}

/** A project (its bucket made on the embedded S3 server) and a cycle, made by the company's admin. */
export async function projectWithCycle(server: TestServer, company: SeededCompany, bucket: string) {
  const { token } = await createApiToken(server.db, company.users.admin.id, 'fixture');
  const admin = apiClient(server.url, { token });
  const project = await admin.projects.create.mutate({ name: `Project ${bucket}`, bucket });
  const cycle = await admin.cycles.create.mutate({ projectId: project.id });
  return { project, cycle };
}

/** An API token of a company person, as the CLI would hold it. */
export async function tokenOf(server: TestServer, userId: string) {
  return (await createApiToken(server.db, userId, 'test')).token;
}

/** SHA-256 of an object as the bucket holds it. */
export async function objectSha256(server: TestServer, project: ProjectBucket, key: string) {
  const target = server.storage.targetFor(project);
  const object = await server.storage.client(target).send(new GetObjectCommand({ Bucket: target.bucket, Key: key }));
  const bytes = await object.Body?.transformToByteArray();
  return createHash('sha256')
    .update(bytes ?? new Uint8Array())
    .digest('hex');
}

/** Every object under a prefix, as key → size. */
export async function bucketListing(server: TestServer, project: ProjectBucket, prefix: string) {
  const objects = new Map<string, number>();
  for await (const page of server.storage.listObjects(project, prefix)) {
    for (const object of page) objects.set(object.key, object.size);
  }
  return objects;
}
