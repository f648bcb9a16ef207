import { backoffMs, maxAttempts } from './retryPolicy.ts';

interface Waiting<T> {
  key: string;
  item: T;
  at: number;
}

/**
 * Files that failed transiently, each waiting out its own backoff before it goes back into the window. Counts
 * attempts per key, so a file that keeps failing is given up (and listed) after `maxAttempts`, not retried
 * forever. It also says whether the last outcome was such a failure, so the run can hold new files back and
 * probe an outage with the files that already failed, not with every file of the folder in turn.
 */
export class RetryQueue<T> {
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #attempts = new Map<string, number>();
  #waiting: Array<Waiting<T>> = [];
  #failing = false;

  constructor(now: () => number = () => Date.now(), random: () => number = Math.random) {
    this.#now = now;
    this.#random = random;
  }

  /** A transient failure of `key`: the item waits and comes back, or null once it has had all its attempts. */
  failed(key: string, item: T): number | null {
    const attempts = (this.#attempts.get(key) ?? 0) + 1;
    if (attempts >= maxAttempts) {
      this.#attempts.delete(key);
      // Given up: only the files still waiting keep the run in a failing state.
      this.#failing = this.#waiting.length > 0;
      return null;
    }
    this.#attempts.set(key, attempts);
    this.#failing = true;
    const delay = backoffMs(attempts, this.#random);
    this.#waiting.push({ key, item, at: this.#now() + delay });
    return delay;
  }

  /** Something went through: the way is open again, and this key starts afresh should it fail later. */
  succeeded(key: string) {
    this.#attempts.delete(key);
    this.#failing = false;
  }

  /** Takes the items whose pause is over. */
  due(): T[] {
    const now = this.#now();
    const ready = this.#waiting.filter((entry) => entry.at <= now);
    if (ready.length === 0) return [];
    this.#waiting = this.#waiting.filter((entry) => entry.at > now);
    return ready.map((entry) => entry.item);
  }

  /** Ends every pause now: the network is back, and waiting longer would only lose time. */
  hurry() {
    const now = this.#now();
    for (const entry of this.#waiting) entry.at = Math.min(entry.at, now);
  }

  /** Milliseconds until the next item is due, or null when none waits. */
  nextDueIn(): number | null {
    if (this.#waiting.length === 0) return null;
    const next = Math.min(...this.#waiting.map((entry) => entry.at));
    return Math.max(0, next - this.#now());
  }

  /** The last outcome was a transient failure: new files should wait while the failed ones probe the way. */
  get failing(): boolean {
    return this.#failing;
  }

  get size(): number {
    return this.#waiting.length;
  }

  clear() {
    this.#waiting = [];
    this.#attempts.clear();
    this.#failing = false;
  }
}
