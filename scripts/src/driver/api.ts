import type { AppRouter } from '@data-uploader/server/router';
import { createTRPCClient, httpLink } from '@trpc/client';

export interface ApiAuth {
  /** An API token (`du_…`), as the CLI uses. */
  token?: string;
  /** A session cookie (`du_session=…`), as a browser would carry. */
  cookie?: string;
}

/** The typed API over plain HTTP, exactly as any outside client speaks it. */
export function createApi(serverUrl: string, auth: ApiAuth) {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${serverUrl.replace(/\/$/, '')}/trpc`,
        headers: () => ({
          ...(auth.token ? { authorization: `Bearer ${auth.token}` } : {}),
          ...(auth.cookie ? { cookie: auth.cookie } : {}),
        }),
      }),
    ],
  });
}

export type Api = ReturnType<typeof createApi>;
