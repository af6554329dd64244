/**
 * TLS and authentication for the sandbox's Kubernetes API, as an EKS cluster has them: a cluster CA of its own
 * (returned by DescribeCluster as `certificateAuthority.data`), a serving certificate for 127.0.0.1 signed by it,
 * and bearer tokens as `aws eks get-token` makes them (`k8s-aws-v1.` + base64url of a presigned STS
 * GetCallerIdentity URL with the cluster name in the signed header `x-k8s-aws-id`), or a long-lived token the
 * sandbox mints for machines without the AWS CLI.
 *
 * The certificates are X.509 v3 with ECDSA P-256 keys, DER-encoded here with node:crypto (no dependency); one
 * CA and serving key per process, made in a few milliseconds.
 */
import { createHash, createHmac, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

/** The access key and secret the sandbox's kubeconfig gives `aws eks get-token` (and the in-process client). */
export const SANDBOX_ACCESS_KEY_ID = 'sandbox';
export const SANDBOX_SECRET_ACCESS_KEY = 'sandbox';
/** What aws-iam-authenticator accepts: a presigned URL valid for at most 15 minutes. */
const MAX_TOKEN_AGE_SECONDS = 900;

// ---- DER ----

function tlv(tag: number, content: Buffer): Buffer {
  const length = content.length;
  let header: Buffer;
  if (length < 0x80) header = Buffer.from([tag, length]);
  else {
    const bytes: number[] = [];
    for (let n = length; n > 0; n >>= 8) bytes.unshift(n & 0xff);
    header = Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([header, content]);
}
const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const explicit = (n: number, content: Buffer): Buffer => tlv(0xa0 + n, content);
const bool = (value: boolean): Buffer => tlv(0x01, Buffer.from([value ? 0xff : 0]));
const utf8 = (text: string): Buffer => tlv(0x0c, Buffer.from(text, 'utf8'));
const octets = (content: Buffer): Buffer => tlv(0x04, content);
const bits = (content: Buffer, unused = 0): Buffer => tlv(0x03, Buffer.concat([Buffer.from([unused]), content]));

function integer(value: Buffer | number): Buffer {
  let bytes = typeof value === 'number' ? Buffer.from([value]) : value;
  if ((bytes[0] as number) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(0x02, bytes);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [40 * (parts[0] as number) + (parts[1] as number)];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [];
    let n = part;
    chunk.unshift(n & 0x7f);
    while ((n >>= 7) > 0) chunk.unshift((n & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function utcTime(date: Date): Buffer {
  const iso = date.toISOString();
  const text = `${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return tlv(0x17, Buffer.from(text, 'ascii'));
}

const name = (commonName: string, organization?: string): Buffer =>
  seq(
    ...(organization ? [set(seq(oid('2.5.4.10'), utf8(organization)))] : []),
    set(seq(oid('2.5.4.3'), utf8(commonName))),
  );
const extension = (id: string, critical: boolean, value: Buffer): Buffer => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

function certificate(options: {
  subject: Buffer;
  issuer: Buffer;
  publicKey: KeyObject;
  signer: KeyObject;
  extensions: Buffer[];
}): Buffer {
  const now = Date.now();
  const serial = randomBytes(12);
  serial[0] = (serial[0] as number) & 0x7f;
  const tbs = seq(
    explicit(0, integer(2)),
    integer(serial),
    ECDSA_SHA256,
    options.issuer,
    seq(utcTime(new Date(now - 3600_000)), utcTime(new Date(now + 365 * 86_400_000))),
    options.subject,
    options.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...options.extensions)),
  );
  return seq(tbs, ECDSA_SHA256, bits(sign('sha256', tbs, options.signer)));
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** The cluster CA and the API server's serving certificate and key, PEM. */
export interface ClusterTls {
  caPem: string;
  certPem: string;
  keyPem: string;
}

let cached: ClusterTls | undefined;

/** The sandbox's cluster CA and serving certificate (for 127.0.0.1 and localhost); made once per process. */
export function clusterTls(): ClusterTls {
  if (cached) return cached;
  const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const server = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const caName = name('kubernetes');
  const keyId = (key: KeyObject): Buffer => createHash('sha1').update(key.export({ type: 'spki', format: 'der' })).digest();
  const caCert = certificate({
    subject: caName,
    issuer: caName,
    publicKey: ca.publicKey,
    signer: ca.privateKey,
    extensions: [
      extension('2.5.29.15', true, bits(Buffer.from([0xa4]), 2)), // digitalSignature, keyEncipherment, keyCertSign
      extension('2.5.29.19', true, seq(bool(true))),
      extension('2.5.29.14', false, octets(keyId(ca.publicKey))),
    ],
  });
  const serverCert = certificate({
    subject: name('kube-apiserver'),
    issuer: caName,
    publicKey: server.publicKey,
    signer: ca.privateKey,
    extensions: [
      extension('2.5.29.15', true, bits(Buffer.from([0xa0]), 5)), // digitalSignature, keyEncipherment
      extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))),
      extension('2.5.29.19', true, seq()),
      extension('2.5.29.35', false, seq(tlv(0x80, keyId(ca.publicKey)))),
      extension(
        '2.5.29.17',
        false,
        seq(tlv(0x82, Buffer.from('localhost')), tlv(0x82, Buffer.from('kubernetes')), tlv(0x87, Buffer.from([127, 0, 0, 1]))),
      ),
    ],
  });
  cached = {
    caPem: pem('CERTIFICATE', caCert),
    certPem: pem('CERTIFICATE', serverCert),
    keyPem: server.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
  return cached;
}

// ---- tokens ----

/** A long-lived bearer token for the plain-token kubeconfig. */
export function mintStaticToken(): string {
  return `sandbox-${randomBytes(24).toString('hex')}`;
}

const rfc3986 = (text: string): string => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** The SigV4 query signature of a presigned GET for `host` with the signed headers given. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** `payloadHash`: the AWS CLI and SDKs sign the empty body's hash; S3-style presigners send UNSIGNED-PAYLOAD. */
function presignedSignature(url: URL, headers: Record<string, string>, secret: string, payloadHash = EMPTY_SHA256): string {
  const params = [...url.searchParams].filter(([k]) => k !== 'X-Amz-Signature').map(([k, v]) => [rfc3986(k), rfc3986(v)] as const);
  params.sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  const signed = Object.keys(headers).sort();
  const canonical = [
    'GET',
    url.pathname || '/',
    params.map(([k, v]) => `${k}=${v}`).join('&'),
    ...signed.map((h) => `${h}:${headers[h]}`),
    '',
    signed.join(';'),
    payloadHash,
  ].join('\n');
  const credential = url.searchParams.get('X-Amz-Credential') ?? '';
  const [, date = '', region = '', service = ''] = credential.split('/');
  const scope = credential.split('/').slice(1).join('/');
  const toSign = ['AWS4-HMAC-SHA256', url.searchParams.get('X-Amz-Date') ?? '', scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  return hmac(key, toSign).toString('hex');
}

/** Makes an EKS bearer token as `aws eks get-token` does (for tests and the in-process client). */
export function makeEksToken(options: { cluster: string; region: string; accessKeyId?: string; secretAccessKey?: string; now?: Date; expiresSeconds?: number }): string {
  const now = options.now ?? new Date();
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const host = `sts.${options.region}.amazonaws.com`;
  const url = new URL(`https://${host}/`);
  url.searchParams.set('Action', 'GetCallerIdentity');
  url.searchParams.set('Version', '2011-06-15');
  url.searchParams.set('X-Amz-Algorithm', 'AWS4-HMAC-SHA256');
  url.searchParams.set('X-Amz-Credential', `${options.accessKeyId ?? SANDBOX_ACCESS_KEY_ID}/${amzDate.slice(0, 8)}/${options.region}/sts/aws4_request`);
  url.searchParams.set('X-Amz-Date', amzDate);
  url.searchParams.set('X-Amz-Expires', String(options.expiresSeconds ?? 60));
  url.searchParams.set('X-Amz-SignedHeaders', 'host;x-k8s-aws-id');
  const signature = presignedSignature(url, { host, 'x-k8s-aws-id': options.cluster }, options.secretAccessKey ?? SANDBOX_SECRET_ACCESS_KEY);
  const query = [...url.searchParams].map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`).join('&');
  return `k8s-aws-v1.${Buffer.from(`https://${host}/?${query}&X-Amz-Signature=${signature}`).toString('base64url')}`;
}

function amzDateMs(text: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) : Number.NaN;
}

/**
 * Why an EKS token is refused, or null when it is good for `cluster`: the shape of a presigned STS
 * GetCallerIdentity URL, `x-k8s-aws-id` signed, X-Amz-Expires at most 900 s, X-Amz-Date at most that old, and a
 * SigV4 signature over the cluster name made with the sandbox's credentials (so another cluster's token fails).
 */
export function eksTokenProblem(token: string, cluster: string, now = Date.now()): string | null {
  if (!token.startsWith('k8s-aws-v1.')) return 'not an EKS token';
  let url: URL;
  try {
    url = new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'));
  } catch {
    return 'the token is not a URL';
  }
  const q = url.searchParams;
  if (url.protocol !== 'https:' || !/^sts(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?$/.test(url.hostname) || (url.pathname || '/') !== '/') return 'not an STS URL';
  if (q.get('Action') !== 'GetCallerIdentity' || q.get('Version') !== '2011-06-15') return 'not a GetCallerIdentity request';
  if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256' || !/^[0-9a-f]{64}$/.test(q.get('X-Amz-Signature') ?? '')) return 'not a SigV4 presigned URL';
  const signedHeaders = (q.get('X-Amz-SignedHeaders') ?? '').split(';');
  if (!signedHeaders.includes('x-k8s-aws-id') || !signedHeaders.includes('host')) return 'x-k8s-aws-id is not a signed header';
  const expires = Number(q.get('X-Amz-Expires'));
  if (!Number.isInteger(expires) || expires <= 0 || expires > MAX_TOKEN_AGE_SECONDS) return 'X-Amz-Expires is over 900 seconds';
  const issued = amzDateMs(q.get('X-Amz-Date') ?? '');
  if (Number.isNaN(issued)) return 'X-Amz-Date is missing';
  if (now - issued > MAX_TOKEN_AGE_SECONDS * 1000) return 'the token expired';
  if (issued - now > 300_000) return 'the token is from the future';
  const accessKey = (q.get('X-Amz-Credential') ?? '').split('/')[0];
  if (accessKey !== SANDBOX_ACCESS_KEY_ID) return `the token is signed with access key ${accessKey}, not the sandbox's`;
  const headers: Record<string, string> = { host: url.host, 'x-k8s-aws-id': cluster };
  for (const h of signedHeaders) if (!(h in headers)) return `unexpected signed header ${h}`;
  const signature = q.get('X-Amz-Signature');
  const good = [EMPTY_SHA256, 'UNSIGNED-PAYLOAD'].some((hash) => presignedSignature(url, headers, SANDBOX_SECRET_ACCESS_KEY, hash) === signature);
  if (!good) return `the token is not for cluster ${cluster}`;
  return null;
}
