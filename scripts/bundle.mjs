#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli.js and everything it imports, dependencies included) into
// dist/bundle/ as ES modules: bin/vpccni.js imports dist/bundle/cli.mjs after turning on Node's compile cache
// (module.enableCompileCache). One file per lazily loaded command instead of ~1,500 modules to resolve and
// read: about 0.7 of the CPU of a `status` (bench/RESULTS.md); the compile cache saves V8's parse and compile
// of them on later runs. Node keys each cache entry by the file's path and checks a hash of its content, so
// a rebuild (same names, new code) is compiled afresh: the files keep fixed names, and a rebuild's entries
// replace the old ones instead of piling up beside them.
// Run by `npm run build` after tsc; dist/ itself stays as tsc wrote it (VPCCNI_UNBUNDLED=1 runs it).
import { rmSync } from 'node:fs';
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
      // import.meta.url)`): give each one its own URL back, as seen from the bundle's file.
      name: 'vpccni-module-urls',
      transform(code, id) {
        if (!id.startsWith(DIST) || !code.includes('import.meta.url')) return null;
        const own = relative(OUT, id).split('\\').join('/');
        return code.replaceAll('import.meta.url', `new URL(${JSON.stringify(own)}, import.meta.url).href`);
      },
    },
  ],
  output: {
    dir: OUT,
    format: 'esm',
    entryFileNames: '[name].mjs',
    chunkFileNames: '[name].mjs',
  },
});
const entry = output.find((file) => file.type === 'chunk' && file.isEntry);
if (entry?.fileName !== 'cli.mjs') throw new Error(`rolldown wrote the entry as ${entry?.fileName ?? 'nothing'}, not cli.mjs`);
process.stderr.write(`bundled ${relative(ROOT, OUT)}/cli.mjs and ${output.filter((file) => file.type === 'chunk').length - 1} chunks\n`);
