/**
 * Built-in scenarios, the add-on controller's conflict rules (through the EKS emulator's HTTP API), adoption
 * of a self-managed install, fault injection, and scenario-file errors.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { partitionOf } from '../src/decide/registries.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { splitImage, type KubeObject } from '../src/decide/manifests.js';
import { podSpecOf } from '../src/sandbox/addon-controller.js';
import { listScenarios, loadScenario, startSandbox, type GateName, type RunningSandbox } from '../src/sandbox/index.js';
import { resolveScenario, validateScenario } from '../src/sandbox/scenario.js';
import type { Scenario } from '../src/sandbox/scenario-types.js';

const running: RunningSandbox[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(scenario: string | Scenario, faults?: Scenario['sandbox'], hold: GateName[] = []): Promise<RunningSandbox> {
  const base = typeof scenario === 'string' ? loadScenario(scenario) : scenario;
  const sb = await startSandbox({ ...base, sandbox: { ...base.sandbox, updateDurationMs: 30, rolloutDurationMs: 20, ...faults } }, { hold });
  running.push(sb);
  return sb;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function call(sb: RunningSandbox, method: string, path: string, body?: unknown): Promise<{ status: number; type: string | null; json: Json }> {
  const response = await fetch(`${sb.eksEndpoint}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, type: response.headers.get('x-amzn-errortype'), json: await response.json() };
}

/** Waits until no add-on change waits in the eks-change gate (a condition, not a time), then reads the update. */
async function settle(sb: RunningSandbox, updateId: string): Promise<Json> {
  await sb.gates.eksChange.until((s) => s.pending.length === 0);
  const { json } = await call(sb, 'GET', `/clusters/demo/updates/${updateId}?addonName=vpc-cni`);
  if (json.update.status === 'InProgress') throw new Error('update never settled');
  return json.update;
}

async function settleAddon(sb: RunningSandbox): Promise<Json> {
  await sb.gates.eksChange.until((s) => s.pending.length === 0);
  const addon = sb.addon();
  if (!addon || ['CREATING', 'UPDATING'].includes(addon.status)) throw new Error('add-on never settled');
  return addon;
}

function daemonSet(sb: RunningSandbox): KubeObject {
  return sb.store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system') as KubeObject;
}

function env(ds: KubeObject, container = 'aws-node'): Record<string, string | undefined> {
  const pod = podSpecOf(ds);
  const c = [...pod.containers, ...(pod.initContainers ?? [])].find((x) => x.name === container);
  return Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));
}

function cniTag(ds: KubeObject): string {
  return splitImage(podSpecOf(ds).containers.find((c) => c.name === 'aws-node')?.image ?? '').tag;
}

/** Sets an env var on the live DaemonSet, as `kubectl set env` would. */
function editLive(sb: RunningSandbox, name: string, value: string): void {
  const ds = structuredClone(daemonSet(sb));
  const c = podSpecOf(ds).containers.find((x) => x.name === 'aws-node');
  c!.env = [...(c!.env ?? []).filter((e) => e.name !== name), { name, value }];
  sb.store.put(ds);
}

describe('built-in scenarios', () => {
  it('lists the contract names, default first, each with a description', () => {
    const list = listScenarios();
    expect(list[0]?.name).toBe('default');
    for (const name of ['default', 'self-managed-custom-networking', 'hybrid-nodes', 'v1.19.3-custom-networking-sgp']) {
      expect(list.map((s) => s.name)).toContain(name);
    }
    for (const s of list) expect(s.description.length).toBeGreaterThan(20);
  });

  it('default.yaml spells out exactly the defaults every scenario inherits', () => {
    const explicit = resolveScenario(loadScenario('default'));
    expect(resolveScenario({ name: 'default', description: explicit.description })).toEqual(explicit);
  });

  it.each(listScenarios().map((s) => s.name))('%s loads, validates and starts', async (name) => {
    const scenario = loadScenario(name);
    expect(validateScenario(structuredClone(scenario), name)).toEqual(scenario);
    const sb = await start(scenario);
    const resolved = sb.scenario;
    const cluster = await call(sb, 'GET', `/clusters/${resolved.cluster.name}`);
    expect(cluster.json.cluster.version).toBe(resolved.cluster.kubernetesVersion);
    const addon = await call(sb, 'GET', `/clusters/${resolved.cluster.name}/addons/vpc-cni`);
    if (resolved.addon) {
      expect(addon.json.addon.addonVersion).toBe(resolved.addon.version);
      // The scenario's add-on version is one the catalogue offers for its Kubernetes version.
      expect(sb.controller.offered(resolved.addon.version)).toBe(true);
    } else {
      expect(addon.status).toBe(404);
      expect(addon.type).toBe('ResourceNotFoundException');
      expect(addon.json.message).toBe('No addon: vpc-cni found in cluster: demo');
    }
    if (resolved.daemonSet) expect(cniTag(daemonSet(sb))).toBe(resolved.daemonSet.imageTag);
    else expect(sb.store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system')).toBeUndefined();
    expect(sb.store.list('v1', 'Node')).toHaveLength(resolved.nodes.length);
    expect(sb.contextName).toBe(`arn:${partitionOf(resolved.cluster.region)}:eks:${resolved.cluster.region}:${resolved.cluster.accountId}:cluster/${resolved.cluster.name}`);
  });

  it('builds what each scenario promises', async () => {
    const selfManaged = await start('self-managed-custom-networking');
    expect(cniTag(daemonSet(selfManaged))).toBe('v1.12.6');
    expect(env(daemonSet(selfManaged))).toMatchObject({
      AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true',
      ENI_CONFIG_LABEL_DEF: 'topology.kubernetes.io/zone',
      WARM_IP_TARGET: '10',
    });
    expect(selfManaged.store.list('crd.k8s.amazonaws.com/v1alpha1', 'ENIConfig').map((e) => e.metadata.name)).toEqual([
      'us-west-2a',
      'us-west-2b',
      'us-west-2c',
    ]);

    const sgp = await start('v1.19.3-custom-networking-sgp');
    expect(env(daemonSet(sgp))).toMatchObject({ ENABLE_POD_ENI: 'true', AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true' });
    const offered = await call(sgp, 'GET', '/addons/supported-versions?addonName=vpc-cni&kubernetesVersion=1.31&maxResults=100');
    const names = offered.json.addons[0].addonVersions.map((v: Json) => v.addonVersion);
    expect(names).toEqual(expect.arrayContaining(['v1.19.3-eksbuild.1', 'v1.19.4-eksbuild.1', 'v1.19.5-eksbuild.1', 'v1.20.1-eksbuild.1']));

    const hybrid = await start('hybrid-nodes');
    expect(JSON.stringify(podSpecOf(daemonSet(hybrid)).affinity)).not.toContain('hybrid');
    expect(hybrid.store.list('v1', 'Node').filter((n) => (n.metadata.labels as Record<string, string>)['eks.amazonaws.com/compute-type'] === 'hybrid')).toHaveLength(2);

    const helper = await start('metrics-helper-skew');
    const deployment = helper.store.get('apps/v1', 'Deployment', 'cni-metrics-helper', 'kube-system') as KubeObject;
    expect(splitImage(podSpecOf(deployment).containers[0]!.image!).tag).toBe('v1.12.6');

    const ipv6 = await start('ipv6-custom-networking');
    expect((await call(ipv6, 'GET', '/clusters/demo')).json.cluster.kubernetesNetworkConfig.ipFamily).toBe('ipv6');
    expect(env(daemonSet(ipv6))).toMatchObject({ ENABLE_IPv6: 'true', AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true' });
  });
});

describe('the default catalogue', () => {
  it('offers what the contract fixes for 1.27 and 1.28', async () => {
    const sb = await start('default');
    const page = async (k8s: string) =>
      (await call(sb, 'GET', `/addons/supported-versions?addonName=vpc-cni&kubernetesVersion=${k8s}&maxResults=100`)).json.addons[0].addonVersions as Json[];
    const v127 = await page('1.27');
    expect(v127[0].addonVersion).toBe('v1.14.0-eksbuild.3');
    expect(v127.filter((v) => v.compatibilities[0].defaultVersion).map((v) => v.addonVersion)).toEqual(['v1.12.6-eksbuild.2']);
    expect(v127.find((v) => v.addonVersion.startsWith('v1.13.'))?.addonVersion).toBe('v1.13.4-eksbuild.1');
    const v128 = (await page('1.28')).map((v) => v.addonVersion);
    expect(v128).not.toContain('v1.12.6-eksbuild.2');
    expect(v128).toEqual(expect.arrayContaining(['v1.13.4-eksbuild.1', 'v1.14.0-eksbuild.3', 'v1.14.1-eksbuild.1']));
    // EKS pages by add-on: one vpc-cni entry with all its versions, no token (issue 9).
    const first = await call(sb, 'GET', '/addons/supported-versions?addonName=vpc-cni&maxResults=1');
    expect(first.json.addons).toHaveLength(1);
    expect(first.json.nextToken).toBeUndefined();
  });

  it('serves the v1.12.0 schema for v1.12.x (no WARM_IP_TARGET) and the v1.15.1 one for later', async () => {
    const sb = await start('default');
    const schemaOf = async (v: string) =>
      JSON.parse((await call(sb, 'GET', `/addons/configuration-schemas?addonName=vpc-cni&addonVersion=${v}`)).json.configurationSchema);
    expect(Object.keys((await schemaOf('v1.12.6-eksbuild.2')).definitions.Env.properties)).not.toContain('WARM_IP_TARGET');
    expect(Object.keys((await schemaOf('v1.13.4-eksbuild.1')).definitions.Env.properties)).toContain('WARM_IP_TARGET');
  });
});

describe('conflict resolution', () => {
  const conflictPath = '.spec.template.spec.containers[name="aws-node"].env[name="WARM_IP_TARGET"].value';

  it('NONE fails naming the field; then OVERWRITE resets it', async () => {
    const sb = await start('default');
    editLive(sb, 'WARM_IP_TARGET', '5');
    const none = await call(sb, 'POST', '/clusters/demo/addons/vpc-cni/update', { addonVersion: 'v1.13.4-eksbuild.1', resolveConflicts: 'NONE' });
    expect(none.status).toBe(200);
    const failed = await settle(sb, none.json.update.id);
    expect(failed.status).toBe('Failed');
    expect(failed.errors[0].errorCode).toBe('ConfigurationConflict');
    expect(failed.errors[0].errorMessage).toBe(
      `Conflicts found when trying to apply. Will not continue due to resolve conflicts mode. Conflicts: DaemonSet.apps aws-node - ${conflictPath}`,
    );
    expect(sb.addon()).toMatchObject({ status: 'UPDATE_FAILED', addonVersion: 'v1.12.6-eksbuild.2' });
    expect(sb.addon()?.health.issues[0]?.code).toBe('ConfigurationConflict');
    expect(cniTag(daemonSet(sb))).toBe('v1.12.6-eksbuild.2');

    const overwrite = await call(sb, 'POST', '/clusters/demo/addons/vpc-cni/update', { addonVersion: 'v1.13.4-eksbuild.1', resolveConflicts: 'OVERWRITE' });
    expect((await settle(sb, overwrite.json.update.id)).status).toBe('Successful');
    expect(sb.addon()).toMatchObject({ status: 'ACTIVE', addonVersion: 'v1.13.4-eksbuild.1', health: { issues: [] } });
    expect(env(daemonSet(sb)).WARM_IP_TARGET).toBeUndefined();
    expect(cniTag(daemonSet(sb))).toBe('v1.13.4-eksbuild.1');
  });

  it('PRESERVE keeps the live value and still moves the images', async () => {
    const sb = await start('default');
    editLive(sb, 'WARM_IP_TARGET', '5');
    const preserve = await call(sb, 'POST', '/clusters/demo/addons/vpc-cni/update', { addonVersion: 'v1.13.4-eksbuild.1', resolveConflicts: 'PRESERVE' });
    expect(preserve.json.update.params).toContainEqual({ type: 'ResolveConflicts', value: 'PRESERVE' });
    expect((await settle(sb, preserve.json.update.id)).status).toBe('Successful');
    expect(env(daemonSet(sb)).WARM_IP_TARGET).toBe('5');
    expect(cniTag(daemonSet(sb))).toBe('v1.13.4-eksbuild.1');
  });

  it('configuration values land in the DaemonSet, and an update while UPDATING is ResourceInUseException', async () => {
    const sb = await start('default', undefined, ['eks-change']); // the first update stays UPDATING until released
    const update = await call(sb, 'POST', '/clusters/demo/addons/vpc-cni/update', {
      addonVersion: 'v1.13.4-eksbuild.1',
      configurationValues: '{"env":{"WARM_IP_TARGET":"7"},"init":{"env":{"DISABLE_TCP_EARLY_DEMUX":"true"}}}',
    });
    const busy = await call(sb, 'POST', '/clusters/demo/addons/vpc-cni/update', { addonVersion: 'v1.13.4-eksbuild.1' });
    expect(busy.status).toBe(409);
    expect(busy.type).toBe('ResourceInUseException');
    sb.gates.eksChange.release();
    expect((await settle(sb, update.json.update.id)).status).toBe('Successful');
    expect(env(daemonSet(sb)).WARM_IP_TARGET).toBe('7');
    expect(env(daemonSet(sb), 'aws-vpc-cni-init').DISABLE_TCP_EARLY_DEMUX).toBe('true');
    expect(sb.addon()?.configurationValues).toContain('WARM_IP_TARGET');
    const badFormat = await call(sb, 'POST', '/clusters/demo/addons/vpc-cni/update', { configurationValues: '{"env":{"WARM_IP_TARGET":"ten"}}' });
    expect(badFormat.status).toBe(400);
    expect(badFormat.json.message).toBe('ConfigurationValue provided in request is not supported [$.env.WARM_IP_TARGET: does not match the integer pattern]');
  });
});

describe('adopting a self-managed install with CreateAddon', () => {
  const custom = {
    env: { AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true', ENI_CONFIG_LABEL_DEF: 'topology.kubernetes.io/zone', WARM_IP_TARGET: '10' },
  };

  it('keeps the custom settings passed as configuration values', async () => {
    const sb = await start('self-managed-custom-networking');
    const created = await call(sb, 'POST', '/clusters/demo/addons', {
      addonName: 'vpc-cni',
      addonVersion: 'v1.13.4-eksbuild.1',
      resolveConflicts: 'OVERWRITE',
      configurationValues: JSON.stringify(custom),
    });
    expect(created.status).toBe(200);
    expect(created.json.addon.status).toBe('CREATING');
    const addon = await settleAddon(sb);
    expect(addon).toMatchObject({ status: 'ACTIVE', addonVersion: 'v1.13.4-eksbuild.1' });
    expect(env(daemonSet(sb))).toMatchObject(custom.env);
    expect(cniTag(daemonSet(sb))).toBe('v1.13.4-eksbuild.1');
    const again = await call(sb, 'POST', '/clusters/demo/addons', { addonName: 'vpc-cni' });
    expect(again).toMatchObject({ status: 409, type: 'ResourceInUseException', json: { message: 'Addon already exists.' } });
  });

  it('fails with ConfigurationConflict under NONE when a custom setting is left out, and rejects WARM_IP_TARGET for v1.12', async () => {
    const sb = await start('self-managed-custom-networking');
    const rejected = await call(sb, 'POST', '/clusters/demo/addons', {
      addonName: 'vpc-cni',
      addonVersion: 'v1.12.6-eksbuild.2',
      configurationValues: JSON.stringify(custom),
    });
    expect(rejected.status).toBe(400);
    // The real v1.12.0 schema knows neither ENI_CONFIG_LABEL_DEF nor WARM_IP_TARGET.
    expect(rejected.json.message).toBe(
      'ConfigurationValue provided in request is not supported [$.env.ENI_CONFIG_LABEL_DEF: is not defined in the schema and the schema does not allow additional properties, $.env.WARM_IP_TARGET: is not defined in the schema and the schema does not allow additional properties]',
    );
    const created = await call(sb, 'POST', '/clusters/demo/addons', {
      addonName: 'vpc-cni',
      addonVersion: 'v1.12.6-eksbuild.2',
      resolveConflicts: 'NONE',
      configurationValues: '{"env":{"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG":"true"}}',
    });
    expect(created.status).toBe(200);
    const addon = await settleAddon(sb);
    expect(addon.status).toBe('CREATE_FAILED');
    expect(addon.health.issues[0].code).toBe('ConfigurationConflict');
    expect(addon.health.issues[0].message).toContain('env[name="WARM_IP_TARGET"].value');
    expect(addon.health.issues[0].message).toContain('env[name="ENI_CONFIG_LABEL_DEF"].value');
    expect(addon.health.issues[0].message).not.toContain('AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG');
    expect(cniTag(daemonSet(sb))).toBe('v1.12.6');
  });
});

describe('faults', () => {
  it('throttles EKS with 429 ThrottlingException and IAM with 400 Throttling, deterministically', async () => {
    const sb = await start('default', { faults: { throttleRate: 0.5 } });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(sb, 'GET', '/clusters/demo')).status);
    expect(statuses).toEqual([200, 429, 200, 429]);
    const throttled = await call(sb, 'GET', '/clusters/demo');
    expect(throttled.status).toBe(200);
    const again = await call(sb, 'GET', '/clusters/demo');
    expect(again).toMatchObject({ status: 429, type: 'ThrottlingException', json: { message: 'Rate exceeded' } });
    const iam = async () => fetch(sb.iamEndpoint, { method: 'POST', body: 'Action=ListOpenIDConnectProviders&Version=2010-05-08' });
    await iam();
    const second = await iam();
    expect(second.status).toBe(400);
    expect(await second.text()).toMatch(/<Code>Throttling<\/Code>/);
  });

  it('answers 500 ServerException and 503 ServiceUnavailableException', async () => {
    const sb = await start('default', { faults: { serverErrorRate: 1 } });
    expect(await call(sb, 'GET', '/clusters/demo')).toMatchObject({ status: 500, type: 'ServerException' });
    expect(await call(sb, 'GET', '/clusters/demo')).toMatchObject({ status: 503, type: 'ServiceUnavailableException' });
  });

  it('fails the nth update, or never finishes it', async () => {
    const failing = await start('default', { faults: { failUpdateNumber: 1 } });
    const first = await call(failing, 'POST', '/clusters/demo/addons/vpc-cni/update', { addonVersion: 'v1.13.4-eksbuild.1' });
    const failed = await settle(failing, first.json.update.id);
    expect(failed).toMatchObject({ status: 'Failed', errors: [{ errorCode: 'AdmissionRequestDenied' }] });
    expect(cniTag(daemonSet(failing))).toBe('v1.12.6-eksbuild.2');
    const second = await call(failing, 'POST', '/clusters/demo/addons/vpc-cni/update', { addonVersion: 'v1.13.4-eksbuild.1' });
    expect((await settle(failing, second.json.update.id)).status).toBe('Successful');

    const stuck = await start('default', { faults: { updateNeverFinishes: true } });
    const update = await call(stuck, 'POST', '/clusters/demo/addons/vpc-cni/update', { addonVersion: 'v1.13.4-eksbuild.1' });
    // Nothing was even scheduled to finish it: no passage waits (or times) in the eks-change gate.
    expect(stuck.gates.eksChange.state()).toMatchObject({ pending: [], passed: 0 });
    expect((await call(stuck, 'GET', `/clusters/demo/updates/${update.json.update.id}?addonName=vpc-cni`)).json.update.status).toBe('InProgress');
    expect(stuck.addon()?.status).toBe('UPDATING');
  });

  it('takes the Kubernetes API down after the nth mutating EKS call, and merges option faults over the scenario', async () => {
    // The outage lasts (kube-outage gate held) until the test lifts it.
    const sb = await startSandbox('default', { faults: { kubeOutage: { afterMutatingCall: 1, durationMs: 300 } }, hold: ['kube-outage'] });
    running.push(sb);
    expect((await fetch(`${sb.kubeEndpoint}/version`)).status).toBe(200);
    await call(sb, 'POST', '/clusters/demo/addons/vpc-cni/update', { addonVersion: 'v1.13.4-eksbuild.1' });
    await expect(fetch(`${sb.kubeEndpoint}/version`)).rejects.toThrow();
    expect(sb.gates.kubeOutage.state().pending).toHaveLength(1);
    sb.gates.kubeOutage.release();
    await expect.poll(() => fetch(`${sb.kubeEndpoint}/version`).then((r) => r.status, () => 0), { timeout: 10_000, interval: 10 }).toBe(200);
  });
});

describe('scenario input errors', () => {
  it('names the unknown scenario and what to do', () => {
    expect(() => loadScenario('nope')).toThrow(
      new UsageError('Unknown scenario "nope"; run `vpccni sandbox list` to see the built-in ones, or pass a path to a scenario file.'),
    );
  });

  it('names the file and the field of an invalid scenario', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpccni-scenario-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'name: bad\ncluster:\n  kubernetesVersion: 1.27\n');
    let error: unknown;
    try {
      loadScenario(file);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toContain('cluster.kubernetesVersion must be string');

    const json = join(dir, 'bad.json');
    writeFileSync(json, JSON.stringify({ name: 'x', addon: { version: 'v1.2' } }));
    expect(() => loadScenario(json)).toThrow(/bad\.json is invalid: addon\.version must match pattern/);
    writeFileSync(json, JSON.stringify({ name: 'x', clusterr: {} }));
    expect(() => loadScenario(json)).toThrow(/clusterr is not a known field/);
    writeFileSync(json, '{ nope');
    expect(() => loadScenario(json)).toThrow(/bad\.json is not valid JSON/);
    expect(() => loadScenario(join(dir, 'missing.yaml'))).toThrow(/does not exist/);
  });
});

describe('idempotency', () => {
  it('answers a repeated UpdateAddon with the same clientRequestToken with the same update, as EKS does', async () => {
    const sb = await start('default', undefined, ['eks-change']); // the first update stays in flight until released
    const body = { addonVersion: 'v1.13.4-eksbuild.1', resolveConflicts: 'PRESERVE', clientRequestToken: 'retry-1' };
    const first = await call(sb, 'POST', '/clusters/demo/addons/vpc-cni/update', body);
    const again = await call(sb, 'POST', '/clusters/demo/addons/vpc-cni/update', body);
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.json.update.id).toBe(first.json.update.id);
    const other = await call(sb, 'POST', '/clusters/demo/addons/vpc-cni/update', { ...body, clientRequestToken: 'retry-2' });
    expect(other.type).toBe('ResourceInUseException');
    sb.gates.eksChange.release();
    expect((await settle(sb, first.json.update.id)).status).toBe('Successful');
  });
});
