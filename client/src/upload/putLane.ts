import type { PutCommand, PutJob, PutOutcome, PutReport } from './putWorker.ts';
import { statusOf } from './retryPolicy.ts';

/** A file the plan said to send in one PUT. */
export interface PutTransfer {
  key: string;
  file: File;
}

/** A presigned PUT URL with its headers, or an S3 POST Object form (`fields`) for the bucket at `url`. */
export interface SignedPut {
  url: string;
  headers: Record<string, string>;
  fields?: Record<string, string>;
}

/** How the lane reaches its worker; tests put a stand-in here. */
export interface PutTransport {
  post(command: PutCommand): void;
  /** `onFailure`: the worker died or could not start; what it held will never be answered. */
  listen(onReport: (report: PutReport) => void, onFailure: (message: string) => void): void;
  close(): void;
}

export type LaneOutcome = { sha256: string } | { error: string; status: number | null; readable: boolean };

export interface PutLaneOptions<T extends PutTransfer> {
  /** Presigned PUT URLs for these keys, in their order (signBatch); answers how long they stay valid. */
  signMany(keys: string[]): Promise<{ urls: SignedPut[]; expiresIn: number }>;
  /** One key's URL, when a batch was refused: the refusal is then that one file's. */
  signOne(key: string): Promise<SignedPut>;
  onOutcome(transfer: T, outcome: LaneOutcome): void;
  onProgress(transfer: T, bytes: number): void;
  /** A batch could not be signed at all (the session is gone, the network gave up): the run reports it. */
  onError(error: unknown): void;
  /** While true, only files being sent again go: new ones wait while the way to S3 is failing. */
  holding(): boolean;
  /** Starts a worker; called again after a worker fails. */
  transport?: () => PutTransport;
  now?: () => number;
}

/**
 * Requests in flight: well over the browser's six connections to a host, so a connection that frees up finds the
 * next request already waiting while the worker's answers are on their way to the page (every 50 ms, which at
 * 500 small files a second is 25 files). With 24, the queue ran dry between answers: 0.42× rclone's files/s
 * against 0.61× with 96 (bench:browser, this machine).
 */
export const putsInFlight = 96;
/** ...and bytes in flight, so a folder of big single-PUT files does not start dozens at once (one always goes). */
export const bytesInFlight = 64 * 1024 * 1024;
/** URLs signed per signBatch call, and the level below which the next call goes out. */
const signAhead = 300;
const signBelow = 150;
const maxWorkerFailures = 3;

interface Entry<T> {
  transfer: T;
  again: boolean;
}

interface SignedEntry<T> extends Entry<T> {
  signed: SignedPut;
  until: number;
}

/**
 * The files sent in one PUT each, outside Uppy: their URLs signed a few hundred at a time ahead of need, a dozen
 * requests in flight in a worker (putWorker.ts) that reads, hashes and sends each file. Uppy keeps the multipart
 * files, where its resumable parts earn their cost.
 */
export class PutLane<T extends PutTransfer> {
  readonly #options: PutLaneOptions<T>;
  #transport: PutTransport;
  /** Workers that failed: after a few, the run is told instead of starting another. */
  #workerFailures = 0;
  readonly #now: () => number;
  #queue: T[] = [];
  #head = 0;
  #again: T[] = [];
  #signed: Array<SignedEntry<T>> = [];
  readonly #inFlight = new Map<string, Entry<T>>();
  #inFlightBytes = 0;
  /** Keys whose URL expired once already: another expiry is a real failure, not a reason to sign again. */
  readonly #resigned = new Set<string>();
  #signing = false;
  #running = false;
  /** Counts cancels: URLs signed for a cancelled run are thrown away. */
  #generation = 0;

  constructor(options: PutLaneOptions<T>) {
    this.#options = options;
    this.#now = options.now ?? (() => Date.now());
    this.#transport = this.#startWorker();
  }

  #startWorker(): PutTransport {
    const transport = (this.#options.transport ?? workerTransport)();
    transport.listen(
      (report) => this.#receive(report),
      (message) => this.#workerFailed(transport, message),
    );
    return transport;
  }

  /** What a failed worker held goes again, through a new worker; a worker that keeps failing stops the lane. */
  #workerFailed(transport: PutTransport, message: string) {
    if (transport !== this.#transport) return;
    transport.close();
    for (const entry of this.#inFlight.values()) this.#again.push(entry.transfer);
    this.#inFlight.clear();
    this.#inFlightBytes = 0;
    this.#workerFailures += 1;
    if (this.#workerFailures >= maxWorkerFailures) {
      this.#running = false;
      this.#options.onError(new Error(`The upload worker stopped working (${message}); reload the page to go on.`));
      return;
    }
    this.#transport = this.#startWorker();
    this.pump();
  }

  /** Queues a file; it goes at the next pump (planning adds thousands at a time, so it does not pump itself). */
  push(transfer: T) {
    this.#queue.push(transfer);
  }

  /** A file that failed and is to be sent again, ahead of those never tried; it too waits for the next pump. */
  pushAgain(transfer: T) {
    this.#again.push(transfer);
  }

  start() {
    this.#running = true;
    this.pump();
  }

  /** New requests stop; those in flight end (a small file is sent in well under a second). */
  pause() {
    this.#running = false;
  }

  cancel() {
    this.#running = false;
    this.#generation += 1;
    this.#transport.post({ type: 'cancel' });
    this.#queue = [];
    this.#head = 0;
    this.#again = [];
    this.#signed = [];
    this.#inFlight.clear();
    this.#inFlightBytes = 0;
  }

  close() {
    this.cancel();
    this.#transport.close();
  }

  /** Nothing waiting, signed or in flight. */
  get drained(): boolean {
    return this.waiting === 0 && this.#signed.length === 0 && this.#inFlight.size === 0 && !this.#signing;
  }

  get waiting(): number {
    return this.#again.length + this.#queue.length - this.#head;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Signs ahead and sends what there is room for; called whenever something changed. */
  pump() {
    if (!this.#running) return;
    this.#dropExpired();
    const holding = this.#options.holding();
    const jobs: PutJob[] = [];
    const dispatch = (entry: SignedEntry<T>) => {
      this.#inFlight.set(entry.transfer.key, entry);
      this.#inFlightBytes += entry.transfer.file.size;
      jobs.push({ key: entry.transfer.key, file: entry.transfer.file, ...entry.signed });
    };
    if (holding) {
      // Only files being sent again go, wherever they are among the signed ones.
      this.#signed = this.#signed.filter((entry) => {
        if (!entry.again || !this.#roomFor(entry.transfer.file.size)) return true;
        dispatch(entry);
        return false;
      });
    } else {
      // In order, while there is room: this runs after every few answers, so it only touches what it sends.
      let taken = 0;
      for (const entry of this.#signed) {
        if (!this.#roomFor(entry.transfer.file.size)) break;
        dispatch(entry);
        taken += 1;
      }
      this.#signed.splice(0, taken);
    }
    if (jobs.length > 0) this.#transport.post({ type: 'send', jobs });
    if (this.#signed.length < signBelow) void this.#signNext(holding);
  }

  #roomFor(size: number): boolean {
    if (this.#inFlight.size === 0) return true;
    return this.#inFlight.size < putsInFlight && this.#inFlightBytes + size <= bytesInFlight;
  }

  /** URLs are used well before they expire, or signed again: a long pause must not send an expired URL. */
  #dropExpired() {
    const now = this.#now();
    // Entries are signed in order, so the first is the oldest: most pumps end here.
    if ((this.#signed[0]?.until ?? Number.POSITIVE_INFINITY) > now) return;
    const stale = this.#signed.filter((entry) => entry.until <= now);
    this.#signed = this.#signed.filter((entry) => entry.until > now);
    for (const entry of stale) (entry.again ? this.#again : this.#queue).push(entry.transfer);
  }

  async #signNext(holding: boolean) {
    if (this.#signing) return;
    const entries: Array<Entry<T>> = this.#again.splice(0, signAhead).map((transfer) => ({ transfer, again: true }));
    if (!holding && entries.length < signAhead) {
      const fresh = this.#queue.slice(this.#head, this.#head + signAhead - entries.length);
      this.#head += fresh.length;
      // Drop what was handed out now and then, so a 300k-file queue does not keep every entry alive.
      if (this.#head > 10_000) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      for (const transfer of fresh) entries.push({ transfer, again: false });
    }
    if (entries.length === 0) return;
    this.#signing = true;
    const generation = this.#generation;
    try {
      const signed = await this.#sign(entries);
      if (generation === this.#generation) this.#signed.push(...signed);
    } catch (error) {
      if (generation === this.#generation) this.#options.onError(error);
    } finally {
      this.#signing = false;
    }
    this.pump();
  }

  async #sign(entries: Array<Entry<T>>): Promise<Array<SignedEntry<T>>> {
    try {
      const { urls, expiresIn } = await this.#options.signMany(entries.map(({ transfer }) => transfer.key));
      const until = this.#now() + (expiresIn * 1000) / 2;
      return entries.map((entry, index) => ({ ...entry, signed: urls[index] as SignedPut, until }));
    } catch {
      // One file the server refuses fails the whole batch: sign each on its own, so the refusal is that file's.
      const signed: Array<SignedEntry<T>> = [];
      for (const entry of entries) {
        try {
          const one = await this.#options.signOne(entry.transfer.key);
          signed.push({ ...entry, signed: one, until: this.#now() + 60_000 });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          this.#options.onOutcome(entry.transfer, { error: message, status: statusOf(error), readable: true });
        }
      }
      return signed;
    }
  }

  #receive(report: PutReport) {
    if (report.type === 'progress') {
      const entry = this.#inFlight.get(report.key);
      if (entry) this.#options.onProgress(entry.transfer, report.bytes);
      return;
    }
    for (const outcome of report.outcomes) this.#settle(outcome);
    this.pump();
  }

  #settle(outcome: PutOutcome) {
    const entry = this.#inFlight.get(outcome.key);
    if (!entry) return;
    this.#inFlight.delete(outcome.key);
    this.#inFlightBytes -= entry.transfer.file.size;
    if ('error' in outcome && expired(outcome) && !this.#resigned.has(outcome.key)) {
      this.#resigned.add(outcome.key);
      this.#again.push(entry.transfer);
      return;
    }
    this.#options.onOutcome(entry.transfer, outcome);
  }
}

/** S3's answer to a URL past its expiry; the file itself is fine. */
function expired(outcome: { status: number | null; error: string }): boolean {
  return outcome.status === 403 && /expired/i.test(outcome.error);
}

function workerTransport(): PutTransport {
  const worker = new Worker(new URL('./putWorker.ts', import.meta.url), { type: 'module' });
  return {
    post: (command) => worker.postMessage(command),
    listen: (onReport, onFailure) => {
      worker.onmessage = (event: MessageEvent<PutReport>) => onReport(event.data);
      worker.onerror = (event) => onFailure(event.message || 'it could not start');
    },
    close: () => worker.terminate(),
  };
}
