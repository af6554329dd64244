/**
 * The sandbox's configuration schemas (fixtures/addon-configuration/index.json) and catalogue snapshots
 * (fixtures/catalogues/): what each version accepts, that every offered version has a schema, and that the
 * default scenario's one-minor-at-a-time walk still works through the EKS emulator.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { configurationSchemaFor, validateConfigurationValues } from '../src/sandbox/addon-controller.js';
import { CATALOGUES, CATALOGUE_SNAPSHOTS, loadCatalogueSnapshot } from '../src/sandbox/default-catalogue.js';
import { loadScenario, startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { schemaEntryFor, schemaIndex } from '../src/sandbox/schemas.js';

const CONFIG_DIR = new URL('../fixtures/addon-configuration/', import.meta.url);

/** The EKS error message for the values, or undefined when EKS would accept them. */
function rejection(version: string, values: unknown): string | undefined {
  try {
    validateConfigurationValues(version, JSON.stringify(values));
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

describe('configuration schemas per version', () => {
  it('network policy arrives in v1.14.0: v1.13 rejects enableNetworkPolicy and nodeAgent, v1.14 accepts them', () => {
    for (const v of ['v1.13.0-eksbuild.1', 'v1.13.4-eksbuild.1']) {
      expect(rejection(v, { enableNetworkPolicy: 'true' })).toBe(
        'ConfigurationValue provided in request is not supported [$.enableNetworkPolicy: is not defined in the schema and the schema does not allow additional properties]',
      );
      expect(rejection(v, { nodeAgent: { enableCloudWatchLogs: 'true' } })).toContain('$.nodeAgent');
      // v1.13 already has the v1.14-era env list and eniConfig (cdk-eks-blueprints#741 excerpt).
      expect(rejection(v, { env: { AWS_EC2_ENDPOINT: 'https://ec2.example', WARM_IP_TARGET: '5' } })).toBeUndefined();
    }
    for (const v of ['v1.14.0-eksbuild.3', 'v1.14.1-eksbuild.1']) {
      expect(rejection(v, { enableNetworkPolicy: 'true' })).toBeUndefined();
      expect(rejection(v, { enableNetworkPolicy: 'true', nodeAgent: { enableCloudWatchLogs: 'true' } })).toBeUndefined();
    }
    // The value used in issue #2540 with v1.14.0-eksbuild.3.
    expect(rejection('v1.14.0-eksbuild.3', JSON.parse(readFileSync(new URL('../fixtures/configuration-values/issue-2540.enable-network-policy.json', import.meta.url), 'utf8')))).toBeUndefined();
  });

  it('v1.12 builds accept env ANNOTATE_POD_IP (issues #2173, #2272) but not WARM_IP_TARGET; v1.12.0-eksbuild.1 is its real schema', () => {
    // v1.12.0-eksbuild.1 serves the real response (EKS User Guide): cri, no ANNOTATE_POD_IP (issue 21).
    expect(rejection('v1.12.0-eksbuild.1', { env: { ANNOTATE_POD_IP: 'true' } })).toContain('$.env.ANNOTATE_POD_IP: is not defined in the schema');
    expect(rejection('v1.12.0-eksbuild.1', { cri: { hostPath: { path: '/run/containerd/containerd.sock' } } })).toBeUndefined();
    for (const v of ['v1.12.1-eksbuild.1', 'v1.12.2-eksbuild.1', 'v1.12.6-eksbuild.2']) {
      expect(rejection(v, { env: { ANNOTATE_POD_IP: 'true' } })).toBeUndefined();
      expect(rejection(v, { env: { ANNOTATE_POD_IP: 'yes' } })).toContain('does not match the boolean pattern');
      expect(rejection(v, { env: { WARM_IP_TARGET: '5' } })).toContain('$.env.WARM_IP_TARGET: is not defined in the schema');
    }
  });

  it('v1.19.6 accepts nodeAgent.logLevel (aws-network-policy-agent#443); v1.15.1 does not', () => {
    const values = { enableNetworkPolicy: 'true', nodeAgent: { enableCloudWatchLogs: 'true', enablePolicyEventLogs: 'true', logLevel: 'error' } };
    expect(rejection('v1.19.6-eksbuild.1', values)).toBeUndefined();
    expect(rejection('v1.23.0-eksbuild.1', values)).toBeUndefined();
    expect(rejection('v1.15.1-eksbuild.1', values)).toContain('$.nodeAgent.logLevel: is not defined in the schema');
  });

  it('adds env settings at the release whose manifest introduced them', () => {
    expect(rejection('v1.17.1-eksbuild.1', { env: { NETWORK_POLICY_ENFORCING_MODE: 'strict' } })).toBeUndefined();
    expect(rejection('v1.16.4-eksbuild.2', { env: { NETWORK_POLICY_ENFORCING_MODE: 'strict' } })).toContain('is not defined');
    expect(rejection('v1.18.5-eksbuild.1', { env: { ENABLE_SUBNET_DISCOVERY: 'false' } })).toBeUndefined();
    expect(rejection('v1.20.0-eksbuild.1', { env: { ENABLE_MULTI_NIC: 'true' } })).toBeUndefined();
    expect(rejection('v1.19.6-eksbuild.1', { env: { ENABLE_MULTI_NIC: 'true' } })).toContain('is not defined');
    expect(rejection('v1.16.0-eksbuild.1', { enableWindowsPrefixDelegation: 'true' })).toBeUndefined();
    expect(rejection('v1.15.1-eksbuild.1', { enableWindowsPrefixDelegation: 'true' })).toContain('is not defined');
  });

  it('serves the real responses verbatim', () => {
    for (const [version, file] of [
      ['v1.15.1-eksbuild.1', 'vpc-cni-v1.15.1-eksbuild.1.describe-addon-configuration.json'],
      ['v1.11.4-eksbuild.1', 'vpc-cni-v1.12.0-eksbuild.1.describe-addon-configuration.json'],
    ] as const) {
      const response = JSON.parse(readFileSync(new URL(file, CONFIG_DIR), 'utf8')) as { configurationSchema: string };
      expect(configurationSchemaFor(version)).toBe(response.configurationSchema);
    }
  });

  it('every index row names existing draft-06 schema files of the real shape, and the ranges do not overlap', () => {
    const rows = schemaIndex();
    for (const row of rows) {
      expect(existsSync(new URL(row.file, CONFIG_DIR)), row.file).toBe(true);
      if (row.response) expect(existsSync(new URL(row.response, CONFIG_DIR)), row.response).toBe(true);
      const schema = JSON.parse(readFileSync(new URL(row.file, CONFIG_DIR), 'utf8')) as Record<string, unknown>;
      expect(schema.$schema).toBe('http://json-schema.org/draft-06/schema#');
      expect(schema.$ref).toBe('#/definitions/VpcCni');
      expect(row.source).toMatch(/^(real|derived)/);
      expect(row.basis.length).toBeGreaterThan(20);
    }
    for (let minor = 10; minor <= 23; minor++) {
      for (let patch = 0; patch <= 9; patch++) {
        const release = `1.${minor}.${patch}`;
        const matching = rows.filter((r) => r.versions && schemaEntryFor(`v${release}-eksbuild.1`) === r);
        expect(matching.length, release).toBe(1);
      }
    }
  });
});

describe('catalogue snapshots', () => {
  it('every version in every catalogue resolves to a schema whose file exists and compiles', () => {
    for (const [name, catalogue] of Object.entries(CATALOGUES)) {
      expect(catalogue.length, name).toBeGreaterThan(0);
      for (const entry of catalogue) {
        const row = schemaEntryFor(entry.version);
        expect(existsSync(new URL(row.file, CONFIG_DIR)), `${name} ${entry.version}`).toBe(true);
        expect(rejection(entry.version, {})).toBeUndefined();
        expect(rejection(entry.version, { env: { AWS_VPC_K8S_CNI_EXTERNALSNAT: 'true' } }), entry.version).toBeUndefined();
      }
    }
  });

  it('are dated, name a source per entry, have at most one default per Kubernetes version, and cover 1.23 to 1.34', () => {
    const covered = new Set<string>();
    for (const name of CATALOGUE_SNAPSHOTS) {
      const snapshot = loadCatalogueSnapshot(name);
      expect(snapshot.snapshot).toBe(name);
      expect(snapshot.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(Object.keys(CATALOGUES)).toContain(name);
      for (const k8s of snapshot.kubernetesVersions) {
        covered.add(k8s);
        const offered = snapshot.entries.filter((e) => e.compatibilities.some((c) => c.clusterVersion === k8s));
        expect(offered.length, `${name} ${k8s}`).toBeGreaterThan(0);
        expect(offered.filter((e) => e.compatibilities.some((c) => c.clusterVersion === k8s && c.defaultVersion)).length).toBeLessThanOrEqual(1);
      }
      for (const entry of snapshot.entries) {
        expect(entry.version).toMatch(/^v1\.\d+\.\d+-eksbuild\.\d+$/);
        expect(entry.source.length, `${name} ${entry.version}`).toBeGreaterThan(10);
      }
    }
    for (let minor = 23; minor <= 34; minor++) expect(covered, `1.${minor}`).toContain(`1.${minor}`);
  });

  it('eks-2024-04 offers v1.15.1-eksbuild.1, v1.15.0-eksbuild.2 and v1.14.1-eksbuild.1 for 1.26 and 1.27, as the AWS CLI example shows', () => {
    const cli = JSON.parse(
      readFileSync(new URL('../fixtures/describe-addon-versions/aws-cli-example3.k8s-1.26.vpc-cni.addonVersion-list.json', import.meta.url), 'utf8'),
    ) as string[];
    const offered = (k8s: string) => CATALOGUES['eks-2024-04']!.filter((e) => e.compatibilities.some((c) => c.clusterVersion === k8s)).map((e) => e.version);
    expect(offered('1.26').filter((v) => !v.startsWith('v1.11.'))).toEqual(cli);
    for (const k8s of ['1.26', '1.27']) {
      expect(offered(k8s)).toEqual(expect.arrayContaining(['v1.15.1-eksbuild.1', 'v1.15.0-eksbuild.2', 'v1.14.1-eksbuild.1']));
    }
  });

  it('keeps the contract default catalogue: 1.27 tops out at v1.14.0-eksbuild.3 with v1.12.6-eksbuild.2 the default', () => {
    const for127 = CATALOGUES['eks-1.28-launch']!.filter((e) => e.compatibilities.some((c) => c.clusterVersion === '1.27'));
    expect(for127[0]!.version).toBe('v1.14.0-eksbuild.3');
    expect(for127.filter((e) => e.compatibilities.some((c) => c.clusterVersion === '1.27' && c.defaultVersion)).map((e) => e.version)).toEqual([
      'v1.12.6-eksbuild.2',
    ]);
  });
});

describe("the default scenario's walk", () => {
  const running: RunningSandbox[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.close()));
  });

  it('goes v1.12.6-eksbuild.2 → v1.13.4-eksbuild.1 → v1.14.0-eksbuild.3, and network policy is accepted only at the end', async () => {
    const base = loadScenario('default');
    const sb = await startSandbox({ ...base, sandbox: { ...base.sandbox, updateDurationMs: 30, rolloutDurationMs: 20 } });
    running.push(sb);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const call = async (path: string, body?: unknown): Promise<{ status: number; json: any }> => {
      const response = await fetch(`${sb.eksEndpoint}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, json: await response.json() };
    };
    // Settled once nothing waits in the eks-change gate: a condition, not a time.
    const settle = async (updateId: string): Promise<string> => {
      await sb.gates.eksChange.until((s) => s.pending.length === 0);
      const { json } = await call(`/clusters/demo/updates/${updateId}?addonName=vpc-cni`);
      return json.update.status as string;
    };
    expect(sb.addon()?.addonVersion).toBe('v1.12.6-eksbuild.2');
    const policy = JSON.stringify({ enableNetworkPolicy: 'true' });
    const tooEarly = await call('/clusters/demo/addons/vpc-cni/update', { addonVersion: 'v1.13.4-eksbuild.1', configurationValues: policy });
    expect(tooEarly.status).toBe(400);
    expect(tooEarly.json.message).toContain('$.enableNetworkPolicy: is not defined in the schema');
    const skip = await call('/clusters/demo/addons/vpc-cni/update', { addonVersion: 'v1.14.0-eksbuild.3' });
    expect(skip.status).toBe(400);
    const to13 = await call('/clusters/demo/addons/vpc-cni/update', { addonVersion: 'v1.13.4-eksbuild.1' });
    expect(await settle(to13.json.update.id)).toBe('Successful');
    const to14 = await call('/clusters/demo/addons/vpc-cni/update', { addonVersion: 'v1.14.0-eksbuild.3', configurationValues: policy });
    expect(to14.status).toBe(200);
    expect(await settle(to14.json.update.id)).toBe('Successful');
    expect(sb.addon()?.addonVersion).toBe('v1.14.0-eksbuild.3');
    const schema = JSON.parse((await call('/addons/configuration-schemas?addonName=vpc-cni&addonVersion=v1.14.0-eksbuild.3')).json.configurationSchema);
    expect(Object.keys(schema.definitions.VpcCni.properties)).toContain('enableNetworkPolicy');
  });
});
