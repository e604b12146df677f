/**
 * mulberry32: a small, fast, seeded PRNG (uniform in [0, 1)): the same sequence from the same seed, for the
 * benchmarks' generators, the simulation's clock and the property tests.
 */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
