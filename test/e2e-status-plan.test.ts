/**
 * `status`, `plan` and `sandbox list` end to end: the CLI, the real SDK and kubectl, the sandbox. One status
 * and one plan run spawn the real, built CLI (and `sandbox serve` runs as its own process); the other runs
 * are the same CLI in-process (main(argv), helpers/in-process.ts).
 */
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCommand } from './helpers/aws-cli.js';
import { startSandbox } from '../src/sandbox/index.js';
import { isolatedEnv, parseJson, sandboxEnv, vpccni } from './helpers/cli.js';
import { useInProcessCli, vpccniInProcess } from './helpers/in-process.js';
import { schemaErrors } from './helpers/schemas.js';
import { serve, type Served } from './helpers/serve.js';

interface Status {
  cluster: { name: string; region: string; kubernetesVersion: string };
  addon: { managed: boolean; version: string | null; status: string | null };
  daemonSet: { version: string; images: Record<string, string> } | null;
  versions: { latest: string; default: string };
  upgradePath: string[];
  findings: Array<{ id: string; severity: string }>;
}

useInProcessCli();

describe('status on the default scenario', () => {
  it('reports the user guide example as JSON that matches the schema', async () => {
    // The real, built CLI, spawned: the one end-to-end run of status.
    const result = await vpccni(['--sandbox', 'status', '--output', 'json']);
    expect(result.exitCode).toBe(0);
    const status = parseJson<Status>(result);
    expect(schemaErrors('status', status)).toEqual([]);
    expect(status.cluster).toMatchObject({ name: 'demo', region: 'us-west-2', kubernetesVersion: '1.27' });
    expect(status.addon).toMatchObject({ managed: true, version: 'v1.12.6-eksbuild.2', status: 'ACTIVE' });
    expect(status.daemonSet?.version).toBe('v1.12.6-eksbuild.2');
    expect(status.daemonSet?.images['aws-node']).toBe(
      '602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.12.6-eksbuild.2',
    );
    expect(status.versions).toEqual({ latest: 'v1.14.0-eksbuild.3', default: 'v1.12.6-eksbuild.2' });
    expect(status.upgradePath).toEqual(['v1.13.4-eksbuild.1', 'v1.14.0-eksbuild.3']);
    expect(status.findings.map((f) => f.id)).toContain('newer-version-available');
    expect(result.stderr).toBe('');
  });

  it('prints a readable text report', async () => {
    const result = await vpccniInProcess(['--sandbox', 'status']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('vpc-cni v1.12.6-eksbuild.2, managed by EKS, ACTIVE');
    expect(result.stdout).toContain('latest v1.14.0-eksbuild.3, default v1.12.6-eksbuild.2');
    expect(result.stdout).toContain('v1.12.6-eksbuild.2 → v1.13.4-eksbuild.1 → v1.14.0-eksbuild.3');
  });
});

describe('status on the self-managed scenario', () => {
  it('says the add-on is not managed and reads the version from the image tag', async () => {
    const result = await vpccniInProcess(['--scenario', 'self-managed-custom-networking', 'status', '--output', 'json']);
    const status = parseJson<Status>(result);
    expect(schemaErrors('status', status)).toEqual([]);
    expect(status.addon.managed).toBe(false);
    expect(status.addon.version).toBe('v1.12.6');
    expect(status.daemonSet?.version).toBe('v1.12.6');
    expect(status.findings.map((f) => f.id)).toContain('self-managed');
  });
});

describe('plan', () => {
  it('shows the same two steps as status, one minor at a time', async () => {
    // The real, built CLI, spawned: the one end-to-end run of plan.
    const text = await vpccni(['--sandbox', 'plan', '--to', 'v1.14.0-eksbuild.3']);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(/1\. v1\.12\.6-eksbuild\.2 → v1\.13\.4-eksbuild\.1/);
    expect(text.stdout).toMatch(/2\. v1\.13\.4-eksbuild\.1 → v1\.14\.0-eksbuild\.3/);
    const json = parseJson<{ steps: unknown[]; from: string; to: string }>(
      await vpccniInProcess(['--sandbox', 'plan', '--to', '1.14.0', '--output', 'json']),
    );
    expect(schemaErrors('plan', json)).toEqual([]);
    expect(json).toMatchObject({ from: 'v1.12.6-eksbuild.2', to: 'v1.14.0-eksbuild.3' });
    expect(json.steps).toEqual([
      { from: 'v1.12.6-eksbuild.2', to: 'v1.13.4-eksbuild.1', action: 'update' },
      { from: 'v1.13.4-eksbuild.1', to: 'v1.14.0-eksbuild.3', action: 'update' },
    ]);
  });

  it('plans a self-managed install as a create then updates', async () => {
    const json = parseJson<{ steps: Array<{ action: string; to: string }> }>(
      await vpccniInProcess(['--scenario', 'self-managed-custom-networking', 'plan', '--to', 'v1.14.0-eksbuild.3', '--output', 'json']),
    );
    expect(json.steps.map((s) => `${s.action} ${s.to}`)).toEqual(['create v1.13.4-eksbuild.1', 'update v1.14.0-eksbuild.3']);
  });

  it('resolves latest and default', async () => {
    const latest = parseJson<{ to: string }>(await vpccniInProcess(['--sandbox', 'plan', '--to', 'latest', '--output', 'json']));
    expect(latest.to).toBe('v1.14.0-eksbuild.3');
    const dflt = parseJson<{ steps: unknown[] }>(await vpccniInProcess(['--sandbox', 'plan', '--to', 'default', '--output', 'json']));
    expect(dflt.steps).toEqual([]);
  });
});

describe('sandbox list', () => {
  it('names the four scenarios of the contract', async () => {
    const json = parseJson<string[]>(await vpccniInProcess(['sandbox', 'list', '--output', 'json']));
    expect(json).toEqual(
      expect.arrayContaining(['default', 'self-managed-custom-networking', 'hybrid-nodes', 'v1.19.3-custom-networking-sgp']),
    );
    const text = await vpccniInProcess(['sandbox', 'list']);
    expect(text.stdout.split('\n').filter(Boolean).length).toBe(json.length);
  });
});

describe('bad input: one sentence on stderr, the contract exit code, no stack trace', () => {
  const noTrace = (stderr: string) => {
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  };

  it.each([
    [['--sandbox', 'plan', '--to', 'v1.x'], 2, /is not an add-on version/],
    [['--sandbox', 'plan', '--to', 'v1.99.0-eksbuild.1'], 2, /not a vpc-cni version EKS offers/],
    [['--scenario', 'no-such-scenario', 'status'], 2, /Unknown scenario "no-such-scenario"/],
    [['--sandbox', 'status', '--output', 'yaml'], 2, /argument 'yaml' is invalid/],
    [['--sandbox', 'plan'], 2, /required option '--to/],
    [['--sandbox', 'frobnicate'], 2, /unknown command/],
  ])('%j exits %i', async (args, code, pattern) => {
    const result = await vpccniInProcess(args as string[]);
    expect(result.exitCode).toBe(code);
    expect(result.stderr).toMatch(pattern as RegExp);
    expect(result.stdout).toBe('');
  });

  it('refuses a wrong kube context (exit 2) and never reads it as the cluster', async () => {
    const sb = await startSandbox('default');
    const other = await startSandbox('hybrid-nodes');
    try {
      // Name the default sandbox's cluster, but point kubectl at the other sandbox's API server.
      const env = sandboxEnv(sb, { KUBECONFIG: sb.kubeconfig });
      const result = await vpccniInProcess(['--cluster', sb.cluster, '--region', sb.region, '--kubeconfig', other.kubeconfig, 'status'], { env });
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toMatch(/refusing to read or change the wrong cluster/);
      noTrace(result.stderr);
    } finally {
      await Promise.all([sb.close(), other.close()]);
    }
  });

  it('says so when the cluster does not exist (exit 3)', async () => {
    const sb = await startSandbox('default');
    try {
      const env = sandboxEnv(sb, { KUBECONFIG: sb.kubeconfig });
      const result = await vpccniInProcess(['--cluster', 'nope', '--region', 'us-west-2', 'status'], { env });
      expect(result.exitCode).toBe(3);
      expect(result.stderr).toMatch(/Cluster "nope" was not found in us-west-2/);
      noTrace(result.stderr);
    } finally {
      await sb.close();
    }
  });

  it('says so when kubectl is missing and asked for (exit 3)', async () => {
    // A PATH on which there is no kubectl (the default client needs none).
    const result = await vpccniInProcess(['--sandbox', '--kube-client', 'kubectl', 'status'], { env: isolatedEnv({ PATH: '/nonexistent' }) });
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toMatch(/kubectl was not found on the PATH/);
    noTrace(result.stderr);
  });

  it('asks for a cluster when none can be found (exit 2)', async () => {
    const result = await vpccniInProcess(['status'], { env: isolatedEnv({ AWS_REGION: 'us-west-2' }) });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/No cluster was named/);
  });
});

describe('against `vpccni sandbox serve`', () => {
  let served: Served;
  beforeAll(async () => {
    served = await serve('default');
  });
  afterAll(async () => served?.stop());

  it('defaults cluster and region from the EKS kube context', async () => {
    const env = { ...served.env, AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined };
    const status = parseJson<Status>(await vpccniInProcess(['status', '--output', 'json'], { env }));
    expect(status.cluster).toMatchObject({ name: 'demo', region: 'us-west-2' });
  });

  it('lets the real kubectl read the DaemonSet and wait for its rollout', async () => {
    const kubectl = (args: string[]) => execa('kubectl', args, { env: served.env, extendEnv: true, reject: false });
    const ds = await kubectl(['get', 'daemonset', 'aws-node', '-n', 'kube-system', '-o', 'json']);
    expect(ds.exitCode).toBe(0);
    expect(JSON.parse(ds.stdout).spec.template.spec.containers[0].image).toMatch(/amazon-k8s-cni:v1\.12\.6-eksbuild\.2$/);
    const rollout = await kubectl(['rollout', 'status', 'daemonset', 'aws-node', '-n', 'kube-system', '--timeout=20s']);
    expect(rollout.exitCode).toBe(0);
    expect(rollout.stdout).toMatch(/successfully rolled out/);
  });

  it('lets the real AWS CLI read the add-on and get EKS’s minor-skip error', async () => {
    const aws = (args: string[]) =>
      execa(awsCommand(), [...args, '--region', 'us-west-2', '--output', 'json'], { env: served.env, extendEnv: true, reject: false });
    const eks = served.info.eksEndpoint;
    const addon = await aws(['eks', 'describe-addon', '--cluster-name', 'demo', '--addon-name', 'vpc-cni', '--endpoint-url', eks]);
    expect(JSON.parse(addon.stdout).addon.addonVersion).toBe('v1.12.6-eksbuild.2');
    const versions = await aws(['eks', 'describe-addon-versions', '--addon-name', 'vpc-cni', '--kubernetes-version', '1.27', '--endpoint-url', eks]);
    const names = JSON.parse(versions.stdout).addons[0].addonVersions.map((v: { addonVersion: string }) => v.addonVersion);
    expect(names).toContain('v1.13.4-eksbuild.1');
    const config = await aws(['eks', 'describe-addon-configuration', '--addon-name', 'vpc-cni', '--addon-version', 'v1.14.0-eksbuild.3', '--endpoint-url', eks]);
    expect(JSON.parse(JSON.parse(config.stdout).configurationSchema).$schema).toMatch(/draft-06/);
    const skip = await aws(['eks', 'update-addon', '--cluster-name', 'demo', '--addon-name', 'vpc-cni', '--addon-version', 'v1.14.0-eksbuild.3', '--endpoint-url', eks]);
    expect(skip.exitCode).not.toBe(0);
    expect(skip.stderr).toMatch(/InvalidParameterException.*Updating VPC-CNI can only go up or down 1 minor version at a time/);
    const role = await aws(['iam', 'get-role', '--role-name', 'AmazonEKSVPCCNIRole', '--endpoint-url', served.info.iamEndpoint]);
    expect(JSON.parse(role.stdout).Role.AssumeRolePolicyDocument.Statement[0].Action).toBe('sts:AssumeRoleWithWebIdentity');
  });

  it('reports the new version in status after an upgrade through the same server', async () => {
    const backupDir = (await execa('mktemp', ['-d'])).stdout;
    const up = await vpccniInProcess(['upgrade', '--to', 'v1.14.0-eksbuild.3', '--yes', '--output', 'json', '--backup-dir', backupDir], { env: served.env });
    expect(up.exitCode, up.stderr).toBe(0);
    const report = parseJson<{ steps: Array<{ action: string; result: string }>; backup: string }>(up);
    expect(schemaErrors('upgrade', report)).toEqual([]);
    expect(report.steps.map((s) => `${s.action} ${s.result}`)).toEqual(['update succeeded', 'update succeeded']);
    const status = parseJson<Status>(await vpccniInProcess(['status', '--output', 'json'], { env: served.env }));
    expect(status.addon.version).toBe('v1.14.0-eksbuild.3');
    expect(status.daemonSet?.version).toBe('v1.14.0-eksbuild.3');
    expect(status.daemonSet?.images['aws-eks-nodeagent']).toMatch(/aws-network-policy-agent:v1\.0\.1$/);
    expect(status.upgradePath).toEqual([]);
  });
});
