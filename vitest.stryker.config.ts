import { defineConfig, mergeConfig } from 'vitest/config';
import root from './vitest.config.ts';

// The service's settings without the projects list (which would override the include below) and without its
// include (mergeConfig concatenates lists: the root's would add every other test).
const { projects: _projects, include: _include, ...service } = root.test ?? {};
const base = { ...root, test: service };

/**
 * The tests mutation testing runs (`npm run mutation`): the unit tests of the pure policy code only, so that a run
 * takes minutes. The property test runs fewer random graphs here: every mutant reruns it, and a few hundred graphs
 * already exercise every branch of the planner.
 */
export default mergeConfig(
  base,
  defineConfig({
    test: {
      include: ['test/unit/policy/**/*.test.ts'],
      env: { PROPERTY_RUNS: '200' },
    },
  }),
);
