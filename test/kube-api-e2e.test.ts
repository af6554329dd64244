/**
 * The in-process Kubernetes client end to end: `status`, `check`, `plan` and `upgrade` through the real CLI
 * with a kubeconfig whose user is an exec credential plugin (as `aws eks update-kubeconfig` writes it),
 * the context checked before the first Kubernetes request, and the plugin run at most once per command.
 * The CLI runs in-process (main(argv), helpers/in-process.ts), each run with its own environment.
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { parseJson, sandboxEnv } from './helpers/cli.js';
import { useInProcessCli, vpccniInProcess } from './helpers/in-process.js';

useInProcessCli();

/** Writes a kubeconfig for the sandbox whose user runs `command args` as an exec plugin. */
function execKubeconfig(sb: RunningSandbox, command: string, args: string[], server = sb.kubeEndpoint, caData = sb.caData): string {
  const dir = mkdtempSync(join(tmpdir(), 'vpccni-exec-'));
  const file = join(dir, 'kubeconfig');
  const name = sb.contextName;
  // A kubeconfig `sandbox serve` writes may carry a CA already: keep its cluster entry, swap in our user.
  const cluster = caData;
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name, cluster: { server, ...(cluster ? { 'certificate-authority-data': cluster } : {}) } }],
      contexts: [{ name, context: { cluster: name, user: name } }],
      'current-context': name,
      users: [{ name, user: { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command, args, interactiveMode: 'Never' } } }],
    }),
  );
  return file;
}

/** A non-EKS exec plugin that appends a line to `count` each time it runs and prints a token. */
function countingPlugin(token: string): { command: string; count: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vpccni-plugin-'));
  const count = join(dir, 'runs');
  const command = join(dir, 'plugin.mjs');
  writeFileSync(
    command,
    `#!${process.execPath}\nimport { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(count)}, 'run\\n');\n` +
      `process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1beta1', kind: 'ExecCredential', status: { token: ${JSON.stringify(token)}, expirationTimestamp: new Date(Date.now() + 600000).toISOString() } }));\n`,
  );
  chmodSync(command, 0o755);
  return { command, count };
}

const runs = (file: string): number => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0);

let sb: RunningSandbox;
beforeEach(async () => {
  sb = await startSandbox('default');
});
afterEach(async () => {
  await sb.close();
});

function flags(kubeconfig: string): string[] {
  return ['--kubeconfig', kubeconfig, '--cluster', sb.cluster, '--region', sb.region];
}

describe('with an `aws eks get-token` kubeconfig (token made in-process)', () => {
  it('status, check and plan read the cluster without starting the plugin', async () => {
    // The kubeconfig `sandbox serve` writes as `aws eks update-kubeconfig` would; the sandbox checks the token's signature.
    const kubeconfig = sb.kubeconfigExec;
    // PATH without `aws`: a run of the plugin would fail, so success proves the token was made in-process.
    const env = sandboxEnv(sb, { PATH: join(process.execPath, '..') });
    const status = await vpccniInProcess([...flags(kubeconfig), 'status', '--output', 'json'], { env });
    expect(status.stderr).toBe('');
    expect(status.exitCode).toBe(0);
    expect(parseJson<{ daemonSet: { version: string } }>(status).daemonSet.version).toBe('v1.12.6-eksbuild.2');

    const check = await vpccniInProcess([...flags(kubeconfig), 'check', '--kubernetes-version', '1.28', '--output', 'json'], { env });
    expect([0, 1]).toContain(check.exitCode);
    expect(parseJson<{ schemaVersion: number }>(check).schemaVersion).toBe(1);

    const plan = await vpccniInProcess([...flags(kubeconfig), 'plan', '--to', 'v1.14.0-eksbuild.3'], { env });
    expect(plan.exitCode).toBe(0);
    expect(plan.stdout).toMatch(/v1\.12\.6-eksbuild\.2 → v1\.13\.4-eksbuild\.1/);

    // Kubernetes was read over the API: GETs by name and nodes as metadata, no discovery, no kubectl.
    const kube = sb.log.entries.filter((e) => e.service === 'kube');
    expect(kube.length).toBeGreaterThan(0);
    expect(kube.some((e) => e.path.startsWith('/api?') || e.path === '/api' || e.path.startsWith('/openapi'))).toBe(false);
    expect(kube.some((e) => e.path.startsWith('/api/v1/nodes?') && e.path.includes('limit='))).toBe(true);
  });

  it('upgrade walks two steps, watching each rollout instead of polling it', async () => {
    const kubeconfig = sb.kubeconfigExec;
    const backups = mkdtempSync(join(tmpdir(), 'vpccni-backups-'));
    const result = await vpccniInProcess([...flags(kubeconfig), 'upgrade', '--to', 'v1.14.0-eksbuild.3', '--yes', '--backup-dir', backups], { env: sandboxEnv(sb) });
    expect(result.exitCode, result.stderr).toBe(0);
    const watches = sb.log.entries.filter((e) => e.service === 'kube' && e.operation.startsWith('WATCH daemonsets'));
    expect(watches.length).toBeGreaterThanOrEqual(1);
    expect(watches.every((w) => w.path.includes('fieldSelector=metadata.name%3Daws-node'))).toBe(true);
    const ds = sb.store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system') as unknown as { spec: { template: { spec: { containers: Array<{ image: string }> } } } };
    expect(ds.spec.template.spec.containers.map((c) => c.image).join(' ')).toContain('v1.14.0-eksbuild.3');
  });
});

describe('with another exec plugin', () => {
  it('runs it once per command, however many requests the command makes', async () => {
    const plugin = countingPlugin(sb.kubeToken);
    const kubeconfig = execKubeconfig(sb, plugin.command, []);
    const status = await vpccniInProcess([...flags(kubeconfig), 'status'], { env: sandboxEnv(sb) });
    expect(status.exitCode, status.stderr).toBe(0);
    expect(sb.log.entries.filter((e) => e.service === 'kube').length).toBeGreaterThan(3);
    expect(runs(plugin.count)).toBe(1);

    const backups = mkdtempSync(join(tmpdir(), 'vpccni-backups-'));
    const upgrade = await vpccniInProcess([...flags(kubeconfig), 'upgrade', '--to', 'v1.14.0-eksbuild.3', '--yes', '--backup-dir', backups], { env: sandboxEnv(sb) });
    expect(upgrade.exitCode, upgrade.stderr).toBe(0);
    expect(runs(plugin.count)).toBe(2);
  });
});

describe('check first', () => {
  it.each(['api', 'kubectl'])('sends no Kubernetes request before DescribeCluster has answered (--kube-client %s)', async (client) => {
    const result = await vpccniInProcess(['--kube-client', client, '--kubeconfig', sb.kubeconfig, '--context', sb.contextName, '--cluster', sb.cluster, '--region', sb.region, 'status'], {
      env: sandboxEnv(sb),
    });
    expect(result.exitCode, result.stderr).toBe(0);
    const describe = sb.log.entries.findIndex((e) => e.operation === 'DescribeCluster');
    const firstKube = sb.log.entries.findIndex((e) => e.service === 'kube');
    expect(describe).toBeGreaterThanOrEqual(0);
    expect(firstKube).toBeGreaterThan(describe);
  });

  it.each(['api', 'kubectl'])('refuses a context that points elsewhere without one Kubernetes request (--kube-client %s)', async (client) => {
    // The sandbox's API server under another name: reachable, but not the endpoint EKS reports.
    const other = sb.kubeEndpoint.replace('127.0.0.1', 'localhost');
    const kubeconfig = execKubeconfig(sb, countingPlugin(sb.kubeToken).command, [], other);
    const result = await vpccniInProcess(['--kube-client', client, ...flags(kubeconfig), 'status'], { env: sandboxEnv(sb) });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/refusing to read or change the wrong cluster/);
    expect(sb.log.entries.filter((e) => e.service === 'kube')).toEqual([]);
  });

  it('refuses a context that trusts another CA than DescribeCluster reports, without one Kubernetes request', async () => {
    const otherCa = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIBOTHERCA\n-----END CERTIFICATE-----\n').toString('base64');
    const kubeconfig = execKubeconfig(sb, countingPlugin(sb.kubeToken).command, [], sb.kubeEndpoint, otherCa);
    const result = await vpccniInProcess([...flags(kubeconfig), 'status'], { env: sandboxEnv(sb) });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/trusts a different certificate authority/);
    expect(sb.log.entries.filter((e) => e.service === 'kube')).toEqual([]);
  });

  it('with no kubeconfig at all, says so instead of trying localhost:8080', async () => {
    const result = await vpccniInProcess(['--cluster', sb.cluster, '--region', sb.region, 'status'], { env: sandboxEnv(sb) });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/No kubeconfig was found/);
    expect(sb.log.entries.filter((e) => e.service === 'kube')).toEqual([]);
  });
});
