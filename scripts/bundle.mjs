#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli.js and everything it imports, dependencies included) into
// dist/bundle/ as ES modules: bin/vpccni.js imports dist/bundle/cli.mjs after turning on Node's compile cache
// (module.enableCompileCache). One file per lazily loaded command instead of ~1,500 modules to resolve and
// read: about 0.7 of the CPU of a `status` (bench/RESULTS.md); the compile cache saves V8's parse and compile
// of them on later runs. Node keys each cache entry by the file's path and checks a hash of its content, so
// a rebuild (same names, new code) is compiled afresh: the files keep fixed names, and a rebuild's entries
// replace the old ones instead of piling up beside them.
// Run by `npm run build` after tsc; dist/ itself stays as tsc wrote it (VPCCNI_UNBUNDLED=1 runs it).
//
// `--sea`: instead, one CommonJS file, dist/sea/vpccni.cjs, the main script of the single executable
// (scripts/build-sea.mjs): scripts/sea-main.mjs and everything it reaches in that one file, no chunks and no
// import(), so that its require() reaches only built-ins. Our modules' `createRequire(import.meta.url)('ajv')`
// becomes a plain require() the bundler follows; the package's data files are the executable's assets, read
// through src/package-files.ts, the one module left that uses import.meta.url (a placeholder here).
import { readFileSync, rmSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

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
      // import.meta.url)`): give each one its own URL back, as seen from the bundle's file.
      name: 'vpccni-module-urls',
      transform(code, id) {
        if (SEA) return id.startsWith(DIST) ? forSea(code, id) : null;
        if (!id.startsWith(DIST) || !code.includes('import.meta.url')) return null;
        const own = relative(OUT, id).split('\\').join('/');
        return code.replaceAll('import.meta.url', `new URL(${JSON.stringify(own)}, import.meta.url).href`);
      },
    },
  ],
  transform: SEA ? { define: { __VPCCNI_VERSION__: JSON.stringify(JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')).version) } } : undefined,
  output: SEA ? { dir: OUT, format: 'cjs', strict: true, entryFileNames: '[name].cjs', codeSplitting: false } : {
    dir: OUT,
    format: 'esm',
    entryFileNames: '[name].mjs',
    chunkFileNames: '[name].mjs',
  },
});
const entry = output.find((file) => file.type === 'chunk' && file.isEntry);
if (!entry) throw new Error('rolldown wrote no entry chunk');
if (SEA) {
  if (output.length !== 1) throw new Error(`the single executable's bundle is ${output.length} files: ${output.map((file) => file.fileName).join(', ')}`);
  process.stderr.write(`bundled ${relative(ROOT, OUT)}/${entry.fileName} (one file)\n`);
} else {
  if (entry.fileName !== 'cli.mjs') throw new Error(`rolldown wrote the entry as ${entry.fileName}, not cli.mjs`);
  process.stderr.write(`bundled ${relative(ROOT, OUT)}/cli.mjs and ${output.filter((file) => file.type === 'chunk').length - 1} chunks\n`);
}
