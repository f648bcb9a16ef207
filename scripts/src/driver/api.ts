import type { AppRouter } from '@data-uploader/server/router';
import { createTRPCClient, httpLink, retryLink, type TRPCClientError } from '@trpc/client';
import type { RetryPolicy } from './transfer.ts';

export interface ApiAuth {
  /** An API token (`du_…`), as the CLI uses. */
  token?: string;
  /** A session cookie (`du_session=…`), as a browser would carry. */
  cookie?: string;
}

/**
 * How long a call keeps trying while the app is away (a restart, a deploy) or answers 5xx (a database connection
 * cut under it): backoff from 250 ms to 10 s, between about 40 and 75 s in all.
 */
export const apiRetryPolicy: RetryPolicy = { retries: 12, minTimeoutMs: 250, maxTimeoutMs: 10_000 };

/**
 * The typed API over plain HTTP, exactly as any outside client speaks it. Calls are retried with backoff on
 * server errors, and on network errors once the server has answered at least once: an app that went away is
 * waited for, while a wrong URL still fails at once.
 */
export function createApi(serverUrl: string, auth: ApiAuth, retry: RetryPolicy = apiRetryPolicy) {
  let reached = false;
  return createTRPCClient<AppRouter>({
    links: [
      retryLink({
        retry: ({ error, attempts }) => attempts <= retry.retries && isTransient(error, reached),
        retryDelayMs: (attempts) => backoffMs(attempts, retry),
      }),
      httpLink({
        url: `${serverUrl.replace(/\/$/, '')}/trpc`,
        headers: () => ({
          ...(auth.token ? { authorization: `Bearer ${auth.token}` } : {}),
          ...(auth.cookie ? { cookie: auth.cookie } : {}),
        }),
        fetch: async (input, init) => {
          const response = await fetch(input, init);
          reached = true;
          return response;
        },
      }),
    ],
  });
}

function isTransient(error: TRPCClientError<AppRouter>, reached: boolean): boolean {
  if ((error.cause as Error | undefined)?.name === 'AbortError') return false;
  const status = error.data?.httpStatus;
  // No tRPC answer at all: the connection was refused or dropped, or something else answered (a proxy's 502).
  if (status === undefined) return reached;
  return status >= 500;
}

/** Exponential, with half of each step random so that many clients coming back do not arrive together. */
function backoffMs(attempt: number, policy: RetryPolicy): number {
  const step = Math.min(policy.maxTimeoutMs, policy.minTimeoutMs * 2 ** (attempt - 1));
  return step / 2 + (Math.random() * step) / 2;
}

export type Api = ReturnType<typeof createApi>;
