/**
 * The test suite's one reader of process.env: which database to run on, which seed drives the random choices,
 * and the few variables a spawned child inherits. Everything else in test/ receives these values from here.
 */

export interface TestEnvironment {
  /** A PostgreSQL server to clone test databases on; undefined runs on embedded PGlite. */
  testDatabaseUrl: string | undefined;
  /** TEST_SEED: replays the random choices of an earlier run (fault injection, factories); undefined picks a new one. */
  seed: number | undefined;
}

/** Reads TEST_DATABASE_URL and TEST_SEED; a malformed seed fails loudly rather than silently picking another. */
export function readTestEnvironment(): TestEnvironment {
  const url = process.env.TEST_DATABASE_URL?.trim();
  const seedText = process.env.TEST_SEED?.trim();
  let seed: number | undefined;
  if (seedText) {
    seed = Number(seedText);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff)
      throw new Error(`TEST_SEED must be an integer from 0 to 4294967295, not "${seedText}"`);
  }
  return { testDatabaseUrl: url ? url : undefined, seed };
}

/** PATH, HOME and TMPDIR only: a spawned child's configuration comes from what the test passes, not from the developer's shell. */
export function inheritedEnvironment(): Record<string, string> {
  const inherited: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR']) {
    const value = process.env[name];
    if (value) inherited[name] = value;
  }
  return inherited;
}
