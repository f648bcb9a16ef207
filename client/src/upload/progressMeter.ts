import { sensorOf } from '@data-uploader/shared';
import type { Amount } from './planTally.ts';

export interface ProgressSnapshot {
  done: Amount;
  failed: number;
  /** Bytes of files finished plus bytes of files still in flight. */
  bytesMoved: number;
  bytesPerSecond: number;
  filesPerSecond: number;
  /** null until there is a speed to go by. */
  etaMs: number | null;
  perSensor: Map<string, Amount>;
}

interface Sample {
  at: number;
  bytes: number;
  files: number;
}

/** Speed is measured over this recent stretch, so a pause or a burst shows within seconds. */
const speedWindowMs = 10_000;

/**
 * Aggregated progress of a whole run, kept outside Uppy (whose per-event cost grows with its file count):
 * bytes in flight per file, finished files and bytes overall and per sensor folder, speed and ETA.
 */
export class ProgressMeter {
  readonly #now: () => number;
  readonly #inFlight = new Map<string, number>();
  #inFlightBytes = 0;
  readonly #done: Amount = { files: 0, bytes: 0 };
  readonly #perSensor = new Map<string, Amount>();
  #failed = 0;
  #samples: Sample[] = [];

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** A file's bytes sent so far; called from Uppy's upload-progress. */
  progress(fileId: string, bytes: number) {
    this.#inFlightBytes += bytes - (this.#inFlight.get(fileId) ?? 0);
    this.#inFlight.set(fileId, bytes);
  }

  complete(fileId: string, relativePath: string, size: number) {
    this.#forget(fileId);
    this.#done.files += 1;
    this.#done.bytes += size;
    const sensor = sensorOf(relativePath);
    const amount = this.#perSensor.get(sensor) ?? { files: 0, bytes: 0 };
    amount.files += 1;
    amount.bytes += size;
    this.#perSensor.set(sensor, amount);
  }

  fail(fileId: string) {
    this.#forget(fileId);
    this.#failed += 1;
  }

  /** A file failed transiently and will be sent again: its bytes in flight no longer count, nor does it fail. */
  setBack(fileId: string) {
    this.#forget(fileId);
  }

  /** A failed file goes back into the queue. */
  retry() {
    this.#failed = Math.max(0, this.#failed - 1);
  }

  /** Forgets in-flight bytes without counting the file (a pause restarts a single PUT from zero). */
  #forget(fileId: string) {
    this.#inFlightBytes -= this.#inFlight.get(fileId) ?? 0;
    this.#inFlight.delete(fileId);
  }

  /** The state of the run against what it has to send; call it once per animation frame at most. */
  snapshot(toSend: Amount): ProgressSnapshot {
    const at = this.#now();
    const bytesMoved = this.#done.bytes + this.#inFlightBytes;
    this.#samples.push({ at, bytes: bytesMoved, files: this.#done.files });
    while (this.#samples.length > 2 && at - (this.#samples[1] as Sample).at > speedWindowMs) this.#samples.shift();
    const oldest = this.#samples[0] as Sample;
    const seconds = (at - oldest.at) / 1000;
    const bytesPerSecond = seconds > 0.5 ? Math.max(0, bytesMoved - oldest.bytes) / seconds : 0;
    const filesPerSecond = seconds > 0.5 ? Math.max(0, this.#done.files - oldest.files) / seconds : 0;
    const bytesLeft = Math.max(0, toSend.bytes - bytesMoved);
    const etaMs = bytesPerSecond > 0 ? (bytesLeft / bytesPerSecond) * 1000 : null;
    return {
      done: { ...this.#done },
      failed: this.#failed,
      bytesMoved,
      bytesPerSecond,
      filesPerSecond,
      etaMs,
      perSensor: new Map(this.#perSensor),
    };
  }
}
