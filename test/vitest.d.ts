import type { CustomMatcher } from 'aws-sdk-client-mock-vitest';

// The aws-sdk-client-mock-vitest matchers (registered in test/setup.ts), for the type checker. Vitest 3 declares
// `Assertion` in @vitest/expect, so that is the module to augment.
declare module '@vitest/expect' {
  // biome-ignore lint/suspicious/noExplicitAny: the default vitest's own Assertion declares
  interface Assertion<T = any> extends CustomMatcher<T> {}
  interface AsymmetricMatchersContaining extends CustomMatcher {}
}
