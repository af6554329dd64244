/**
 * The planner's self-managed steps (issue 13): adopting an old install through the upstream manifests where
 * EKS offers no version of the next minors, `--jump`, and `--self-managed`. Pure: catalogue and shipped
 * manifests in, steps out; the catalogue is the sandbox's real-name `mid-2025` snapshot.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CatalogueEntry } from '../src/domain.js';
import { UsageError } from '../src/errors.js';
import { shippedReleases } from '../src/decide/manifests.js';
import type { AdvisoryContext } from '../src/upgrade-planner/advisories.js';
import { planSelfManaged, planUpgrade, type PlanInput } from '../src/upgrade-planner/plan.js';
import { minorIndex, parseAddonVersion } from '../src/upgrade-planner/version.js';
import { LATER_CATALOGUE } from '../src/sandbox/default-catalogue.js';

const CATALOGUE = LATER_CATALOGUE as unknown as CatalogueEntry[];
const PLAIN: Omit<AdvisoryContext, 'kubernetesVersion'> = {
  customNetworking: false,
  podEni: false,
  nodeAgentImageTag: null,
  nodeAgentPresent: false,
  networkPolicyEnforcingModeSet: false,
};
const MANIFESTS = shippedReleases();

function input(over: Partial<PlanInput> & { installed: string; kubernetesVersion: string }): PlanInput {
  return {
    managed: false,
    target: 'latest',
    catalogue: CATALOGUE,
    context: { ...PLAIN, kubernetesVersion: over.kubernetesVersion },
    manifests: MANIFESTS,
    ...over,
  };
}

describe('adopting an old self-managed install', () => {
  it('moves v1.12.6 on Kubernetes 1.30 by manifests up to v1.15, creates at v1.16, then updates to the newest', () => {
    const plan = planUpgrade(input({ installed: 'v1.12.6', kubernetesVersion: '1.30' }));
    expect(plan.steps.map((s) => [s.action, s.to])).toEqual([
      ['apply', 'v1.13.4'],
      ['apply', 'v1.14.1'],
      ['apply', 'v1.15.5'],
      ['create', 'v1.16.4-eksbuild.2'],
      ['update', 'v1.17.1-eksbuild.1'],
      ['update', 'v1.18.6-eksbuild.1'],
      ['update', 'v1.19.6-eksbuild.1'],
      ['update', 'v1.20.1-eksbuild.1'],
    ]);
    expect(plan.steps[0]!.from).toBe('v1.12.6');
    const why = plan.findings.find((f) => f.id === 'adopt-through-manifests');
    expect(why?.message).toContain('EKS offers no v1.13, v1.14 or v1.15 version for Kubernetes 1.30');
    expect(why?.message).toContain('adopted with CreateAddon at v1.16.4-eksbuild.2');
    expect(why?.remediation).toContain('--jump');
  });

  it('keeps the plain path (create at the next minor) when EKS offers it', () => {
    const plan = planUpgrade(input({ installed: 'v1.16.4', kubernetesVersion: '1.30', target: 'v1.18.6-eksbuild.1' }));
    expect(plan.steps.map((s) => s.action)).toEqual(['create', 'update']);
    expect(plan.findings.some((f) => f.id === 'adopt-through-manifests')).toBe(false);
  });

  it('never plans manifest steps for a managed add-on: the gap stays an error', () => {
    expect(() => planUpgrade(input({ installed: 'v1.12.6-eksbuild.2', managed: true, kubernetesVersion: '1.30' }))).toThrow(
      /EKS offers no v1\.13 version for Kubernetes 1\.30/,
    );
  });

  it('says which minor has no shipped manifest when it cannot bridge the gap', () => {
    const manifests = MANIFESTS.filter((v) => !v.startsWith('v1.14.'));
    expect(() => planUpgrade(input({ installed: 'v1.12.6', kubernetesVersion: '1.30', manifests }))).toThrow(
      /vpccni ships no upstream manifest of v1\.14/,
    );
  });

  it('jumps with one CreateAddon only when asked, naming the minors it skips', () => {
    const plan = planUpgrade(input({ installed: 'v1.12.6', kubernetesVersion: '1.30', jump: true }));
    expect(plan.steps).toEqual([{ from: 'v1.12.6', to: 'v1.20.1-eksbuild.1', action: 'create' }]);
    const skip = plan.findings.find((f) => f.id === 'jump-skips-minors');
    expect(skip?.severity).toBe('warning');
    expect(skip?.message).toContain('skipping v1.13, v1.14, v1.15, v1.16, v1.17, v1.18, v1.19');
  });

  it('every plan from an old install moves one minor per step and ends at the target', () => {
    const releases = MANIFESTS.filter((v) => ['11', '12', '13', '14', '15'].includes(v.split('.')[1]!));
    fc.assert(
      fc.property(fc.constantFrom(...releases), fc.constantFrom('1.29', '1.30', '1.31'), (installed, k8s) => {
        const plan = planUpgrade(input({ installed, kubernetesVersion: k8s }));
        let previous = parseAddonVersion(installed);
        let managed = false;
        for (const step of plan.steps) {
          const next = parseAddonVersion(step.to);
          expect(minorIndex(next) - minorIndex(previous)).toBe(1);
          if (step.action === 'apply') expect(managed).toBe(false);
          if (step.action === 'create') managed = true;
          if (step.action === 'update') expect(managed).toBe(true);
          previous = next;
        }
        expect(plan.steps.at(-1)!.to).toBe(plan.to);
        expect(plan.steps.filter((s) => s.action === 'create')).toHaveLength(1);
      }),
    );
  });
});

describe('upgrade --self-managed', () => {
  it('applies a shipped manifest per minor up to the release of EKS latest', () => {
    const plan = planSelfManaged(input({ installed: 'v1.12.6', kubernetesVersion: '1.30' }));
    expect(plan.to).toBe('v1.20.1');
    expect(plan.steps.map((s) => [s.action, s.to])).toEqual([
      ['apply', 'v1.13.4'],
      ['apply', 'v1.14.1'],
      ['apply', 'v1.15.5'],
      ['apply', 'v1.16.4'],
      ['apply', 'v1.17.1'],
      ['apply', 'v1.18.6'],
      ['apply', 'v1.19.6'],
      ['apply', 'v1.20.1'],
    ]);
  });

  it('skips a release an advisory excludes in this context (v1.19.4 with custom networking)', () => {
    const context = { ...PLAIN, kubernetesVersion: '1.30', customNetworking: true };
    const plan = planSelfManaged(input({ installed: 'v1.18.6', kubernetesVersion: '1.30', target: 'v1.19.6', context }));
    expect(plan.steps.map((s) => s.to)).toEqual(['v1.19.6']);
  });

  it('refuses a managed add-on and a release it ships no manifest of', () => {
    expect(() => planSelfManaged(input({ installed: 'v1.19.6-eksbuild.1', managed: true, kubernetesVersion: '1.30' }))).toThrow(UsageError);
    expect(() => planSelfManaged(input({ installed: 'v1.12.6', kubernetesVersion: '1.30', target: 'v1.13.2' }))).toThrow(
      /ships no upstream manifest of v1\.13\.2 \(of v1\.13 it ships v1\.13\.4\)/,
    );
  });

  it('has nothing to do at the target release', () => {
    expect(planSelfManaged(input({ installed: 'v1.20.1', kubernetesVersion: '1.30' })).steps).toEqual([]);
  });
});
