import { defineConfig } from 'vitest/config';

/**
 * The local registry's own tests (`npm test -w @ecr-automation/local-registry`); the root `npm test` runs them too, as
 * the `registry` project. The same limits as the root's (see its vitest.config.ts): child processes, and room for a
 * slow machine.
 */
export default defineConfig({
  test: {
    name: 'registry',
    root: import.meta.dirname,
    environment: 'node',
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    teardownTimeout: 30_000,
    env: {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDLOCALTEST',
      AWS_SECRET_ACCESS_KEY: 'local-secret',
      AWS_MAX_ATTEMPTS: '1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
