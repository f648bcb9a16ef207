export interface BatcherOptions<T> {
  /** Sends one batch, retrying as it sees fit (retryPolicy's `retrying`); a throw is reported. */
  send: (items: T[]) => Promise<unknown>;
  /** Send as soon as this many are waiting... */
  size: number;
  /** ...or this long after the first one arrived. */
  delayMs: number;
  onError: (error: unknown) => void;
}

/**
 * Collects confirmations (or failures) and records them in batches: one call per few hundred files instead
 * of one per file, which is what lets thousands of small files a minute through.
 */
export class RecordBatcher<T> {
  readonly #options: BatcherOptions<T>;
  #waiting: T[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;
  #inFlight = new Set<Promise<void>>();

  constructor(options: BatcherOptions<T>) {
    this.#options = options;
  }

  add(item: T) {
    this.#waiting.push(item);
    if (this.#waiting.length >= this.#options.size) this.#send();
    else this.#timer ??= setTimeout(() => this.#send(), this.#options.delayMs);
  }

  /** Sends what is waiting and resolves once everything added so far is recorded (or reported). */
  async flush() {
    this.#send();
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  /** Hands over what is waiting, unsent, for a last-moment send by other means (the page is closing). */
  drain(): T[] {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    return this.#waiting.splice(0);
  }

  #send() {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#waiting.length === 0) return;
    const items = this.#waiting;
    this.#waiting = [];
    const sending = this.#options
      .send(items)
      .then(
        () => undefined,
        (error: unknown) => this.#options.onError(error),
      )
      .finally(() => this.#inFlight.delete(sending));
    this.#inFlight.add(sending);
  }
}
