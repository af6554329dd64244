/**
 * What a fleet run asks per cluster and what it asks once (the fleet benchmark's ideal rests on it): the
 * clusters of one account share their add-on role, so the role, its permission policies, the OIDC
 * providers and the add-on catalogue are read once per credentials and region, not once per cluster; every
 * cluster still gets its own DescribeCluster, DescribeAddon and Kubernetes reads. In-process, through the
 * real SDK and the in-process Kubernetes client against a sandbox of six clusters.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetFlags } from '../src/commands/fleet-flags.js';
import { fleetRows } from '../src/commands/fleet.js';
import { createFleetAccess } from '../src/gather/fleet-access.js';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { ACCOUNTS, REGIONS, fleetScenarioYaml } from '../bench/fleet-scenario.js';

const CLUSTERS = 8;

/** The benchmark's fleet (bench/fleet-scenario.js), small. */
function scenarioFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'vpccni-fleet-shared-')), 'fleet.yaml');
  writeFileSync(file, fleetScenarioYaml(CLUSTERS, 'c'));
  return file;
}

describe('a fleet run reads what clusters share once', () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await startSandbox(scenarioFile());
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('asks IAM and the catalogue once per account and region, and each cluster for its own state', async () => {
    const first = sandbox.accounts.find((a) => a.id === ACCOUNTS[0])!;
    const access = createFleetAccess({
      eksEndpoint: sandbox.eksEndpoint,
      iamEndpoint: sandbox.iamEndpoint,
      stsEndpoint: sandbox.stsEndpoint,
      baseCredentials: { accessKeyId: first.accessKeyId, secretAccessKey: first.secretAccessKey },
    });
    try {
      const flags = fleetFlags(
        'check',
        { regions: REGIONS.join(','), roleArnTemplate: 'arn:aws:iam::{account}:role/VpccniFleetReadOnly', accounts: ACCOUNTS.join(','), concurrency: '4' },
        {},
      );
      const rows = await fleetRows(flags, access);
      expect(rows).toHaveLength(CLUSTERS);
      expect(rows.every((r) => r.error === null && r.version === 'v1.19.5-eksbuild.1')).toBe(true);
      // The role's permissions were judged (the read is shared, not skipped): no finding says they were unread.
      expect(rows.flatMap((r) => r.findings).filter((f) => /could not be read|unread/i.test(f.message))).toEqual([]);
    } finally {
      access.close();
    }
    const count = (service: string, operation: string) => sandbox.log.entries.filter((e) => e.service === service && e.operation === operation).length;
    const pairs = ACCOUNTS.length * REGIONS.length;
    // Per cluster: its own description and add-on, and its own Kubernetes reads.
    for (const op of ['DescribeCluster', 'DescribeAddon', 'ListInsights']) expect(count('eks', op), op).toBe(CLUSTERS);
    expect(count('kube', 'GET daemonsets/aws-node')).toBe(CLUSTERS);
    // Once per account and region (the clients and answers they share), never per cluster.
    expect(count('sts', 'AssumeRole')).toBe(ACCOUNTS.length);
    for (const op of ['GetRole', 'ListRolePolicies', 'GetPolicy', 'GetPolicyVersion', 'ListOpenIDConnectProviders']) {
      expect(count('iam', op), op).toBe(pairs);
    }
    // GetRole lists the attached policies, and so does the permission check: twice per account and region.
    expect(count('iam', 'ListAttachedRolePolicies')).toBe(2 * pairs);
    expect(count('eks', 'DescribeAddonVersions')).toBe(pairs);
  });
});
