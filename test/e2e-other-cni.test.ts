/**
 * A cluster running another CNI: no vpc-cni add-on, no aws-node, and a cilium DaemonSet in kube-system, applied
 * to the sandbox by an independent client (kubectl 1.31). `check` recognises it and passes; without it, fails.
 * The sandbox and the CLI run in-process (helpers/in-process.ts); kubectl is its own process.
 */
import { execa } from 'execa';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { realpathSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { parseJson, sandboxEnv } from './helpers/cli.js';
import { useInProcessCli, vpccniInProcess } from './helpers/in-process.js';

const KUBECTL_DIR = dirname(realpathSync((await execa('which', ['kubectl'])).stdout.trim()));
useInProcessCli();

describe('another CNI instead of the VPC CNI', () => {
  let sb: RunningSandbox | undefined;
  afterAll(async () => sb?.close());

  it('check fails while nothing runs pod networking, and passes once cilium runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpccni-cilium-'));
    const scenario = join(dir, 'cilium.json');
    writeFileSync(scenario, JSON.stringify({ name: 'cilium', cluster: { kubernetesVersion: '1.31' }, addon: null, daemonSet: null, catalogueSnapshot: 'mid-2025' }));
    sb = await startSandbox(scenario);
    // The CLI and kubectl both find the cluster through KUBECONFIG, as after `aws eks update-kubeconfig`.
    const env = sandboxEnv(sb, { KUBECONFIG: sb.kubeconfig, KUBECACHEDIR: join(dir, 'kube-cache') });
    const served = { flags: ['--cluster', sb.cluster, '--region', sb.region] };

    const before = parseJson<{ pass: boolean; findings: Array<{ id: string }> }>(await vpccniInProcess([...served.flags, 'check', '--output', 'json'], { env }));
    expect(before.pass).toBe(false);
    expect(before.findings.map((f) => f.id)).toContain('daemonset-missing');

    const cilium = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'cilium', namespace: 'kube-system', labels: { 'k8s-app': 'cilium' } },
      spec: {
        selector: { matchLabels: { 'k8s-app': 'cilium' } },
        template: { metadata: { labels: { 'k8s-app': 'cilium' } }, spec: { containers: [{ name: 'cilium-agent', image: 'quay.io/cilium/cilium:v1.16.5' }] } },
      },
    };
    const applied = await execa(join(KUBECTL_DIR, 'kubectl.1.31'), ['apply', '-f', '-'], { env, input: JSON.stringify(cilium), reject: false });
    expect(applied.exitCode, String(applied.stderr)).toBe(0);

    const after = await vpccniInProcess([...served.flags, 'check', '--output', 'json'], { env });
    expect(after.exitCode, after.stderr).toBe(0);
    const report = parseJson<{ pass: boolean; findings: Array<{ id: string; severity: string }> }>(after);
    expect(report.pass).toBe(true);
    expect(report.findings.map((f) => `${f.id}:${f.severity}`)).toContain('other-cni:info');
    expect(report.findings.map((f) => f.id)).not.toContain('daemonset-missing');
    const status = await vpccniInProcess([...served.flags, 'status'], { env });
    expect(status.stdout).toContain('Networking  another CNI: cilium');
  }, 120_000);
});
