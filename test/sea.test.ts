/**
 * The single executable (`npm run build:sea`, scripts/build-sea.mjs): dist/sea/vpccni-linux-x64 runs with no
 * Node.js on the machine. Every run here has a PATH of one empty folder, so `which node` fails in it, and
 * nothing but the environment given (no NODE_OPTIONS), and the file runs from a folder of its own (its require()
 * reaches only built-ins, its data files are its SEA assets). The file serves the
 * sandbox itself (`sandbox serve`), and `status`, `check` and `upgrade` run against it; the add-on's version
 * after the upgrade is read through that sandbox with the AWS SDK. `npm test` builds the file before vitest;
 * a run of this file alone builds it when it is missing or older than the build of dist/.
 */
import { DescribeAddonCommand } from '@aws-sdk/client-eks';
import { execa, type ResultPromise } from 'execa';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eksSdk } from './helpers/aws-sdk.js';
import { ROOT } from './helpers/cli.js';

const BUILT = join(ROOT, 'dist', 'sea', 'vpccni-linux-x64');
/** The file the tests run: a copy of the build in a folder of its own, far from the checkout and its node_modules. */
const SEA = join(mkdtempSync(join(tmpdir(), 'vpccni-sea-bin-')), 'vpccni-linux-x64');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** An environment with no node on its PATH, no AWS or kube configuration of the machine, and its own HOME. */
function noNodeEnv(extra: Record<string, string> = {}): Record<string, string> {
  const home = mkdtempSync(join(tmpdir(), 'vpccni-sea-home-'));
  return {
    HOME: home,
    PATH: mkdtempSync(join(tmpdir(), 'vpccni-sea-path-')),
    AWS_CONFIG_FILE: join(home, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    KUBECONFIG: join(home, 'no-kubeconfig'),
    NO_COLOR: '1',
    ...extra,
  };
}

/** Runs the single executable with exactly `env` (nothing of this process's environment), from its HOME. */
function sea(args: string[], env: Record<string, string>) {
  return execa(SEA, args, { env, extendEnv: false, cwd: env.HOME, reject: false, timeout: 120_000 });
}

let server: ResultPromise | undefined;
let info: { eksEndpoint: string; iamEndpoint: string; kubeconfig: string; cluster: string; region: string };
let clientEnv: Record<string, string>;

beforeAll(async () => {
  const built = existsSync(BUILT) ? statSync(BUILT).mtimeMs : 0;
  if (built < statSync(join(ROOT, 'dist', 'cli.js')).mtimeMs) {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-sea.mjs')], { stdio: 'ignore', timeout: 300_000 });
  }
  copyFileSync(BUILT, SEA);
  chmodSync(SEA, 0o755);
  const serveEnv = noNodeEnv();
  server = execa(SEA, ['sandbox', 'serve', 'default', '--dir', join(serveEnv.HOME!, 'sandbox')], { env: serveEnv, extendEnv: false, reject: false, stdin: 'ignore', buffer: false });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: server!.stdout! }).once('line', resolve);
    void server!.then((r) => reject(new Error(`sandbox serve exited early (${r.exitCode})`)));
  });
  info = JSON.parse(first) as typeof info;
  clientEnv = noNodeEnv({
    AWS_ENDPOINT_URL_EKS: info.eksEndpoint,
    AWS_ENDPOINT_URL_IAM: info.iamEndpoint,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: info.region,
    KUBECONFIG: info.kubeconfig,
  });
}, 360_000);

afterAll(async () => {
  server?.kill('SIGINT');
  await server;
  rmSync(dirname(SEA), { recursive: true, force: true });
});

describe('the single executable vpccni-linux-x64', () => {
  it('is a file of its own whose sha256 the build wrote beside it, and runs where `which node` finds nothing', async () => {
    const env = noNodeEnv();
    const which = await execa('/usr/bin/which', ['node'], { env, extendEnv: false, reject: false });
    expect(which.exitCode).not.toBe(0);
    const version = await sea(['--version'], env);
    expect(version.exitCode).toBe(0);
    expect(version.stdout).toBe(VERSION);
    const sha256 = createHash('sha256').update(readFileSync(SEA)).digest('hex');
    expect(readFileSync(`${BUILT}.sha256`, 'utf8')).toBe(`${sha256}  vpccni-linux-x64\n`);
  });

  it('status against its own sandbox serve', async () => {
    const text = await sea(['--cluster', info.cluster, '--region', info.region, 'status'], clientEnv);
    expect(text.stderr).toBe('');
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(/^Add-on {6}vpc-cni v1\.12\.6-eksbuild\.2, managed by EKS, ACTIVE$/m);
    expect(text.stdout).toMatch(/^Path {8}v1\.12\.6-eksbuild\.2 → v1\.13\.4-eksbuild\.1 → v1\.14\.0-eksbuild\.3 \(2 steps\)$/m);
    const json = await sea(['--cluster', info.cluster, '--region', info.region, 'status', '--output', 'json'], clientEnv);
    expect(json.exitCode).toBe(0);
    const report = JSON.parse(json.stdout) as { cluster: { name: string; kubernetesVersion: string }; addon: { version: string; managed: boolean } };
    expect(report.cluster).toMatchObject({ name: 'demo', kubernetesVersion: '1.27' });
    expect(report.addon).toMatchObject({ version: 'v1.12.6-eksbuild.2', managed: true });
  });

  it('check --kubernetes-version 1.28 fails the gate with exit 1 before the upgrade', async () => {
    const check = await sea(['--cluster', info.cluster, '--region', info.region, 'check', '--kubernetes-version', '1.28'], clientEnv);
    expect(check.exitCode).toBe(1);
    expect(check.stdout).toMatch(/^FAIL: vpc-cni v1\.12\.6-eksbuild\.2 on demo is not ready for Kubernetes 1\.28\.$/m);
    expect(check.stdout).toMatch(/\[not-offered-for-target\] v1\.12\.6-eksbuild\.2 is not offered for Kubernetes 1\.28\./);
  });

  it('upgrade --to v1.14.0-eksbuild.3 --yes walks both steps, and EKS then reports that version', async () => {
    const upgrade = await sea(['--cluster', info.cluster, '--region', info.region, 'upgrade', '--to', 'v1.14.0-eksbuild.3', '--yes'], clientEnv);
    expect(upgrade.exitCode, upgrade.stderr).toBe(0);
    expect(upgrade.stdout).toMatch(/^Upgraded vpc-cni on demo: v1\.12\.6-eksbuild\.2 → v1\.13\.4-eksbuild\.1 → v1\.14\.0-eksbuild\.3$/m);
    expect(upgrade.stderr).toMatch(/^Step 2\/2: done, aws-node runs v1\.14\.0-eksbuild\.3$/m);
    const eks = eksSdk({ region: info.region, eksEndpoint: info.eksEndpoint }, { accessKeyId: 'test', secretAccessKey: 'test' });
    const { addon } = await eks.send(new DescribeAddonCommand({ clusterName: info.cluster, addonName: 'vpc-cni' }));
    expect(addon?.addonVersion).toBe('v1.14.0-eksbuild.3');
    expect(addon?.status).toBe('ACTIVE');
  });

  it("runs the README's sandbox upgrade in-process: vpccni-linux-x64 --sandbox upgrade --to v1.14.0-eksbuild.3 --yes", async () => {
    const run = await sea(['--sandbox', 'upgrade', '--to', 'v1.14.0-eksbuild.3', '--yes'], noNodeEnv());
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Upgraded vpc-cni on demo: v1\.12\.6-eksbuild\.2 → v1\.13\.4-eksbuild\.1 → v1\.14\.0-eksbuild\.3$/m);
    expect(run.stdout).toMatch(/^Backup: .*\/\.vpccni\/sandbox\/backups\/aws-node-demo-\d{8}T\d{6}Z\.yaml$/m);
  });

  it('reads its schemas, scenarios, manifests and advisories from its assets', async () => {
    const env = noNodeEnv();
    const validate = await sea(['--sandbox', 'validate', '--configuration-values', '{"env":{"WARM_IP_TARGET":"5","ENABLE_POD_ENI":"yes"}}', '--addon-version', 'v1.14.0-eksbuild.3'], env);
    expect(validate.exitCode).toBe(2);
    expect(validate.stderr + validate.stdout).toMatch(/ENABLE_POD_ENI/);
    const list = await sea(['sandbox', 'list'], env);
    expect(list.exitCode).toBe(0);
    const shipped = execFileSync('ls', [join(ROOT, 'fixtures', 'scenarios')], { encoding: 'utf8' }).split('\n').filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));
    for (const name of shipped) expect(list.stdout).toMatch(new RegExp(`^${name}\\b`, 'm'));
    const helper = await sea(['--sandbox', 'metrics-helper', 'upgrade', '--dry-run'], env);
    expect(helper.exitCode, helper.stderr).toBe(0);
    expect(helper.stdout).toMatch(/^ +\+\+\+ cni-metrics-helper v1\.12\.6$/m);
    expect(helper.stdout).toMatch(/^ +\+kind: ClusterRole$/m);
    const advisories = await sea(['advisories', '--output', 'json'], env);
    expect(advisories.exitCode).toBe(0);
    const shippedAdvisories = (JSON.parse(readFileSync(join(ROOT, 'advisories', 'advisories.json'), 'utf8')) as { advisories: Array<{ id: string }> }).advisories;
    expect((JSON.parse(advisories.stdout) as { advisories: Array<{ id: string }> }).advisories.map((a) => a.id)).toEqual(shippedAdvisories.map((a) => a.id));
    const badFile = join(env.HOME!, 'advisories.json');
    writeFileSync(badFile, '{"schemaVersion":1,"advisories":[{"id":"x"}]}');
    const bad = await sea(['--advisories', badFile, 'advisories'], env);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/does not match schemas\/advisories\.schema\.json \(at \/advisories\/0: must have required property 'versions'\)/);
  });
});
