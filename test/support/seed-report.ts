/** A setup file: a failing test that drew seeded random choices prints the seed that replays them. */
import { beforeEach } from 'vitest';
import { seedUsage, testSeed } from './seeded-random';

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    if (seedUsage.used) console.error(`This test drew seeded random choices: TEST_SEED=${testSeed()} replays them.`);
  });
});
