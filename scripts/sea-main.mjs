// The main script of the single executable vpccni-linux-x64 (`npm run build:sea`: scripts/bundle.mjs --sea
// bundles it with everything it reaches into dist/sea/vpccni.cjs, scripts/build-sea.mjs injects that into a
// Node.js 24 binary). It does what bin/vpccni.js does for an install: answers --version before loading the
// CLI, stops quietly when stdout is closed early, and runs main(). The version is the build's (__VPCCNI_VERSION__
// is replaced by package.json's); the CLI is imported on demand, so --version evaluates none of it.
/* global __VPCCNI_VERSION__ */
const version = __VPCCNI_VERSION__;
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${version}\n`);
} else {
  process.stdout.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
  process.env.VPCCNI_VERSION = version;
  // process.argv is [executable, executable as invoked, ...args]: the shape main() and commander expect.
  import('../dist/cli.js').then(async ({ main }) => {
    process.exitCode = await main(process.argv);
  });
}
