/**
 * The suite runs on the Node.js line `npm test` means it to (scripts/test-lines.mjs runs it on Node 24 and on
 * Node 22, naming the line in VPCCNI_TEST_NODE): vitest's forked worker, the `node` the tests spawn, and the
 * CLI started through its `#!/usr/bin/env node` line all run that line. And what npm scripts and npx put on
 * the PATH (node_modules/.bin/node, settled by `npm run build`'s prebuild, scripts/link-node.mjs) is Node 24,
 * whatever node runs npm itself: the README's `npx vpccni` runs the LTS line.
 */
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, isolatedEnv, vpccni } from './helpers/cli.js';

/**
 * Makes every node started with it print its version and script on stderr first, `NODE <version> <script>`
 * (npm itself is a node program: its line is not the CLI's).
 */
const PROBE = { NODE_OPTIONS: '--import=data:text/javascript,process.stderr.write(`NODE%20${process.version}%20${process.argv[1]}\\n`)' };
const probed = (stderr: string) => /^NODE (v\S+) \S*vpccni(?:\.js)?$/m.exec(stderr)?.[1];
const versionOf = (line: string) => `v${(JSON.parse(readFileSync(join(ROOT, 'node_modules', line, 'package.json'), 'utf8')) as { version: string }).version}`;

describe('the Node.js line under test', () => {
  const expected = process.env.VPCCNI_TEST_NODE ?? process.version;

  it('is the one the test script names, and a supported one', () => {
    expect(process.version).toBe(expected);
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(22);
  });

  it('runs the node the tests spawn and the CLI through its #! line', async () => {
    expect((await execa('node', ['-p', 'process.version'])).stdout).toBe(expected);
    const direct = await execa(BIN, ['--version'], { env: isolatedEnv(PROBE), extendEnv: true });
    expect(probed(direct.stderr)).toBe(expected);
    const helper = await vpccni(['--help'], { env: isolatedEnv(PROBE) });
    expect(helper.exitCode).toBe(0);
    expect(probed(helper.stderr)).toBe(expected);
  });
});

describe('a Node.js older than 22', () => {
  // Node 20 as the CLI sees it: its version, as a preload tells it.
  const OLD = { NODE_OPTIONS: "--import=data:text/javascript,Object.defineProperty(process,'version',{value:'v20.20.2'});Object.defineProperty(process.versions,'node',{value:'20.20.2'})" };

  it('is refused in one sentence, exit 2, before anything is loaded; --version still answers', async () => {
    const refused = await vpccni(['--sandbox', 'status'], { env: isolatedEnv(OLD) });
    expect(refused.exitCode).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toBe('vpccni: needs Node.js 22 or later, and this is Node.js v20.20.2; install Node.js 24 (the LTS line) or 22 and run vpccni with it.');
    const version = await vpccni(['--version'], { env: isolatedEnv(OLD) });
    expect(version.exitCode).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('node_modules/.bin/node', () => {
  it('is Node 24 under npx, whatever node is first on the PATH before it', async () => {
    const node24 = versionOf('node24');
    const exec = await execa('npm', ['exec', '--offline', '--', 'node', '-p', 'process.version'], { cwd: ROOT, env: isolatedEnv(), extendEnv: true });
    expect(exec.stdout.trim()).toBe(node24);
    const npx = await execa('npx', ['--offline', 'vpccni', '--version'], { cwd: ROOT, env: isolatedEnv(PROBE), extendEnv: true });
    expect(npx.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(probed(npx.stderr)).toBe(node24);
  });
});
