/**
 * Runs once per test run, before any test file: picks the seed of every seeded random choice (TEST_SEED when set,
 * else a fresh one) and hands it to the test files, so all of them draw from the same, replayable run seed.
 */
import crypto from 'node:crypto';
import type { ProvidedContext } from 'vitest';

import { readTestEnvironment } from './test-environment';

/** The part of vitest's TestProject a global setup uses (vitest/node is ESM-only; this keeps the setup a CommonJS-compatible module). */
type TestProject = { provide<Key extends keyof ProvidedContext>(key: Key, value: ProvidedContext[Key]): void };

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's seed: every seeded generator (test/support/seeded-random.ts) derives from it. */
    testSeed: number;
  }
}

export default function setup(project: TestProject): void {
  project.provide('testSeed', readTestEnvironment().seed ?? crypto.randomInt(0, 0x1_0000_0000));
}
