#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli.js and everything it imports, dependencies included) into
// dist/bundle/: bin/vpccni.js loads it through bin/bundle-loader.cjs. One file per lazily loaded command
// instead of ~1,500 modules to resolve and read: about 0.7 of the CPU of a `status` (bench/RESULTS.md).
// CommonJS, not ES modules, because Node 20 can keep V8's compiled code of a CommonJS file between runs
// (vm.Script's cachedData) and has no such thing for ES modules: the loader does, another ~0.2 of it.
// Every file's name carries a hash of its content, so a cache entry never meets a changed file of the
// same name; cli.cjs is the one fixed name, a line that requires the hashed entry.
// Run by `npm run build` after tsc; dist/ itself stays as tsc wrote it (VPCCNI_UNBUNDLED=1 runs it).
//
// `--sea`: instead, one CommonJS file, dist/sea/vpccni.cjs, the main script of the single executable
// (scripts/build-sea.mjs): scripts/sea-main.mjs and everything it reaches in that one file, no chunks and no
// import(), so that its require() reaches only built-ins. Our modules' `createRequire(import.meta.url)('ajv')`
// becomes a plain require() the bundler follows; the package's data files are the executable's assets, read
// through src/package-files.ts, the one module left that uses import.meta.url (a placeholder here).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';
import { parseSync, Visitor } from 'rolldown/utils';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DIST = `${ROOT}dist/`;
const SEA = process.argv.includes('--sea');
const OUT = `${DIST}${SEA ? 'sea' : 'bundle'}`;

/** The SEA build's rewrite of one of our compiled modules (under dist/), or null to leave it. */
function forSea(code, id) {
  const out = code.replace(/^const require = createRequire\(import\.meta\.url\);\n/m, '').replaceAll('createRequire(import.meta.url)(', 'require(');
  if (!out.includes('import.meta.url')) return out === code ? null : out;
  if (id !== `${DIST}package-files.js`) throw new Error(`${relative(ROOT, id)}: import.meta.url in the single executable; read package files through src/package-files.ts`);
  return out.replaceAll('import.meta.url', JSON.stringify('file:///vpccni-sea/dist/package-files.js'));
}

rmSync(OUT, { recursive: true, force: true });
const { output } = await build({
  input: SEA ? { vpccni: `${ROOT}scripts/sea-main.mjs` } : { cli: `${DIST}cli.js` },
  platform: 'node',
  logLevel: 'warn',
  plugins: [
    {
      // Our modules find the fixtures, schemas and advisories next to themselves (`new URL('../../fixtures/',
      // import.meta.url)`): give each one its own URL back, as seen from the bundle's file (the banner's
      // __vpccniFileUrl; CommonJS has no import.meta).
      name: 'vpccni-module-urls',
      transform(code, id) {
        if (SEA) return id.startsWith(DIST) ? forSea(code, id) : null;
        if (!id.startsWith(DIST) || !code.includes('import.meta.url')) return null;
        const own = relative(OUT, id).split('\\').join('/');
        return code.replaceAll('import.meta.url', `new URL(${JSON.stringify(own)}, __vpccniFileUrl).href`);
      },
    },
    {
      name: 'vpccni-no-dynamic-import',
      renderChunk(code, chunk) {
        const { program, errors } = parseSync(chunk.fileName, code);
        if (errors.length) throw new Error(`${chunk.fileName}: ${errors[0].message}`);
        const edits = [];
        new Visitor({
          ImportExpression(node) {
            const source = node.source;
            if (!code.slice(node.start, node.end).startsWith('import(')) throw new Error(`${chunk.fileName}: an import() the parser placed where there is none`);
            if (source.type === 'Literal' && typeof source.value === 'string' && source.value.startsWith('node:') && !node.options) {
              edits.push([node.start, node.end, `Promise.resolve(require(${JSON.stringify(source.value)}))`]);
            } else {
              throw new Error(`${chunk.fileName}: a dynamic import() of ${code.slice(source.start, source.end)} would fail under the code cache (bin/bundle-loader.cjs)`);
            }
          },
        }).visit(program);
        if (edits.length === 0) return null;
        let out = code;
        for (const [start, end, text] of edits.sort((a, b) => b[0] - a[0])) out = out.slice(0, start) + text + out.slice(end);
        return out;
      },
    },
  ],
  transform: SEA ? { define: { __VPCCNI_VERSION__: JSON.stringify(JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')).version) } } : undefined,
  output: SEA ? { dir: OUT, format: 'cjs', strict: true, entryFileNames: '[name].cjs', codeSplitting: false } : {
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
if (SEA) {
  if (output.length !== 1) throw new Error(`the single executable's bundle is ${output.length} files: ${output.map((file) => file.fileName).join(', ')}`);
  process.stderr.write(`bundled ${relative(ROOT, OUT)}/${entry.fileName} (one file)\n`);
} else {
  writeFileSync(`${OUT}/cli.cjs`, `"use strict";\nmodule.exports = require(${JSON.stringify(`./${entry.fileName}`)});\n`);
  process.stderr.write(`bundled ${relative(ROOT, OUT)}/cli.cjs → ${entry.fileName}\n`);
}
