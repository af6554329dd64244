/**
 * The EKS bearer token, made in-process: what `aws eks get-token` and `aws-iam-authenticator token` print,
 * without starting a process (about 9 ms instead of a Python start-up on every kubectl call).
 * `k8s-aws-v1.` + base64url (no padding) of a presigned STS GetCallerIdentity URL whose signed headers
 * include `x-k8s-aws-id: <cluster>`, valid 60 s at STS, used by us for at most 14 minutes (as the CLI says).
 * https://github.com/kubernetes-sigs/aws-iam-authenticator#api-authorization-from-outside-a-cluster
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { ExecPlugin } from './kubeconfig.js';
import { signatureV4Sdk } from './sdk-modules.js';

/** AWS credentials as the SDK's chain returns them. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** A bearer token and when to stop using it. */
export interface BearerToken {
  token: string;
  /** Epoch ms; null when it does not expire. */
  expiresAt: number | null;
}

/** What an EKS exec plugin asks for, when its arguments say so and we can make it in-process. */
export interface EksTokenRequest {
  cluster: string;
  region: string | null;
  profile: string | null;
  /** Keys the plugin's own `env` sets (they win over the profile, as they would for the plugin). */
  credentials: AwsCredentials | null;
}

/**
 * Recognises `aws eks get-token --cluster-name X [--region R] [--profile P]` and
 * `aws-iam-authenticator token -i X`; null for anything else, or when a role is to be assumed
 * (`--role-arn`, `-r`): the plugin is then run as it is.
 */
export function eksTokenRequest(exec: ExecPlugin): EksTokenRequest | null {
  const base = exec.command.split(/[\\/]/).pop() ?? '';
  const args = exec.args;
  const value = (...names: string[]): string | null => {
    for (const [i, arg] of args.entries()) {
      for (const name of names) {
        if (arg === name) return args[i + 1] ?? null;
        if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
      }
    }
    return null;
  };
  const env = (name: string): string | null => exec.env.find((e) => e.name === name)?.value ?? null;
  if (value('--role-arn', '-r', '--role', '--assume-role-arn') !== null) return null;
  let cluster: string | null = null;
  if (/^aws(\.exe)?$/.test(base) && args.includes('eks') && args.includes('get-token')) {
    cluster = value('--cluster-name', '--cluster-id');
  } else if (/^aws-iam-authenticator(\.exe)?$/.test(base) && args.includes('token')) {
    cluster = value('-i', '--cluster-id');
  }
  if (!cluster) return null;
  const accessKeyId = env('AWS_ACCESS_KEY_ID');
  const secretAccessKey = env('AWS_SECRET_ACCESS_KEY');
  const sessionToken = env('AWS_SESSION_TOKEN');
  return {
    cluster,
    region: value('--region') ?? env('AWS_REGION') ?? env('AWS_DEFAULT_REGION'),
    profile: value('--profile') ?? env('AWS_PROFILE'),
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } : null,
  };
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** The SHA-256 the signer takes, over node:crypto (keyed: HMAC). */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret ? createHmac('sha256', bytes(secret)) : createHash('sha256');
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

/** STS's regional endpoint (what the AWS CLI v2 and botocore's `regional` setting use). */
export function stsHost(region: string): string {
  return region.startsWith('cn-') ? `sts.${region}.amazonaws.com.cn` : `sts.${region}.amazonaws.com`;
}

/** Makes the token for `cluster` in `region` with `credentials`; `now` for tests. */
export async function makeEksToken(
  cluster: string,
  region: string,
  credentials: AwsCredentials,
  now: Date = new Date(),
): Promise<BearerToken> {
  const { SignatureV4 } = await signatureV4Sdk();
  const signer = new SignatureV4({ credentials, region, service: 'sts', sha256: NodeSha256, uriEscapePath: true });
  const hostname = stsHost(region);
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, 'x-k8s-aws-id': cluster },
    },
    { expiresIn: 60, signingDate: now },
  );
  // The order `aws eks get-token` prints (any order is valid; the same one keeps tokens comparable).
  const ORDER = ['Action', 'Version', 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Security-Token', 'X-Amz-Signature'];
  const rank = (key: string) => (ORDER.includes(key) ? ORDER.indexOf(key) : ORDER.length);
  const query = Object.entries(signed.query ?? {})
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  const url = `https://${hostname}/?${query}`;
  return {
    token: `k8s-aws-v1.${Buffer.from(url).toString('base64url')}`,
    // The CLI states 14 minutes for a URL STS accepts for 15 (60 s presign plus its clock skew allowance).
    expiresAt: now.getTime() + 14 * 60_000,
  };
}

/** The SDK's default credential chain (env, SSO, profile, web identity, container, IMDS) for a profile. */
export async function sdkCredentials(profile: string | null): Promise<AwsCredentials> {
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
  return defaultProvider(profile ? { profile } : {})();
}
