/**
 * The registry's own matchers of names and patterns (`@ecr-automation/local-registry/matching`): EventBridge event
 * patterns, ECR scanning-filter wildcards, and the repository-name pattern. The service has matchers of its own;
 * the hostile tests and the benchmarks hold both to the same inputs.
 */

export { matchesPattern } from './bus/pattern.ts';
export { wildcardMatches } from './model/wildcard.ts';
export { filterMatches, SCANNING_FILTER_VALUE } from './ops/scanning.ts';
export { REPOSITORY_NAME } from './wire/validate.ts';
