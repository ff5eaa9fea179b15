import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    // No maxWorkers: vitest's default (one file less than the cores) runs one file at a time on a
    // 2-core machine. Two at a time measured slower there (detect, intel, logs, sigma and vuln: 328 s
    // against 276 s, with other work on the machine) and stretched CPU-bound tests until the
    // prefilter test timed out: many files use both cores already (worker-thread hunts, a service
    // or Chromium beside the test process).
    globalSetup: ['test/helpers/build.ts'],
  },
});
