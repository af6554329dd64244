/**
 * Issue 21, driven with kubectl 1.27 and 1.33: client-side `kubectl apply` of a ConfigMap with a key removed prunes
 * it (kubectl sends a strategic-merge patch with `"b": null`), `--dry-run=server` changes nothing and a JSON merge
 * patch null deletes too; `kubectl explain` reads the real OpenAPI v3 schemas of DaemonSet and ConfigMap
 * (fixtures/openapi/), fetched by the hash the `/openapi/v3` index names; and the validation the sandbox adds
 * answers kubectl as a real server does. One sandbox per minor.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { caFromKubeconfig, kubeRequest } from './helpers/kube-https.js';
import { KUBECTL_MINORS, kubectlFor } from './helpers/kubectl.js';

for (const minor of KUBECTL_MINORS) {
  describe(`kubectl ${minor}`, () => {
    let sb: RunningSandbox;
    let kubectl: ReturnType<typeof kubectlFor>;
    const dir = mkdtempSync(join(tmpdir(), 'vpccni-apply-explain-'));
    beforeAll(async () => {
      sb = await startSandbox('default');
      kubectl = kubectlFor(minor, sb.kubeconfig);
    });
    afterAll(() => sb.close());
    const data = (name: string): unknown => sb.store.get('v1', 'ConfigMap', name, 'default')?.data;
    const file = (name: string, body: unknown): string => {
      const path = join(dir, `${name}-${minor}.yaml`);
      writeFileSync(path, stringify(body));
      return path;
    };
    const configMap = (values: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'three-way', namespace: 'default' }, data: values });

    it('prunes a key removed from the file (strategic-merge null), after a server dry run that changes nothing', async () => {
      expect((await kubectl('apply', '-f', file('first', configMap({ a: '1', b: '2' })))).exitCode).toBe(0);
      const second = file('second', configMap({ a: '1' }));
      const dryRun = await kubectl('apply', '--dry-run=server', '-f', second, '-o', 'json');
      expect(dryRun.exitCode, dryRun.stderr).toBe(0);
      expect((JSON.parse(dryRun.stdout) as { data: unknown }).data).toEqual({ a: '1' });
      expect(data('three-way')).toEqual({ a: '1', b: '2' });
      const applied = await kubectl('apply', '-f', second);
      expect(applied.exitCode, applied.stderr).toBe(0);
      expect(applied.stdout).toContain('configmap/three-way configured');
      expect(data('three-way')).toEqual({ a: '1' });
      // One PATCH (kubectl's strategic-merge patch names the removed key with null), answered 200.
      const patch = sb.log.entries.filter((e) => e.operation === 'PATCH configmaps/three-way' && !e.path.includes('dryRun'));
      expect(patch.map((e) => e.status)).toEqual([200]);
    });

    it('deletes a key a JSON merge patch sets to null (RFC 7386), with no warning', async () => {
      expect((await kubectl('apply', '-f', file('merge', { ...configMap({ a: '1', b: '2' }), metadata: { name: 'merge', namespace: 'default' } }))).exitCode).toBe(0);
      const patched = await kubectl('patch', 'configmap', 'merge', '-n', 'default', '--type', 'merge', '-p', JSON.stringify({ data: { b: null, c: '3' } }));
      expect(patched.exitCode, patched.stderr).toBe(0);
      expect(patched.stderr).toBe('');
      expect(data('merge')).toEqual({ a: '1', c: '3' });
    });

    it('explains daemonset, daemonset.spec.updateStrategy and configmap from the real schemas', async () => {
      const daemonset = await kubectl('explain', 'daemonset');
      expect(daemonset.exitCode, daemonset.stderr).toBe(0);
      expect(daemonset.stdout).toMatch(/KIND:\s+DaemonSet/);
      expect(daemonset.stdout).toContain('DaemonSet represents the configuration of a daemon set.');
      expect(daemonset.stdout).toMatch(/spec\s+<DaemonSetSpec>/);
      const strategy = await kubectl('explain', 'daemonset.spec.updateStrategy');
      expect(strategy.exitCode, strategy.stderr).toBe(0);
      expect(strategy.stdout).toMatch(/FIELD:\s+updateStrategy <DaemonSetUpdateStrategy>/);
      expect(strategy.stdout).toMatch(/rollingUpdate\s+<RollingUpdateDaemonSet>/);
      expect(strategy.stdout).toContain('"OnDelete"');
      const cm = await kubectl('explain', 'configmap');
      expect(cm.exitCode, cm.stderr).toBe(0);
      expect(cm.stdout).toContain('ConfigMap holds configuration data for pods to consume.');
      expect(cm.stdout).toMatch(/data\s+<map\[string\]string>/);
      // kubectl fetched each document by the hash the index names.
      const fetched = sb.log.entries.filter((e) => e.path.startsWith('/openapi/v3/')).map((e) => `${e.status} ${e.path.replace(/hash=[0-9A-F]{128}/, 'hash=H')}`);
      expect(fetched).toEqual(expect.arrayContaining(['200 /openapi/v3/apis/apps/v1?hash=H&timeout=32s', '200 /openapi/v3/api/v1?hash=H&timeout=32s']));
    });

    it('refuses a bad ConfigMap key and requests over limits with 422 and an unparsable quantity with 400, as kubectl prints them', async () => {
      const badKey = await kubectl('apply', '--server-side', '-f', file('bad-key', { ...configMap({ 'enable windows ipam': 'true' }), metadata: { name: 'bad-key', namespace: 'default' } }));
      expect(badKey.exitCode).toBe(1);
      expect(badKey.stderr).toContain(
        `The ConfigMap "bad-key" is invalid: data[enable windows ipam]: Invalid value: "enable windows ipam": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
      );
      expect(data('bad-key')).toBeUndefined();
      const quantity = await kubectl('set', 'resources', 'daemonset/aws-node', '-n', 'kube-system', '-c', 'aws-node', '--requests=cpu=25m', '--limits=cpu=10m');
      expect(quantity.exitCode).toBe(1);
      expect(quantity.stderr).toContain('spec.template.spec.containers[0].resources.requests: Invalid value: "25m": must be less than or equal to cpu limit of 10m');
      const unparsable = { spec: { template: { spec: { containers: [{ name: 'aws-node', resources: { requests: { cpu: 'lots' } } }] } } } };
      const decoded = await kubectl('patch', 'daemonset', 'aws-node', '-n', 'kube-system', '-p', JSON.stringify(unparsable));
      expect(decoded.exitCode).toBe(1);
      expect(decoded.stderr).toContain(
        `Error from server (BadRequest): DaemonSet in version "v1" cannot be handled as a DaemonSet: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
      );
    });
  });
}

describe('the OpenAPI v3 index and its hashes', () => {
  it('names each document by the SHA-512 of its bytes and sends a stale hash on to the current one', async () => {
    const sb = await startSandbox('default');
    try {
      const get = (path: string) => kubeRequest(sb.kubeEndpoint, caFromKubeconfig(sb.kubeconfig), sb.kubeToken, 'GET', path);
      const index = (await get('/openapi/v3')).body as { paths: Record<string, { serverRelativeURL: string }> };
      const url = index.paths['apis/apps/v1']?.serverRelativeURL as string;
      const hash = /hash=([0-9A-F]+)$/.exec(url)?.[1];
      const doc = (await get(url)).raw;
      expect(createHash('sha512').update(doc).digest('hex').toUpperCase()).toBe(hash);
      const schemas = (JSON.parse(doc.toString('utf8')) as { components: { schemas: Record<string, { 'x-kubernetes-group-version-kind'?: unknown }> } }).components.schemas;
      expect(schemas['io.k8s.api.apps.v1.DaemonSet']?.['x-kubernetes-group-version-kind']).toEqual([{ group: 'apps', kind: 'DaemonSet', version: 'v1' }]);
      const stale = await get('/openapi/v3/apis/apps/v1?hash=0123');
      expect(stale.status).toBe(301);
      expect(stale.headers.location).toBe(url);
    } finally {
      await sb.close();
    }
  });
});
