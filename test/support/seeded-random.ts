/**
 * Reproducible randomness for tests. Every random choice a test makes (faults to inject, phone numbers, delays)
 * comes from a generator seeded by the run's seed: TEST_SEED when given, else a fresh one chosen by
 * test/support/global-seed.ts. A failing test prints the seed (test/support/seed-setup.ts), and
 * `TEST_SEED=<seed> npx vitest run <file>` replays the same choices.
 */
import { inject } from 'vitest';
import { mulberry32 } from '../../src/seeded-random';

/** The seed of this run. */
export function testSeed(): number {
  return inject('testSeed');
}

/** FNV-1a of a label, so each use gets its own stream: adding a draw in one place never shifts another's choices. */
function hashLabel(label: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < label.length; index += 1) hash = Math.imul(hash ^ label.charCodeAt(index), 0x01000193);
  return hash >>> 0;
}

/** A generator for one named use (e.g. 'openai faults'), derived from the run's seed. */
export function seededRandom(label: string): () => number {
  return mulberry32((testSeed() ^ hashLabel(label)) >>> 0);
}

/** An integer in [minimum, maximum] drawn from `random`. */
export function randomInteger(random: () => number, minimum: number, maximum: number): number {
  return minimum + Math.floor(random() * (maximum - minimum + 1));
}
