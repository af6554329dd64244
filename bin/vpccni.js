#!/usr/bin/env node
// The launcher: answers --version without loading anything else, then hands over to the bundle of
// dist/cli.js (dist/bundle/cli.cjs, scripts/bundle.mjs, loaded with V8's code cache by bundle-loader.cjs),
// or to dist/cli.js itself with VPCCNI_UNBUNDLED=1.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${version}\n`);
} else {
  // `vpccni … | head` closes stdout early: stop quietly, as other CLIs do, instead of a stack trace.
  process.stdout.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
  process.env.VPCCNI_VERSION = version;
  // vpccni supports Node 20 on purpose (DEVELOPERS.md); the SDK's notice about its own future releases is
  // not something a vpccni user can act on, so it is shown only with --verbose.
  if (!args.includes('--verbose')) process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let main;
  if (process.env.VPCCNI_UNBUNDLED === '1') {
    // A development switch: the package ships only the bundle.
    if (!existsSync(new URL('../dist/cli.js', import.meta.url))) {
      process.stderr.write("vpccni: VPCCNI_UNBUNDLED=1 needs tsc's dist/, which only a clone has after `npm run build`; unset it to run the bundle.\n");
      process.exit(2);
    }
    ({ main } = await import('../dist/cli.js'));
  }
  else {
    const require = createRequire(import.meta.url);
    require('./bundle-loader.cjs').installCodeCache();
    ({ main } = require('../dist/bundle/cli.cjs'));
  }
  process.exitCode = await main(process.argv);
}
