import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError } from './errors.ts';
import { readJobFile } from './jobFile.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'du-job-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function job(content: unknown) {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('readJobFile', () => {
  it('maps the Python tool fields and notes the ones that no longer apply', async () => {
    const parsed = await readJobFile(
      await job({
        local_directory: 'cards/2025',
        bucket_name: 'b',
        s3_prefix: 'C1/',
        max_workers: 12,
        aws_region: 'eu-west-1',
        times_to_retry: 3,
        aws_profile: 'p',
        use_find: false,
      }),
    );
    expect(parsed).toMatchObject({
      localDirectory: path.join(dir, 'cards/2025'),
      bucketName: 'b',
      s3Prefix: 'C1/',
      maxWorkers: 12,
      awsRegion: 'eu-west-1',
      timesToRetry: 3,
    });
    expect(parsed.notices).toHaveLength(2);
  });

  it('refuses unknown fields by name, wrong types and broken JSON with exit 2', async () => {
    const refusal = async (content: unknown) => {
      try {
        await readJobFile(await job(content));
      } catch (error) {
        expect(error).toBeInstanceOf(CliError);
        expect((error as CliError).exitCode).toBe(2);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(await refusal({ bucket_name: 'b', delete_after: true, foo: 1 })).toMatch(
      /Unknown fields .*: delete_after, foo/,
    );
    expect(await refusal({ max_workers: '8' })).toMatch(/"max_workers" .* whole number/);
    expect(await refusal('{ not json')).toMatch(/Cannot read the job file/);
    expect(await refusal([1])).toMatch(/JSON object/);
  });
});
