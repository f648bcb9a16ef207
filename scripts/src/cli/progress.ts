import cliProgress from 'cli-progress';
import type { DriverEvent } from '../driver/uploadDriver.ts';
import { formatBytes, formatDuration } from './format.ts';

export type OutputMode = 'tty' | 'plain' | 'json';

export interface ProgressSnapshot {
  filesDone: number;
  filesTotal: number;
  filesFailed: number;
  bytesDone: number;
  bytesPerSecond: number;
  etaSeconds: number | null;
}

/** One JSON object per line on stdout, nothing else there: what `--json` promises to scripts. */
export function printJson(event: Record<string, unknown>) {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

const plainEveryFiles = 10_000;
const plainEveryMs = 30_000;
const jsonEveryMs = 1_000;

/**
 * Turns driver events into what the person sees: a live bar on a terminal, a line every 10,000 files and every
 * 30 s in logs, or JSON events. Counting is O(1) per event, so 300k files cost nothing here.
 */
export class Progress {
  readonly #mode: OutputMode;
  readonly #started = Date.now();
  #filesTotal = 0;
  #filesDone = 0;
  #filesFailed = 0;
  #bytesDone = 0;
  #lastLineAt = Date.now();
  #lastLineFiles = 0;
  #timer: NodeJS.Timeout | undefined;
  #bar: cliProgress.SingleBar | undefined;
  /** Multipart files whose parts were counted as they went, so `file-done` does not count them again. */
  readonly #partial = new Set<string>();

  constructor(mode: OutputMode) {
    this.#mode = mode;
  }

  handle = (event: DriverEvent) => {
    switch (event.type) {
      case 'planned':
        this.#filesTotal = event.upload + event.resume;
        if (this.#mode === 'json') printJson({ ...event });
        else process.stdout.write(plannedLine(event));
        this.#start();
        return;
      case 'part-done':
        this.#partial.add(event.key);
        this.#bytesDone += event.bytes;
        break;
      case 'file-done':
        if (!this.#partial.delete(event.key)) this.#bytesDone += event.bytes;
        this.#filesDone++;
        break;
      case 'file-failed':
        this.#filesFailed++;
        if (this.#mode === 'json') printJson({ type: 'file-failed', key: event.key, error: event.error });
        else this.#log(`failed: ${event.key}: ${event.error}`);
        break;
      case 'retry':
        return;
    }
    this.#tick();
  };

  snapshot(): ProgressSnapshot {
    const seconds = Math.max((Date.now() - this.#started) / 1000, 0.001);
    const filesPerSecond = this.#filesDone / seconds;
    const left = this.#filesTotal - this.#filesDone - this.#filesFailed;
    return {
      filesDone: this.#filesDone,
      filesTotal: this.#filesTotal,
      filesFailed: this.#filesFailed,
      bytesDone: this.#bytesDone,
      bytesPerSecond: Math.round(this.#bytesDone / seconds),
      etaSeconds: filesPerSecond > 0 ? Math.round(left / filesPerSecond) : null,
    };
  }

  stop() {
    clearInterval(this.#timer);
    this.#bar?.update(this.#filesDone + this.#filesFailed, this.#payload());
    this.#bar?.stop();
    this.#bar = undefined;
  }

  #start() {
    if (this.#mode === 'tty') {
      this.#bar = new cliProgress.SingleBar(
        {
          format: '{bar} {value}/{total} files | {bytes} | {speed}/s | ETA {etaText}',
          hideCursor: true,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      );
      this.#bar.start(this.#filesTotal, 0, this.#payload());
    }
    // Lines and bars must move even while one large file is in flight and no file finishes.
    const every = this.#mode === 'json' ? jsonEveryMs : this.#mode === 'plain' ? plainEveryMs : 500;
    this.#timer = setInterval(() => this.#tick(true), every);
    this.#timer.unref();
  }

  #payload() {
    const now = this.snapshot();
    return {
      bytes: formatBytes(now.bytesDone),
      speed: formatBytes(now.bytesPerSecond),
      etaText: now.etaSeconds === null ? '?' : formatDuration(now.etaSeconds),
    };
  }

  #tick(timer = false) {
    if (this.#mode === 'tty') {
      this.#bar?.update(this.#filesDone + this.#filesFailed, this.#payload());
      return;
    }
    const now = Date.now();
    const settled = this.#filesDone + this.#filesFailed;
    const every = this.#mode === 'json' ? jsonEveryMs : plainEveryMs;
    const due = now - this.#lastLineAt >= every || settled - this.#lastLineFiles >= plainEveryFiles;
    if (!due || (timer && settled === this.#lastLineFiles && this.#mode === 'json')) return;
    this.#lastLineAt = now;
    this.#lastLineFiles = settled;
    const snapshot = this.snapshot();
    if (this.#mode === 'json') printJson({ type: 'progress', ...snapshot });
    else process.stderr.write(`${progressLine(snapshot)}\n`);
  }

  #log(line: string) {
    // On a terminal the line lands above the bar, which redraws on its next update.
    process.stderr.write(`${this.#bar ? '\n' : ''}${line}\n`);
  }
}

function plannedLine(event: Extract<DriverEvent, { type: 'planned' }>): string {
  return `Plan: ${event.upload} to upload, ${event.resume} to resume, ${event.skip} already there, ${event.conflict} conflicts, ${event.invalid} invalid\n`;
}

export function progressLine(s: ProgressSnapshot): string {
  const eta = s.etaSeconds === null ? '?' : formatDuration(s.etaSeconds);
  return `${new Date().toISOString()} ${s.filesDone}/${s.filesTotal} files, ${formatBytes(s.bytesDone)}, ${formatBytes(s.bytesPerSecond)}/s, ${s.filesFailed} failed, ETA ${eta}`;
}
