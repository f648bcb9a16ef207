import { createResource } from 'solid-js';
import { isUnauthorized } from './errors.ts';
import { trpc } from './trpc.ts';

export type Me = Awaited<ReturnType<typeof trpc.auth.me.query>>;

/** The signed-in person, or null when nobody is; every page reads this one resource. */
const [me, { refetch, mutate }] = createResource<Me | null>(() =>
  trpc.auth.me.query().catch((error: unknown) => {
    if (isUnauthorized(error)) return null;
    throw error;
  }),
);

export { me, mutate as setMe, refetch as refetchMe };
