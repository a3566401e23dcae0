import { defineConfig } from 'vitest/config';

/**
 * The e2e suite: tests that spawn processes, drive a browser or run for a long time. Everything else (functions
 * called and the express app driven in-process) is the default suite. One line per file says why it is here.
 */
const E2E_FILES = [
  'test/cli/admin.test.ts', // runs the admin CLI as child processes
  'test/cli/chat.test.ts', // starts the server process and runs the chat CLI against it
  'test/cli/chat-buttons.test.ts', // starts the server process and runs the chat CLI against it
  'test/jobs/jobs-cli.test.ts', // runs the jobs CLI as child processes
  'test/jobs/worker.test.ts', // starts the worker process and stops it with SIGTERM
  'test/logger-process.test.ts', // spawns a child process to watch its buffered standard output
  'test/dashboard/dashboard.test.ts', // starts the server process and drives the dashboard in Chromium
  'test/reliability/provider-chaos.test.ts', // 1,000 replies through faulty providers: runs long
];

const DATABASE_SETUP = ['test/support/global-seed.ts', 'test/support/global-setup.ts'];

export default defineConfig({
  test: {
    setupFiles: ['test/support/seed-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: more workers than that only adds contention for PGlite's WebAssembly.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        // `npm test`: in-process, on the embedded PGlite (or TEST_DATABASE_URL).
        test: {
          name: 'unit',
          // One module registry per worker instead of one per file: the imports (express, typeorm, the provider SDKs,
          // twilio) are evaluated twice rather than 55 times, which halves the suite's CPU time. Each file still opens
          // its own database; a test must not count on another file's module-level state being fresh.
          isolate: false,
          include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
          exclude: [...E2E_FILES, 'test/crash/**', 'node_modules/**'],
          globalSetup: DATABASE_SETUP,
        },
      },
      {
        extends: true,
        // `npm run test:e2e`: processes, a browser, long runs.
        // A fresh embedded database's first start (initdb, every migration, tsx compiling the server) takes ~15 s on a
        // quiet 2-core machine and several times that on a loaded one: the hooks that start servers get room for it.
        test: { name: 'e2e', include: E2E_FILES, globalSetup: DATABASE_SETUP, hookTimeout: 180_000 },
      },
      {
        extends: true,
        // `npm run test:crash`: starts and SIGKILLs real server processes; always on PostgreSQL.
        test: {
          name: 'crash',
          include: ['test/crash/**/*.test.ts'],
          globalSetup: ['test/support/global-seed.ts'],
          testTimeout: 600_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
