#!/usr/bin/env node
// The launcher: answers --version without loading anything else, then hands over to the bundle of
// dist/cli.js (dist/bundle/cli.mjs, scripts/bundle.mjs) with Node's compile cache on, or to dist/cli.js
// itself with VPCCNI_UNBUNDLED=1.
import { existsSync, readFileSync } from 'node:fs';
import module from 'node:module';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/**
 * Where Node keeps V8's compiled code of the bundle between runs: $VPCCNI_CACHE_DIR, else
 * $XDG_CACHE_HOME/vpccni, else ~/.cache/vpccni (%LOCALAPPDATA%\vpccni on Windows), each in a folder of
 * vpccni's own (Node adds one per Node.js version, architecture and V8 flags); null with
 * VPCCNI_COMPILE_CACHE=0 or without an absolute place. The first run of a build compiles as usual and writes
 * the cache at exit; later runs skip the parse and compile of ~2 MB of JavaScript (bench/RESULTS.md). Node
 * checks each entry against its file's content, so a rebuild or an update in place is compiled afresh, and a
 * cache that cannot be read or written costs speed, nothing else.
 */
function compileCacheDir(env) {
  if (env.VPCCNI_COMPILE_CACHE === '0') return null;
  let home = '';
  try {
    home = homedir();
  } catch {
    // no home: only VPCCNI_CACHE_DIR or XDG_CACHE_HOME can place the cache
  }
  const base =
    env.VPCCNI_CACHE_DIR ||
    (process.platform === 'win32'
      ? env.LOCALAPPDATA && join(env.LOCALAPPDATA, 'vpccni')
      : join(env.XDG_CACHE_HOME || (home && join(home, '.cache')) || '', 'vpccni'));
  return base && isAbsolute(base) ? join(base, 'compile-cache') : null;
}

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
  if (Number(process.versions.node.split('.')[0]) < 22) {
    process.stderr.write(`vpccni: needs Node.js 22 or later, and this is Node.js ${process.version}; install Node.js 24 (the LTS line) or 22 and run vpccni with it.\n`);
    process.exit(2);
  }
  process.env.VPCCNI_VERSION = version;
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
    const cache = compileCacheDir(process.env);
    // Node 22.1 and later (on 22.0 the bundle runs all the same, compiled every time).
    if (cache) module.enableCompileCache?.(cache);
    ({ main } = await import('../dist/bundle/cli.mjs'));
  }
  process.exitCode = await main(process.argv);
}
