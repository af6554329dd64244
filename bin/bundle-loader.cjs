'use strict';
// Loads the bundle (dist/bundle/*.cjs, scripts/bundle.mjs) with V8's code cache, as Node 22's
// module.enableCompileCache() would: the first run of a vpccni version compiles its files as usual and, at
// exit, writes V8's compiled code of each one it loaded; later runs hand that back to V8 instead of parsing
// and compiling ~2 MB of JavaScript again (bench/RESULTS.md: about 0.2 of a `status`'s CPU). Node 20 has
// no compile cache of its own and none at all for ES modules, hence a CommonJS bundle and this file.
//
// The cache lives in $VPCCNI_CACHE_DIR, else $XDG_CACHE_HOME/vpccni, else ~/.cache/vpccni (on Windows
// %LOCALAPPDATA%\vpccni), in a folder per Node.js version, architecture and install; VPCCNI_COMPILE_CACHE=0
// turns it off. It is only ever an optimisation: an entry V8 rejects (another V8, other flags, a damaged
// file) is compiled afresh and rewritten, and a cache that cannot be read or written is skipped silently.
// An entry is named by its file's name and a hash of the file's content: V8 checks only a source's length,
// so an entry must never meet a changed file of the same name (a rebuild, an update in place). Older
// entries of a file, and entries of files no longer in the bundle, are removed when the folder is written.
const Module = require('node:module');
const vm = require('node:vm');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { createHash } = require('node:crypto');

const BUNDLE = path.join(__dirname, '..', 'dist', 'bundle');

/** The cache folder of this install, Node.js version and architecture, or null when the cache is off. */
function cacheFolder(env = process.env) {
  if (env.VPCCNI_COMPILE_CACHE === '0') return null;
  const home = os.homedir();
  const base =
    env.VPCCNI_CACHE_DIR ||
    (process.platform === 'win32'
      ? env.LOCALAPPDATA && path.join(env.LOCALAPPDATA, 'vpccni')
      : path.join(env.XDG_CACHE_HOME || (home && path.join(home, '.cache')) || '', 'vpccni'));
  if (!base || !path.isAbsolute(base)) return null;
  const install = createHash('sha256').update(BUNDLE).digest('hex').slice(0, 12);
  return path.join(base, `v8-${process.version}-${process.arch}-${install}`);
}

/** Names the cache file of a bundle file from its name and content. */
const entryName = (filename, content) => `${path.basename(filename)}.${createHash('sha1').update(content).digest('hex').slice(0, 16)}.v8`;
/** The bundle file an entry belongs to. */
const fileOf = (entry) => entry.replace(/\.[0-9a-f]{16}\.v8$/, '');

/**
 * Makes require() compile the bundle's files through vm.Script with their cached code, and write the cache
 * of those that had none (or a rejected one) at exit. Returns what it did, for the tests.
 */
function installCodeCache(folder = cacheFolder()) {
  const report = { folder, read: [], written: [], rejected: [] };
  if (!folder) return report;
  const prefix = BUNDLE + path.sep;
  const pending = [];
  /** The entry of each bundle file this run loaded: any other entry of that file is of an older content. */
  const current = new Map();
  const compile = Module.prototype._compile;
  // The bundle's own dynamic import()s (of node: built-ins, in the AWS SDK) go to Node's loader.
  const importModuleDynamically = vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER ?? ((specifier) => import(specifier));
  Module.prototype._compile = function compileWithCache(content, filename) {
    if (!filename.startsWith(prefix)) return compile.call(this, content, filename);
    const file = path.join(folder, entryName(filename, content));
    current.set(path.basename(filename), path.basename(file));
    let cachedData;
    try {
      cachedData = fs.readFileSync(file);
    } catch {
      // not cached yet
    }
    const script = new vm.Script(Module.wrap(content), { filename, cachedData, importModuleDynamically });
    if (cachedData && !script.cachedDataRejected) report.read.push(path.basename(filename));
    else {
      if (cachedData) report.rejected.push(path.basename(filename));
      pending.push([script, file]);
    }
    const wrapper = script.runInThisContext({ displayErrors: true });
    return wrapper.call(this.exports, this.exports, Module.createRequire(filename), this, filename, path.dirname(filename));
  };
  // At exit the code V8 compiled during the run (the functions this command used, not only the top
  // level) is in each script's cached data.
  process.once('exit', () => {
    if (pending.length === 0) return;
    try {
      fs.mkdirSync(folder, { recursive: true });
      for (const [script, file] of pending) {
        const temporary = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(temporary, script.createCachedData());
        fs.renameSync(temporary, file);
        report.written.push(path.basename(file));
      }
      const bundled = new Set(fs.readdirSync(BUNDLE));
      for (const name of fs.readdirSync(folder)) {
        if (name.endsWith('.tmp')) continue;
        const of = fileOf(name);
        if (!bundled.has(of) || (current.has(of) && current.get(of) !== name)) fs.rmSync(path.join(folder, name), { force: true });
      }
    } catch {
      // A cache we cannot write costs the next run its compile time, nothing else.
    }
  });
  return report;
}

module.exports = { cacheFolder, installCodeCache, BUNDLE };
