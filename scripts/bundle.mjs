#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli.js and everything it imports, dependencies included) into
// dist/bundle/: bin/vpccni.js loads it through bin/bundle-loader.cjs. One file per lazily loaded command
// instead of ~1,500 modules to resolve and read: about 0.7 of the CPU of a `status` (bench/RESULTS.md).
// CommonJS, not ES modules, because Node 20 can keep V8's compiled code of a CommonJS file between runs
// (vm.Script's cachedData) and has no such thing for ES modules: the loader does, another ~0.2 of it.
// Every file's name carries a hash of its content, so a cache entry never meets a changed file of the
// same name; cli.cjs is the one fixed name, a line that requires the hashed entry.
// Run by `npm run build` after tsc; dist/ itself stays as tsc wrote it (VPCCNI_UNBUNDLED=1 runs it).
import { rmSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DIST = `${ROOT}dist/`;
const OUT = `${DIST}bundle`;

rmSync(OUT, { recursive: true, force: true });
const { output } = await build({
  input: { cli: `${DIST}cli.js` },
  platform: 'node',
  logLevel: 'warn',
  plugins: [
    {
      // Our modules find the fixtures, schemas and advisories next to themselves (`new URL('../../fixtures/',
      // import.meta.url)`): give each one its own URL back, as seen from the bundle's file (the banner's
      // __vpccniFileUrl; CommonJS has no import.meta).
      name: 'vpccni-module-urls',
      transform(code, id) {
        if (!id.startsWith(DIST) || !code.includes('import.meta.url')) return null;
        const own = relative(OUT, id).split('\\').join('/');
        return code.replaceAll('import.meta.url', `new URL(${JSON.stringify(own)}, __vpccniFileUrl).href`);
      },
    },
  ],
  output: {
    dir: OUT,
    format: 'cjs',
    // Our modules and most dependencies are ES modules, which are strict: keep them so.
    strict: true,
    entryFileNames: '[name]-[hash].cjs',
    chunkFileNames: '[name]-[hash].cjs',
    // After "use strict" (a banner would go before it, and rolldown then drops the directive).
    intro: 'const __vpccniFileUrl = require("node:url").pathToFileURL(__filename).href;',
  },
});
const entry = output.find((file) => file.type === 'chunk' && file.isEntry);
if (!entry) throw new Error('rolldown wrote no entry chunk');
writeFileSync(`${OUT}/cli.cjs`, `"use strict";\nmodule.exports = require(${JSON.stringify(`./${entry.fileName}`)});\n`);
process.stderr.write(`bundled ${relative(ROOT, OUT)}/cli.cjs → ${entry.fileName}\n`);
