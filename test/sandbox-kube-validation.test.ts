/**
 * The sandbox's Kubernetes API refuses what a real API server refuses, and prints what it prints, driven with
 * kubectl 1.27 and 1.33: immutable and mismatched selectors (422), unknown fields (400 under Strict, a warning
 * otherwise), stale resourceVersions (409), unsupported field selectors (400), protobuf creates (1.33), tables,
 * `auth can-i`, and a deleted CRD taking its resources with it.
 *
 * Both minors drive what differs between them (protobuf from 1.32 on, tables, field validation, discovery after a
 * CRD is gone); a server answer whose reading kubectl does not change across minors (422, 409, 400, can-i) is
 * driven by one of them.
 */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { KubeObject } from '../src/decide/manifests.js';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { KUBECTL_MINORS, kubectlFor } from './helpers/kubectl.js';

/** `it` in the describe of one minor only (the behaviour does not depend on kubectl's minor); nothing in the other. */
function onlyWith(minor: string, wanted: (typeof KUBECTL_MINORS)[number]): (name: string, test: () => Promise<void>) => void {
  return (name, test) => {
    if (minor === wanted) it(name, test);
  };
}

for (const minor of KUBECTL_MINORS) {
  describe(`kubectl ${minor} against the sandbox API`, () => {
    let sb: RunningSandbox;
    let kubectl: ReturnType<typeof kubectlFor>;
    const dir = mkdtempSync(join(tmpdir(), 'vpccni-validation-'));
    beforeAll(async () => {
      sb = await startSandbox('default');
      kubectl = kubectlFor(minor, sb.kubeconfig);
    });
    afterAll(() => sb.close());
    const daemonSet = (): KubeObject => sb.store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system') as KubeObject;
    const patch = (body: unknown, ...extra: string[]) =>
      kubectl('patch', 'daemonset', 'aws-node', '-n', 'kube-system', '--type', 'merge', '-p', JSON.stringify(body), ...extra);

    onlyWith(minor, '1.33')('refuses an immutable selector change and a selector that does not match the template (422)', async () => {
      const generation = daemonSet().metadata.generation;
      const immutable = await patch({ spec: { selector: { matchLabels: { 'k8s-app': 'other' } }, template: { metadata: { labels: { 'k8s-app': 'other' } } } } });
      expect(immutable.exitCode).toBe(1);
      expect(immutable.stderr).toContain('The DaemonSet "aws-node" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"k8s-app":"other"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable');
      const mismatch = await patch({ spec: { template: { metadata: { labels: { 'k8s-app': 'other' } } } } });
      expect(mismatch.exitCode).toBe(1);
      expect(mismatch.stderr).toMatch(/The DaemonSet "aws-node" is invalid: spec\.template\.metadata\.labels: Invalid value: map\[string\]string\{.*"k8s-app":"other"\}: `selector` does not match template `labels`/);
      expect(daemonSet().metadata.generation).toBe(generation);
    });

    it('refuses unknown fields under Strict (kubectl apply) and warns otherwise', async () => {
      const file = join(dir, `cm-${minor}.yaml`);
      writeFileSync(file, stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'strict', namespace: 'default' }, data: { a: '1' }, datta: { b: '2' } }));
      const strict = await kubectl('apply', '-f', file);
      expect(strict.exitCode).toBe(1);
      expect(strict.stderr).toContain('ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "datta"');
      expect(sb.store.get('v1', 'ConfigMap', 'strict', 'default')).toBeUndefined();
      const warned = await kubectl('apply', '--validate=warn', '-f', file);
      expect(warned.exitCode, warned.stderr).toBe(0);
      expect(warned.stderr).toContain('Warning: unknown field "datta"');
      const nested = await patch({ spec: { template: { spec: { containers: [{ name: 'aws-node', imagePullPolicyy: 'Always' }] } } } }, '--type', 'strategic');
      expect(nested.stderr).toContain('Warning: unknown field "spec.template.spec.containers[');
    });

    onlyWith(minor, '1.27')('answers a stale resourceVersion with 409 Conflict, as a real server does', async () => {
      const stale = structuredClone(daemonSet());
      await patch({ metadata: { labels: { touched: minor } } });
      const file = join(dir, `stale-${minor}.json`);
      writeFileSync(file, JSON.stringify(stale));
      const replaced = await kubectl('replace', '-f', file);
      expect(replaced.exitCode).toBe(1);
      expect(replaced.stderr).toContain('Operation cannot be fulfilled on daemonsets.apps "aws-node": the object has been modified; please apply your changes to the latest version and try again');
      const merged = await patch({ metadata: { resourceVersion: stale.metadata.resourceVersion, labels: { again: 'x' } } });
      expect(merged.exitCode).toBe(1);
      expect(merged.stderr).toContain('Error from server (Conflict)');
      expect(daemonSet().metadata.labels).not.toHaveProperty('again');
    });

    onlyWith(minor, '1.33')('refuses a field selector on an unsupported field (400) and serves a supported one', async () => {
      const bad = await kubectl('get', 'daemonsets', '-n', 'kube-system', '--field-selector', 'spec.foo=bar');
      expect(bad.exitCode).toBe(1);
      expect(bad.stderr).toContain('field label not supported: spec.foo');
      const good = await kubectl('get', 'daemonsets', '-n', 'kube-system', '--field-selector', 'metadata.name=aws-node', '-o', 'name');
      expect(good.stdout.trim()).toBe('daemonset.apps/aws-node');
    });

    it('creates a ConfigMap with kubectl create (protobuf from 1.32 on)', async () => {
      const created = await kubectl('create', 'configmap', `from-${minor.replace('.', '-')}`, '-n', 'default', '--from-literal=WARM_IP_TARGET=5', '--from-literal=mode=x');
      expect(created.exitCode, created.stderr).toBe(0);
      expect(sb.store.get('v1', 'ConfigMap', `from-${minor.replace('.', '-')}`, 'default')?.data).toEqual({ WARM_IP_TARGET: '5', mode: 'x' });
      expect(sb.log.entries.some((e) => e.operation === `POST configmaps/from-${minor.replace('.', '-')}` && e.status === 201)).toBe(true);
    });

    it('prints server-side tables for daemonsets, pods, configmaps and nodes', async () => {
      const ds = await kubectl('get', 'daemonsets', '-n', 'kube-system', '-o', 'wide');
      expect(ds.stdout).toMatch(/^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\n/);
      expect(ds.stdout).toMatch(/aws-node\s+3\s+3\s+3\s+3\s+3\s+<none>\s+\S+\s+aws-node\S*\s+\S*amazon-k8s-cni:v1\.12\.6-eksbuild\.2\S*\s+k8s-app=aws-node/);
      const nodes = await kubectl('get', 'nodes');
      expect(nodes.stdout).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\n/);
      expect(nodes.stdout).toMatch(/\sReady\s+<none>\s+\S+\s+v1\.27\.0-eks-/);
      const cms = await kubectl('get', 'configmaps', '-n', 'default');
      expect(cms.stdout).toMatch(/^NAME\s+DATA\s+AGE\n/);
      const pods = await kubectl('get', 'pods', '-n', 'kube-system');
      // aws-node's pods, one per node (test/sandbox-kube-pods.test.ts).
      expect(pods.stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n(aws-node-\w{5}\s+1\/1\s+Running\s+0\s+\S+\n?){3}$/);
      expect(sb.log.entries.some((e) => e.operation === 'GET daemonsets')).toBe(true);
    });

    onlyWith(minor, '1.27')('answers kubectl auth can-i', async () => {
      const yes = await kubectl('auth', 'can-i', 'patch', 'daemonsets', '-n', 'kube-system');
      expect(yes.stdout.trim()).toBe('yes');
      expect(yes.exitCode).toBe(0);
    });

    it('stops serving ENIConfigs once their CRD is deleted', async () => {
      expect((await kubectl('get', 'eniconfigs', '-o', 'name')).exitCode).toBe(0);
      const deleted = await kubectl('delete', 'crd', 'eniconfigs.crd.k8s.amazonaws.com');
      expect(deleted.exitCode, deleted.stderr).toBe(0);
      const gone = await kubectl('get', 'eniconfigs');
      expect(gone.exitCode).toBe(1);
      // kubectl's cached discovery may still name the kind; the server no longer serves it either way.
      expect(gone.stderr).toMatch(/the server doesn't have a resource type "eniconfigs"|Unable to list "crd\.k8s\.amazonaws\.com\/v1alpha1, Resource=eniconfigs": the server could not find the requested resource/);
      const fresh = await kubectlFor(minor, sb.kubeconfig)('get', 'eniconfigs');
      expect(fresh.stderr).toMatch(/the server doesn't have a resource type "eniconfigs"/);
      const direct = await kubectl('get', '--raw', '/apis/crd.k8s.amazonaws.com/v1alpha1/eniconfigs');
      expect(direct.exitCode).toBe(1);
      expect(direct.stderr).toContain('NotFound');
    });
  });
}
