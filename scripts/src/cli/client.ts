import type { AppRouter } from '@data-uploader/server/router';
import { createTRPCClient, httpLink } from '@trpc/client';
import { type Api, createApi } from '../driver/api.ts';
import { type Credentials, resolveCredentials } from './config.ts';
import { explain } from './errors.ts';

export interface GlobalFlags {
  server?: string;
  token?: string;
}

export interface Connection extends Credentials {
  api: Api;
  me: Awaited<ReturnType<Api['auth']['me']['query']>>;
}

/** Credentials resolved and checked with `auth.me`, so a refused token is exit 3 before any work starts. */
export async function connect(flags: GlobalFlags, fallbackServer?: string): Promise<Connection> {
  const credentials = await resolveCredentials(flags, process.env, fallbackServer);
  const api = createApi(credentials.server, { token: credentials.token });
  try {
    return { ...credentials, api, me: await api.auth.me.query() };
  } catch (error) {
    throw explain(error, credentials.server);
  }
}

/**
 * A client that keeps the session cookie `auth.login` sets, for the one call that needs it: creating the
 * API token the CLI keeps instead of the password.
 */
export function cookieClient(server: string) {
  const jar: { cookie?: string } = {};
  const client = createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${server}/trpc`,
        headers: () => (jar.cookie ? { cookie: jar.cookie } : {}),
        fetch: async (input, init) => {
          const response = await fetch(input, init);
          for (const setCookie of response.headers.getSetCookie()) {
            const [pair] = setCookie.split(';');
            if (pair?.startsWith('du_session=')) jar.cookie = pair.endsWith('=') ? undefined : pair;
          }
          return response;
        },
      }),
    ],
  });
  return client;
}
