/**
 * A setup file run before each test file: fast-check's generated inputs come from the run's seed too, and a failing
 * test prints that seed, so `TEST_SEED=<seed>` replays the run's random choices (see test/support/seeded-random.ts).
 */
import fc from 'fast-check';
import { beforeEach } from 'vitest';
import { testSeed } from './seeded-random';

fc.configureGlobal({ seed: testSeed() });

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    console.error(`Random choices in this run came from seed ${testSeed()}: TEST_SEED=${testSeed()} replays them.`);
  });
});
