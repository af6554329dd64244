/**
 * The conflict prediction (src/decide/apply-conflicts.ts) and the mode it decides. The prediction is checked
 * against the sandbox's server-side apply (src/sandbox/kube-ssa.ts, an independent implementation of the API
 * server's rules) over many random installs: the fields the product predicts are the fields the witness refuses.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideConflictMode, desiredAddonObjects, predictApplyConflicts, withPredictedAdvisories, type PredictedConflict } from '../src/decide/apply-conflicts.js';
import { desiredDaemonSet } from '../src/decide/addon-render.js';
import type { KubeObject } from '../src/decide/manifests.js';
import { UsageError } from '../src/errors.js';
import { ApplyConflictError, recordUpdate, serverSideApply } from '../src/sandbox/kube-ssa.js';
import { strategicMerge } from '../src/sandbox/kube-api.js';

const conflict = (path: string): PredictedConflict => ({ object: 'DaemonSet.apps aws-node', path, managers: ['kubectl-client-side-apply'], live: 'a', applied: 'b' });
const base = { afterManifests: false, to: 'v1.13.4-eksbuild.1', target: 'v1.14.0-eksbuild.3' };

describe('decideConflictMode', () => {
  it.each([
    ['create, no mode, NONE would conflict', 'create', undefined, 1, 'OVERWRITE', /NONE would stop with ConfigurationConflict on 1 field/],
    ['create, no mode, nothing conflicts', 'create', undefined, 0, 'NONE', /NONE cannot conflict/],
    ['create, OVERWRITE asked', 'create', 'OVERWRITE', 2, 'OVERWRITE', /--resolve-conflicts OVERWRITE was given; EKS takes 2 fields/],
    ['update, no mode: PRESERVE keeps them', 'update', undefined, 1, 'PRESERVE', /keeps 1 field another manager set/],
    ['update, OVERWRITE asked', 'update', 'OVERWRITE', 0, 'OVERWRITE', /no field EKS sets is owned by another manager/],
    ['update, NONE asked, nothing conflicts', 'update', 'NONE', 0, 'NONE', /NONE was given/],
  ] as const)('%s', (_name, action, asked, n, mode, reason) => {
    const decision = decideConflictMode({ ...base, action, asked, conflicts: Array.from({ length: n }, (_, i) => conflict(`.spec.f${i}`)) });
    expect(decision.mode).toBe(mode);
    expect(decision.reason).toMatch(reason);
  });

  it('refuses NONE that would conflict (exit 2), naming the fields and the command that works', () => {
    const run = () => decideConflictMode({ ...base, action: 'create', asked: 'NONE', conflicts: [conflict('.spec.template.spec.containers[name="aws-node"].image')] });
    expect(run).toThrow(UsageError);
    expect(run).toThrow(/NONE would fail: EKS's CreateAddon to v1\.13\.4-eksbuild\.1 would stop with ConfigurationConflict on 1 field another field manager set: DaemonSet\.apps aws-node - \.spec\.template\.spec\.containers\[name="aws-node"\]\.image \(owned by kubectl-client-side-apply\)\. Nothing was changed; run `vpccni upgrade --to v1\.14\.0-eksbuild\.3` without --resolve-conflicts/);
    const update = () => decideConflictMode({ ...base, action: 'update', asked: 'NONE', conflicts: [conflict('.spec.x')] });
    expect(update).toThrow(/--resolve-conflicts PRESERVE` to keep them/);
  });

  it('refuses a PRESERVE update that would keep an image another manager set: aws-node could not move', () => {
    const image = conflict('.spec.template.spec.containers[name="aws-node"].image');
    for (const asked of [undefined, 'PRESERVE'] as const) {
      expect(() => decideConflictMode({ ...base, action: 'update', asked, conflicts: [image] })).toThrow(
        /PRESERVE.* would keep DaemonSet\.apps aws-node - \.spec\.template\.spec\.containers\[name="aws-node"\]\.image \(owned by kubectl-client-side-apply\), so aws-node would go on running the old images.*--resolve-conflicts OVERWRITE/,
      );
    }
    expect(decideConflictMode({ ...base, action: 'update', asked: 'OVERWRITE', conflicts: [image] }).mode).toBe('OVERWRITE');
  });

  it('refuses PRESERVE on CreateAddon and chooses OVERWRITE after vpccni\'s own manifest steps', () => {
    expect(() => decideConflictMode({ ...base, action: 'create', asked: 'PRESERVE', conflicts: [] })).toThrow(/PRESERVE is not valid on CreateAddon/);
    expect(decideConflictMode({ ...base, action: 'create', asked: undefined, conflicts: [], afterManifests: true }).mode).toBe('OVERWRITE');
  });
});

describe('predictApplyConflicts', () => {
  const upstream = () => desiredDaemonSet('v1.12.6', {});

  it('an object with no managedFields is owned whole by before-first-apply', () => {
    const live = upstream();
    const desired = desiredDaemonSet('v1.13.4-eksbuild.1', {});
    const found = predictApplyConflicts([live], [desired]);
    expect(found.map((c) => c.path)).toEqual(
      expect.arrayContaining(['.spec.template.spec.containers[name="aws-node"].image', '.spec.template.spec.initContainers[name="aws-vpc-cni-init"].image']),
    );
    expect(new Set(found.flatMap((c) => c.managers))).toEqual(new Set(['before-first-apply']));
  });

  it('finds nothing on a missing object or on fields EKS owns', () => {
    expect(predictApplyConflicts([null], [upstream()])).toEqual([]);
    const owned = serverSideApply(undefined, desiredDaemonSet('v1.12.6-eksbuild.2', {}), 'eks', false, strategicMerge);
    expect(predictApplyConflicts([owned], [desiredDaemonSet('v1.13.4-eksbuild.1', { env: { WARM_IP_TARGET: '5' } })])).toEqual([]);
  });

  it('renders the add-on\'s other objects with the IRSA role on the ServiceAccount', () => {
    const objects = desiredAddonObjects('v1.14.0-eksbuild.3', { enableNetworkPolicy: 'true' }, { roleArn: 'arn:aws:iam::111122223333:role/cni' });
    const sa = objects.find((o) => o.kind === 'ServiceAccount')!;
    expect((sa.metadata.annotations as Record<string, string>)['eks.amazonaws.com/role-arn']).toBe('arn:aws:iam::111122223333:role/cni');
    expect(objects.find((o) => o.kind === 'ConfigMap')?.data).toMatchObject({ 'enable-network-policy-controller': 'true' });
    expect(objects.at(-1)!.kind).toBe('DaemonSet');
  });

  // Random installs: created by kubectl (or by EKS, then edited by kubectl), with custom env, resources,
  // tolerations, a mirror; EKS applies a target with random values. The witness (the sandbox's SSA) decides.
  const edits = fc.record({
    eksFirst: fc.boolean(),
    noManagedFields: fc.boolean(),
    env: fc.dictionary(fc.constantFrom('WARM_IP_TARGET', 'WARM_ENI_TARGET', 'MINIMUM_IP_TARGET', 'AWS_VPC_K8S_CNI_LOGLEVEL'), fc.constantFrom('1', '5', 'DEBUG')),
    resources: fc.option(fc.constantFrom({ requests: { cpu: '50m' } }, { requests: { cpu: '25m' } }), { nil: undefined }),
    tolerations: fc.option(fc.constant([{ operator: 'Exists' }]), { nil: undefined }),
    mirror: fc.boolean(),
    values: fc.record({
      env: fc.option(fc.dictionary(fc.constantFrom('WARM_IP_TARGET', 'WARM_ENI_TARGET'), fc.constantFrom('1', '5')), { nil: undefined }),
      resources: fc.option(fc.constantFrom({ requests: { cpu: '50m' } }), { nil: undefined }),
    }),
    target: fc.constantFrom('v1.12.6-eksbuild.2', 'v1.13.4-eksbuild.1'),
  });

  it('predicts exactly the conflicts the sandbox\'s server-side apply refuses', () => {
    let withConflicts = 0;
    fc.assert(
      fc.property(edits, (e) => {
        let live: KubeObject = e.eksFirst ? serverSideApply(undefined, desiredDaemonSet('v1.12.6-eksbuild.2', {}), 'eks', false, strategicMerge) : desiredDaemonSet('v1.12.6', {});
        if (!e.eksFirst && !e.noManagedFields) recordUpdate(undefined, live, 'kubectl-client-side-apply');
        const edited = structuredClone(live);
        const pod = (edited.spec as { template: { spec: { containers: Array<Record<string, unknown>>; tolerations?: unknown } } }).template.spec;
        const node = pod.containers.find((c) => c.name === 'aws-node')!;
        const env = node.env as Array<{ name: string; value?: string }>;
        for (const [name, value] of Object.entries(e.env)) {
          const found = env.find((x) => x.name === name);
          if (found) found.value = value;
          else env.push({ name, value });
        }
        if (e.resources) node.resources = e.resources;
        if (e.tolerations) pod.tolerations = e.tolerations;
        if (e.mirror) node.image = String(node.image).replace(/^[^/]+/, 'registry.example.com');
        if (!e.noManagedFields || e.eksFirst) recordUpdate(live, edited, 'kubectl-edit');
        live = edited;

        const values = { ...(e.values.env ? { env: e.values.env } : {}), ...(e.values.resources ? { resources: e.values.resources } : {}) };
        const desired = desiredDaemonSet(e.target, values);
        let witness: string[] = [];
        try {
          serverSideApply(live, desired, 'eks', false, strategicMerge);
        } catch (error) {
          if (!(error instanceof ApplyConflictError)) throw error;
          witness = [...new Set(error.conflicts.map((c) => c.path))].sort();
        }
        const predicted = predictApplyConflicts([live], [desired]).map((c) => c.path).sort();
        expect(predicted).toEqual(witness);
        if (witness.length > 0) withConflicts++;
      }),
      { numRuns: 150 },
    );
    // Not vacuous: most random installs do conflict.
    expect(withConflicts).toBeGreaterThan(50);
  });
});

describe('withPredictedAdvisories', () => {
  const findings = [
    { id: 'v1.18.4-image-pull-policy-adoption', severity: 'warning', message: 'm', remediation: 'r' },
    { id: 'policyendpoints-crd-conflict-on-create', severity: 'warning', message: 'm', remediation: 'r' },
    { id: 'self-managed', severity: 'warning', message: 'm' },
  ];
  const pullPolicy: PredictedConflict = { ...conflict('.spec.template.spec.containers[name="aws-eks-nodeagent"].imagePullPolicy'), live: 'IfNotPresent', applied: 'Always' };

  it('turns a confirmed advisory into what the prediction found, and drops one the live objects do not bear out', () => {
    const decision = decideConflictMode({ ...base, action: 'create', asked: undefined, conflicts: [pullPolicy] });
    const out = withPredictedAdvisories(findings, decision, 'create');
    expect(out.map((f) => `${f.id}:${f.severity}`)).toEqual(['v1.18.4-image-pull-policy-adoption:info', 'self-managed:warning']);
    expect(out[0]!.message).toContain('DaemonSet.apps aws-node - .spec.template.spec.containers[name="aws-eks-nodeagent"].imagePullPolicy (owned by kubectl-client-side-apply); the CreateAddon uses OVERWRITE, which takes them');
  });

  it('leaves the findings alone without a prediction or on an update', () => {
    const decision = decideConflictMode({ ...base, action: 'update', asked: undefined, conflicts: [] });
    expect(withPredictedAdvisories(findings, null, 'create')).toEqual(findings);
    expect(withPredictedAdvisories(findings, decision, 'update')).toEqual(findings);
  });
});
