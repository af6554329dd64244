/**
 * The EKS token is made while DescribeCluster is answered: `prepare()` starts `aws eks get-token` (or the
 * in-process token) at once, and the first request reuses it; any other plugin waits for the context check.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tokenSource } from '../src/gateways/kube-auth.js';
import type { KubeConnection } from '../src/gateways/kubeconfig.js';
import { connectionTo } from './helpers/kube-connection.js';

/** A plugin named `name` (a Node script) that counts its runs and prints a token valid for ten minutes. */
function plugin(name: string, args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'vpccni-prepare-'));
  const count = join(dir, 'runs');
  const command = join(dir, name);
  writeFileSync(
    command,
    `#!/usr/bin/env node\nrequire('node:fs').appendFileSync(${JSON.stringify(count)}, 'run\\n');\n` +
      `process.stdout.write(JSON.stringify({ kind: 'ExecCredential', status: { token: 'from-${name}', expirationTimestamp: new Date(Date.now() + 600000).toISOString() } }));\n`,
  );
  chmodSync(command, 0o755);
  const connection: KubeConnection = connectionTo('http://127.0.0.1:1', {
    exec: { command, args, env: [], apiVersion: 'client.authentication.k8s.io/v1beta1', provideClusterInfo: false },
  });
  return { connection, runs: () => (existsSync(count) ? readFileSync(count, 'utf8').split('\n').filter(Boolean).length : 0) };
}

describe('prepare', () => {
  it('starts `aws eks get-token` at once, and the first request uses its token without running it again', async () => {
    const { connection, runs } = plugin('aws', ['eks', 'get-token', '--cluster-name', 'demo', '--region', 'us-west-2']);
    const tokens = tokenSource(connection, { disableInProcess: true });
    tokens.prepare?.();
    expect(tokens.execRuns).toBe(1);
    expect(await tokens.authorization()).toBe('Bearer from-aws');
    expect(tokens.execRuns).toBe(1);
    expect(runs()).toBe(1);
  });

  it('leaves any other exec plugin to the first request, after the context check', async () => {
    const { connection, runs } = plugin('kubelogin', ['get-token', '--oidc-issuer-url', 'https://issuer.invalid']);
    const tokens = tokenSource(connection);
    tokens.prepare?.();
    expect(tokens.execRuns).toBe(0);
    expect(runs()).toBe(0);
    expect(await tokens.authorization()).toBe('Bearer from-kubelogin');
    expect(tokens.execRuns).toBe(1);
  });

  it('makes the in-process EKS token without running the plugin', async () => {
    const { connection, runs } = plugin('aws', ['eks', 'get-token', '--cluster-name', 'demo', '--region', 'us-west-2']);
    const tokens = tokenSource(connection, { credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }) });
    tokens.prepare?.();
    expect(await tokens.authorization()).toMatch(/^Bearer k8s-aws-v1\./);
    expect(tokens.execRuns).toBe(0);
    expect(runs()).toBe(0);
  });
});
