/**
 * The files still to send, and the few of them handed to Uppy at a time. Uppy's cost per progress event grows
 * with the files it holds (notes/uppy-scale.md: ~15 ms at 10k, ~300 ms at 100k with the Dashboard), so it only
 * ever holds a small window, topped up in one go once enough places are free.
 */
export class TransferWindow<T> {
  readonly #size: number;
  readonly #refillAt: number;
  #queue: T[] = [];
  #head = 0;
  /** Files sent again after a failure: they go before the queue, so a retried file does not wait for the rest. */
  #again: T[] = [];
  readonly #inside = new Map<string, T>();
  /** Handed out by nextBatch but not yet entered under Uppy's file id (their URLs are being signed). */
  #reserved = 0;

  constructor(size: number, refillAt: number) {
    this.#size = size;
    this.#refillAt = refillAt;
  }

  push(item: T) {
    this.#queue.push(item);
  }

  /** A file that failed and is to be sent again, ahead of those never tried. */
  pushAgain(item: T) {
    this.#again.push(item);
  }

  /**
   * The next files to hand to Uppy, or none while too few places are free (a top-up per file would cost more).
   * With `onlyAgain`, only files being sent again: new ones wait while the way is failing.
   */
  nextBatch({ onlyAgain = false } = {}): T[] {
    const free = this.#size - this.inside;
    const waiting = onlyAgain ? this.#again.length : this.waiting;
    if (waiting === 0 || (free < this.#refillAt && this.inside > 0)) return [];
    const again = this.#again.splice(0, free);
    this.#reserved += again.length;
    if (onlyAgain || again.length === free) return again;
    const batch = this.#queue.slice(this.#head, this.#head + free - again.length);
    this.#head += batch.length;
    // Drop what was handed out now and then, so a 300k-file queue does not keep every entry alive.
    if (this.#head > 10_000) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#reserved += batch.length;
    return [...again, ...batch];
  }

  /** A file of the last batch is now in Uppy under this id. */
  enter(id: string, item: T) {
    this.#reserved = Math.max(0, this.#reserved - 1);
    this.#inside.set(id, item);
  }

  /** Files of a batch that never reached Uppy (the run was cancelled meanwhile). */
  abandon(count: number) {
    this.#reserved = Math.max(0, this.#reserved - count);
  }

  get(id: string): T | undefined {
    return this.#inside.get(id);
  }

  leave(id: string) {
    this.#inside.delete(id);
  }

  get inside(): number {
    return this.#inside.size + this.#reserved;
  }

  get waiting(): number {
    return this.#again.length + this.#queue.length - this.#head;
  }

  /** Nothing waiting and nothing in Uppy: the run may finish. */
  get drained(): boolean {
    return this.waiting === 0 && this.inside === 0;
  }

  clear() {
    this.#queue = [];
    this.#head = 0;
    this.#again = [];
  }
}
