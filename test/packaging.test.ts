/**
 * What `npm install vpccni` gets: a LICENSE, the built CLI, the schemas and the fixtures the sandbox reads
 * at run time, nothing test-only, no install script; and the GitHub Action's entry point run the way the
 * runner runs it (INPUT_* in the environment, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files).
 */
import { execa } from 'execa';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { isolatedEnv, ROOT } from './helpers/cli.js';

describe('npm pack', () => {
  it('ships what runs and nothing test-only', async () => {
    const { stdout } = await execa('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
    const [pack] = JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>;
    const files = pack!.files.map((f) => f.path);
    for (const needed of ['LICENSE', 'README.md', 'package.json', 'bin/vpccni.js', 'dist/bundle/cli.mjs', 'action.yml', 'action/entry.mjs']) {
      expect(files).toContain(needed);
    }
    // Node's compile cache replaced the bundle's own loader; the launcher is the one file in bin/.
    expect(files.filter((f) => f.startsWith('bin/'))).toEqual(['bin/vpccni.js']);
    expect(files.filter((f) => f.startsWith('dist/bundle/') && !f.endsWith('.mjs'))).toEqual([]);
    // The bundle is what runs; tsc's modules, declarations and maps are not shipped.
    expect(files.filter((f) => f.startsWith('dist/') && !f.startsWith('dist/bundle/') && !f.startsWith('dist/fixtures-json/'))).toEqual([]);
    expect(files.some((f) => f.startsWith('schemas/') && f.endsWith('.json'))).toBe(true);
    for (const runtimeDir of ['fixtures/scenarios/', 'fixtures/manifests/', 'fixtures/addon-configuration/', 'fixtures/catalogues/', 'fixtures/openapi/']) {
      expect(files.some((f) => f.startsWith(runtimeDir))).toBe(true);
    }
    expect(files.filter((f) => /^(test|src|bench|docs|\.ci)\//.test(f) || f.startsWith('fixtures/aws-cli-examples/') || f.startsWith('fixtures/configuration-values/'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.map') || f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('runs from the packed files alone (with its dependencies beside it): status on the sandbox, and validate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpccni-packed-'));
    const { stdout } = await execa('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT });
    const [pack] = JSON.parse(stdout) as Array<{ filename: string }>;
    await execa('tar', ['-xzf', join(dir, pack!.filename), '-C', dir]);
    const pkg = join(dir, 'package');
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
    const bin = join(pkg, 'bin', 'vpccni.js');
    const status = await execa('node', [bin, '--sandbox', 'status', '--output', 'json'], { reject: false, env: isolatedEnv(), extendEnv: true, cwd: dir });
    expect(status.stderr).toBe('');
    expect((JSON.parse(status.stdout) as { addon: { version: string } }).addon.version).toMatch(/^v1\.\d+\.\d+-eksbuild\.\d+$/);
    const validate = await execa('node', [bin, '--sandbox', 'validate', '--configuration-values', '{"env":{"ENABLE_POD_ENI":"yes"}}', '--addon-version', 'v1.14.0-eksbuild.3'], { reject: false, env: isolatedEnv(), extendEnv: true, cwd: dir });
    expect(validate.exitCode).toBe(2);
    expect(validate.stdout).toMatch(/env\.ENABLE_POD_ENI: must be "true" or "false"/);
    const unbundled = await execa('node', [bin, '--version'], { reject: false, env: isolatedEnv({ VPCCNI_UNBUNDLED: '1' }), extendEnv: true });
    expect(unbundled.exitCode).toBe(0);
    const refused = await execa('node', [bin, '--help'], { reject: false, env: isolatedEnv({ VPCCNI_UNBUNDLED: '1' }), extendEnv: true });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('has a license, runs no script on install, and builds before publishing', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { license: string; scripts: Record<string, string>; engines: { node: string } };
    expect(pkg.license).toBe('Apache-2.0');
    expect(pkg.engines.node).toBe('>=22');
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0, January 2004/);
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) expect(pkg.scripts[hook]).toBeUndefined();
    expect(pkg.scripts.prepublishOnly).toMatch(/build/);
    // `npm ci && npm test` on a clean clone still builds first.
    expect(pkg.scripts.test).toMatch(/^npm run build/);
  });
});

describe('the GitHub Action', () => {
  it('declares its inputs and outputs and runs its entry point', () => {
    const action = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, unknown>; outputs: Record<string, unknown>; runs: { using: string; steps: Array<{ run?: string }> } };
    expect(Object.keys(action.inputs)).toEqual(expect.arrayContaining(['kubernetes-version', 'cluster', 'region', 'kube-client']));
    expect(Object.keys(action.outputs)).toEqual(['pass', 'exit-code']);
    expect(action.runs.using).toBe('composite');
    expect(action.runs.steps.some((s) => s.run?.includes('action/entry.mjs'))).toBe(true);
  });

  it('runs its entry point and the CLI on the Node.js 24 its install brought, whatever node the job has', async () => {
    const action = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as { runs: { steps: Array<{ id?: string; run?: string }> } };
    const script = action.runs.steps.find((s) => s.id === 'check')!.run!.replaceAll('${{ github.action_path }}', ROOT);
    const dir = mkdtempSync(join(tmpdir(), 'vpccni-action-'));
    writeFileSync(join(dir, 'output'), '');
    const probe = '--import=data:text/javascript,process.stderr.write(`NODE%20${process.version}\\n`)';
    const result = await execa('bash', ['-c', script], {
      reject: false,
      env: isolatedEnv({ NODE_OPTIONS: probe, INPUT_SCENARIO: 'ready-for-1.28', 'INPUT_KUBERNETES-VERSION': '1.28', GITHUB_ACTIONS: 'true', GITHUB_OUTPUT: join(dir, 'output'), GITHUB_STEP_SUMMARY: join(dir, 'summary.md') }),
      extendEnv: true,
      cwd: dir,
    });
    expect(result.exitCode, result.stderr).toBe(0);
    const node24 = `v${(JSON.parse(readFileSync(join(ROOT, 'node_modules', 'node24', 'package.json'), 'utf8')) as { version: string }).version}`;
    // The entry point and the CLI it starts.
    expect([...result.stderr.matchAll(/^NODE (\S+)$/gm)].map((m) => m[1])).toEqual([node24, node24]);
    expect(readFileSync(join(dir, 'output'), 'utf8')).toBe('pass=true\nexit-code=0\n');
  });

  it.each([
    ['ready-for-1.28', '1.28', 'true', 0],
    ['default', '1.28', 'false', 1],
  ])('as the runner calls it: scenario %s for Kubernetes %s sets pass=%s and writes the step summary', async (scenario, version, pass, code) => {
    const dir = mkdtempSync(join(tmpdir(), 'vpccni-action-'));
    const output = join(dir, 'output');
    const summary = join(dir, 'summary.md');
    writeFileSync(output, '');
    const result = await execa('node', [join(ROOT, 'action', 'entry.mjs')], {
      reject: false,
      env: isolatedEnv({
        INPUT_SCENARIO: scenario,
        'INPUT_KUBERNETES-VERSION': version,
        INPUT_CLUSTER: '',
        GITHUB_ACTIONS: 'true',
        GITHUB_OUTPUT: output,
        GITHUB_STEP_SUMMARY: summary,
      }),
      extendEnv: true,
      cwd: dir,
    });
    expect(result.exitCode, result.stderr).toBe(code);
    expect(readFileSync(output, 'utf8')).toBe(`pass=${pass}\nexit-code=${code}\n`);
    expect(readFileSync(summary, 'utf8')).toMatch(new RegExp(`Kubernetes ${version.replace('.', '\\.')}`));
  });
});
