/**
 * mulberry32: a small, fast 32-bit generator; the same seed always yields the same sequence in [0, 1). The one home
 * of seeded randomness: the routing evaluation's splits and bootstraps, the benchmarks' simulations and the tests'
 * seeded faults all draw from it, so a run can be repeated exactly.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}
