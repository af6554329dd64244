/**
 * `vpccni fleet` end to end: `vpccni sandbox serve fleet` in a child process and the CLI, the way a
 * platform team runs it: discovery over two regions with a role assumed per account, every output, and the
 * documented GitHub Actions wave (the matrix's clusters upgraded one by one with the role the AWS CLI
 * assumes, then the gate passes). The first fleet check spawns the built CLI; the other runs are in-process
 * (main(argv) with the run's environment, helpers/in-process.ts), against the same served sandbox.
 */
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCommand } from './helpers/aws-cli.js';
import { isolatedEnv, parseJson, vpccni } from './helpers/cli.js';
import { useInProcessCli, vpccniInProcess } from './helpers/in-process.js';
import { schemaErrors } from './helpers/schemas.js';
import { serve, type Served } from './helpers/serve.js';

interface FleetServeInfo {
  eksEndpoint: string;
  iamEndpoint: string;
  stsEndpoint: string;
  kubeconfig: string;
  regions: string[];
  clusters: Array<{ cluster: string; region: string; account: string; context: string }>;
  accounts: Array<{ account: string; accessKeyId: string; secretAccessKey: string; denyAccess: boolean }>;
}

interface FleetDoc {
  schemaVersion: 1;
  pass: boolean;
  clusters: Array<{ cluster: string; region: string; account: string | null; version: string | null; pass: boolean; upgradeTo: string | null; error: string | null; findings: Array<{ id: string }> }>;
}

useInProcessCli();

const ROLE = 'arn:aws:iam::{account}:role/VpccniFleetReadOnly';
const ALL_ACCOUNTS = '111122223333,444455556666,777788889999';

describe('vpccni fleet against `sandbox serve fleet`', () => {
  let served: Served;
  let info: FleetServeInfo;
  let env: Record<string, string | undefined>;
  let dir: string;

  beforeAll(async () => {
    served = await serve('fleet');
    info = served.info as unknown as FleetServeInfo;
    const base = info.accounts.find((a) => a.account === '111122223333')!;
    env = isolatedEnv({
      AWS_ENDPOINT_URL_EKS: info.eksEndpoint,
      AWS_ENDPOINT_URL_IAM: info.iamEndpoint,
      AWS_ENDPOINT_URL_STS: info.stsEndpoint,
      AWS_ACCESS_KEY_ID: base.accessKeyId,
      AWS_SECRET_ACCESS_KEY: base.secretAccessKey,
      AWS_REGION: 'us-west-2',
      AWS_DEFAULT_REGION: 'us-west-2',
    });
    dir = env.HOME!;
  });
  afterAll(async () => {
    await served?.stop();
  });

  it('serves the fleet: 2 regions, the clusters with their accounts on the first line', () => {
    expect(info.regions).toEqual(['eu-west-1', 'us-west-2']);
    expect(info.clusters.length).toBeGreaterThanOrEqual(8);
    expect(new Set(info.clusters.map((c) => c.account)).size).toBeGreaterThanOrEqual(2);
  });

  it('fleet check --output json (the built CLI): a row a cluster; the denying account and the cluster that hangs are rows with reasons; exit 3', async () => {
    // slow-euw1 never answers; the others answer in well under the timeout.
    const r = await vpccni(
      ['fleet', 'check', '--regions', 'us-west-2,eu-west-1', '--role-arn-template', ROLE, '--accounts', ALL_ACCOUNTS, '--cluster-timeout', '15s', '--output', 'json'],
      { env },
    );
    expect(r.exitCode, r.stderr).toBe(3);
    const doc = parseJson<FleetDoc>(r);
    expect(schemaErrors('fleet', doc)).toEqual([]);
    expect(doc.pass).toBe(false);
    const row = (cluster: string, region?: string, account?: string) =>
      doc.clusters.find((c) => c.cluster === cluster && (!region || c.region === region) && (!account || c.account === account));
    const readable = info.clusters.filter((c) => c.account !== '777788889999');
    for (const c of readable) expect(row(c.cluster, c.region, c.account), c.cluster).toBeDefined();
    expect(row('slow-euw1')?.error).toMatch(/^Timed out after 15 s/);
    expect(row('*', 'us-west-2', '777788889999')?.error).toMatch(/access was denied/i);
    expect(row('*', 'eu-west-1', '777788889999')?.error).toMatch(/access was denied/i);
    expect(row('prod-usw2-a')).toMatchObject({ pass: true, error: null, version: 'v1.19.5-eksbuild.1' });
    expect(row('prod-usw2-b')).toMatchObject({ pass: false, error: null });
    expect(row('prod-usw2-b')!.findings.map((f) => f.id)).toContain('not-offered-for-target');
    expect(r.stderr).toContain('Could not read slow-euw1 in eu-west-1: Timed out');
    expect(r.stderr).toContain('Could not read the clusters of account 777788889999 in us-west-2');
  });

  it('fleet status --output markdown and fleet plan as text, from a fleet file with a selector', async () => {
    const md = await vpccniInProcess(['fleet', 'status', '--regions', 'us-west-2', '--role-arn-template', ROLE, '--accounts', ALL_ACCOUNTS, '--output', 'markdown'], { env });
    expect(md.exitCode, md.stderr).toBe(3);
    expect(md.stdout).toMatch(/^## vpccni fleet status\n/);
    expect(md.stdout).toContain('| `prod-usw2-a` | us-west-2 | 111122223333 | 1.31 | v1.19.5-eksbuild.1 | yes | ✅ yes |');
    expect(md.stdout).toContain('| `*` | us-west-2 | 777788889999 |');

    const file = join(dir, 'fleet.yaml');
    writeFileSync(
      file,
      [
        'clusters:',
        '  - { cluster: prod-usw2-a, region: us-west-2, labels: { env: prod, wave: 1 } }',
        '  - { cluster: prod-usw2-b, region: us-west-2, labels: { env: prod, wave: 2 } }',
        '  - { cluster: stage-usw2-sm, region: us-west-2, roleArn: "arn:aws:iam::444455556666:role/VpccniFleetReadOnly", labels: { env: stage, wave: 1 } }',
      ].join('\n'),
    );
    const plan = await vpccniInProcess(['fleet', 'plan', '--fleet', file, '--selector', 'wave=1', '--to', 'latest'], { env });
    expect(plan.exitCode, plan.stderr).toBe(0);
    const lines = plan.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^CLUSTER\s+REGION\s+ACCOUNT\s+K8S\s+VPC-CNI\s+MANAGED\s+PLAN TO latest\s+BLOCKING$/);
    expect(lines.filter((l) => /^(prod|stage)-/.test(l)).map((l) => l.split(/\s+/)[0])).toEqual(['prod-usw2-a', 'stage-usw2-sm']);
    expect(lines.at(-1)).toBe('2 rows: 2 ready, 0 not ready, 0 could not be read.');
  });

  it('drives the documented wave: the matrix of not-ready clusters, `vpccni upgrade` per entry with the role it names, then that cluster passes the gate', async () => {
    const args = ['fleet', 'check', '--regions', 'us-west-2', '--role-arn-template', ROLE, '--accounts', '111122223333', '--kubernetes-version', '1.32'];
    const m = await vpccniInProcess([...args, '--output', 'github-matrix'], { env });
    expect(m.exitCode, m.stderr).toBe(1);
    const matrix = parseJson<{ include: Array<{ cluster: string; region: string; account: string; to: string; roleArn: string }> }>(m);
    expect(schemaErrors('fleet-matrix', matrix)).toEqual([]);
    expect(matrix.include.map((e) => e.cluster)).toEqual(['prod-usw2-b']);
    const entry = matrix.include[0]!;
    expect(entry).toMatchObject({ region: 'us-west-2', account: '111122223333', roleArn: 'arn:aws:iam::111122223333:role/VpccniFleetReadOnly' });

    // The matrix job: assume the role (here with the AWS CLI, as aws-actions/configure-aws-credentials would) and upgrade.
    const assumed = await execa(
      awsCommand(),
      ['sts', 'assume-role', '--role-arn', entry.roleArn, '--role-session-name', 'vpccni-wave', '--endpoint-url', info.stsEndpoint, '--output', 'json'],
      { env, extendEnv: true, reject: false },
    );
    expect(assumed.exitCode, String(assumed.stderr)).toBe(0);
    const creds = (JSON.parse(String(assumed.stdout)) as { Credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string } }).Credentials;
    const context = info.clusters.find((c) => c.cluster === entry.cluster && c.region === entry.region)!.context;
    const jobEnv = { ...env, AWS_ACCESS_KEY_ID: creds.AccessKeyId, AWS_SECRET_ACCESS_KEY: creds.SecretAccessKey, AWS_SESSION_TOKEN: creds.SessionToken };
    const up = await vpccniInProcess(
      ['--cluster', entry.cluster, '--region', entry.region, '--kubeconfig', info.kubeconfig, '--context', context, 'upgrade', '--to', entry.to, '--yes', '--backup-dir', join(dir, 'backups')],
      { env: jobEnv },
    );
    expect(up.exitCode, up.stderr).toBe(0);

    // The wave's cluster is ready now; legacy-usw2 (self-managed v1.12.6 on 1.27) still is not, and no
    // upgrade fixes it from there, so it was never in the matrix and keeps the gate at exit 1.
    const after = await vpccniInProcess([...args, '--output', 'json'], { env });
    expect(after.exitCode, after.stderr).toBe(1);
    const doc = parseJson<FleetDoc>(after);
    expect(doc.clusters.find((c) => c.cluster === 'prod-usw2-b')).toMatchObject({ pass: true, version: entry.to });
    expect(doc.clusters.filter((c) => !c.pass).map((c) => c.cluster)).toEqual(['legacy-usw2']);
    const again = await vpccniInProcess([...args, '--output', 'github-matrix'], { env });
    expect(again.exitCode).toBe(1);
    expect(parseJson(again)).toEqual({ include: [] });
    expect(again.stderr).toContain('legacy-usw2 (us-west-2) is not ready and no upgrade fixes it; it is not in the matrix.');
  });

  it('refuses bad input with exit 2 and one sentence, before any call', async () => {
    const r = await vpccniInProcess(['fleet', 'check', '--regions', 'us-west-2', '--selector', 'env'], { env });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--selector takes key=value pairs/);
  });
});
