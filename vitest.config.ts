import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        // The property tests run thousands of hostile paths each; a busy machine needs more than 5 s for them.
        test: { name: 'shared', include: ['shared/src/**/*.test.ts'], environment: 'node', testTimeout: 60_000 },
      },
      {
        test: { name: 'client', include: ['client/src/**/*.test.ts'], environment: 'node' },
      },
      {
        test: {
          name: 'scripts',
          include: ['scripts/src/**/*.test.ts'],
          // The CLI's tests start the real server, so they run in the server project with its database setup.
          exclude: [...configDefaults.exclude, 'scripts/src/cli/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'server',
          include: ['server/src/**/*.test.ts', 'server/test/**/*.test.ts', 'scripts/src/cli/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['server/test/globalSetup.ts'],
          env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
          testTimeout: 30_000,
          hookTimeout: 120_000,
          expect: { poll: { timeout: 30_000 } },
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['client/e2e/**/*.test.ts'],
          environment: 'node',
          // A page waited on through expect.poll may take seconds on a loaded 2-core machine (1 s by default).
          expect: { poll: { timeout: 30_000 } },
          globalSetup: ['server/test/globalSetup.ts', 'client/e2e/globalSetup.ts'],
          env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
