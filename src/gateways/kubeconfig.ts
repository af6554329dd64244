/**
 * Reads the kube context the way kubectl picks it (--kubeconfig, else KUBECONFIG's files, else
 * ~/.kube/config; --context, else current-context), without starting kubectl, so that the cluster name and
 * region can default from an EKS context ARN and the API server can be checked against DescribeCluster.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parse } from 'yaml';
import { UnreachableError, UsageError } from '../errors.js';

/** The kube context kubectl will use. */
export interface KubeContext {
  name: string;
  /** The API server URL of the context's cluster, or null when the kubeconfig lacks it. */
  server: string | null;
  /** Cluster name, region and account when the context name (or its cluster) is an EKS ARN. */
  eks: { region: string; account: string; cluster: string } | null;
}

interface KubeconfigFile {
  'current-context'?: string;
  contexts?: Array<{ name: string; context?: { cluster?: string } }>;
  clusters?: Array<{ name: string; cluster?: { server?: string } }>;
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
  const merged: Required<KubeconfigFile> = { 'current-context': '', contexts: [], clusters: [] };
  for (const file of files) {
    if (!existsSync(file)) continue;
    let doc: KubeconfigFile;
    try {
      doc = (parse(readFileSync(file, 'utf8')) ?? {}) as KubeconfigFile;
    } catch (error) {
      throw new UsageError(`The kubeconfig ${file} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
    }
    // kubectl's merge rule: the first file to set a value wins.
    merged['current-context'] ||= doc['current-context'] ?? '';
    for (const c of doc.contexts ?? []) if (!merged.contexts.some((x) => x.name === c.name)) merged.contexts.push(c);
    for (const c of doc.clusters ?? []) if (!merged.clusters.some((x) => x.name === c.name)) merged.clusters.push(c);
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
  const server = merged.clusters.find((c) => c.name === clusterName)?.cluster?.server ?? null;
  return { name, server, eks: parseEksClusterArn(name) ?? parseEksClusterArn(clusterName) };
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
