import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Timeouts catch hangs, not slowness: a busy 2-core machine must not fail a correct test.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // Measured on 2 cores (issue 8): most files now wait on gates, sandboxes and child processes as much as
    // they compute, so four workers overlap those waits (2 workers: 196 s; 4: 143 s, same CPU). Files share
    // a worker's modules (isolate: false: the SDK, the sandbox and src/ are imported once per worker, not per
    // file: 143 s → 125 s, a quarter less CPU); no test mocks a module, and the in-process runner restores
    // the environment, streams and exit code it changes.
    pool: 'forks',
    maxWorkers: 4,
    isolate: false,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
