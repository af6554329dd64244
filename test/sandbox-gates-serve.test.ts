/**
 * The gates from another process: `vpccni sandbox serve` (a child process, as a user runs it), driven over
 * the control endpoint with fetch, while the AWS CLI and vpccni make the EKS calls. "In flight" is a state
 * this test sets, then lifts.
 */
import { DescribeAddonCommand, DescribeUpdateCommand } from '@aws-sdk/client-eks';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aws } from './helpers/aws-cli.js';
import { eksSdk } from './helpers/aws-sdk.js';
import { vpccni } from './helpers/cli.js';
import { caFromKubeconfig, kubeVersionStatus } from './helpers/kube-https.js';
import { serve, type Served } from './helpers/serve.js';

let served: Served;
beforeAll(async () => {
  served = await serve('default');
});
afterAll(() => served?.stop());

const home = mkdtempSync(join(tmpdir(), 'vpccni-gates-serve-'));

const sdk = () => eksSdk({ region: served.info.region, eksEndpoint: served.info.eksEndpoint }, { accessKeyId: 'test', secretAccessKey: 'test' });

async function gate(action: 'hold' | 'release' | 'step' | null, name = 'eks-change'): Promise<{ held: boolean; pending: string[]; passed: number }> {
  const response = await fetch(`${served.info.eksEndpoint}/_sandbox/gates/${name}${action ? `/${action}` : ''}`, { method: action ? 'POST' : 'GET' });
  expect(response.status).toBe(200);
  return (await response.json()) as { held: boolean; pending: string[]; passed: number };
}

describe('gates over sandbox serve', () => {
  it('keeps an update from the AWS CLI InProgress until released, and vpccni upgrade refuses to start over it', async () => {
    expect(await gate('hold')).toMatchObject({ held: true, pending: [] });
    const update = await aws(served.info.eksEndpoint, ['eks', 'update-addon', '--cluster-name', 'demo', '--addon-name', 'vpc-cni', '--addon-version', 'v1.13.4-eksbuild.1'], {
      region: served.info.region,
      accessKeyId: 'test',
      secretAccessKey: 'test',
    });
    expect(update.exitCode, update.stderr).toBe(0);
    const id = update.json.update.id as string;
    expect((await gate(null)).pending).toEqual([`UpdateAddon ${id}`]);
    // DescribeUpdate's wire format goes through the AWS CLI in sandbox-eks-conformance.test.ts; here the state is the point.
    const describeUpdate = async () => (await sdk().send(new DescribeUpdateCommand({ name: 'demo', addonName: 'vpc-cni', updateId: id }))).update?.status;
    expect(await describeUpdate()).toBe('InProgress');

    // vpccni refuses to start an upgrade over a change in flight, whatever the clock says.
    const refused = await vpccni([...served.flags, 'upgrade', '--to', 'v1.14.0-eksbuild.3', '--yes', '--backup-dir', home], { env: served.env });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/is UPDATING; wait until it is ACTIVE/);

    expect(await gate('release')).toMatchObject({ held: false, pending: [], passed: 1 });
    expect(await describeUpdate()).toBe('Successful');
    expect((await sdk().send(new DescribeAddonCommand({ clusterName: 'demo', addonName: 'vpc-cni' }))).addon).toMatchObject({
      addonVersion: 'v1.13.4-eksbuild.1',
      status: 'ACTIVE',
    });
  });

  it('starts and lifts a Kubernetes API outage', async () => {
    expect(await kubeVersionStatus(served.info.kubeEndpoint, caFromKubeconfig(served.info.kubeconfig))).toBe(200);
    await gate('hold', 'kube-outage');
    const start = await fetch(`${served.info.eksEndpoint}/_sandbox/gates/kube-outage/start`, { method: 'POST' });
    expect((await start.json()) as { pending: string[] }).toMatchObject({ pending: [expect.stringMatching(/^kube outage/)] });
    // The API serves HTTPS with the sandbox CA (in the kubeconfig serve wrote); /version is public. 'refused' is only
    // a refused connection, not a TLS failure.
    const ca = caFromKubeconfig(served.info.kubeconfig);
    const version = () => kubeVersionStatus(served.info.kubeEndpoint, ca);
    expect(await version()).toBe('refused');
    await gate('release', 'kube-outage');
    // Listening again is asynchronous: wait for the condition, not for a time.
    await expect.poll(version, { timeout: 10_000, interval: 20 }).toBe(200);
  });
});
