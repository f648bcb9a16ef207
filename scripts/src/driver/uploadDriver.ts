import { createHash } from 'node:crypto';
import { type FileHandle, open, readFile } from 'node:fs/promises';
import { maxConfirmBatch, maxPlanBatch, partCount, partRange } from '@data-uploader/shared';
import { TRPCClientError } from '@trpc/client';
import pLimit from 'p-limit';
import { AbortError } from 'p-retry';
import type { Api } from './api.ts';
import {
  completeMultipartUpload,
  createMultipartUpload,
  defaultRetryPolicy,
  listParts,
  putBytes,
  type RetryPolicy,
  type TransferOptions,
  type UploadedPart,
} from './transfer.ts';

/** A file on the local disk, with its path inside the folder being uploaded. */
export interface LocalFile {
  relativePath: string;
  absolutePath: string;
  size: number;
  lastModified: number;
}

export type DriverEvent =
  | { type: 'planned'; upload: number; resume: number; skip: number; conflict: number; invalid: number }
  | { type: 'part-done'; key: string; partNumber: number; bytes: number }
  | { type: 'file-done'; key: string; bytes: number }
  | { type: 'file-failed'; key: string; error: string }
  | { type: 'retry'; error: string };

export interface DriverOptions {
  api: Api;
  /** Simultaneous transfers (single PUTs and parts together). */
  concurrency?: number;
  retry?: RetryPolicy;
  /** Stops the run: in-flight requests are cancelled, finished files are still confirmed. */
  signal?: AbortSignal;
  onEvent?: (event: DriverEvent) => void;
}

export interface UploadRequest {
  projectId: string;
  cycleId: string;
  files: LocalFile[];
  label?: string;
  overwrite?: boolean;
  /** Continue an existing active session instead of beginning a new one. */
  sessionId?: string;
}

export interface UploadResult {
  sessionId: string;
  planned: { upload: number; resume: number; skip: number; conflict: number; invalid: number };
  /** Bytes put on the wire, retries and resent parts included. */
  bytesSent: number;
  failed: Array<{ relativePath: string; error: string }>;
  session: Awaited<ReturnType<Api['uploads']['finish']['mutate']>> | null;
}

type Planned = Awaited<ReturnType<Api['uploads']['plan']['mutate']>>['files'][number];
type Transfer = Extract<Planned, { decision: 'upload' | 'resume' }>;

const signBatchSize = 500;
/** Small files are read (and hashed) before their URLs are signed, so a batch's bytes are held this long. */
const signBatchBytes = 32 * 1024 ** 2;
const readsAtOnce = 16;
/** Plan batches sent at once: enough that the server's JavaScript and PostgreSQL both work all the time. */
export const planBatchesInFlight = 4;
const multipartFilesAtOnce = 2;
const confirmEvery = 200;
const confirmWithinMs = 2000;

/**
 * Speaks the upload protocol over HTTP as any client does: begin → plan in batches → presigned PUTs and
 * multipart parts straight to S3 with bounded concurrency → confirm in batches → finish (the server's
 * reconcile). The CLI and the benchmarks drive uploads through this.
 */
export class UploadDriver {
  readonly #api: Api;
  readonly #limit: ReturnType<typeof pLimit>;
  readonly #options: DriverOptions;
  #bytesSent = 0;

  constructor(options: DriverOptions) {
    this.#options = options;
    this.#api = options.api;
    this.#limit = pLimit(options.concurrency ?? 8);
  }

  #emit(event: DriverEvent) {
    this.#options.onEvent?.(event);
  }

  /** With `reread`, a body S3 refused as damaged (BadDigest) is read from disk again and re-sent. */
  #transferOptions(reread?: () => Promise<Uint8Array>): TransferOptions {
    return {
      signal: this.#options.signal,
      retry: this.#options.retry ?? defaultRetryPolicy,
      onRetry: (error: Error) => this.#emit({ type: 'retry', error: error.message }),
      reread,
    };
  }

  async upload(request: UploadRequest): Promise<UploadResult> {
    const sessionId =
      request.sessionId ??
      (
        await this.#api.uploads.begin.mutate({
          projectId: request.projectId,
          cycleId: request.cycleId,
          label: request.label ?? '',
          source: 'cli',
        })
      ).id;
    const byPath = new Map(request.files.map((file) => [file.relativePath, file]));
    const plan = await this.#plan(sessionId, request.files, request.overwrite ?? false);
    const counts = { upload: 0, resume: 0, skip: 0, conflict: 0, invalid: 0 };
    for (const entry of plan) counts[entry.decision]++;
    this.#emit({ type: 'planned', ...counts });

    const transfers = plan.filter(
      (entry): entry is Transfer => entry.decision === 'upload' || entry.decision === 'resume',
    );
    const confirmations = new Confirmations(this.#api, sessionId);
    const failed: FailedFile[] = [];
    const local = (entry: Transfer) => byPath.get(entry.relativePath) as LocalFile;
    try {
      const isSingle = (entry: Transfer) => entry.decision === 'upload' && entry.method === 'single';
      // URLs are signed a chunk at a time, shortly before use, so none expires in a queue on a long run; a few
      // multipart files at a time keep open files and parts in memory bounded.
      const signAhead = pLimit(2);
      const multipartFiles = pLimit(multipartFilesAtOnce);
      const work = [
        ...batchesOf(transfers.filter(isSingle), (entry) => local(entry).size).map((batch) =>
          signAhead(() => this.#putSingles(sessionId, batch, local, confirmations, failed)),
        ),
        ...transfers
          .filter((entry) => !isSingle(entry))
          .map((entry) => multipartFiles(() => this.#multipart(sessionId, entry, local(entry), confirmations, failed))),
      ];
      await Promise.all(work);
    } finally {
      await confirmations.flush();
    }
    this.#options.signal?.throwIfAborted();
    for (const batch of chunks(failed, maxConfirmBatch)) {
      await this.#api.uploads.fail.mutate({ sessionId, files: batch.map((f) => ({ key: f.key, error: f.error })) });
    }
    const session = await this.#finish(sessionId);
    return {
      sessionId,
      planned: counts,
      bytesSent: this.#bytesSent,
      failed: failed.map(({ relativePath, error }) => ({ relativePath, error })),
      session,
    };
  }

  /**
   * Finish, safe to retry: when the first attempt closed the session but its answer was lost (the app killed, or
   * its database connection cut, after the commit), the retry is refused as "session completed"; the session as
   * that attempt left it is the answer.
   */
  async #finish(sessionId: string) {
    try {
      return await this.#api.uploads.finish.mutate({ sessionId });
    } catch (error) {
      if (!(error instanceof TRPCClientError) || error.data?.code !== 'PRECONDITION_FAILED') throw error;
      const session = await this.#api.sessions.get.query({ id: sessionId });
      if (session.status !== 'completed' && session.status !== 'completed_with_errors') throw error;
      return session;
    }
  }

  /** Plans in batches, a few in flight at once (the server and PostgreSQL work on one while the next travels). */
  async #plan(sessionId: string, files: LocalFile[], overwrite: boolean): Promise<Planned[]> {
    const inFlight = pLimit(planBatchesInFlight);
    const batches = chunks(files, maxPlanBatch);
    const answers = await Promise.all(
      batches.map((batch) =>
        inFlight(async () => {
          const { files: planned } = await this.#api.uploads.plan.mutate({
            sessionId,
            overwrite,
            files: batch.map((file) => ({
              relativePath: file.relativePath,
              size: file.size,
              lastModified: file.lastModified,
            })),
          });
          // The server answers normalised paths; map back by position to the local file.
          return planned.map((entry, index) => ({ ...entry, relativePath: (batch[index] as LocalFile).relativePath }));
        }),
      ),
    );
    return answers.flat();
  }

  /**
   * One batch of small files: each is read once, its MD5 signed into its URL (so S3 refuses a damaged body)
   * and its SHA-256 recorded in the ledger; the bytes read are the bytes sent.
   */
  async #putSingles(
    sessionId: string,
    batch: Transfer[],
    local: (entry: Transfer) => LocalFile,
    confirmations: Confirmations,
    failed: FailedFile[],
  ) {
    // A stopped run signs nothing more: queued batches end here instead of asking for URLs nobody will use.
    this.#options.signal?.throwIfAborted();
    const reads = pLimit(readsAtOnce);
    const read = await Promise.all(
      batch.map((entry) =>
        reads(async () => {
          try {
            const body = await readFile(local(entry).absolutePath);
            return { entry, body, md5: md5Of(body), sha256: sha256Of(body) };
          } catch (error) {
            this.#recordFailure(entry, error, failed);
            return null;
          }
        }),
      ),
    );
    const files = read.filter((file) => file !== null);
    if (files.length === 0) return;
    this.#options.signal?.throwIfAborted();
    const { urls } = await this.#api.uploads.signBatch.mutate({
      sessionId,
      requests: files.map(({ entry, md5 }) => ({ key: entry.key, contentMd5: md5 })),
    });
    await Promise.all(
      files.map(({ entry, body, md5, sha256 }, index) =>
        this.#limit(async () => {
          this.#options.signal?.throwIfAborted();
          const signed = urls[index] as { url: string; headers: Record<string, string> };
          const file = local(entry);
          const reread = () => readAgain(file, md5, () => readFile(file.absolutePath));
          try {
            this.#bytesSent += body.byteLength;
            const etag = await putBytes(signed.url, signed.headers, body, this.#transferOptions(reread));
            this.#emit({ type: 'file-done', key: entry.key, bytes: body.byteLength });
            confirmations.add({ key: entry.key, etag, sha256 });
          } catch (error) {
            this.#recordFailure(entry, error, failed);
          }
        }),
      ),
    );
  }

  /**
   * One large file. Its parts are read once, in order, one after another, while up to `concurrency` of them
   * travel at once: reading in order lets one SHA-256 run over the whole file as it goes. Each part is signed
   * with its MD5 just before it is sent. On a resume the parts S3 already holds are read too (for the
   * SHA-256), and one whose ETag is not the MD5 of the local bytes is sent again.
   */
  async #multipart(
    sessionId: string,
    entry: Transfer,
    file: LocalFile,
    confirmations: Confirmations,
    failed: FailedFile[],
  ) {
    this.#options.signal?.throwIfAborted();
    try {
      const partSize = entry.partSize as number;
      const { uploadId, done } = await this.#startOrResume(sessionId, entry);
      const held = new Map(done.filter((part) => part.size > 0).map((part) => [part.partNumber, part]));
      const parts = new Map<number, UploadedPart>();
      const sha256 = createHash('sha256');
      const sends: Array<Promise<void>> = [];
      const errors: unknown[] = [];
      const handle = await open(file.absolutePath, 'r');
      try {
        for (let partNumber = 1; partNumber <= partCount(file.size, partSize); partNumber++) {
          this.#options.signal?.throwIfAborted();
          if (errors.length > 0) break;
          const slot = await this.#slot();
          const { start, end } = partRange(partNumber, file.size, partSize);
          const readPart = () => readRange(handle, start, end);
          let body: Uint8Array;
          try {
            body = await readPart();
          } catch (error) {
            slot.release();
            throw error;
          }
          sha256.update(body);
          const md5 = md5Of(body);
          const earlier = held.get(partNumber);
          if (earlier && earlier.etag.replaceAll('"', '') === Buffer.from(md5, 'base64').toString('hex')) {
            parts.set(partNumber, earlier);
            slot.release();
            continue;
          }
          const send = this.#sendPart(sessionId, entry.key, uploadId, partNumber, body, md5, () =>
            readAgain(file, md5, readPart),
          )
            .then((part) => {
              parts.set(partNumber, part);
            })
            .catch((error: unknown) => {
              errors.push(error);
            })
            .finally(() => slot.release());
          sends.push(send);
        }
      } finally {
        // Parts in flight may still read their bytes again; the file stays open until they are done.
        await Promise.allSettled(sends);
        await handle.close();
      }
      if (errors.length > 0) throw errors[0];
      const complete = await this.#api.uploads.sign.mutate({ sessionId, method: 'POST', key: entry.key, uploadId });
      const etag = await completeMultipartUpload(complete.url, [...parts.values()], this.#transferOptions());
      this.#emit({ type: 'file-done', key: entry.key, bytes: file.size });
      confirmations.add({ key: entry.key, etag, sha256: sha256.digest('hex') });
    } catch (error) {
      this.#recordFailure(entry, error, failed);
    }
  }

  async #sendPart(
    sessionId: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: Uint8Array,
    md5: string,
    reread: () => Promise<Uint8Array>,
  ): Promise<UploadedPart> {
    const { urls } = await this.#api.uploads.signBatch.mutate({
      sessionId,
      requests: [{ key, uploadId, partNumber, contentMd5: md5 }],
    });
    const signed = urls[0] as { url: string; headers: Record<string, string> };
    this.#bytesSent += body.byteLength;
    const etag = await putBytes(signed.url, signed.headers, body, this.#transferOptions(reread));
    this.#emit({ type: 'part-done', key, partNumber, bytes: body.byteLength });
    return { partNumber, etag, size: body.byteLength };
  }

  /**
   * A transfer slot of the shared limit, held until `release()`: a part's bytes are read only once it has
   * one, so no more than `concurrency` parts are in memory.
   */
  async #slot(): Promise<{ release: () => void }> {
    return new Promise((resolve) => {
      void this.#limit(() => new Promise<void>((release) => resolve({ release })));
    });
  }

  /** A new multipart upload, or the one the ledger remembers, with the parts S3 already holds. */
  async #startOrResume(sessionId: string, entry: Transfer): Promise<{ uploadId: string; done: UploadedPart[] }> {
    if (entry.decision === 'resume') {
      const done: UploadedPart[] = [];
      let partNumberMarker: number | undefined;
      do {
        const list = await this.#api.uploads.sign.mutate({
          sessionId,
          method: 'GET',
          key: entry.key,
          uploadId: entry.uploadId,
          partNumberMarker,
        });
        const page = await listParts(list.url, this.#transferOptions());
        done.push(...page.parts);
        partNumberMarker = page.nextPartNumberMarker;
      } while (partNumberMarker !== undefined);
      return { uploadId: entry.uploadId, done };
    }
    const create = await this.#api.uploads.sign.mutate({ sessionId, method: 'POST', key: entry.key });
    return { uploadId: await createMultipartUpload(create.url, create.headers, this.#transferOptions()), done: [] };
  }

  #recordFailure(entry: Transfer, error: unknown, failed: FailedFile[]) {
    if (this.#options.signal?.aborted) throw error;
    const message = error instanceof Error ? error.message : String(error);
    failed.push({ relativePath: entry.relativePath, key: entry.key, error: message });
    this.#emit({ type: 'file-failed', key: entry.key, error: message });
  }
}

interface FailedFile {
  relativePath: string;
  key: string;
  error: string;
}

/**
 * Finished files, confirmed to the server in batches rather than one call each, and at least every few seconds:
 * a process killed mid-run then re-sends only what it finished in its last seconds.
 */
interface Confirmation {
  key: string;
  etag: string;
  sha256: string;
}

class Confirmations {
  #pending: Confirmation[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** Sends run one after another, so a flush also waits for one the timer started. */
  #sending: Promise<void> = Promise.resolve();
  constructor(
    private readonly api: Api,
    private readonly sessionId: string,
  ) {}

  /**
   * Queues a confirmation; a full batch is sent without waiting for it, so no transfer slot idles on a round trip
   * to the server. A send that fails keeps its files for the next one, and the final flush reports the failure.
   */
  add(confirmation: Confirmation) {
    this.#pending.push(confirmation);
    if (this.#pending.length >= confirmEvery) this.flush().catch(() => undefined);
    else this.#timer ??= setTimeout(() => this.flush().catch(() => undefined), confirmWithinMs);
  }

  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    // A failed earlier send left its files in #pending; this send takes them again.
    this.#sending = this.#sending.catch(() => undefined).then(() => this.#sendPending());
    return this.#sending;
  }

  async #sendPending() {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, maxConfirmBatch);
      try {
        await this.api.uploads.confirm.mutate({ sessionId: this.sessionId, files: batch });
      } catch (error) {
        this.#pending.unshift(...batch);
        throw error;
      }
    }
  }
}

const md5Of = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('base64');
const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function readRange(handle: FileHandle, start: number, end: number): Promise<Uint8Array> {
  const body = new Uint8Array(end - start);
  const { bytesRead } = await handle.read(body, 0, body.byteLength, start);
  if (bytesRead !== body.byteLength) throw new Error(`the file ended at byte ${start + bytesRead}, before ${end}`);
  return body;
}

/**
 * The bytes read again after S3 refused them as damaged; a file whose bytes now differ from the MD5 signed
 * into the URL changed on disk, and no retry helps.
 */
async function readAgain(file: LocalFile, md5: string, read: () => Promise<Uint8Array>): Promise<Uint8Array> {
  const body = await read();
  if (md5Of(body) !== md5) throw new AbortError(`${file.relativePath} changed on disk while it was being uploaded`);
  return body;
}

/** Batches of at most `signBatchSize` files and, past the first file, `signBatchBytes` bytes. */
function batchesOf<T>(items: T[], sizeOf: (item: T) => number): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length > 0 && (current.length === signBatchSize || bytes + size > signBatchBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

function chunks<T>(items: T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}
