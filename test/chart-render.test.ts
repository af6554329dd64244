/**
 * The sandbox's renderer written from the Helm chart (src/sandbox/chart-render.ts, issue 21): every template line
 * it cites is the line of the chart copy in fixtures/helm-chart/<tag>/; every tag's node agent arguments and
 * ConfigMap keys map to the value the renderer prints into them; with no values it renders exactly the release
 * manifest; the UpdateAddon of the probe lands on the cluster as the chart renders it (AWS CLI, kubectl);
 * and DescribeAddonConfiguration serves each real response's schema byte for byte (AWS CLI).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { AGENT_FLAGS, CITATIONS, CONFIGMAP_KEYS, renderAddon } from '../src/sandbox/chart-render.js';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { schemaIndex } from '../src/sandbox/schemas.js';
import { releaseObjects } from '../src/sandbox/upstream-manifests.js';
import { aws } from './helpers/aws-cli.js';
import { kubectlFor } from './helpers/kubectl.js';

const CHART = fileURLToPath(new URL('../fixtures/helm-chart/', import.meta.url));
const CONFIG_DIR = fileURLToPath(new URL('../fixtures/addon-configuration/', import.meta.url));
const TAGS = readdirSync(CHART).filter((t) => /^v\d/.test(t));

function lines(tag: string, file: string): string[] {
  return readFileSync(`${CHART}${tag}/${file}`, 'utf8').split('\n');
}

const running: RunningSandbox[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

describe('the chart copies the renderer follows', () => {
  it('holds a chart copy for every release manifest shipped (the v1.23.1 master snapshot uses v1.23.0)', () => {
    const manifests = readdirSync(fileURLToPath(new URL('../fixtures/manifests/', import.meta.url)))
      .map((f) => /^aws-k8s-cni-(v\d+\.\d+\.\d+)\.yaml$/.exec(f)?.[1])
      .filter((t): t is string => t !== undefined);
    expect(TAGS.sort()).toEqual(manifests.sort());
  });

  it.each(CITATIONS.map((c) => [`${c.tag} ${c.file} L${c.line}`, c] as const))('cites %s as it is', (_label, citation) => {
    expect(lines(citation.tag, citation.file)[citation.line - 1]?.trim()).toBe(citation.text);
  });

  it.each(TAGS)('%s: every node agent argument and ConfigMap key of the templates prints the value the renderer reads', (tag) => {
    for (const line of lines(tag, 'templates/daemonset.yaml')) {
      const arg = /^\s*- (--[a-z-]+)=\{\{ (?:\.Values\.([\w.]+)|include "aws-vpc-cni\.nodeAgent(\w+)BindAddr" \.) \}\}$/.exec(line);
      if (!arg) continue;
      const rule = AGENT_FLAGS[arg[1] as string];
      expect(rule, `${tag}: ${line.trim()}`).toBeDefined();
      const path = arg[2] ? (arg[2] as string).split('.') : ['nodeAgent', `${(arg[3] as string)[0]?.toLowerCase()}${(arg[3] as string).slice(1)}BindAddr`];
      expect(rule?.path, line).toEqual(path);
      expect(rule?.prefix).toBe(arg[3] ? ':' : '');
    }
    for (const line of lines(tag, 'templates/configmap.yaml')) {
      const key = /^ {2}([a-z-]+): \{\{ \.Values\.(\w+) \| quote \}\}$/.exec(line);
      if (key) expect(CONFIGMAP_KEYS[key[1] as string], `${tag}: ${line.trim()}`).toBe(key[2]);
    }
  });

  it.each(TAGS)('%s: with no values the rendering is the release manifest, images retagged', (tag) => {
    const rendered = renderAddon(tag, {});
    const manifest = releaseObjects(tag).find((o) => o.kind === 'DaemonSet');
    expect(JSON.stringify(rendered.daemonSet)).toBe(JSON.stringify(manifest));
    expect(rendered.chartTag).toBe(tag);
  });

  it("renders the issue's probe on v1.19.6 as the chart does: resources on all three containers, the agent's flags, the ConfigMap", () => {
    const values = { resources: { requests: { cpu: '50m' } }, nodeAgent: { logLevel: 'debug', conntrackCacheCleanupPeriod: '600' }, enableWindowsPrefixDelegation: 'true' };
    const { daemonSet, configMapData } = renderAddon('v1.19.6-eksbuild.1', values);
    const pod = (daemonSet.spec as { template: { spec: { containers: Array<{ name: string; resources: unknown; args?: string[] }>; initContainers: Array<{ resources: unknown }> } } }).template.spec;
    expect(pod.initContainers[0]?.resources).toEqual({ requests: { cpu: '50m' } });
    expect(pod.containers.map((c) => c.resources)).toEqual([{ requests: { cpu: '50m' } }, { requests: { cpu: '50m' } }]);
    const agent = pod.containers.find((c) => c.name === 'aws-eks-nodeagent');
    expect(agent?.args).toContain('--conntrack-cache-cleanup-period=600');
    expect(agent?.args).toContain('--log-level=debug');
    expect(configMapData?.['enable-windows-prefix-delegation']).toBe('true');
    // Helm coalesces maps: limits alone keep the default request.
    const merged = renderAddon('v1.19.6-eksbuild.1', { resources: { limits: { memory: '1Gi' } } }).daemonSet;
    expect(JSON.stringify(merged)).toContain('"resources":{"requests":{"cpu":"25m"},"limits":{"memory":"1Gi"}}');
  });

  it('renders cri.hostPath on v1.11 (the real v1.12.0-eksbuild.1 schema has cri): the socket mount and volume', () => {
    const { daemonSet } = renderAddon('v1.11.4-eksbuild.1', { cri: { hostPath: { path: '/run/containerd/containerd.sock' } } });
    const text = JSON.stringify(daemonSet);
    expect(text).toContain('{"mountPath":"/var/run/cri.sock","name":"cri"}');
    expect(text).toContain('{"name":"cri","hostPath":{"path":"/run/containerd/containerd.sock"}}');
    expect(text).not.toContain('dockershim');
  });
});

describe('the sandbox applies what the chart renders (AWS CLI, kubectl)', () => {
  it('UpdateAddon with the probe values: init and agent resources, conntrack period, Windows prefix delegation, ENIConfigs', async () => {
    const sb = await startSandbox(
      { name: 'chart-probe', cluster: { kubernetesVersion: '1.33' }, addon: { version: 'v1.19.6-eksbuild.1' }, catalogueSnapshot: 'eks-2026-07' },
      { hold: ['eks-change'] },
    );
    running.push(sb);
    const values = {
      resources: { requests: { cpu: '50m' } },
      nodeAgent: { logLevel: 'debug', conntrackCacheCleanupPeriod: '600' },
      enableWindowsPrefixDelegation: 'true',
      eniConfig: { create: true, region: 'us-west-2', subnets: { 'us-west-2a': { id: 'subnet-0a', securityGroups: ['sg-0a'] } } },
    };
    const update = await aws(sb.eksEndpoint, ['eks', 'update-addon', '--cluster-name', 'demo', '--addon-name', 'vpc-cni', '--configuration-values', JSON.stringify(values)], { region: sb.region });
    expect(update.exitCode, update.stderr).toBe(0);
    const id = (update.json as { update: { id: string } }).update.id;
    await sb.gates.eksChange.waitForPending(1);
    sb.gates.eksChange.release();
    await sb.gates.eksChange.until((s) => s.passed === 1);
    const described = await aws(sb.eksEndpoint, ['eks', 'describe-update', '--name', 'demo', '--addon-name', 'vpc-cni', '--update-id', id], { region: sb.region });
    expect((described.json as { update: { status: string } }).update.status, described.stdout).toBe('Successful');
    const kubectl = kubectlFor('1.33', sb.kubeconfig);
    const ds = JSON.parse((await kubectl('get', 'daemonset', 'aws-node', '-n', 'kube-system', '-o', 'json')).stdout) as {
      spec: { template: { spec: { initContainers: Array<{ resources: unknown }>; containers: Array<{ name: string; resources: unknown; args?: string[] }> } } };
    };
    expect(ds.spec.template.spec.initContainers[0]?.resources).toEqual({ requests: { cpu: '50m' } });
    const agent = ds.spec.template.spec.containers.find((c) => c.name === 'aws-eks-nodeagent');
    expect(agent?.resources).toEqual({ requests: { cpu: '50m' } });
    expect(agent?.args).toContain('--conntrack-cache-cleanup-period=600');
    const cm = JSON.parse((await kubectl('get', 'configmap', 'amazon-vpc-cni', '-n', 'kube-system', '-o', 'json')).stdout) as { data: Record<string, string> };
    expect(cm.data['enable-windows-prefix-delegation']).toBe('true');
    const eni = JSON.parse((await kubectl('get', 'eniconfigs.crd.k8s.amazonaws.com', 'us-west-2a', '-o', 'json')).stdout) as { spec: unknown };
    expect(eni.spec).toEqual({ securityGroups: ['sg-0a'], subnet: 'subnet-0a' });
  }, 60_000);

  it('DescribeAddonConfiguration serves every real response byte for byte', async () => {
    const sb = await startSandbox('default', { hold: [] });
    running.push(sb);
    const real = schemaIndex().flatMap((row) => (row.response && row.source === 'real' ? (row.addonVersions ?? []).concat(row.response.startsWith('vpc-cni-v1.15.1') ? ['v1.15.1-eksbuild.1'] : []).map((v) => [v, row.response as string] as const) : []));
    expect(real.map(([v]) => v).sort()).toEqual(['v1.12.0-eksbuild.1', 'v1.15.1-eksbuild.1']);
    for (const [version, file] of real) {
      const response = JSON.parse(readFileSync(`${CONFIG_DIR}${file}`, 'utf8')) as { configurationSchema: string };
      const answer = await aws(sb.eksEndpoint, ['eks', 'describe-addon-configuration', '--addon-name', 'vpc-cni', '--addon-version', version], { region: sb.region });
      expect(answer.exitCode, answer.stderr).toBe(0);
      const served = (answer.json as { configurationSchema: string }).configurationSchema;
      expect(served.length, version).toBe(response.configurationSchema.length);
      expect(served).toBe(response.configurationSchema);
    }
    // v1.14.0-eksbuild.3's real schema survives only as a string quoted in public code (baazhq/baaz `abadc85a`,
    // 2023-09-18, internal/dataplane_controller/aws_eks.go, a comment next to AddonVersion v1.15.0-eksbuild.2):
    // 4105 characters with that SHA-256. The sandbox serves exactly it (fixtures/README.md, row v1.14.0-eksbuild.3).
    const v114 = await aws(sb.eksEndpoint, ['eks', 'describe-addon-configuration', '--addon-name', 'vpc-cni', '--addon-version', 'v1.14.0-eksbuild.3'], { region: sb.region });
    const schema = (v114.json as { configurationSchema: string }).configurationSchema;
    expect(schema.length).toBe(4105);
    expect(createHash('sha256').update(schema).digest('hex')).toBe('06a7969e0dfe401d206b565280a7f26f89496829eb64b2619ed86a9af42c56a4');
  }, 60_000);
});
