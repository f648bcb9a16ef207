import { createSHA256, type IHasher } from 'hash-wasm';
import { formBody, formEnvelope } from './formBody.ts';
import { toHex } from './hex.ts';

/*
 * Sends single-PUT files to S3 off the page's main thread, each read once: the same bytes are hashed (SHA-256,
 * for the ledger) and sent, as a PUT or, when the server signed a form, as an S3 POST Object (no preflight).
 * Measured on 16 KiB files, a file through Uppy cost the page's renderer ~9 ms of CPU and a bare fetch ~2 ms:
 * with thousands of small files, the renderer was what held the rate down.
 * The page decides what is sent when (putLane.ts); this worker runs what it is given and reports outcomes.
 */

/** One file to send, with its presigned PUT URL and the headers signed with it, or its POST Object form. */
export interface PutJob {
  key: string;
  file: File;
  url: string;
  headers: Record<string, string>;
  fields?: Record<string, string>;
}

export type PutCommand = { type: 'send'; jobs: PutJob[] } | { type: 'cancel' };

/** `status` is S3's answer, or null when none came (the network, a reset, a refused connection). */
export type PutOutcome =
  | { key: string; sha256: string }
  | { key: string; error: string; status: number | null; readable: boolean };

export type PutReport = { type: 'outcomes'; outcomes: PutOutcome[] } | { type: 'progress'; key: string; bytes: number };

/** Files up to this size are read into memory whole; bigger ones are hashed in slices and sent as they lie. */
const wholeReadBytes = 8 * 1024 * 1024;
/**
 * Files up to this size are read from disk together, up to groupFiles and groupBytes a read: each read is a round
 * trip through the browser process, and one per 16 KiB file cost Chromium ~0.7 ms of its ~4 ms per uploaded file
 * (measured on this machine: 3,000 files sent from a worker, read one by one or 32 at a time).
 */
const groupedFileBytes = 1024 * 1024;
const groupFiles = 32;
const groupBytes = 8 * 1024 * 1024;
/** Outcomes are sent to the page together, at most this often: one message per file would cost the page more. */
const reportEveryMs = 50;
/** A big file's progress reaches the page at most this often. */
const progressEveryMs = 250;
/**
 * A request that has moved nothing for this long is given up (and retried by the page): a connection can stall
 * for good (a laptop woken from sleep, a NAT that forgot it) without either end noticing.
 */
const stallMs = 30_000;

const scope = self as unknown as {
  postMessage(message: PutReport): void;
  onmessage: ((event: MessageEvent<PutCommand>) => void) | null;
};
/** The SHA-256 state small files share where WebCrypto is missing, one file at a time (see digest). */
let hasher: Promise<IHasher> | null = null;
/**
 * Each request's own controller and the time by which it must have ended, checked by one timer: a timeout
 * signal and a combined signal per request cost the worker more than the form it sends.
 */
const deadlines = new Map<AbortController, { at: number; limitMs: number }>();
let sweeper: ReturnType<typeof setInterval> | null = null;
/** Counts cancels: what a cancelled request answers is not reported. */
let generation = 0;
let waiting: PutOutcome[] = [];
let reportScheduled = false;

scope.onmessage = (event) => {
  const command = event.data;
  if (command.type === 'cancel') {
    generation += 1;
    for (const controller of deadlines.keys()) controller.abort(new Error('cancelled'));
    deadlines.clear();
    waiting = [];
    return;
  }
  const sentIn = generation;
  for (const [job, bytes] of readings(command.jobs)) {
    void send(job, bytes).then((outcome) => {
      if (sentIn === generation) report(outcome);
    });
  }
};

type Bytes = Uint8Array<ArrayBuffer>;

/** Each job with the read of its bytes (small files in groups); null for a file too big to hold in memory. */
function readings(jobs: PutJob[]): Array<[PutJob, Promise<Bytes> | null]> {
  const read: Array<[PutJob, Promise<Bytes> | null]> = [];
  let group: PutJob[] = [];
  let groupSize = 0;
  const readGroup = () => {
    read.push(...readTogether(group));
    group = [];
    groupSize = 0;
  };
  for (const job of jobs) {
    const { size } = job.file;
    if (size > groupedFileBytes) {
      read.push([job, size <= wholeReadBytes ? readFile(job.file) : null]);
      continue;
    }
    if (group.length === groupFiles || groupSize + size > groupBytes) readGroup();
    group.push(job);
    groupSize += size;
  }
  if (group.length > 0) readGroup();
  return read;
}

/** One read for the files of `jobs`, each answered its own part of it. */
function readTogether(jobs: PutJob[]): Array<[PutJob, Promise<Bytes>]> {
  if (jobs.length === 1) return jobs.map((job) => [job, readFile(job.file)]);
  const all = new Blob(jobs.map((job) => job.file)).arrayBuffer();
  let offset = 0;
  return jobs.map((job) => {
    const start = offset;
    offset += job.file.size;
    // A file that changed since it was chosen fails the whole read: each is then read alone, so only it fails.
    return [
      job,
      all.then(
        (buffer) => new Uint8Array(buffer, start, job.file.size),
        () => readFile(job.file),
      ),
    ];
  });
}

async function readFile(file: File): Promise<Bytes> {
  return new Uint8Array(await file.arrayBuffer());
}

/** A controller for one request that aborts it if it has not ended within `limitMs`. */
function watch(limitMs: number): AbortController {
  const controller = new AbortController();
  deadlines.set(controller, { at: performance.now() + limitMs, limitMs });
  sweeper ??= setInterval(() => {
    const now = performance.now();
    for (const [watched, deadline] of deadlines) {
      if (deadline.at > now) continue;
      deadlines.delete(watched);
      watched.abort(new Error(`no answer within ${Math.round(deadline.limitMs / 1000)} s`));
    }
  }, 1000);
  return controller;
}

function unwatch(controller: AbortController) {
  deadlines.delete(controller);
  if (deadlines.size === 0 && sweeper !== null) {
    clearInterval(sweeper);
    sweeper = null;
  }
}

function report(outcome: PutOutcome) {
  waiting.push(outcome);
  if (reportScheduled) return;
  reportScheduled = true;
  setTimeout(() => {
    reportScheduled = false;
    scope.postMessage({ type: 'outcomes', outcomes: waiting });
    waiting = [];
  }, reportEveryMs);
}

async function send(job: PutJob, bytes: Promise<Bytes> | null): Promise<PutOutcome> {
  let body: Bytes | File;
  let sha256: string;
  try {
    if (bytes) {
      const read = await bytes;
      body = read;
      sha256 = await digest(read);
    } else {
      body = job.file;
      sha256 = await hashSlices(job.file);
    }
  } catch {
    // Chromium refuses to read a file that changed or vanished after it was chosen; sending it again will not help.
    const error = 'The file could not be read: it changed or was removed since it was chosen.';
    return { key: job.key, error, status: null, readable: false };
  }
  try {
    const status = body instanceof File ? await putWithProgress(job, body) : await putBytes(job, body);
    if (status.ok) return { key: job.key, sha256 };
    return { key: job.key, error: status.error, status: status.status, readable: true };
  } catch (error) {
    const reason = error instanceof Error && error.message ? ` (${error.message})` : '';
    return { key: job.key, error: `No answer from S3${reason}`, status: null, readable: true };
  }
}

async function digest(body: Bytes): Promise<string> {
  // WebCrypto (native, several times faster) exists only in a secure context: https or localhost.
  if (crypto.subtle) return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', body)));
  hasher ??= createSHA256();
  const state = await hasher;
  // init, update and digest in one go: no other file can use the shared state in between.
  state.init();
  state.update(body);
  return state.digest('hex');
}

/** A big file's hash, one slice in memory at a time, in a state of its own; the file is then sent from disk. */
async function hashSlices(file: File) {
  const state = await createSHA256();
  for (let start = 0; start < file.size; start += wholeReadBytes) {
    state.update(new Uint8Array(await file.slice(start, start + wholeReadBytes).arrayBuffer()));
  }
  return state.digest('hex');
}

type PutStatus = { ok: true } | { ok: false; status: number; error: string };

/** How a job goes: a PUT with its signed headers, or a form POST (the envelope goes around the file). */
function requestOf(job: PutJob) {
  const envelope = job.fields ? formEnvelope(job.fields) : null;
  return envelope
    ? { method: 'POST', headers: { 'content-type': envelope.contentType }, envelope }
    : { method: 'PUT', headers: job.headers, envelope };
}

function putBytes(job: PutJob, bytes: Bytes): Promise<PutStatus> {
  // Nothing tells how far the body has gone: the whole request gets the stall time, and more for a bigger body.
  const controller = watch(stallMs + bytes.byteLength / 64);
  const { method, headers, envelope } = requestOf(job);
  const body = envelope ? formBody(envelope, bytes) : bytes;
  return request(job.url, method, headers, body, controller.signal).finally(() => unwatch(controller));
}

/** A file too big to hold in memory goes from disk; it reports how much of it has been sent. */
function putWithProgress(job: PutJob, file: File): Promise<PutStatus> {
  // Only a cancel ends it from outside: its own stall timer follows the bytes sent.
  const controller = watch(Number.POSITIVE_INFINITY);
  const { method, headers, envelope } = requestOf(job);
  let reportedAt = 0;
  const stalled = () => controller.abort(new Error(`nothing moved for ${stallMs / 1000} s`));
  let stall = setTimeout(stalled, stallMs);
  const progress = (loaded: number) => {
    clearTimeout(stall);
    stall = setTimeout(stalled, stallMs);
    const now = performance.now();
    if (now - reportedAt < progressEveryMs) return;
    reportedAt = now;
    scope.postMessage({ type: 'progress', key: job.key, bytes: Math.min(loaded, file.size) });
  };
  // A form sends the file from disk between its fields and closing line; the blob reads nothing into memory.
  const body = envelope ? new Blob([envelope.head, file, envelope.tail]) : file;
  return request(job.url, method, headers, body, controller.signal, progress).finally(() => {
    clearTimeout(stall);
    unwatch(controller);
  });
}

/**
 * One request, by XMLHttpRequest: from a worker it costs the thread less than fetch (~0.06 of ~0.45 ms per small
 * request, measured here), and it alone tells how much of a body has been sent. `onProgress` only where needed: an
 * upload listener makes the request need a CORS preflight.
 */
function request(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: XMLHttpRequestBodyInit,
  signal: AbortSignal,
  onProgress?: (loaded: number) => void,
): Promise<PutStatus> {
  return new Promise<PutStatus>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    if (onProgress) xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () =>
      resolve(
        xhr.status >= 200 && xhr.status < 300
          ? { ok: true }
          : { ok: false, status: xhr.status, error: s3Error(xhr.status, xhr.responseText) },
      );
    xhr.onerror = () => reject(new Error('network error'));
    xhr.onabort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('cancelled'));
    signal.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}

/** S3's answer in words, as Uppy words it: `S3 returned 503 – SlowDown: Please reduce your request rate.` */
function s3Error(status: number, body: string): string {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
  return `S3 returned ${status}${code ? ` – ${code}` : ''}${message ? `: ${message}` : ''}`;
}
