/**
 * When a failed request is worth sending again, and after how long. A field laptop loses its network for
 * seconds or minutes and S3 answers 503 SlowDown under load: those end well if the engine waits and tries
 * again, so only an answer that will not change (a 4xx, a refusal by the app) fails a file at once.
 */

/** First pause after a failure; it doubles with each consecutive one... */
export const firstDelayMs = 1000;
/** ...up to this, so a link that comes back is used within half a minute. */
export const longestDelayMs = 30_000;
/**
 * Attempts of one file (or one API call) before it is given up and listed as failed. With the delays above,
 * the last one comes two to four minutes after the first failure: a longer outage is the person's to judge.
 */
export const maxAttempts = 12;

/** The pause before attempt `failures + 1`: exponential, capped, and spread over its upper half by `random`. */
export function backoffMs(failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(longestDelayMs, firstDelayMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** The HTTP status an error carries, from Uppy's S3 errors, tRPC's client errors or an XHR, if any. */
export function statusOf(error: unknown): number | null {
  for (let current = error, depth = 0; isObject(current) && depth < 5; current = current.cause, depth++) {
    if (typeof current.status === 'number' && current.status > 0) return current.status;
    const data = current.data;
    if (isObject(data) && typeof data.httpStatus === 'number') return data.httpStatus;
    const meta = current.meta;
    const response = isObject(meta) ? meta.response : undefined;
    if (isObject(response) && typeof response.status === 'number' && response.status > 0) return response.status;
    const request = current.request;
    if (isObject(request) && typeof request.status === 'number' && request.status > 0) return request.status;
  }
  return null;
}

/**
 * Whether sending again may succeed: no answer at all (the network is down, the connection was reset, a proxy
 * answered with something that is not the app's), or an answer that says "later" (5xx, 429, 408).
 */
export function isTransient(error: unknown): boolean {
  if (!isObject(error) || error.name === 'AbortError') return false;
  const status = statusOf(error);
  if (status !== null) return status >= 500 || status === 429 || status === 408;
  // The app's own refusals always carry a status; anything without one never got an answer from it.
  return true;
}

/** Why the run is retrying, in words for the person: S3's own message when it has one, else what happened. */
export function transientReason(error: unknown): string {
  const status = statusOf(error);
  // No status: the network is down, or something in between (a proxy's error page) answered for the app.
  if (status === null) return 'no usable answer from the server';
  const message = error instanceof Error ? error.message : '';
  return message.includes(String(status)) ? message : `the server answered ${status}`;
}

export interface RetryOptions {
  /** Told before each pause, so the page can say it is retrying rather than stay silent. */
  onRetry?: (error: unknown) => void;
  /** Resolves when trying again at once is worth it (the network is back), cutting a pause short. */
  wake?: () => Promise<void>;
  attempts?: number;
  random?: () => number;
  /** Scales every pause; tests shorten them. */
  delayScale?: number;
}

/** Runs an idempotent API call, sending it again after a transient failure with the pauses above. */
export async function retrying<T>(
  call: () => Promise<T>,
  { onRetry, wake, attempts = maxAttempts, random = Math.random, delayScale = 1 }: RetryOptions = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= attempts || !isTransient(error)) throw error;
      onRetry?.(error);
      await pause(backoffMs(attempt, random) * delayScale, wake);
    }
  }
}

function pause(ms: number, wake?: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void wake?.().then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

type Loose = Record<string, unknown> & { cause?: unknown };

function isObject(value: unknown): value is Loose {
  return typeof value === 'object' && value !== null;
}
