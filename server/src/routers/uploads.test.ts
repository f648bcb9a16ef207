import { rm } from 'node:fs/promises';
import { createApi } from '@data-uploader/scripts/driver/api';
import { UploadDriver } from '@data-uploader/scripts/driver/uploadDriver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SeededCompany, seedCompany, startTestServer, type TestServer } from '../../test/harness.ts';
import { bucketListing, MiB, objectSha256, projectWithCycle, tokenOf, writeFolder } from '../../test/uploadFixtures.ts';

let server: TestServer;
let acme: SeededCompany;
const folders: string[] = [];

beforeAll(async () => {
  // Small parts so a 30 MiB file is a 5-part multipart upload.
  server = await startTestServer({ MULTIPART_THRESHOLD_MIB: '8', PART_SIZE_MIB: '6' });
  acme = await seedCompany(server.db, 'acme');
});
afterAll(async () => {
  await server?.close();
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

describe('an upload from start to finish', () => {
  it('puts small and multipart files in the bucket under their keys with their bytes, and a second plan skips them all', async () => {
    const { project, cycle } = await projectWithCycle(server, acme, 'acme-e2e');
    const spec = [
      ...Array.from({ length: 12 }, (_, i) => ({
        relativePath: `950349/20250909_0920${String(i).padStart(2, '0')}.WAV`,
        size: 1000 + i,
      })),
      ...Array.from({ length: 8 }, (_, i) => ({
        relativePath: `950350/20250909_1000${String(i).padStart(2, '0')}.WAV`,
        size: 20_000,
      })),
      { relativePath: '950350/long.WAV', size: 30 * MiB },
      { relativePath: 'empty.txt', size: 0 },
    ];
    const { root, files } = await writeFolder(spec);
    folders.push(root);
    const api = createApi(server.url, { token: await tokenOf(server, acme.users.user.id) });
    const result = await new UploadDriver({ api, concurrency: 4 }).upload({
      projectId: project.id,
      cycleId: cycle.id,
      files,
    });

    expect(result.failed).toEqual([]);
    expect(result.planned).toMatchObject({ upload: spec.length, skip: 0, invalid: 0 });
    expect(result.session).toMatchObject({ status: 'completed', filesDone: spec.length, filesFailed: 0 });
    expect(result.session?.bytesDone).toBe(spec.reduce((sum, file) => sum + file.size, 0));

    const listing = await bucketListing(server, project, 'C1/');
    expect(new Map([...listing].sort())).toEqual(
      new Map(spec.map((f) => [`C1/${f.relativePath}`, f.size] as const).sort()),
    );
    for (const file of [files[0], files[20]]) {
      expect(await objectSha256(server, project, `C1/${file?.relativePath}`)).toBe(file?.sha256);
    }

    const again = await new UploadDriver({ api }).upload({ projectId: project.id, cycleId: cycle.id, files });
    expect(again.planned).toMatchObject({ skip: spec.length, upload: 0, resume: 0 });
    expect(again.bytesSent).toBe(0);
  });
});
