import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { usageError } from './errors.ts';

/** A job file of the earlier Python uploader, plus the fields that name this product's project and cycle. */
export interface JobFile {
  localDirectory?: string;
  bucketName?: string;
  s3Prefix?: string;
  maxWorkers?: number;
  awsRegion?: string;
  timesToRetry?: number;
  project?: string;
  cycle?: string;
  server?: string;
  /** One line each for the fields that are accepted but no longer do anything. */
  notices: string[];
}

const ignoredFields: Record<string, string> = {
  aws_profile: 'credentials stay on the server',
  use_find: 'discovery is always fast',
};

const stringFields = {
  local_directory: 'localDirectory',
  bucket_name: 'bucketName',
  s3_prefix: 's3Prefix',
  aws_region: 'awsRegion',
  project: 'project',
  cycle: 'cycle',
  server: 'server',
} as const;
const countFields = { max_workers: 'maxWorkers', times_to_retry: 'timesToRetry' } as const;

/** Reads and checks a job file; anything it does not know is refused by name rather than silently ignored. */
export async function readJobFile(file: string): Promise<JobFile> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw usageError(`Cannot read the job file ${file}: ${(error as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw usageError(`${file} must hold a JSON object.`);
  const job: JobFile = { notices: [] };
  const unknown: string[] = [];
  for (const [field, value] of Object.entries(raw)) {
    if (field in ignoredFields) {
      job.notices.push(`Note: "${field}" in ${path.basename(file)} no longer applies (${ignoredFields[field]}).`);
    } else if (field in stringFields) {
      if (typeof value !== 'string') throw usageError(`"${field}" in ${file} must be a string.`);
      job[stringFields[field as keyof typeof stringFields]] = value;
    } else if (field in countFields) {
      if (!Number.isInteger(value) || (value as number) < 0) {
        throw usageError(`"${field}" in ${file} must be a whole number.`);
      }
      job[countFields[field as keyof typeof countFields]] = value as number;
    } else {
      unknown.push(field);
    }
  }
  if (unknown.length > 0) {
    throw usageError(`Unknown field${unknown.length > 1 ? 's' : ''} in ${file}: ${unknown.join(', ')}.`);
  }
  if (job.localDirectory && !path.isAbsolute(job.localDirectory)) {
    // Relative to the job file, as a job kept beside its data expects.
    job.localDirectory = path.resolve(path.dirname(file), job.localDirectory);
  }
  return job;
}
