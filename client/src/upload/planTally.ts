import { sensorOf } from '@data-uploader/shared';

export type Decision = 'upload' | 'resume' | 'skip' | 'conflict' | 'invalid';

export interface Amount {
  files: number;
  bytes: number;
}

export interface SensorTally {
  sensor: string;
  /** Everything found in the folder for this sensor. */
  found: Amount;
  /** What this run has to send (upload + resume). */
  toSend: Amount;
}

/** One file as the plan answered it; `size` is the local file's. */
export interface PlanAnswer {
  relativePath: string;
  decision: Decision;
  size: number;
  reason?: string;
}

/** The detail lists keep this many entries; the counts stay exact. */
export const listedAtMost = 500;

/**
 * The plan summary a person sees before any byte moves, built up batch by batch as the folder is planned:
 * files and bytes per decision, per sensor folder, and the named conflicts and invalid files with reasons.
 */
export class PlanTally {
  readonly totals: Record<Decision, Amount> = {
    upload: { files: 0, bytes: 0 },
    resume: { files: 0, bytes: 0 },
    skip: { files: 0, bytes: 0 },
    conflict: { files: 0, bytes: 0 },
    invalid: { files: 0, bytes: 0 },
  };
  readonly #sensors = new Map<string, SensorTally>();
  readonly conflicts: PlanAnswer[] = [];
  readonly invalid: PlanAnswer[] = [];

  add(answer: PlanAnswer) {
    const total = this.totals[answer.decision];
    total.files += 1;
    total.bytes += answer.size;
    const sensor = this.#sensorTally(sensorOf(answer.relativePath));
    sensor.found.files += 1;
    sensor.found.bytes += answer.size;
    if (answer.decision === 'upload' || answer.decision === 'resume') {
      sensor.toSend.files += 1;
      sensor.toSend.bytes += answer.size;
    }
    if (answer.decision === 'conflict' && this.conflicts.length < listedAtMost) this.conflicts.push(answer);
    if (answer.decision === 'invalid' && this.invalid.length < listedAtMost) this.invalid.push(answer);
  }

  /** Conflicts the person chose to overwrite: they leave the conflict count once planned again. */
  forgetConflicts() {
    this.totals.conflict = { files: 0, bytes: 0 };
    this.conflicts.length = 0;
  }

  get planned(): number {
    return Object.values(this.totals).reduce((sum, amount) => sum + amount.files, 0);
  }

  get toSend(): Amount {
    return {
      files: this.totals.upload.files + this.totals.resume.files,
      bytes: this.totals.upload.bytes + this.totals.resume.bytes,
    };
  }

  sensors(): SensorTally[] {
    return [...this.#sensors.values()].sort((a, b) => (a.sensor < b.sensor ? -1 : a.sensor > b.sensor ? 1 : 0));
  }

  #sensorTally(name: string): SensorTally {
    let sensor = this.#sensors.get(name);
    if (!sensor) {
      sensor = { sensor: name, found: { files: 0, bytes: 0 }, toSend: { files: 0, bytes: 0 } };
      this.#sensors.set(name, sensor);
    }
    return sensor;
  }
}
