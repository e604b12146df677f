// @ts-check
/**
 * Mutation testing of the pure policy code (`npm run mutation`; not part of CI: a full run takes several minutes).
 * One group at a time: `npm run mutation -- --mutate 'shared/policy/cleanup/**\/*.ts' --incrementalFile
 * reports/mutation/cleanup.incremental.json` (a file per group, so that groups do not overwrite each other's results).
 * Reports go to reports/mutation/ (gitignored). The incremental file lets a rerun test only changed mutants; after
 * changing a test of module-level code (the semver expression), rerun with `--force`: a reused result can be stale.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.stryker.config.ts' },
  checkers: ['typescript'],
  // Only the policy code and what it imports: the checker then re-checks a mutant's few dependents, not the project.
  tsconfigFile: 'tsconfig.stryker.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate: ['shared/policy/cleanup/**/*.ts', 'shared/policy/scan/**/*.ts', 'shared/policy/push/**/*.ts'],
  coverageAnalysis: 'perTest',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  concurrency: 2,
  timeoutMS: 20_000,
  thresholds: { high: 90, low: 85, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
