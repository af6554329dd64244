/**
 * Server-side apply conformance over the shipped manifests (issue 21): every `fixtures/manifests/aws-k8s-cni-v*.yaml`
 * applied in turn with `kubectl apply --server-side --force-conflicts` leaves no list-map item without its key
 * (the ANNOTATE_POD_IP entry of v1.18 once survived v1.19 as `{}`), and the DaemonSet passes the API server's
 * validation after every step. One sandbox: kubectl 1.33 walks up from v1.11.4, then kubectl 1.27 applies the
 * issue's sequence (v1.11.4, v1.14.1, v1.19.6, v1.23.0); one kubectl start per step. A property test drives the
 * same server-side apply in-process over random sequences.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { compare } from 'semver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import type { KubeObject } from '../src/decide/manifests.js';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { strategicMerge } from '../src/sandbox/kube-api.js';
import { validateObject } from '../src/sandbox/kube-object-validation.js';
import { serverSideApply } from '../src/sandbox/kube-ssa.js';
import { invalidWorkload } from '../src/sandbox/kube-validation.js';
import { KUBECTL_DIR, kubectlFor } from './helpers/kubectl.js';
import { caFromKubeconfig, kubeRequest } from './helpers/kube-https.js';
import { itemsWithoutKeys } from './helpers/list-map-keys.js';

/** The shipped aws-k8s-cni manifest versions, oldest first (v1.11.4 … v1.23.1-master-b5218838). */
const VERSIONS = readdirSync(new URL('../fixtures/manifests/', import.meta.url))
  .map((f) => /^aws-k8s-cni-v(.+)\.yaml$/.exec(f)?.[1])
  .filter((v): v is string => Boolean(v))
  .sort(compare);
const manifestFile = (version: string): string => new URL(`../fixtures/manifests/aws-k8s-cni-v${version}.yaml`, import.meta.url).pathname;

type Named = { name?: string };
const envNames = (ds: KubeObject, container: string): string[] => {
  const spec = (ds.spec as { template: { spec: { containers: Array<Named & { env?: Named[] }> } } }).template.spec;
  return (spec.containers.find((c) => c.name === container)?.env ?? []).map((e) => e.name ?? '');
};

/** What must hold after each step: every item keyed, the object valid, and everything the step applied present. */
function expectConformant(live: KubeObject, applied: KubeObject, step: string): void {
  expect(itemsWithoutKeys(live), step).toEqual([]);
  expect(validateObject(live, { kubernetesVersion: '1.27' }), step).toEqual([]);
  expect(invalidWorkload(live, undefined), step).toEqual([]);
  expect(envNames(live, 'aws-node'), step).toEqual(expect.arrayContaining(envNames(applied, 'aws-node')));
}

const parsed = new Map<string, KubeObject>();
/** The aws-node DaemonSet of a shipped manifest, as kubectl sends it. */
function daemonSetOf(version: string): KubeObject {
  if (!parsed.has(version)) {
    const docs = parseAllDocuments(readFileSync(manifestFile(version), 'utf8')).map((d) => d.toJSON() as KubeObject | null);
    parsed.set(version, docs.find((o) => o?.kind === 'DaemonSet') as KubeObject);
  }
  return structuredClone(parsed.get(version) as KubeObject);
}

describe('kubectl apply --server-side --force-conflicts of every shipped manifest in turn', () => {
  let sb: RunningSandbox;
  beforeAll(async () => {
    sb = await startSandbox('default');
  });
  afterAll(() => sb.close());
  const live = (): KubeObject => sb.store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system') as KubeObject;

  // kubectl 1.33 walks every version; kubectl 1.27 sends the same apply requests, so it walks the issue's own
  // sequence only (from where 1.33 left off: v1.23.1 down to v1.11.4, then up), one kubectl start per step.
  const walks = [
    { minor: '1.33', order: VERSIONS },
    { minor: '1.27', order: ['1.11.4', '1.14.1', '1.19.6', '1.23.0'] },
  ];
  for (const { minor, order } of walks) {
    it(`kubectl ${minor}: ${order[0]} → ${order.at(-1)}, every list-map item keeps its key and the DaemonSet stays valid`, async () => {
      expect(KUBECTL_DIR).toBeTruthy();
      const kubectl = kubectlFor(minor, sb.kubeconfig);
      for (const version of order) {
        const applied = await kubectl('apply', '--server-side', '--force-conflicts', '-f', manifestFile(version));
        expect(applied.exitCode, `${version}: ${applied.stderr}`).toBe(0);
        expectConformant(live(), daemonSetOf(version), `after v${version} with kubectl ${minor}`);
      }
    }, 120_000);
  }

  it('refuses a nameless env var: 422 Invalid on a patch (kubectl prints the Status), a typed-patch error on an apply', async () => {
    const kubectl = kubectlFor('1.33', sb.kubeconfig);
    const dir = mkdtempSync(join(tmpdir(), 'vpccni-conformance-'));
    // The rollout controller writes status meanwhile: the generation says whether the spec changed.
    const before = live().metadata.generation;
    const withNamelessEnv = (ds: KubeObject): KubeObject => {
      const spec = (ds.spec as { template: { spec: { containers: Array<{ env: unknown[] }> } } }).template.spec;
      (spec.containers[0] as { env: unknown[] }).env.splice(3, 0, { value: 'true' });
      return ds;
    };
    const nameless = JSON.stringify([{ op: 'add', path: '/spec/template/spec/containers/0/env/3', value: { value: 'true' } }]);
    const refused = await kubectl('patch', 'daemonset', 'aws-node', '-n', 'kube-system', '--type', 'json', '-p', nameless);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('The DaemonSet "aws-node" is invalid: spec.template.spec.containers[0].env[3].name: Required value');

    // The Status body, byte for byte the API server's (apimachinery errors.NewInvalid).
    const patched = await kubeRequest(sb.kubeEndpoint, caFromKubeconfig(sb.kubeconfig), sb.kubeToken, 'PATCH', '/apis/apps/v1/namespaces/kube-system/daemonsets/aws-node', {
      contentType: 'application/json-patch+json',
      text: nameless,
    });
    expect({ status: patched.status, body: patched.body }).toEqual({
      status: 422,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'DaemonSet.apps "aws-node" is invalid: spec.template.spec.containers[0].env[3].name: Required value',
        reason: 'Invalid',
        details: {
          name: 'aws-node',
          group: 'apps',
          kind: 'DaemonSet',
          causes: [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.template.spec.containers[0].env[3].name' }],
        },
        code: 422,
      },
    });

    // Server-side apply cannot even type a list-map item without its key (structured-merge-diff), as on a real server.
    const applyFile = join(dir, 'apply.yaml');
    writeFileSync(applyFile, stringify(withNamelessEnv(daemonSetOf('1.19.6'))));
    const applied = await kubectl('apply', '--server-side', '--force-conflicts', '-f', applyFile);
    expect(applied.exitCode).toBe(1);
    expect(applied.stderr).toContain(
      'Error from server: failed to create typed patch object (kube-system/aws-node; apps/v1, Kind=DaemonSet): .spec.template.spec.containers[name="aws-node"].env: element 3: associative list with keys has an element that omits key field "name" (and doesn\'t have default value)',
    );
    expect(live().metadata.generation).toBe(before);
    expect(itemsWithoutKeys(live())).toEqual([]);
  });
});

describe('server-side apply in-process over any sequence of shipped manifests (property)', () => {
  it('never leaves a list-map item without its key, whatever the order, with EKS owning the start', async () => {
    const sb = await startSandbox('default');
    const start = sb.store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system') as KubeObject;
    await sb.close();
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...VERSIONS), { minLength: 1, maxLength: 5 }), fc.boolean(), (sequence, asEks) => {
        let live = structuredClone(start);
        for (const version of sequence) {
          const applied = daemonSetOf(version);
          live = serverSideApply(live, structuredClone(applied), asEks ? 'eks' : 'kubectl', true, strategicMerge);
          expectConformant(live, applied, `${sequence.join(' → ')} as ${asEks ? 'eks' : 'kubectl'}`);
        }
      }),
      { numRuns: 60 },
    );
  });
});
