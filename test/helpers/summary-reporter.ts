/**
 * Ends a test run with one plain line, `N passed, N failed, N skipped`, that any CI can read whatever the
 * runner, after vitest's own report; and writes the counts to $VPCCNI_TEST_SUMMARY when set, for
 * scripts/test-lines.mjs to add up the runs on each Node.js line.
 */
import { writeFileSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') failed += 1;
        else skipped += 1;
      }
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
    if (process.env.VPCCNI_TEST_SUMMARY) writeFileSync(process.env.VPCCNI_TEST_SUMMARY, JSON.stringify({ passed, failed, skipped }));
  }
}
