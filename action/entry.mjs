#!/usr/bin/env node
// The GitHub Action's entry point: reads the inputs as the runner passes them (INPUT_<NAME> in the
// environment), runs `vpccni check`, and writes `pass` and `exit-code` to $GITHUB_OUTPUT. vpccni itself
// writes the annotations and the $GITHUB_STEP_SUMMARY table (GITHUB_ACTIONS is set on a runner).
import { spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const input = (name) => (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
const args = ['check'];
for (const [name, flag] of [
  ['kubernetes-version', '--kubernetes-version'],
  ['cluster', '--cluster'],
  ['region', '--region'],
  ['context', '--context'],
  ['kubeconfig', '--kubeconfig'],
  ['kube-client', '--kube-client'],
  ['scenario', '--scenario'],
]) {
  const value = input(name);
  if (value) args.push(flag, value);
}
if (input('sandbox') === 'true') args.push('--sandbox');
const bin = fileURLToPath(new URL('../bin/vpccni.js', import.meta.url));
const result = spawnSync(process.execPath, [bin, ...args], { stdio: 'inherit', env: { ...process.env, GITHUB_ACTIONS: process.env.GITHUB_ACTIONS ?? 'true' } });
const code = result.status ?? 1;
if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, `pass=${code === 0}\nexit-code=${code}\n`);
process.exit(code);
