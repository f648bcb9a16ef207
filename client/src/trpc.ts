import type { AppRouter } from '@data-uploader/server/router';
import { createTRPCClient, httpBatchLink } from '@trpc/client';

/** The one typed API client; the page and the API share an origin, so the session cookie travels by itself. */
export const trpc = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: '/trpc' })] });
