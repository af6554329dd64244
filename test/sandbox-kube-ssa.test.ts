/**
 * Server-side apply with managedFields, as a real API server keeps them, driven with kubectl 1.27 and 1.33; and
 * EKS applying the add-on as field manager `eks`, so that ownership decides what survives an update.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { podSpecOf } from '../src/sandbox/addon-controller.js';
import type { KubeObject } from '../src/decide/manifests.js';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { KUBECTL_MINORS, kubectlFor } from './helpers/kubectl.js';

const running: RunningSandbox[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((sb) => sb.close()));
});

async function start(scenario = 'default'): Promise<RunningSandbox> {
  const sb = await startSandbox(scenario);
  running.push(sb);
  return sb;
}

const daemonSet = (sb: RunningSandbox): KubeObject => sb.store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system') as KubeObject;
const awsNode = (ds: KubeObject) => podSpecOf(ds).containers.find((c) => c.name === 'aws-node');
const managers = (obj: KubeObject | undefined): string[] =>
  ((obj?.metadata.managedFields as Array<{ manager: string; operation: string }>) ?? []).map((m) => `${m.manager}/${m.operation}`).sort();

/** A DaemonSet applied configuration naming only the aws-node container's image. */
function applyImage(image: string): string {
  return stringify({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'aws-node', namespace: 'kube-system' },
    spec: {
      selector: { matchLabels: { 'k8s-app': 'aws-node' } },
      template: { metadata: { labels: { 'k8s-app': 'aws-node' } }, spec: { containers: [{ name: 'aws-node', image }] } },
    },
  });
}

for (const minor of KUBECTL_MINORS) {
  describe(`server-side apply with kubectl ${minor}`, () => {
    it('keeps managedFields per manager and answers a second applier with a 409 conflict unless forced', async () => {
      const sb = await start();
      const kubectl = kubectlFor(minor, sb.kubeconfig);
      const dir = mkdtempSync(join(tmpdir(), 'vpccni-ssa-'));
      // The managed add-on's DaemonSet is EKS's: applied by the field manager "eks".
      expect(managers(daemonSet(sb))).toEqual(['eks/Apply']);

      const set = await kubectl('set', 'image', 'daemonset/aws-node', '-n', 'kube-system', 'aws-node=example.com/amazon-k8s-cni:by-set');
      expect(set.exitCode, set.stderr).toBe(0);
      expect(managers(daemonSet(sb))).toEqual(['eks/Apply', 'kubectl-set/Update']);

      const file = join(dir, 'ds.yaml');
      writeFileSync(file, applyImage('example.com/amazon-k8s-cni:by-apply'));
      const conflict = await kubectl('apply', '--server-side', '--field-manager', 'platform-team', '-f', file);
      expect(conflict.exitCode).toBe(1);
      expect(conflict.stderr).toContain(
        'Apply failed with 1 conflict: conflict with "kubectl-set" using apps/v1: .spec.template.spec.containers[name="aws-node"].image',
      );
      expect(awsNode(daemonSet(sb))?.image).toBe('example.com/amazon-k8s-cni:by-set');

      const forced = await kubectl('apply', '--server-side', '--field-manager', 'platform-team', '--force-conflicts', '-f', file);
      expect(forced.exitCode, forced.stderr).toBe(0);
      expect(awsNode(daemonSet(sb))?.image).toBe('example.com/amazon-k8s-cni:by-apply');
      expect(managers(daemonSet(sb))).toEqual(['eks/Apply', 'platform-team/Apply']);
      // The other fields of the container stayed (lists merge by name), still EKS's.
      expect(awsNode(daemonSet(sb))?.env?.length).toBeGreaterThan(5);

      const shown = await kubectl('get', 'daemonset', 'aws-node', '-n', 'kube-system', '-o', 'json', '--show-managed-fields');
      const fields = (JSON.parse(shown.stdout) as KubeObject).metadata.managedFields as Array<{ manager: string; fieldsV1: Record<string, unknown> }>;
      const mine = fields.find((f) => f.manager === 'platform-team');
      expect(mine?.fieldsV1).toMatchObject({
        'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"aws-node"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } } },
      });
      // Two appliers of the same value share the field: no conflict.
      const same = await kubectl('apply', '--server-side', '--field-manager', 'other-team', '-f', file);
      expect(same.exitCode, same.stderr).toBe(0);
    });
  });
}

describe('EKS applies the add-on with server-side apply as field manager "eks"', () => {
  const update = async (sb: RunningSandbox, resolveConflicts: string) => {
    const res = await fetch(`${sb.eksEndpoint}/clusters/demo/addons/vpc-cni/update`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ addonVersion: 'v1.13.4-eksbuild.1', resolveConflicts }),
    });
    expect(res.status).toBe(200);
    const id = ((await res.json()) as { update: { id: string } }).update.id;
    await sb.gates.eksChange.until((s) => s.pending.length === 0);
    // EKS's DescribeUpdate needs the add-on name for an add-on's update (without it: 404 No update found).
    return sb.controller.describeUpdate(id, 'vpc-cni');
  };

  it('keeps what it does not own (a nodeSelector, a sidecar) and resets what it owns under OVERWRITE', async () => {
    const sb = await start();
    const kubectl = kubectlFor('1.33', sb.kubeconfig);
    const sidecar = JSON.stringify({ spec: { template: { spec: { nodeSelector: { pool: 'cni' }, containers: [{ name: 'log-shipper', image: 'example.com/shipper:1' }] } } } });
    expect((await kubectl('patch', 'daemonset', 'aws-node', '-n', 'kube-system', '-p', sidecar)).exitCode).toBe(0);
    expect((await kubectl('set', 'env', 'daemonset/aws-node', '-n', 'kube-system', '-c', 'aws-node', 'WARM_ENI_TARGET=3')).exitCode).toBe(0);

    const result = await update(sb, 'OVERWRITE');
    expect(result.status).toBe('Successful');
    const ds = daemonSet(sb);
    expect((podSpecOf(ds) as { nodeSelector?: unknown }).nodeSelector).toEqual({ pool: 'cni' });
    expect(podSpecOf(ds).containers.map((c) => c.name)).toContain('log-shipper');
    expect(awsNode(ds)?.image).toMatch(/amazon-k8s-cni:v1\.13\.4-eksbuild\.1$/);
    expect(awsNode(ds)?.env?.find((e) => e.name === 'WARM_ENI_TARGET')?.value).toBe('1');
    expect(managers(ds)).toContain('eks/Apply');
    expect(managers(ds)).toContain('kubectl-patch/Update');
  });

  it('fails under NONE with EKS\'s ConfigurationConflict naming the field another manager owns', async () => {
    const sb = await start();
    const kubectl = kubectlFor('1.27', sb.kubeconfig);
    expect((await kubectl('set', 'image', 'daemonset/aws-node', '-n', 'kube-system', 'aws-node=example.com/amazon-k8s-cni:mine')).exitCode).toBe(0);
    const result = await update(sb, 'NONE');
    expect(result.status).toBe('Failed');
    const message =
      'Conflicts found when trying to apply. Will not continue due to resolve conflicts mode. Conflicts: DaemonSet.apps aws-node - .spec.template.spec.containers[name="aws-node"].image';
    expect(result.errors[0]).toMatchObject({ errorCode: 'ConfigurationConflict', errorMessage: message });
    expect(sb.addon()?.health.issues[0]).toMatchObject({ code: 'ConfigurationConflict', message });
    expect(awsNode(daemonSet(sb))?.image).toBe('example.com/amazon-k8s-cni:mine');
  });

  it('keeps the other manager\'s value under PRESERVE and moves everything else', async () => {
    const sb = await start();
    const kubectl = kubectlFor('1.33', sb.kubeconfig);
    expect((await kubectl('set', 'env', 'daemonset/aws-node', '-n', 'kube-system', '-c', 'aws-node', 'WARM_ENI_TARGET=4')).exitCode).toBe(0);
    const result = await update(sb, 'PRESERVE');
    expect(result.status).toBe('Successful');
    const ds = daemonSet(sb);
    expect(awsNode(ds)?.env?.find((e) => e.name === 'WARM_ENI_TARGET')?.value).toBe('4');
    expect(awsNode(ds)?.image).toMatch(/v1\.13\.4-eksbuild\.1$/);
  });
});
