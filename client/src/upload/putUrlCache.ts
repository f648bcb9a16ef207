import type { trpc } from '../trpc.ts';

type Api = typeof trpc;
type Signed = Awaited<ReturnType<Api['uploads']['sign']['mutate']>>;

/**
 * Presigned PUT URLs for a window of small files, fetched with one signBatch call instead of one sign call per
 * file; Uppy's `signRequest` takes them from here and falls back to `sign` for anything else.
 */
export class PutUrlCache {
  readonly #urls = new Map<string, { signed: Signed; until: number }>();

  async prefetch(api: Api, sessionId: string, keys: string[]) {
    if (keys.length === 0) return;
    const answer = await api.uploads.signBatch.mutate({ sessionId, requests: keys.map((key) => ({ key })) });
    // Used well before expiry, or signed again: a slow window must not send an expired URL.
    const until = Date.now() + (answer.expiresIn * 1000) / 2;
    answer.urls.forEach((signed, index) => {
      const key = keys[index];
      if (key) this.#urls.set(key, { signed, until });
    });
  }

  take(key: string): Signed | undefined {
    const cached = this.#urls.get(key);
    this.#urls.delete(key);
    return cached && cached.until > Date.now() ? cached.signed : undefined;
  }

  forget(key: string) {
    this.#urls.delete(key);
  }
}
