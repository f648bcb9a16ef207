import type { HashAnswer, HashJob } from './sha256Worker.ts';

/** Files up to this size share one worker; bigger ones have their own, so they never hold up the small ones. */
export const bigFileBytes = 16 * 1024 * 1024;

interface Lane {
  worker: Worker;
  pending: Map<number, { resolve: (sha256: string) => void; reject: (error: Error) => void }>;
}

/**
 * SHA-256 of whole files, computed off the page's main thread by `hash-wasm` in Web Workers while the same
 * files are being uploaded, so the ledger can record what the person's disk held.
 */
export class FileHasher {
  readonly #lanes = new Map<'small' | 'big', Lane>();
  #nextId = 0;

  hash(file: File): Promise<string> {
    const lane = this.#lane(file.size > bigFileBytes ? 'big' : 'small');
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      lane.pending.set(id, { resolve, reject });
      lane.worker.postMessage({ id, file } satisfies HashJob);
    });
  }

  destroy() {
    for (const lane of this.#lanes.values()) this.#stop(lane, new Error('The upload page was closed'));
    this.#lanes.clear();
  }

  #lane(kind: 'small' | 'big'): Lane {
    const existing = this.#lanes.get(kind);
    if (existing) return existing;
    const lane: Lane = {
      worker: new Worker(new URL('./sha256Worker.ts', import.meta.url), { type: 'module' }),
      pending: new Map(),
    };
    lane.worker.onmessage = (event: MessageEvent<HashAnswer>) => {
      const answer = event.data;
      const waiting = lane.pending.get(answer.id);
      lane.pending.delete(answer.id);
      if ('sha256' in answer) waiting?.resolve(answer.sha256);
      else waiting?.reject(new Error(answer.error));
    };
    lane.worker.onerror = (event) => {
      // A worker that cannot run (it failed to load) fails what it holds; the next file starts a new one.
      this.#stop(lane, new Error(event.message || 'The hashing worker failed'));
      this.#lanes.delete(kind);
    };
    this.#lanes.set(kind, lane);
    return lane;
  }

  #stop(lane: Lane, error: Error) {
    lane.worker.terminate();
    for (const { reject } of lane.pending.values()) reject(error);
    lane.pending.clear();
  }
}
