import type { ManifestFile, SensorManifest } from '@data-uploader/shared';
import type Uppy from '@uppy/core';
import type { trpc } from '../trpc.ts';
import { FileHasher } from './fileHasher.ts';
import type { ScanCounters, ScannedFile } from './folderScan.ts';
import { type Amount, type PlanAnswer, PlanTally, type SensorTally } from './planTally.ts';
import { ProgressMeter, type ProgressSnapshot } from './progressMeter.ts';
import { type LaneOutcome, PutLane } from './putLane.ts';
import { RecordBatcher } from './recordBatcher.ts';
import { isTransient, retrying, transientReason } from './retryPolicy.ts';
import { RetryQueue } from './retryQueue.ts';
import { TransferWindow } from './transferWindow.ts';
import { createUploader, type WindowMeta } from './uppyUploader.ts';

type Api = typeof trpc;
type Planned = Awaited<ReturnType<Api['uploads']['plan']['mutate']>>['files'][number];
export type Session = Awaited<ReturnType<Api['uploads']['finish']['mutate']>>;

/** A file the plan said to send, with the bytes to send. */
export interface Transfer {
  relativePath: string;
  file: File;
  key: string;
  multipart: boolean;
  partSize: number | null;
  uploadId: string | null;
}

/** Everything the page shows of a run, as plain data, built at most once per animation frame. */
export interface RunView {
  phase: Phase;
  scanning: boolean;
  started: boolean;
  counters: ScanCounters;
  totals: PlanTally['totals'];
  toSend: Amount;
  sensors: SensorTally[];
  conflicts: PlanAnswer[];
  invalid: PlanAnswer[];
  failures: Array<{ relativePath: string; error: string }>;
  failureCount: number;
  progress: ProgressSnapshot;
  /** Per sensor folder: recording span, gaps, odd names; ready once the whole folder is read. */
  manifest: SensorManifest[] | null;
  network: NetworkView;
  result: Session | null;
  error: unknown;
}

/** Whether the run is waiting out a fault: the page says so instead of showing failures. */
export interface NetworkView {
  state: 'ok' | 'offline' | 'retrying';
  /** Files waiting out a pause before they are sent again. */
  waiting: number;
  /** What the last transient failure said, for the person to see why. */
  reason: string | null;
}

/** The page lists this many failed files; the count stays exact. */
const failuresShown = 200;

export type Phase = 'idle' | 'planning' | 'uploading' | 'paused' | 'finishing' | 'finished' | 'cancelled';

export interface RunOptions {
  api: Api;
  projectId: string;
  cycleId: string;
  /** An interrupted session of this person to continue; otherwise a new one begins at the first drop. */
  sessionId?: string | null;
  /** Read when the session begins, so the person can type it until the first drop. */
  label?: () => string;
  onChange: () => void;
}

/** Files held in Uppy at once; Uppy's per-event cost grows with its file count (notes/uppy-scale.md). */
export const windowSize = 60;
/** The window is topped up once this many places are free, in one addFiles call. */
const refillAt = 20;
/** The first plan call is small so the first bytes move within seconds of the drop; later ones are big. */
const firstPlanBatch = 200;
const planBatch = 2000;

/**
 * One upload from the page: scans what the person chose, plans it against the ledger batch by batch while the
 * scan goes on, feeds the files to send through a small Uppy window, records what arrived in batches, and
 * finishes the session with the server's reconcile. The whole folder lives here in compact form, never in Uppy.
 */
export class UploadRun {
  readonly tally = new PlanTally();
  readonly meter = new ProgressMeter();
  readonly counters: ScanCounters = { found: 0, bytes: 0, skippedSystem: 0 };
  readonly failures = new Map<string, { transfer: Transfer; error: string }>();
  readonly uppy: Uppy<WindowMeta, Record<string, never>>;
  phase: Phase = 'idle';
  sessionId: string | null;
  scanning = false;
  /** The person pressed Upload; until then only the plan is shown. */
  started = false;
  result: Session | null = null;
  error: unknown = null;
  manifest: SensorManifest[] | null = null;

  readonly #options: RunOptions;
  readonly #api: Api;
  readonly #partSizes: Map<number, number>;
  /** Multipart files, through Uppy. */
  readonly #window = new TransferWindow<Transfer>(windowSize, refillAt);
  /** Files sent in one PUT, outside Uppy. */
  readonly #puts: PutLane<Transfer>;
  readonly #finishedIds: string[] = [];
  readonly #conflicted: ScannedFile[] = [];
  readonly #manifestFiles: ManifestFile[] = [];
  #planning: Promise<void> = Promise.resolve();
  #plansWaiting = 0;
  #feedScheduled = false;
  readonly #confirms: RecordBatcher<Confirmation>;
  readonly #hasher = new FileHasher();
  /** Each file's SHA-256 as it is being computed, from the moment it enters the window; null if unreadable. */
  readonly #hashes = new Map<string, Promise<string | null>>();
  /** Uploaded files whose confirmation waits for their hash. */
  readonly #awaitingHash = new Map<string, Promise<void>>();
  readonly #failureRecords: RecordBatcher<{ key: string; error: string }>;
  readonly #retries = new RetryQueue<Transfer>();
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #offline = !navigator.onLine;
  /** API calls now between attempts. */
  #callsRetrying = 0;
  #lastTransient: string | null = null;
  #cameOnline = () => {};
  /** Resolves at the browser's next `online` event. */
  #online = new Promise<void>((resolve) => {
    this.#cameOnline = resolve;
  });

  constructor(options: RunOptions) {
    this.#options = options;
    this.#api = options.api;
    this.sessionId = options.sessionId ?? null;
    const { uppy, partSizes } = createUploader({ api: options.api, sessionId: () => this.sessionId });
    this.uppy = uppy;
    this.#partSizes = partSizes;
    const recordError = (error: unknown) => this.#fail(error);
    this.#puts = new PutLane<Transfer>({
      signMany: (keys) =>
        this.#call(() =>
          this.#api.uploads.signBatch.mutate({
            sessionId: this.#session(),
            // Forms need no CORS preflight: one request per small file instead of two.
            form: true,
            requests: keys.map((key) => ({ key })),
          }),
        ),
      signOne: (key) =>
        this.#call(() => this.#api.uploads.sign.mutate({ sessionId: this.#session(), method: 'PUT', key })),
      onOutcome: (transfer, outcome) => this.#putSettled(transfer, outcome),
      onProgress: (transfer, bytes) => {
        this.meter.progress(transfer.key, bytes);
        this.#changed();
      },
      onError: recordError,
      holding: () => this.#holding(),
    });
    this.#confirms = new RecordBatcher({
      send: (files) => this.#call(() => this.#api.uploads.confirm.mutate({ sessionId: this.#session(), files })),
      size: 500,
      delayMs: 1000,
      onError: recordError,
    });
    this.#failureRecords = new RecordBatcher({
      send: (files) => this.#call(() => this.#api.uploads.fail.mutate({ sessionId: this.#session(), files })),
      size: 500,
      delayMs: 1000,
      onError: recordError,
    });
    this.#listen();
    this.#watchNetwork();
  }

  /** Adds what the person dropped or picked: scanned, then planned in batches while the scan goes on. */
  async addFiles(batches: AsyncIterable<ScannedFile[]>) {
    if (this.phase === 'cancelled' || this.phase === 'finished' || this.phase === 'finishing') return;
    this.scanning = true;
    if (this.phase === 'idle') this.phase = 'planning';
    this.#changed();
    let waiting: ScannedFile[] = [];
    try {
      await this.#ensureSession();
      for await (const batch of batches) {
        waiting.push(...batch);
        const size = this.tally.planned === 0 && this.#plansWaiting === 0 ? firstPlanBatch : planBatch;
        while (waiting.length >= size) {
          await this.#enqueuePlan(waiting.splice(0, size), false);
        }
        this.#changed();
      }
      if (waiting.length > 0) await this.#enqueuePlan(waiting, false);
      waiting = [];
      await this.#planning;
    } catch (error) {
      this.#fail(error);
    } finally {
      this.scanning = false;
      this.#changed();
      this.#scheduleFeed();
    }
    this.#computeManifest();
  }

  #computeManifest() {
    const worker = new Worker(new URL('./manifestWorker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (event: MessageEvent<SensorManifest[]>) => {
      this.manifest = event.data;
      worker.terminate();
      this.#changed();
    };
    worker.onerror = () => worker.terminate();
    worker.postMessage(this.#manifestFiles);
  }

  /** Starts (or continues) sending; planning may still be going on. */
  start() {
    if (this.phase === 'cancelled' || this.phase === 'finished') return;
    this.started = true;
    this.phase = 'uploading';
    this.#puts.start();
    this.#changed();
    this.#scheduleFeed();
  }

  pause() {
    if (this.phase !== 'uploading') return;
    this.phase = 'paused';
    this.uppy.pauseAll();
    this.#puts.pause();
    this.#changed();
  }

  resume() {
    if (this.phase !== 'paused') return;
    this.phase = 'uploading';
    this.uppy.resumeAll();
    this.#puts.start();
    this.#changed();
    this.#scheduleFeed();
  }

  /** Stops everything and aborts the session: its multipart uploads are aborted, nothing more is recorded. */
  async cancel() {
    this.phase = 'cancelled';
    this.#window.clear();
    this.#puts.cancel();
    this.#retries.clear();
    this.uppy.cancelAll();
    this.#changed();
    if (!this.sessionId) return;
    try {
      await this.#recordConfirmations();
      this.result = await this.#api.uploads.abort.mutate({ sessionId: this.sessionId });
    } catch (error) {
      this.#fail(error);
    }
    this.#changed();
  }

  /** Plans the conflicting files again with overwrite, so they are sent too. */
  async overwriteConflicts() {
    const files = this.#conflicted.splice(0);
    this.tally.forgetConflicts();
    for (let start = 0; start < files.length; start += planBatch) {
      await this.#enqueuePlan(files.slice(start, start + planBatch), true);
    }
    await this.#planning;
    this.#changed();
    this.#scheduleFeed();
  }

  /** Puts the failed files back in the queue; a multipart upload continues where it stopped. */
  retryFailed() {
    const failed = [...this.failures.values()];
    this.failures.clear();
    for (const { transfer } of failed) {
      this.meter.retry();
      this.#sendAgain(transfer);
    }
    if (this.phase === 'finishing') this.phase = 'uploading';
    this.#changed();
    this.#scheduleFeed();
  }

  /** Closes the session even though some files failed; the server's reconcile says what arrived. */
  finishNow() {
    void this.#finish();
  }

  view(): RunView {
    const failures: RunView['failures'] = [];
    for (const { transfer, error } of this.failures.values()) {
      if (failures.length >= failuresShown) break;
      failures.push({ relativePath: transfer.relativePath, error });
    }
    const toSend = this.tally.toSend;
    return {
      phase: this.phase,
      scanning: this.scanning,
      started: this.started,
      counters: { ...this.counters },
      totals: structuredClone(this.tally.totals),
      toSend,
      sensors: this.tally.sensors().map((sensor) => structuredClone(sensor)),
      conflicts: [...this.tally.conflicts],
      invalid: [...this.tally.invalid],
      failures,
      failureCount: this.failures.size,
      progress: this.meter.snapshot(toSend),
      manifest: this.manifest,
      network: this.#networkView(),
      result: this.result,
      error: this.error,
    };
  }

  /**
   * The page is going away (tab closed, reload): records the confirmations still waiting with a beacon, which
   * the browser delivers after the page is gone, so those files are skipped next time instead of sent again.
   */
  flushOnExit() {
    // Files still being hashed are confirmed without their checksum rather than sent again next time.
    const files = [...this.#confirms.drain(), ...[...this.#awaitingHash.keys()].map((key) => ({ key }))];
    if (!this.sessionId || files.length === 0) return;
    const body = new Blob([JSON.stringify({ sessionId: this.sessionId, files })], { type: 'application/json' });
    navigator.sendBeacon('/trpc/uploads.confirm', body);
  }

  destroy() {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    window.removeEventListener('online', this.#onOnline);
    window.removeEventListener('offline', this.#onOffline);
    this.#hasher.destroy();
    this.#puts.close();
    this.uppy.destroy();
  }

  #session(): string {
    if (!this.sessionId) throw new Error('No upload session');
    return this.sessionId;
  }

  async #ensureSession() {
    if (this.sessionId) return;
    const session = await this.#call(() =>
      this.#api.uploads.begin.mutate({
        projectId: this.#options.projectId,
        cycleId: this.#options.cycleId,
        label: this.#options.label?.() ?? '',
        source: 'browser',
        client: navigator.userAgent.slice(0, 200),
      }),
    );
    this.sessionId = session.id;
  }

  /** Chains a plan call behind the others; the scan waits only when two are already waiting. */
  async #enqueuePlan(files: ScannedFile[], overwrite: boolean) {
    if (this.#plansWaiting >= 2) await this.#planning;
    this.#plansWaiting += 1;
    this.#planning = this.#planning.then(async () => {
      try {
        await this.#plan(files, overwrite);
      } finally {
        this.#plansWaiting -= 1;
      }
    });
  }

  async #plan(files: ScannedFile[], overwrite: boolean) {
    const sessionId = this.#session();
    const input = {
      sessionId,
      overwrite,
      files: files.map(({ relativePath, file }) => ({
        relativePath,
        size: file.size,
        lastModified: file.lastModified,
        ...(file.type ? { contentType: file.type.slice(0, 255) } : {}),
      })),
    };
    const { files: answers } = await this.#call(() => this.#api.uploads.plan.mutate(input));
    answers.forEach((answer, index) => {
      const scanned = files[index] as ScannedFile;
      if (!overwrite) {
        this.#manifestFiles.push({
          relativePath: answer.relativePath,
          size: scanned.file.size,
          lastModified: scanned.file.lastModified,
        });
      }
      this.tally.add(tallyEntry(answer, scanned.file.size));
      if (answer.decision === 'conflict') this.#conflicted.push(scanned);
      const transfer = transferOf(answer, scanned);
      if (transfer?.multipart) this.#window.push(transfer);
      else if (transfer) this.#puts.push(transfer);
    });
    this.#changed();
    this.#scheduleFeed();
  }

  #listen() {
    this.uppy.on('upload-progress', (file, progress) => {
      if (file) this.meter.progress(file.id, progress.bytesUploaded);
      this.#changed();
    });
    this.uppy.on('upload-success', (file) => {
      const transfer = file && this.#window.get(file.id);
      if (!file || !transfer) return;
      this.#retries.succeeded(transfer.key);
      this.#lastTransient = null;
      this.meter.complete(file.id, transfer.relativePath, transfer.file.size);
      this.#confirmWithHash(transfer.key);
      this.#leaveWindow(file.id);
    });
    this.uppy.on('upload-error', (file, error) => {
      const transfer = file && this.#window.get(file.id);
      if (!file || !transfer) return;
      // The file Uppy passes is as it was when the upload began: the multipart upload id is in its current state.
      const uploadId = this.uppy.getFile(file.id)?.s3Multipart?.uploadId ?? transfer.uploadId;
      this.#transferFailed({ ...transfer, uploadId }, file.id, error, isTransient(error));
      this.#leaveWindow(file.id);
    });
  }

  /** A file sent in one PUT has an answer: it arrived, or the retry policy decides what happens to it. */
  #putSettled(transfer: Transfer, outcome: LaneOutcome) {
    if ('sha256' in outcome) {
      this.#retries.succeeded(transfer.key);
      this.#lastTransient = null;
      this.meter.complete(transfer.key, transfer.relativePath, transfer.file.size);
      this.#confirms.add({ key: transfer.key, sha256: outcome.sha256 });
    } else {
      const error = Object.assign(new Error(outcome.error), outcome.status === null ? {} : { status: outcome.status });
      this.#transferFailed(transfer, transfer.key, error, outcome.readable && isTransient(error));
    }
    this.#changed();
    this.#scheduleFeed();
  }

  /** A transient failure waits out a pause and is sent again; any other is listed (and recorded) as failed. */
  #transferFailed(transfer: Transfer, meterId: string, error: unknown, transient: boolean) {
    if (this.phase !== 'cancelled' && transient && this.#retries.failed(transfer.key, transfer) !== null) {
      this.meter.setBack(meterId);
      this.#lastTransient = transientReason(error);
      this.#scheduleRetries();
      return;
    }
    const message = (error instanceof Error && error.message) || 'Upload failed';
    this.meter.fail(meterId);
    this.failures.set(transfer.key, { transfer, error: message });
    this.#failureRecords.add({ key: transfer.key, error: message.slice(0, 2000) });
  }

  /** Back into the queue it came from, ahead of the files never tried. */
  #sendAgain(transfer: Transfer) {
    if (transfer.multipart) this.#window.pushAgain(transfer);
    else this.#puts.pushAgain(transfer);
  }

  /** While failed files probe a fault, new ones wait; once none is left to probe with, they go on. */
  #holding(): boolean {
    const probing = this.#retries.size > 0 || this.#window.inside > 0 || this.#puts.inFlight > 0;
    return this.#retries.failing && probing;
  }

  #leaveWindow(fileId: string) {
    this.#window.leave(fileId);
    this.#finishedIds.push(fileId);
    this.#changed();
    this.#scheduleFeed();
  }

  /** Window upkeep runs once per task, however many files finished in it. */
  #scheduleFeed() {
    if (this.#feedScheduled) return;
    this.#feedScheduled = true;
    setTimeout(() => {
      this.#feedScheduled = false;
      this.#feed();
    }, 0);
  }

  #feed() {
    if (this.#finishedIds.length > 0) this.uppy.removeFiles(this.#finishedIds.splice(0));
    if (!this.started || this.phase !== 'uploading') return;
    this.#puts.pump();
    const batch = this.#window.nextBatch({ onlyAgain: this.#holding() });
    if (batch.length > 0) this.#addToWindow(batch);
    else if (this.#window.drained && this.#puts.drained && this.#retries.size === 0) this.#maybeFinish();
  }

  /** Puts the failed files whose pause is over back into the window, and waits for the next one. */
  #scheduleRetries() {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    for (const transfer of this.#retries.due()) this.#sendAgain(transfer);
    this.#scheduleFeed();
    const next = this.#retries.nextDueIn();
    if (next !== null) this.#retryTimer = setTimeout(() => this.#scheduleRetries(), next);
    this.#changed();
  }

  #addToWindow(batch: Transfer[]) {
    for (const transfer of batch) {
      if (transfer.partSize) this.#partSizes.set(transfer.file.size, transfer.partSize);
      if (!this.#hashes.has(transfer.key)) {
        this.#hashes.set(
          transfer.key,
          this.#hasher.hash(transfer.file).catch(() => null),
        );
      }
    }
    this.uppy.addFiles(
      batch.map((transfer) => ({
        name: transfer.relativePath.slice(transfer.relativePath.lastIndexOf('/') + 1),
        type: transfer.file.type || 'application/octet-stream',
        data: transfer.file,
        source: 'folder',
        meta: {
          relativePath: transfer.relativePath,
          key: transfer.key,
          multipart: transfer.multipart,
          partSize: transfer.partSize ?? 0,
        },
      })),
    );
    const byKey = new Map(batch.map((transfer) => [transfer.key, transfer]));
    for (const file of this.uppy.getFiles()) {
      const transfer = byKey.get(file.meta.key);
      if (!transfer || file.progress.uploadStarted) continue;
      byKey.delete(file.meta.key);
      this.#window.enter(file.id, transfer);
      if (transfer.uploadId) {
        this.uppy.setFileState(file.id, { s3Multipart: { uploadId: transfer.uploadId, key: transfer.key } });
      }
    }
    // Uppy refused some (a file it still held from a failed attempt): they must not hold places forever, nor be
    // dropped without a word; they go through the retry policy like any transient failure.
    this.#window.abandon(byKey.size);
    for (const transfer of byKey.values()) {
      this.#transferFailed(transfer, transfer.key, new Error('The uploader still held this file; trying again'), true);
    }
    this.uppy.upload().catch((error: unknown) => this.#fail(error));
    this.#changed();
  }

  #maybeFinish() {
    if (this.scanning || this.#plansWaiting > 0 || this.phase !== 'uploading') return;
    if (this.failures.size > 0) {
      this.phase = 'finishing';
      this.#changed();
      return;
    }
    void this.#finish();
  }

  async #finish() {
    this.phase = 'finishing';
    this.#changed();
    try {
      await Promise.all([this.#recordConfirmations(), this.#failureRecords.flush()]);
      const sessionId = this.#session();
      this.result = await this.#call(() => this.#api.uploads.finish.mutate({ sessionId }));
      this.phase = 'finished';
    } catch (error) {
      this.#fail(error);
    }
    this.#changed();
  }

  /** Waits for the hashes still being computed, then records every confirmation. */
  async #recordConfirmations() {
    while (this.#awaitingHash.size > 0) await Promise.all(this.#awaitingHash.values());
    await this.#confirms.flush();
  }

  /** Confirms an uploaded file once its hash is known, so the ledger records the checksum with it. */
  #confirmWithHash(key: string) {
    const hashing = this.#hashes.get(key) ?? Promise.resolve(null);
    this.#hashes.delete(key);
    const confirming = hashing.then((sha256) => {
      if (!this.#awaitingHash.delete(key)) return;
      this.#confirms.add(sha256 ? { key, sha256 } : { key });
    });
    this.#awaitingHash.set(key, confirming);
  }

  /** An idempotent API call, sent again after a transient failure while the page says it is retrying. */
  async #call<T>(call: () => Promise<T>): Promise<T> {
    let retried = false;
    try {
      return await retrying(call, {
        wake: () => this.#online,
        onRetry: (error) => {
          if (!retried) this.#callsRetrying += 1;
          retried = true;
          this.#lastTransient = transientReason(error);
          this.#changed();
        },
      });
    } finally {
      if (retried) {
        this.#callsRetrying -= 1;
        this.#changed();
      }
    }
  }

  readonly #onOnline = () => {
    this.#offline = false;
    this.#cameOnline();
    this.#online = new Promise((resolve) => {
      this.#cameOnline = resolve;
    });
    // Files waiting out a pause need not wait any longer: the way is back.
    this.#retries.hurry();
    this.#scheduleRetries();
  };

  readonly #onOffline = () => {
    this.#offline = true;
    this.#changed();
  };

  #watchNetwork() {
    window.addEventListener('online', this.#onOnline);
    window.addEventListener('offline', this.#onOffline);
  }

  #networkView(): NetworkView {
    const waiting = this.#retries.size;
    const retrying = waiting > 0 || this.#callsRetrying > 0 || this.#retries.failing;
    const state = this.#offline ? 'offline' : retrying ? 'retrying' : 'ok';
    return { state, waiting, reason: state === 'ok' ? null : this.#lastTransient };
  }

  #fail(error: unknown) {
    this.error = error;
    this.#changed();
  }

  #changed() {
    this.#options.onChange();
  }
}

interface Confirmation {
  key: string;
  sha256?: string;
}

function tallyEntry(answer: Planned, size: number): PlanAnswer {
  const reason = 'reason' in answer ? answer.reason : undefined;
  return { relativePath: answer.relativePath, decision: answer.decision, size, ...(reason ? { reason } : {}) };
}

function transferOf(answer: Planned, scanned: ScannedFile): Transfer | null {
  if (answer.decision === 'upload') {
    return {
      relativePath: answer.relativePath,
      file: scanned.file,
      key: answer.key,
      multipart: answer.method === 'multipart',
      partSize: answer.partSize,
      uploadId: null,
    };
  }
  if (answer.decision === 'resume') {
    return {
      relativePath: answer.relativePath,
      file: scanned.file,
      key: answer.key,
      multipart: true,
      partSize: answer.partSize,
      uploadId: answer.uploadId,
    };
  }
  return null;
}
