/**
 * The EKS token made in-process is what `aws eks get-token` prints (the real AWS CLI, run here; only the
 * signature and the time differ), and the exec plugins we answer in-process are recognised exactly.
 */
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { eksTokenRequest, makeEksToken } from '../src/gateways/eks-token.js';
import { awsCommand } from './helpers/aws-cli.js';
import { isolatedEnv } from './helpers/cli.js';

const haveAws = (await execa('sh', ['-c', 'command -v aws'], { reject: false })).exitCode === 0;

/** The presigned URL inside a token, its query as a map with the time-dependent values blanked. */
function shape(token: string): { base: string; query: Record<string, string>; order: string[] } {
  expect(token.startsWith('k8s-aws-v1.')).toBe(true);
  const body = token.slice('k8s-aws-v1.'.length);
  expect(body).not.toMatch(/[=+/]/);
  const url = new URL(Buffer.from(body, 'base64url').toString('utf8'));
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = k === 'X-Amz-Signature' ? '<sig>' : k === 'X-Amz-Date' ? '<date>' : k === 'X-Amz-Credential' ? v.replace(/\/\d{8}\//, '/<day>/') : v;
  return { base: `${url.origin}${url.pathname}`, query, order: [...url.searchParams.keys()] };
}

describe.skipIf(!haveAws)('against the real `aws eks get-token`', () => {
  it.each<[Record<string, string>, string]>([
    [{}, 'static keys'],
    [{ AWS_SESSION_TOKEN: 'FwoGZXIvYXdzEXAMPLE//token+with/specials=' }, 'session credentials'],
  ])('makes the same presigned URL (%j, %s)', async (extra: Record<string, string>) => {
    const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', ...('AWS_SESSION_TOKEN' in extra ? { sessionToken: extra.AWS_SESSION_TOKEN } : {}) };
    const cli = await execa(awsCommand(), ['eks', 'get-token', '--cluster-name', 'demo', '--region', 'eu-west-1', '--output', 'json'], {
      env: isolatedEnv({ AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, ...extra }),
      extendEnv: true,
    });
    const printed = JSON.parse(cli.stdout) as { kind: string; status: { token: string; expirationTimestamp: string } };
    expect(printed.kind).toBe('ExecCredential');
    const ours = await makeEksToken('demo', 'eu-west-1', credentials);
    const theirs = shape(printed.status.token);
    const mine = shape(ours.token);
    expect(mine.base).toBe(theirs.base);
    expect(mine.query).toEqual(theirs.query);
    expect(mine.order).toEqual(theirs.order);
    expect(mine.query['X-Amz-SignedHeaders']).toBe('host;x-k8s-aws-id');
    expect(mine.query['X-Amz-Expires']).toBe('60');
    // Signed at the CLI's own time, the token is the very same, signature included.
    const cliUrl = new URL(Buffer.from(printed.status.token.slice(11), 'base64url').toString());
    const when = cliUrl.searchParams.get('X-Amz-Date')!.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z');
    expect((await makeEksToken('demo', 'eu-west-1', credentials, new Date(when))).token).toBe(printed.status.token);
    // Both say the token is good for 14 minutes.
    expect(Math.abs(Date.parse(printed.status.expirationTimestamp) - ours.expiresAt!)).toBeLessThan(120_000);
  });
});

describe('the signature', () => {
  it('is deterministic for a given time and changes with the cluster (the signed x-k8s-aws-id header)', async () => {
    const at = new Date('2026-01-02T03:04:05Z');
    const creds = { accessKeyId: 'AKID', secretAccessKey: 'secret' };
    const a = await makeEksToken('demo', 'us-west-2', creds, at);
    expect((await makeEksToken('demo', 'us-west-2', creds, at)).token).toBe(a.token);
    expect((await makeEksToken('other', 'us-west-2', creds, at)).token).not.toBe(a.token);
    expect(shape(a.token).query['X-Amz-Date']).toBe('<date>');
    expect(Buffer.from(a.token.slice(11), 'base64url').toString()).toContain('X-Amz-Date=20260102T030405Z');
    expect(a.expiresAt).toBe(at.getTime() + 14 * 60_000);
  });
});

describe('which exec plugins are answered in-process', () => {
  const plugin = (command: string, args: string[], env: Array<{ name: string; value: string }> = []) => ({
    command,
    args,
    env,
    apiVersion: 'client.authentication.k8s.io/v1beta1',
    provideClusterInfo: false,
  });
  it.each([
    [plugin('aws', ['--region', 'us-west-2', 'eks', 'get-token', '--cluster-name', 'demo', '--output', 'json']), { cluster: 'demo', region: 'us-west-2', profile: null, credentials: null }],
    [plugin('/usr/local/bin/aws', ['eks', 'get-token', '--cluster-name=demo'], [{ name: 'AWS_PROFILE', value: 'prod' }]), { cluster: 'demo', region: null, profile: 'prod', credentials: null }],
    [plugin('aws', ['eks', 'get-token', '--cluster-id', 'abc', '--region', 'eu-west-1', '--profile', 'p'], [{ name: 'AWS_ACCESS_KEY_ID', value: 'AK' }, { name: 'AWS_SECRET_ACCESS_KEY', value: 'SK' }]), { cluster: 'abc', region: 'eu-west-1', profile: 'p', credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' } }],
    [plugin('aws-iam-authenticator', ['token', '-i', 'demo'], [{ name: 'AWS_REGION', value: 'ap-south-1' }]), { cluster: 'demo', region: 'ap-south-1', profile: null, credentials: null }],
  ])('%j', (exec, wanted) => expect(eksTokenRequest(exec)).toEqual(wanted));

  it.each([
    plugin('aws', ['eks', 'get-token', '--cluster-name', 'demo', '--role-arn', 'arn:aws:iam::1:role/x']),
    plugin('aws-iam-authenticator', ['token', '-i', 'demo', '-r', 'arn:aws:iam::1:role/x']),
    plugin('gke-gcloud-auth-plugin', []),
    plugin('aws', ['sts', 'get-caller-identity']),
    plugin('kubelogin', ['get-token', '--cluster-name', 'demo']),
  ])('runs %j as it is', (exec) => expect(eksTokenRequest(exec)).toBeNull());
});
