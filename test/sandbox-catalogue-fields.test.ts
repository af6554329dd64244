/**
 * The catalogue's per-version fields (issue 9): `computeTypes`, `requiresConfiguration` and
 * `requiresIamPermissions` come from fixtures/catalogues/*.json per add-on version, appear in
 * DescribeAddonVersions as EKS gives them (read by the real AWS CLI, whose botocore model parses them), are
 * left out by snapshots older than the field, and vpccni reads them (the role check, Auto Mode). The defaults
 * for Kubernetes 1.23 to 1.34 are checked over the snapshot files.
 */
import { describe, expect, it } from 'vitest';
import { checkReadiness } from '../src/decide/checks/index.js';
import { gatherFacts } from '../src/gather/facts.js';
import { CATALOGUE_SNAPSHOTS, loadCatalogueSnapshot } from '../src/sandbox/default-catalogue.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { aws } from './helpers/aws-cli.js';
import { runtimeFor, sandboxesClosedAfterEach } from './helpers/in-process-runtime.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const start = sandboxesClosedAfterEach();
const eksCli = (sb: RunningSandbox, args: string[]) => aws(sb.eksEndpoint, ['eks', ...args], { region: sb.region });

describe('DescribeAddonVersions serves the catalogue fields (AWS CLI)', () => {
  it('a 2026 snapshot gives computeTypes, requiresConfiguration and requiresIamPermissions per version, and one default for 1.34', async () => {
    const sb = await start('default', (s) => {
      s.catalogueSnapshot = 'eks-2026-07';
    });
    const out = await eksCli(sb, ['describe-addon-versions', '--addon-name', 'vpc-cni', '--kubernetes-version', '1.34']);
    expect(out.exitCode, out.stderr).toBe(0);
    const versions = out.json.addons[0].addonVersions as Json[];
    expect(versions.length).toBeGreaterThan(3);
    for (const v of versions) {
      // EKS's key order: addonVersion, architecture, computeTypes, compatibilities, requiresConfiguration, requiresIamPermissions.
      expect(Object.keys(v)).toEqual(['addonVersion', 'architecture', 'computeTypes', 'compatibilities', 'requiresConfiguration', 'requiresIamPermissions']);
      expect(v.computeTypes).toEqual(['ec2']);
      expect(v.requiresConfiguration).toBe(false);
      expect(v.requiresIamPermissions).toBe(true);
    }
    const defaults = versions.filter((v) => v.compatibilities.some((c: Json) => c.defaultVersion === true)).map((v) => v.addonVersion);
    expect(defaults).toEqual(['v1.20.3-eksbuild.1']);
  }, 120_000);

  it('the 1.28-launch snapshot (September 2023) leaves out the fields EKS did not send yet', async () => {
    const sb = await start('default');
    const out = await eksCli(sb, ['describe-addon-versions', '--addon-name', 'vpc-cni', '--kubernetes-version', '1.27']);
    expect(out.exitCode, out.stderr).toBe(0);
    for (const v of out.json.addons[0].addonVersions as Json[]) {
      expect(v).not.toHaveProperty('computeTypes');
      expect(v).not.toHaveProperty('requiresIamPermissions');
      expect(v.requiresConfiguration).toBe(false);
    }
  }, 120_000);
});

describe('vpccni reads them', () => {
  it('the facts carry requiresIamPermissions and computeTypes per version', async () => {
    const sb = await start('default', (s) => {
      s.cluster = { ...s.cluster, kubernetesVersion: '1.33' };
      s.catalogueSnapshot = 'eks-2026-07';
      s.addon = { version: 'v1.20.5-eksbuild.1', serviceAccountRoleArn: 'arn:aws:iam::111122223333:role/AmazonEKSVPCCNIRole' };
      s.daemonSet = { manifest: 'v1.20.5', imageTag: 'v1.20.5-eksbuild.1' };
    });
    const facts = await gatherFacts(runtimeFor(sb));
    const entry = facts.catalogue.find((e) => e.version === 'v1.20.5-eksbuild.1');
    expect(entry?.requiresIamPermissions).toBe(true);
    expect(entry?.computeTypes).toEqual(['ec2']);
  });

  it('the role check suggests a role only for a version that requires IAM permissions', async () => {
    const catalogue = (requiresIamPermissions: boolean) => [
      { version: 'v1.13.4-eksbuild.1', compatibilities: [{ clusterVersion: '1.27' }, { clusterVersion: '1.28' }], requiresConfiguration: false, requiresIamPermissions },
      { version: 'v1.12.6-eksbuild.2', compatibilities: [{ clusterVersion: '1.27', defaultVersion: true }], requiresConfiguration: false, requiresIamPermissions },
    ];
    const ids = async (requires: boolean): Promise<string[]> => {
      const sb = await start('default', (s) => {
        s.addon = { ...s.addon!, serviceAccountRoleArn: null };
        delete s.catalogueSnapshot;
        s.catalogue = catalogue(requires);
      });
      const facts = await gatherFacts(runtimeFor(sb));
      return checkReadiness(facts, '1.28').findings.map((f) => f.id);
    };
    expect(await ids(true)).toContain('irsa-not-configured');
    expect(await ids(false)).not.toContain('irsa-not-configured');
  });

  it('on an Auto Mode cluster beside aws-node, the finding names the compute types EKS offers the version for', async () => {
    const sb = await start('default', (s) => {
      s.cluster = { ...s.cluster, kubernetesVersion: '1.33', autoMode: true };
      s.catalogueSnapshot = 'eks-2026-07';
      s.addon = { version: 'v1.20.5-eksbuild.1', serviceAccountRoleArn: 'arn:aws:iam::111122223333:role/AmazonEKSVPCCNIRole' };
      s.daemonSet = { manifest: 'v1.20.5', imageTag: 'v1.20.5-eksbuild.1' };
    });
    const facts = await gatherFacts(runtimeFor(sb));
    const finding = checkReadiness(facts, '1.34').findings.find((f) => f.id === 'auto-mode');
    expect(finding?.message).toContain('EKS offers v1.20.5-eksbuild.1 for ec2 compute only');
  });
});

describe('the catalogue snapshots cover Kubernetes 1.23 to 1.34, each with one default', () => {
  it('every Kubernetes version of every snapshot has exactly one offered default, the one `defaults` names', () => {
    const covered = new Set<string>();
    for (const name of CATALOGUE_SNAPSHOTS) {
      const snapshot = loadCatalogueSnapshot(name);
      for (const k8s of snapshot.kubernetesVersions) {
        covered.add(k8s);
        const marked = snapshot.entries.filter((e) => e.compatibilities.some((c) => c.clusterVersion === k8s && c.defaultVersion === true)).map((e) => e.version);
        expect(marked, `${name} ${k8s}`).toEqual([snapshot.defaults[k8s]]);
      }
      for (const entry of snapshot.entries) expect(entry.source, `${name} ${entry.version}`).toBeTruthy();
    }
    const expected = Array.from({ length: 12 }, (_, i) => `1.${23 + i}`);
    expect([...covered].sort((a, b) => Number(a.slice(2)) - Number(b.slice(2)))).toEqual(expected);
  });

  it('nothing older than a launch default is offered for 1.32 to 1.34 (eks-2026-07)', () => {
    const snapshot = loadCatalogueSnapshot('eks-2026-07');
    expect(snapshot.defaults).toMatchObject({ '1.32': 'v1.19.2-eksbuild.1', '1.33': 'v1.19.5-eksbuild.1', '1.34': 'v1.20.3-eksbuild.1' });
    const offered = (k8s: string) => snapshot.entries.filter((e) => e.compatibilities.some((c) => c.clusterVersion === k8s)).map((e) => e.version);
    expect(offered('1.34')).not.toContain('v1.19.6-eksbuild.1');
    expect(offered('1.34')).toContain('v1.22.3-eksbuild.1');
    expect(offered('1.32')).not.toContain('v1.19.0-eksbuild.1');
  });
});
