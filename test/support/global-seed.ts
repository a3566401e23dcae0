/**
 * Runs once per test run, before any test file: picks the seed of every seeded random choice (TEST_SEED when set,
 * else a fresh one) and hands it to the test files, so all of them draw from the same, replayable run seed.
 */
import crypto from 'node:crypto';
import type { TestProject } from 'vitest/node' with { 'resolution-mode': 'import' };
import { readTestEnvironment } from './test-environment';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's seed: every seeded generator (test/support/seeded-random.ts) derives from it. */
    testSeed: number;
  }
}

export default function setup(project: TestProject): void {
  project.provide('testSeed', readTestEnvironment().seed ?? crypto.randomInt(0, 0x1_0000_0000));
}
