import { defineConfig } from 'vitest/config';

/**
 * The suite must pass on a busy machine as on a quiet one. A test worker reports to the main process over RPC, and
 * every call (onTaskUpdate after each test) must be answered within 60 seconds (birpc's fixed timeout in vitest 3),
 * which the worker can only notice between macrotasks: a test that computes synchronously for minutes makes the run
 * fail with "Timeout calling onTaskUpdate" although every test passed. So long computations yield to the event loop
 * between short batches (see the cleanup property test), and the limits below leave room for a slow machine.
 */
export default defineConfig({
  test: {
    // Two projects: the service's tests (test/, with the settings below) and the local registry package's own
    // (registry/, with its vitest.config.ts), so that `npm test` runs both.
    projects: [{ extends: true, test: { name: 'service' } }, 'registry'],
    environment: 'node',
    setupFiles: ['test/setup.ts'],
    include: ['test/**/*.test.ts'],
    // Child processes (the default pool, named here): a stuck test file cannot wedge the main process's event loop,
    // and native modules and process-wide state (process.env, signal handlers) stay per file.
    pool: 'forks',
    // A test or hook that needs more than this is a bug or a hang, whatever the load (the property test's cases,
    // which do more work, set their own limit).
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Servers and sockets closed in afterAll can take a while to drain on a loaded machine.
    teardownTimeout: 30_000,
    env: {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDLOCALTEST',
      AWS_SECRET_ACCESS_KEY: 'local-secret',
      AWS_MAX_ATTEMPTS: '1',
      POWERTOOLS_DEV: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      // The AWS SDK's Node 20 end-of-support notice, printed once per test file otherwise (see cli/sdk-warnings.ts).
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
