import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { CatalogueEntry } from '../src/domain.js';
import { UsageError } from '../src/errors.js';
import { isExcluded, type AdvisoryContext } from '../src/upgrade-planner/advisories.js';
import { defaultFor, isOffered, kubernetesVersionsOffering, latestFor, versionsFor } from '../src/upgrade-planner/catalogue.js';
import { planUpgrade, resolveTarget, shippedContext, type PlanInput } from '../src/upgrade-planner/plan.js';
import { formatAddonVersion, minorIndex, parseAddonVersion } from '../src/upgrade-planner/version.js';
import realNames from '../fixtures/describe-addon-versions/aws-cli-example3.k8s-1.26.vpc-cni.addonVersion-list.json' with { type: 'json' };

/** The real DescribeAddonVersions list for Kubernetes 1.26 (aws-cli example 3), default marked as v1.12.6-eksbuild.2. */
const REAL_126: CatalogueEntry[] = (realNames as string[]).map((version) => ({
  version,
  compatibilities: [{ clusterVersion: '1.26', defaultVersion: version === 'v1.12.6-eksbuild.2' }],
}));

function entry(version: string, clusters: string[], defaults: string[] = []): CatalogueEntry {
  return { version, compatibilities: clusters.map((clusterVersion) => ({ clusterVersion, defaultVersion: defaults.includes(clusterVersion) })) };
}

/** The user guide's example (the default sandbox): Kubernetes 1.27, newest 1.13 is v1.13.4-eksbuild.1, newest overall v1.14.0-eksbuild.3. */
const UG_127: CatalogueEntry[] = [
  entry('v1.14.0-eksbuild.3', ['1.23', '1.24', '1.25', '1.26', '1.27']),
  entry('v1.13.4-eksbuild.1', ['1.23', '1.24', '1.25', '1.26', '1.27']),
  entry('v1.13.3-eksbuild.1', ['1.23', '1.24', '1.25', '1.26', '1.27']),
  entry('v1.12.6-eksbuild.2', ['1.23', '1.24', '1.25', '1.26', '1.27'], ['1.27']),
  entry('v1.12.6-eksbuild.1', ['1.23', '1.24', '1.25', '1.26']),
  entry('v1.12.5-eksbuild.2', ['1.23', '1.24', '1.25', '1.26', '1.27']),
];

/** Real names around the v1.19.4 advisory (Dec 2024 / 2025 shapes): 1.23 stops at v1.18.5. */
const V119: CatalogueEntry[] = [
  entry('v1.20.0-eksbuild.1', ['1.28', '1.29', '1.30', '1.31']),
  entry('v1.19.5-eksbuild.1', ['1.28', '1.29', '1.30', '1.31']),
  entry('v1.19.4-eksbuild.1', ['1.28', '1.29', '1.30', '1.31']),
  entry('v1.19.3-eksbuild.1', ['1.28', '1.29', '1.30', '1.31']),
  entry('v1.19.0-eksbuild.1', ['1.24', '1.25', '1.26', '1.27', '1.28', '1.29', '1.30', '1.31'], ['1.31']),
  entry('v1.18.6-eksbuild.1', ['1.28', '1.29', '1.30', '1.31']),
  entry('v1.18.5-eksbuild.1', ['1.23', '1.28', '1.29', '1.30', '1.31'], ['1.30']),
];

const PLAIN: AdvisoryContext = {
  kubernetesVersion: '1.26',
  customNetworking: false,
  podEni: false,
  nodeAgentImageTag: null,
  nodeAgentPresent: true,
  networkPolicyEnforcingModeSet: false,
};

function plan(partial: Partial<PlanInput> & Pick<PlanInput, 'installed' | 'target'>) {
  const kubernetesVersion = partial.kubernetesVersion ?? '1.26';
  return planUpgrade({
    managed: true,
    catalogue: REAL_126,
    kubernetesVersion,
    context: { ...PLAIN, kubernetesVersion },
    ...partial,
  });
}

const path = (p: { from: string; steps: Array<{ to: string }> }) => [p.from, ...p.steps.map((s) => s.to)];

describe('catalogue look-ups', () => {
  it('versionsFor lists the real 1.26 versions newest first and nothing for 1.27', () => {
    expect(versionsFor([...REAL_126].reverse(), '1.26').map((e) => e.version)).toEqual(realNames);
    expect(versionsFor(REAL_126, '1.27')).toEqual([]);
    expect(versionsFor(REAL_126, 'v1.26')).toHaveLength(21);
  });
  it.each([
    [UG_127, '1.27', 'v1.14.0-eksbuild.3', 'v1.12.6-eksbuild.2'],
    [REAL_126, '1.26', 'v1.18.0-eksbuild.1', 'v1.12.6-eksbuild.2'],
    [V119, '1.23', 'v1.18.5-eksbuild.1', null],
    [V119, '1.31', 'v1.20.0-eksbuild.1', 'v1.19.0-eksbuild.1'],
    [V119, '1.22', null, null],
  ])('latest and default (%#)', (catalogue, k8s, latest, def) => {
    expect(latestFor(catalogue, k8s)).toBe(latest);
    expect(defaultFor(catalogue, k8s)).toBe(def);
  });
  it.each([
    ['v1.12.6-eksbuild.1', '1.27', false],
    ['v1.12.6-eksbuild.2', '1.27', true],
    ['v1.12.6', '1.27', true],
    ['1.13.4', '1.23', true],
    ['v1.14.0-eksbuild.1', '1.27', false],
    ['not-a-version', '1.27', false],
  ])('isOffered(%s, %s) = %s', (version, k8s, expected) => {
    expect(isOffered(UG_127, version, k8s)).toBe(expected);
  });
  it('kubernetesVersionsOffering lists the clusters of a version in order', () => {
    expect(kubernetesVersionsOffering(V119, 'v1.19.0-eksbuild.1')).toEqual(['1.24', '1.25', '1.26', '1.27', '1.28', '1.29', '1.30', '1.31']);
  });
});

describe('planUpgrade on the real 1.26 list', () => {
  it.each([
    ['v1.12.6-eksbuild.2', 'v1.14.0-eksbuild.3', ['v1.12.6-eksbuild.2', 'v1.13.4-eksbuild.1', 'v1.14.0-eksbuild.3']],
    ['v1.12.6-eksbuild.2', 'latest', ['v1.12.6-eksbuild.2', 'v1.13.4-eksbuild.1', 'v1.14.1-eksbuild.1', 'v1.15.5-eksbuild.1', 'v1.16.4-eksbuild.2', 'v1.17.1-eksbuild.1', 'v1.18.0-eksbuild.1']],
    ['v1.12.0-eksbuild.2', 'v1.12.6-eksbuild.2', ['v1.12.0-eksbuild.2', 'v1.12.6-eksbuild.2']],
    ['v1.12.6-eksbuild.1', '1.12.6', ['v1.12.6-eksbuild.1', 'v1.12.6-eksbuild.2']],
    ['v1.12.6-eksbuild.2', 'v1.14.0', ['v1.12.6-eksbuild.2', 'v1.13.4-eksbuild.1', 'v1.14.0-eksbuild.3']],
    ['v1.12.6-eksbuild.2', '1.15.0-eksbuild.2', ['v1.12.6-eksbuild.2', 'v1.13.4-eksbuild.1', 'v1.14.1-eksbuild.1', 'v1.15.0-eksbuild.2']],
    ['v1.18.0-eksbuild.1', 'v1.16.0', ['v1.18.0-eksbuild.1', 'v1.17.1-eksbuild.1', 'v1.16.0-eksbuild.1']],
    ['v1.16.4-eksbuild.2', 'default', ['v1.16.4-eksbuild.2', 'v1.15.5-eksbuild.1', 'v1.14.1-eksbuild.1', 'v1.13.4-eksbuild.1', 'v1.12.6-eksbuild.2']],
    ['v1.15.5-eksbuild.1', 'v1.16.3-eksbuild.2', ['v1.15.5-eksbuild.1', 'v1.16.3-eksbuild.2']],
  ])('managed %s → %s', (installed, target, expected) => {
    const result = plan({ installed, target });
    expect(path(result)).toEqual(expected);
    expect(result.to).toBe(expected.at(-1));
    expect(result.steps.every((s) => s.action === 'update')).toBe(true);
  });

  it('the contract example on the user-guide catalogue (Kubernetes 1.27)', () => {
    const result = plan({ installed: 'v1.12.6-eksbuild.2', target: 'v1.14.0-eksbuild.3', catalogue: UG_127, kubernetesVersion: '1.27' });
    expect(result.steps).toEqual([
      { from: 'v1.12.6-eksbuild.2', to: 'v1.13.4-eksbuild.1', action: 'update' },
      { from: 'v1.13.4-eksbuild.1', to: 'v1.14.0-eksbuild.3', action: 'update' },
    ]);
    expect(result.findings.map((f) => f.id)).toEqual(['v1.14.0-node-agent-port-8080']);
  });

  it('already there: empty plan', () => {
    const result = plan({ installed: 'v1.14.0-eksbuild.3', target: 'v1.14.0-eksbuild.3' });
    expect(result).toMatchObject({ from: 'v1.14.0-eksbuild.3', to: 'v1.14.0-eksbuild.3', steps: [] });
  });

  it('targets only versions offered for the cluster (v1.12.6-eksbuild.1 is gone from 1.27)', () => {
    expect(() => plan({ installed: 'v1.13.4-eksbuild.1', target: 'v1.12.6-eksbuild.1', catalogue: UG_127, kubernetesVersion: '1.27' })).toThrow(
      'v1.12.6-eksbuild.1 is not offered for Kubernetes 1.27 (it is offered for Kubernetes 1.23, 1.24, 1.25, 1.26)',
    );
  });
});

describe('self-managed installs', () => {
  it.each([
    ['v1.12.6', 'v1.14.0-eksbuild.3', [['v1.12.6', 'v1.13.4-eksbuild.1', 'create'], ['v1.13.4-eksbuild.1', 'v1.14.0-eksbuild.3', 'update']]],
    ['v1.12.6', 'v1.12.6', [['v1.12.6', 'v1.12.6-eksbuild.2', 'create']]],
    ['v1.12.6', 'default', [['v1.12.6', 'v1.12.6-eksbuild.2', 'create']]],
    ['v1.12.6-eksbuild.2', 'v1.12.6-eksbuild.2', [['v1.12.6-eksbuild.2', 'v1.12.6-eksbuild.2', 'create']]],
    ['v1.13.4', 'v1.12.5-eksbuild.2', [['v1.13.4', 'v1.12.5-eksbuild.2', 'create']]],
  ])('%s → %s', (installed, target, expected) => {
    const result = plan({ installed, target, managed: false, catalogue: UG_127, kubernetesVersion: '1.27' });
    expect(result.steps.map((s) => [s.from, s.to, s.action])).toEqual(expected);
  });
});

describe('advisories in planning', () => {
  const cn = (k8s: string): AdvisoryContext => ({ ...PLAIN, kubernetesVersion: k8s, customNetworking: true });

  it('skips v1.19.4 as an intermediate step with custom networking (newest usable 1.19 is v1.19.5)', () => {
    const catalogue = V119.filter((e) => e.version !== 'v1.19.5-eksbuild.1');
    const result = plan({ installed: 'v1.18.6-eksbuild.1', target: 'v1.20.0-eksbuild.1', catalogue, kubernetesVersion: '1.30', context: cn('1.30') });
    expect(path(result)).toEqual(['v1.18.6-eksbuild.1', 'v1.19.3-eksbuild.1', 'v1.20.0-eksbuild.1']);
    const plain = plan({ installed: 'v1.18.6-eksbuild.1', target: 'v1.20.0-eksbuild.1', catalogue, kubernetesVersion: '1.30' });
    expect(path(plain)).toEqual(['v1.18.6-eksbuild.1', 'v1.19.4-eksbuild.1', 'v1.20.0-eksbuild.1']);
  });

  it('a target under an error advisory yields the plan and an error finding', () => {
    const result = plan({ installed: 'v1.19.3-eksbuild.1', target: 'v1.19.4-eksbuild.1', catalogue: V119, kubernetesVersion: '1.30', context: { ...PLAIN, kubernetesVersion: '1.30', podEni: true } });
    expect(result.steps).toHaveLength(1);
    expect(result.findings).toContainEqual(expect.objectContaining({ id: 'v1.19.4-custom-networking-sgp', severity: 'error' }));
  });

  it('latest skips a newest version that is excluded', () => {
    const catalogue = V119.filter((e) => !['v1.20.0-eksbuild.1', 'v1.19.5-eksbuild.1'].includes(e.version));
    expect(resolveTarget({ target: 'latest', catalogue, kubernetesVersion: '1.30', context: cn('1.30') })).toBe('v1.19.3-eksbuild.1');
    expect(resolveTarget({ target: 'latest', catalogue, kubernetesVersion: '1.30', context: { ...PLAIN, kubernetesVersion: '1.30' } })).toBe('v1.19.4-eksbuild.1');
  });

  it('refuses when every version of a needed minor is excluded', () => {
    const catalogue = V119.filter((e) => !['v1.19.5-eksbuild.1', 'v1.19.3-eksbuild.1', 'v1.19.0-eksbuild.1'].includes(e.version));
    expect(() => plan({ installed: 'v1.18.6-eksbuild.1', target: 'v1.20.0-eksbuild.1', catalogue, kubernetesVersion: '1.30', context: cn('1.30') })).toThrow(
      /Cannot plan from v1.18.6-eksbuild.1 to v1.20.0-eksbuild.1: every v1.19 version offered for Kubernetes 1.30 is excluded by a known issue \(v1.19.4-custom-networking-sgp\)/,
    );
  });

  it('refuses when a needed minor is missing', () => {
    const catalogue = REAL_126.filter((e) => !e.version.startsWith('v1.13.'));
    expect(() => plan({ installed: 'v1.12.6-eksbuild.2', target: 'v1.14.0-eksbuild.3', catalogue })).toThrow(
      'Cannot plan from v1.12.6-eksbuild.2 to v1.14.0-eksbuild.3: EKS offers no v1.13 version for Kubernetes 1.26',
    );
  });
});

describe('errors', () => {
  it.each([
    ['v1.99.0-eksbuild.1', 'v1.99.0-eksbuild.1 is not a vpc-cni version EKS offers; run `vpccni plan --to latest` or see `aws eks describe-addon-versions --addon-name vpc-cni`.'],
    ['1.99.0', 'v1.99.0 is not a vpc-cni version EKS offers; run `vpccni plan --to latest` or see `aws eks describe-addon-versions --addon-name vpc-cni`.'],
    ['v1.14.0-eksbuild.2', 'v1.14.0-eksbuild.2 is not a vpc-cni version EKS offers; run `vpccni plan --to latest` or see `aws eks describe-addon-versions --addon-name vpc-cni`.'],
    ['newest', '"newest" is not an add-on version; use the form v1.14.0-eksbuild.3 (or v1.14.0, 1.14.0).'],
  ])('target %s', (target, message) => {
    expect(() => plan({ installed: 'v1.12.6-eksbuild.2', target })).toThrow(UsageError);
    expect(() => plan({ installed: 'v1.12.6-eksbuild.2', target })).toThrow(message);
  });

  it('target not offered for the cluster names the Kubernetes versions it is offered for', () => {
    expect(() => plan({ installed: 'v1.18.5-eksbuild.1', target: 'v1.19.0-eksbuild.1', catalogue: V119, kubernetesVersion: '1.23' })).toThrow(
      'v1.19.0-eksbuild.1 is not offered for Kubernetes 1.23 (it is offered for Kubernetes 1.24, 1.25, 1.26, 1.27, 1.28, 1.29, 1.30, 1.31)',
    );
  });

  it.each(['latest', 'default'])('%s with nothing offered', (target) => {
    expect(() => plan({ installed: 'v1.12.6-eksbuild.2', target, kubernetesVersion: '1.22' })).toThrow(UsageError);
    expect(() => plan({ installed: 'v1.12.6-eksbuild.2', target, kubernetesVersion: '1.22' })).toThrow(/Kubernetes 1\.22/);
  });

  it('default with no default marked', () => {
    expect(() => plan({ installed: 'v1.18.5-eksbuild.1', target: 'default', catalogue: V119, kubernetesVersion: '1.23' })).toThrow(
      'EKS marks no vpc-cni version as default for Kubernetes 1.23',
    );
  });

  it('a malformed installed version is a UsageError', () => {
    expect(() => plan({ installed: 'latest', target: 'v1.14.0' })).toThrow(UsageError);
  });
});

describe('properties', () => {
  const k8sVersions = ['1.23', '1.27', '1.30'];
  const versionArb = fc.record({
    minor: fc.integer({ min: 12, max: 23 }),
    patch: fc.integer({ min: 0, max: 5 }),
    build: fc.integer({ min: 1, max: 3 }),
  });
  const catalogueArb = fc
    .uniqueArray(versionArb, { minLength: 1, maxLength: 60, selector: (v) => `${v.minor}.${v.patch}.${v.build}` })
    .chain((versions) =>
      fc.tuple(
        fc.constant(versions),
        fc.array(fc.subarray(k8sVersions, { minLength: 1 }), { minLength: versions.length, maxLength: versions.length }),
      ),
    )
    .map(([versions, clusters]) =>
      versions.map((v, i) => entry(formatAddonVersion({ major: 1, ...v }), clusters[i] ?? ['1.30'])),
    );
  const contextArb = fc.record({
    kubernetesVersion: fc.constantFrom(...k8sVersions),
    customNetworking: fc.boolean(),
    podEni: fc.boolean(),
    nodeAgentImageTag: fc.constantFrom(null, 'v1.3.5', 'v1.4.1'),
    nodeAgentPresent: fc.boolean(),
    networkPolicyEnforcingModeSet: fc.boolean(),
    prometheusAdapterPresent: fc.boolean(),
    roleAllowsDescribeSubnetsAndSecurityGroups: fc.constantFrom(null, true, false),
  });
  const scenarioArb = fc
    .tuple(catalogueArb, contextArb, fc.boolean(), fc.boolean())
    .chain(([catalogue, context, managed, plainInstalled]) =>
      fc.tuple(
        fc.constant(catalogue),
        fc.constant(context),
        fc.constant(managed),
        fc.constantFrom(...catalogue.map((e) => e.version)).map((v) => (plainInstalled ? v.replace(/-eksbuild\.\d+$/, '') : v)),
        fc.constantFrom(...catalogue.map((e) => e.version), 'latest'),
      ),
    );

  it('every step moves at most one minor, steps chain, the path ends at the target, no step lands on a version excluded once installed', () => {
    let planned = 0;
    fc.assert(
      fc.property(scenarioArb, ([catalogue, context, managed, installed, target]) => {
        const k8s = context.kubernetesVersion;
        let result;
        try {
          result = planUpgrade({ installed, managed, target, catalogue, kubernetesVersion: k8s, context });
        } catch (error) {
          expect(error).toBeInstanceOf(UsageError);
          const message = (error as Error).message;
          expect(message).toMatch(/is not offered for Kubernetes|EKS offers no|excluded by a known issue|marks no/);
          return;
        }
        planned += 1;
        const offered = new Set(versionsFor(catalogue, k8s).map((e) => e.version));
        expect(result.from).toBe(installed);
        expect(offered.has(result.to)).toBe(true);
        if (target !== 'latest') expect(result.to).toBe(target);
        if (result.steps.length === 0) {
          expect(managed).toBe(true);
          expect(result.to).toBe(installed);
          return;
        }
        expect(result.steps[0]?.from).toBe(installed);
        expect(result.steps.at(-1)?.to).toBe(result.to);
        const minors = [installed, ...result.steps.map((s) => s.to)].map((v) => minorIndex(parseAddonVersion(v)));
        result.steps.forEach((step, i) => {
          expect(Math.abs(minorIndex(parseAddonVersion(step.to)) - minorIndex(parseAddonVersion(step.from)))).toBeLessThanOrEqual(1);
          if (i + 1 < result.steps.length) {
            expect(step.to).toBe(result.steps[i + 1]?.from);
            expect(isExcluded(step.to, shippedContext(context))).toBe(false);
          }
          expect(offered.has(step.to)).toBe(true);
          expect(step.action).toBe(i === 0 && !managed ? 'create' : 'update');
        });
        // monotone: never turns back
        const deltas = minors.slice(1).map((m, i) => m - (minors[i] ?? m)).filter((d) => d !== 0);
        expect(new Set(deltas.map(Math.sign)).size).toBeLessThanOrEqual(1);
        // each intermediate step is the newest usable build of its minor
        for (const step of result.steps.slice(0, -1)) {
          const m = minorIndex(parseAddonVersion(step.to));
          const newestUsable = versionsFor(catalogue, k8s).find((e) => minorIndex(parseAddonVersion(e.version)) === m && !isExcluded(e.version, shippedContext(context)));
          expect(step.to).toBe(newestUsable?.version);
        }
      }),
      { numRuns: 400 },
    );
    expect(planned).toBeGreaterThan(50);
  });

  it('reversing direction works: a downgrade walks the same minors backwards', () => {
    fc.assert(
      fc.property(fc.integer({ min: 12, max: 18 }), fc.integer({ min: 12, max: 18 }), (a, b) => {
        const newestOf = (m: number) => versionsFor(REAL_126, '1.26').find((e) => e.version.startsWith(`v1.${m}.`))?.version ?? '';
        const up = plan({ installed: newestOf(a), target: newestOf(b) });
        const down = plan({ installed: newestOf(b), target: newestOf(a) });
        expect(path(down)).toEqual([...path(up)].reverse());
        expect(up.steps).toHaveLength(Math.abs(a - b));
      }),
    );
  });
});

describe('advisories about the running node agent', () => {
  const V123: CatalogueEntry[] = [
    entry('v1.23.0-eksbuild.1', ['1.32', '1.33']),
    entry('v1.22.4-eksbuild.1', ['1.32', '1.33']),
  ];
  const onOldAgent = { ...PLAIN, kubernetesVersion: '1.33', nodeAgentImageTag: 'v1.4.0' };

  it('do not block a step whose manifest ships its own agent (v1.22.4 with agent v1.4.0 → v1.23.0)', () => {
    const result = planUpgrade({
      installed: 'v1.22.4-eksbuild.1', managed: true, target: 'latest', catalogue: V123, kubernetesVersion: '1.33', context: onOldAgent,
    });
    expect(result.to).toBe('v1.23.0-eksbuild.1');
    expect(result.findings.map((f) => f.id)).not.toContain('v1.23-node-agent-v1.4.1-required');
  });

  it('still apply to the version running now', () => {
    const result = planUpgrade({
      installed: 'v1.23.0-eksbuild.1', managed: true, target: 'v1.23.0-eksbuild.1', catalogue: V123, kubernetesVersion: '1.33', context: onOldAgent,
    });
    expect(result.steps).toEqual([]);
    expect(result.findings.map((f) => f.id)).toContain('v1.23-node-agent-v1.4.1-required');
  });
});
