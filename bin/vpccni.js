#!/usr/bin/env node
// The launcher: answers --version without loading anything else, then hands over to the bundle of
// dist/cli.js (dist/bundle/cli.js, scripts/bundle.mjs), or to dist/cli.js itself with VPCCNI_UNBUNDLED=1.
import { readFileSync } from 'node:fs';

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
  const { main } = await (process.env.VPCCNI_UNBUNDLED === '1' ? import('../dist/cli.js') : import('../dist/bundle/cli.js'));
  process.exitCode = await main(process.argv);
}
