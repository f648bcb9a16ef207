import { defaultPartPolicy, type PartPolicy, partSizeFor, uploadMethodFor } from './parts.ts';

/** The ledger row of a file already known in the cycle, as planning needs it. */
export interface LedgerEntry {
  size: number;
  status: 'pending' | 'uploading' | 'completed' | 'failed';
  s3Key: string;
  uploadId: string | null;
  partSize: number | null;
  /** The row is held by another session that is still active and whose lease has not run out. */
  heldByOtherSession: boolean;
}

export type FileDecision =
  | { decision: 'skip' }
  | { decision: 'upload'; key: string; method: 'single' | 'multipart'; partSize: number | null }
  | { decision: 'resume'; key: string; uploadId: string; partSize: number }
  | { decision: 'conflict'; reason: string; existingSize: number };

function freshUpload(file: { key: string; size: number }, policy: PartPolicy): FileDecision {
  const method = uploadMethodFor(file.size, policy);
  const partSize = method === 'multipart' ? partSizeFor(file.size, policy) : null;
  return { decision: 'upload', key: file.key, method, partSize };
}

/**
 * Decides one valid file against the ledger, as DESIGN.md's upload protocol says: completed with the same size →
 * skip; completed with another size → conflict unless overwrite; a multipart upload in progress with the same
 * size → resume it; anything else → upload. A file another live session is writing is never handed out twice.
 */
export function decideFile(
  file: { key: string; size: number },
  existing: LedgerEntry | undefined,
  overwrite: boolean,
  policy: PartPolicy = defaultPartPolicy,
): FileDecision {
  if (!existing) return freshUpload(file, policy);
  if (existing.status === 'completed' && existing.size === file.size) return { decision: 'skip' };
  if (existing.heldByOtherSession) {
    return {
      decision: 'conflict',
      reason: 'another upload session is sending this file right now',
      existingSize: existing.size,
    };
  }
  if (existing.status === 'completed') {
    if (!overwrite) {
      return {
        decision: 'conflict',
        reason: `already uploaded with ${existing.size} bytes; this file has ${file.size}`,
        existingSize: existing.size,
      };
    }
    return freshUpload(file, policy);
  }
  if (existing.uploadId && existing.partSize && existing.size === file.size) {
    return { decision: 'resume', key: existing.s3Key, uploadId: existing.uploadId, partSize: existing.partSize };
  }
  // A multipart upload left behind here stays in the bucket until an abort (a lifecycle rule, or the stale-upload
  // clean-up of issue 8); planning never calls S3.
  return freshUpload(file, policy);
}
