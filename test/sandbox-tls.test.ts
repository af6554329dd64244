/**
 * The sandbox's Kubernetes API serves HTTPS with a cluster CA of its own (DescribeCluster's
 * certificateAuthority.data) and accepts only EKS tokens for its cluster (`aws eks get-token`, through the exec
 * kubeconfig `aws eks update-kubeconfig` writes) or the long-lived token it minted; 401 otherwise.
 */
import { DescribeClusterCommand } from '@aws-sdk/client-eks';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { eksTokenProblem, makeEksToken } from '../src/sandbox/kube-auth.js';
import { pathWithAws } from './helpers/aws-cli.js';
import { eksSdk } from './helpers/aws-sdk.js';
import { kubectlFor } from './helpers/kubectl.js';

let sb: RunningSandbox;
beforeAll(async () => {
  sb = await startSandbox('default');
});
afterAll(() => sb.close());

/** GET over HTTPS trusting the sandbox CA, with an optional bearer token. */
function get(path: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${sb.kubeEndpoint}${path}`,
      { ca: Buffer.from(sb.caData, 'base64'), headers: token ? { Authorization: `Bearer ${token}` } : {} },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('TLS', () => {
  it('serves HTTPS with a certificate for 127.0.0.1 signed by the CA DescribeCluster returns', async () => {
    expect(sb.kubeEndpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    // DescribeCluster's wire format goes through the AWS CLI in sandbox-aws.test.ts; here its CA is the point.
    const { cluster } = await eksSdk(sb).send(new DescribeClusterCommand({ name: 'demo' }));
    expect(cluster?.certificateAuthority?.data).toBe(sb.caData);
    expect(cluster?.endpoint).toBe(sb.kubeEndpoint);
    const ca = new X509Certificate(Buffer.from(cluster!.certificateAuthority!.data!, 'base64'));
    expect(ca.ca).toBe(true);
    // The handshake succeeds only with the CA: a plain fetch without it is refused.
    await expect(fetch(`${sb.kubeEndpoint}/version`)).rejects.toThrow();
    expect((await get('/version')).status).toBe(200);
  });
});

describe('authentication', () => {
  it('keeps /version public and answers 401 Unauthorized without a good token', async () => {
    expect((await get('/version')).status).toBe(200);
    const anonymous = await get('/api/v1/nodes');
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    expect((await get('/api/v1/nodes', 'not-a-token')).status).toBe(401);
    expect((await get('/api/v1/nodes', sb.kubeToken)).status).toBe(200);
  });

  it('accepts an EKS token for this cluster only, signed, recent and short-lived', async () => {
    const good = makeEksToken({ cluster: 'demo', region: 'us-west-2' });
    expect((await get('/api/v1/nodes', good)).status).toBe(200);
    expect(eksTokenProblem(makeEksToken({ cluster: 'other', region: 'us-west-2' }), 'demo')).toBe('the token is not for cluster demo');
    expect((await get('/api/v1/nodes', makeEksToken({ cluster: 'other', region: 'us-west-2' }))).status).toBe(401);
    const old = makeEksToken({ cluster: 'demo', region: 'us-west-2', now: new Date(Date.now() - 16 * 60_000) });
    expect(eksTokenProblem(old, 'demo')).toBe('the token expired');
    expect((await get('/api/v1/nodes', old)).status).toBe(401);
    expect(eksTokenProblem(makeEksToken({ cluster: 'demo', region: 'us-west-2', expiresSeconds: 3600 }), 'demo')).toBe('X-Amz-Expires is over 900 seconds');
    expect(eksTokenProblem(makeEksToken({ cluster: 'demo', region: 'us-west-2', accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'x' }), 'demo')).toMatch(/which the sandbox did not issue/);
    // Without x-k8s-aws-id among the signed headers the token names no cluster.
    const url = Buffer.from(good.slice('k8s-aws-v1.'.length), 'base64url').toString().replace('host%3Bx-k8s-aws-id', 'host');
    expect(eksTokenProblem(`k8s-aws-v1.${Buffer.from(url).toString('base64url')}`, 'demo')).toBe('x-k8s-aws-id is not a signed header');
  });

  it('writes an update-kubeconfig style exec kubeconfig and a plain-token one', () => {
    const exec = parse(readFileSync(sb.kubeconfigExec, 'utf8')) as {
      clusters: Array<{ name: string; cluster: Record<string, string> }>;
      users: Array<{ name: string; user: { exec: { apiVersion: string; command: string; args: string[]; env: Array<{ name: string }> } } }>;
      'current-context': string;
    };
    const arn = 'arn:aws:eks:us-west-2:111122223333:cluster/demo';
    expect(exec['current-context']).toBe(arn);
    expect(exec.clusters[0]).toEqual({ name: arn, cluster: { server: sb.kubeEndpoint, 'certificate-authority-data': sb.caData } });
    expect(exec.users[0]?.user.exec).toMatchObject({
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      command: 'aws',
      args: ['--region', 'us-west-2', 'eks', 'get-token', '--cluster-name', 'demo', '--output', 'json'],
    });
    expect(exec.users[0]?.user.exec.env.map((e) => e.name)).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
    const token = parse(readFileSync(sb.kubeconfig, 'utf8')) as { users: Array<{ user: { token: string } }> };
    expect(token.users[0]?.user.token).toBe(sb.kubeToken);
  });

  // One minor each: the exec credential protocol (v1beta1) is the same in both; `aws` found past the pyenv shim.
  it('kubectl 1.33 reaches the API through aws eks get-token (exec kubeconfig)', async () => {
    const kubectl = kubectlFor('1.33', sb.kubeconfigExec, { PATH: pathWithAws() });
    const nodes = await kubectl('get', 'nodes', '-o', 'name');
    expect(nodes.exitCode, nodes.stderr).toBe(0);
    expect(nodes.stdout.trim().split('\n')).toHaveLength(3);
  });

  it("kubectl 1.27 is refused with another cluster's token", async () => {
    const other = kubectlFor('1.27', sb.kubeconfig);
    const refused = await other('--token', makeEksToken({ cluster: 'other', region: 'us-west-2' }), 'get', 'nodes');
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('error: You must be logged in to the server');
  });
});
