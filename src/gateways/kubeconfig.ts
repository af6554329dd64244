/**
 * Reads the kube context the way kubectl picks it (--kubeconfig, else KUBECONFIG's files, else
 * ~/.kube/config; --context, else current-context), without starting kubectl, so that the cluster name and
 * region can default from an EKS context ARN and the API server can be checked against DescribeCluster.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { UnreachableError, UsageError } from '../errors.js';
import { assertNesting } from '../formats/nesting.js';

/** The kube context kubectl will use. */
/** The largest kubeconfig read (a file with hundreds of clusters is well under it). */
const MAX_KUBECONFIG_CHARS = 16 * 1024 * 1024;

export interface KubeContext {
  name: string;
  /** The API server URL of the context's cluster, or null when the kubeconfig lacks it. */
  server: string | null;
  /** Cluster name, region and account when the context name (or its cluster) is an EKS ARN. */
  eks: { region: string; account: string; cluster: string } | null;
  /** How to reach and authenticate to the API server, as kubectl would (null without a server). */
  connection?: KubeConnection | null;
}

/** An exec credential plugin (client.authentication.k8s.io). */
export interface ExecPlugin {
  command: string;
  args: string[];
  env: Array<{ name: string; value: string }>;
  apiVersion: string;
  provideClusterInfo: boolean;
}

/** Everything needed to talk to one context's API server; paths are resolved against their kubeconfig file. */
export interface KubeConnection {
  server: string;
  /** PEM of the cluster's CA (certificate-authority-data, else the file), or null for the system roots. */
  ca: string | null;
  insecureSkipTlsVerify: boolean;
  tlsServerName: string | null;
  proxyUrl: string | null;
  clientCertificate: string | null;
  clientKey: string | null;
  token: string | null;
  tokenFile: string | null;
  basicAuth: { username: string; password: string } | null;
  exec: ExecPlugin | null;
}

type Named<T> = { name: string; file: string } & T;
interface ClusterEntry {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
  'proxy-url'?: string;
}
interface UserEntry {
  token?: string;
  tokenFile?: string;
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  username?: string;
  password?: string;
  exec?: { command?: string; args?: string[]; env?: Array<{ name: string; value: string }> | null; apiVersion?: string; provideClusterInfo?: boolean };
}

interface KubeconfigFile {
  'current-context'?: string;
  contexts?: Array<{ name: string; context?: { cluster?: string; user?: string } }>;
  clusters?: Array<{ name: string; cluster?: ClusterEntry }>;
  users?: Array<{ name: string; user?: UserEntry }>;
}

const EKS_ARN = /^arn:aws[a-z-]*:eks:([a-z0-9-]+):(\d{12}):cluster\/([\w-]+)$/;

/** Region, account and cluster of an EKS cluster ARN, or null. */
export function parseEksClusterArn(text: string): KubeContext['eks'] {
  const match = EKS_ARN.exec(text);
  return match ? { region: match[1]!, account: match[2]!, cluster: match[3]! } : null;
}

/** The kubeconfig files kubectl would read, in order. */
export function kubeconfigFiles(explicit?: string): string[] {
  if (explicit) return [explicit];
  const env = process.env.KUBECONFIG;
  if (env) return env.split(delimiter).filter(Boolean);
  return [join(homedir(), '.kube', 'config')];
}

/** The context kubectl would use, or null when there is no kubeconfig at all (and none was asked for). */
export function resolveKubeContext(options: { kubeconfig?: string; context?: string }): KubeContext | null {
  const files = kubeconfigFiles(options.kubeconfig);
  if (options.kubeconfig && !existsSync(options.kubeconfig)) {
    throw new UsageError(`The kubeconfig ${options.kubeconfig} does not exist; check --kubeconfig.`);
  }
  const merged = {
    'current-context': '',
    contexts: [] as NonNullable<KubeconfigFile['contexts']>,
    clusters: [] as Array<Named<{ cluster?: ClusterEntry }>>,
    users: [] as Array<Named<{ user?: UserEntry }>>,
  };
  for (const file of files) {
    if (!existsSync(file)) continue;
    let doc: KubeconfigFile;
    const text = readFileSync(file, 'utf8');
    if (text.length > MAX_KUBECONFIG_CHARS) throw new UsageError(`The kubeconfig ${file} is larger than ${MAX_KUBECONFIG_CHARS / 1024 / 1024} MiB; point --kubeconfig at the file for this cluster.`);
    assertNesting(text, `The kubeconfig ${file}`, 'a kubeconfig is a few levels deep, so check the file');
    try {
      doc = (parse(text) ?? {}) as KubeconfigFile;
    } catch (error) {
      throw new UsageError(`The kubeconfig ${file} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
    }
    // kubectl's merge rule: the first file to set a value wins.
    merged['current-context'] ||= doc['current-context'] ?? '';
    for (const c of doc.contexts ?? []) if (!merged.contexts.some((x) => x.name === c.name)) merged.contexts.push(c);
    for (const c of doc.clusters ?? []) if (!merged.clusters.some((x) => x.name === c.name)) merged.clusters.push({ ...c, file });
    for (const u of doc.users ?? []) if (!merged.users.some((x) => x.name === u.name)) merged.users.push({ ...u, file });
  }
  const name = options.context ?? merged['current-context'];
  if (!name) {
    if (options.context === undefined && merged.contexts.length === 0) return null;
    throw new UnreachableError(
      'The kubeconfig has no current context; pass --context or run `aws eks update-kubeconfig --name <cluster>`.',
    );
  }
  const context = merged.contexts.find((c) => c.name === name);
  if (!context) {
    throw new UsageError(`The kube context "${name}" is not in ${files.join(', ')}; check --context (kubectl config get-contexts).`);
  }
  const clusterName = context.context?.cluster ?? '';
  const clusterEntry = merged.clusters.find((c) => c.name === clusterName);
  const server = clusterEntry?.cluster?.server ?? null;
  const userEntry = merged.users.find((u) => u.name === (context.context?.user ?? ''));
  return {
    name,
    server,
    eks: parseEksClusterArn(name) ?? parseEksClusterArn(clusterName),
    connection: server && clusterEntry ? connectionOf(server, clusterEntry, userEntry) : null,
  };
}

/** Reads a file named by a kubeconfig, relative to that kubeconfig, with a message naming the next action. */
function readReferenced(file: string, path: string, what: string): string {
  const full = resolve(dirname(file), path);
  try {
    return readFileSync(full, 'utf8');
  } catch {
    throw new UsageError(`The ${what} ${full} named by the kubeconfig ${file} cannot be read; fix the kubeconfig or pass --kubeconfig.`);
  }
}

function decodeData(data: string | undefined): string | null {
  return data ? Buffer.from(data, 'base64').toString('utf8') : null;
}

function connectionOf(server: string, cluster: Named<{ cluster?: ClusterEntry }>, user: Named<{ user?: UserEntry }> | undefined): KubeConnection {
  const c = cluster.cluster ?? {};
  const u = user?.user ?? {};
  const ufile = user?.file ?? cluster.file;
  const exec = u.exec?.command
    ? {
        command: u.exec.command,
        args: u.exec.args ?? [],
        env: u.exec.env ?? [],
        apiVersion: u.exec.apiVersion ?? 'client.authentication.k8s.io/v1beta1',
        provideClusterInfo: Boolean(u.exec.provideClusterInfo),
      }
    : null;
  return {
    server,
    ca: decodeData(c['certificate-authority-data']) ?? (c['certificate-authority'] ? readReferenced(cluster.file, c['certificate-authority'], 'certificate authority') : null),
    insecureSkipTlsVerify: c['insecure-skip-tls-verify'] === true,
    tlsServerName: c['tls-server-name'] ?? null,
    proxyUrl: c['proxy-url'] ?? null,
    clientCertificate:
      decodeData(u['client-certificate-data']) ?? (u['client-certificate'] ? readReferenced(ufile, u['client-certificate'], 'client certificate') : null),
    clientKey: decodeData(u['client-key-data']) ?? (u['client-key'] ? readReferenced(ufile, u['client-key'], 'client key') : null),
    token: u.token ?? null,
    tokenFile: u.tokenFile ? resolve(dirname(ufile), u.tokenFile) : null,
    basicAuth: u.username !== undefined && u.password !== undefined ? { username: u.username, password: u.password } : null,
    exec,
  };
}

/** Compares two API server URLs loosely: scheme, host (case-insensitive), port (defaults filled), path. */
export function sameApiServer(a: string, b: string): boolean {
  const norm = (text: string) => {
    try {
      const url = new URL(text);
      const port = url.port || (url.protocol === 'https:' ? '443' : '80');
      return `${url.protocol}//${url.hostname.toLowerCase()}:${port}${url.pathname.replace(/\/+$/, '')}`;
    } catch {
      return text.trim().toLowerCase().replace(/\/+$/, '');
    }
  };
  return norm(a) === norm(b);
}
