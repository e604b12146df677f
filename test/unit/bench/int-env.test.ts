import { afterEach, describe, expect, it } from 'vitest';
import { intEnv } from '../../../bench/lib.ts';

/** The benchmarks' numeric knobs (BENCH_ORG_HEAP_GROWING_PERCENT, BENCH_ORG_WORKERS, …) read through `intEnv`. */
const NAME = 'BENCH_TEST_INT_ENV';

afterEach(() => {
  delete process.env[NAME];
});

describe('intEnv', () => {
  it('gives the fallback when the variable is unset or empty', () => {
    expect(intEnv(NAME, 7)).toBe(7);
    process.env[NAME] = '';
    expect(intEnv(NAME, 7)).toBe(7);
  });

  it('reads a positive integer', () => {
    process.env[NAME] = '50';
    expect(intEnv(NAME, 7)).toBe(50);
  });

  it.each([
    { what: 'a word', text: 'abc' },
    { what: 'zero', text: '0' },
    { what: 'a negative number', text: '-1' },
    { what: 'a fraction', text: '1.5' },
    { what: 'an overflow', text: '1e400' },
    { what: 'a blank', text: ' ' },
    { what: 'a unit', text: '50%' },
    { what: '100,000 characters', text: 'x'.repeat(100_000) },
  ])('refuses $what, naming the variable', ({ text }) => {
    process.env[NAME] = text;
    expect(() => intEnv(NAME, 7)).toThrow(new RegExp(`^${NAME} must be a positive integer`));
  });
});
