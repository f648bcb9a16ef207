import { createTRPCClient, localLink } from '@trpc/client';
import type { CurrentUser } from '../auth/user.ts';
import { type ContextInput, createContextInner } from '../context.ts';
import { type AppRouter, appRouter } from '../router.ts';

/**
 * The API as the person who started a job, called in this process: a worker speaks the same protocol as the
 * browser and the CLI (and is refused what they would be refused), without going through HTTP.
 */
export function localApi(deps: Omit<ContextInput, 'user'>, user: CurrentUser) {
  return createTRPCClient<AppRouter>({
    links: [localLink({ router: appRouter, createContext: async () => createContextInner({ ...deps, user }) })],
  });
}
