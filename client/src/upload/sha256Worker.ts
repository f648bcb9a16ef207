import { createSHA256, type IHasher } from 'hash-wasm';

/** One read at a time: a big file is hashed in slices this size, so memory stays flat whatever its size. */
const sliceBytes = 8 * 1024 * 1024;

export interface HashJob {
  id: number;
  file: File;
}

export type HashAnswer = { id: number; sha256: string } | { id: number; error: string };

let hasher: Promise<IHasher> | null = null;
let queue: Promise<void> = Promise.resolve();

async function sha256Of(file: File): Promise<string> {
  hasher ??= createSHA256();
  const state = await hasher;
  state.init();
  for (let start = 0; start < file.size; start += sliceBytes) {
    state.update(new Uint8Array(await file.slice(start, start + sliceBytes).arrayBuffer()));
  }
  return state.digest('hex');
}

// Files are hashed one after another: the hasher is one state, and the reads would only compete.
self.onmessage = (event: MessageEvent<HashJob>) => {
  const { id, file } = event.data;
  queue = queue.then(async () => {
    try {
      self.postMessage({ id, sha256: await sha256Of(file) } satisfies HashAnswer);
    } catch (error) {
      self.postMessage({ id, error: error instanceof Error ? error.message : String(error) } satisfies HashAnswer);
    }
  });
};
