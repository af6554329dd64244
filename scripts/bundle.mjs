#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli.js and everything it imports, dependencies included) into
// dist/bundle/: bin/vpccni.js loads it. One file per lazily loaded command instead of ~1,500 modules to
// resolve and read: about 0.7 of the CPU of a `status` (bench/RESULTS.md, "Start-up: bundled or not").
// Run by `npm run build` after tsc; dist/ itself stays as tsc wrote it (VPCCNI_UNBUNDLED=1 runs it).
import { rmSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DIST = `${ROOT}dist/`;
const OUT = `${DIST}bundle`;

rmSync(OUT, { recursive: true, force: true });
await build({
  input: { cli: `${DIST}cli.js` },
  platform: 'node',
  logLevel: 'warn',
  plugins: [
    {
      // Our modules find the fixtures, schemas and advisories next to themselves (`new URL('../../fixtures/',
      // import.meta.url)`): give each one its own URL back, as seen from the bundle.
      name: 'vpccni-module-urls',
      transform(code, id) {
        if (!id.startsWith(DIST) || !code.includes('import.meta.url')) return null;
        const own = relative(OUT, id).split('\\').join('/');
        return code.replaceAll('import.meta.url', `new URL(${JSON.stringify(own)}, import.meta.url).href`);
      },
    },
  ],
  output: { dir: OUT, format: 'esm', chunkFileNames: '[name]-[hash].js' },
});
process.stderr.write(`bundled ${relative(ROOT, dirname(`${OUT}/cli.js`))}/cli.js\n`);
