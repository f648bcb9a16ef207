import { fileURLToPath } from 'node:url';
import { build } from 'vite';

export const clientRoot = fileURLToPath(new URL('..', import.meta.url));

/** The browser tests run against the built web app, as `pnpm start` serves it. */
export default async function setup() {
  await build({ root: clientRoot, logLevel: 'warn' });
}
