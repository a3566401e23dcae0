import { defineConfig } from 'vitest/config';

// `npm run test:crash`: the crash test only; it starts and kills real server processes.
export default defineConfig({
  test: {
    include: ['test/crash/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
