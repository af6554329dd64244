/**
 * "Check first": no Kubernetes request of any command goes out before the kube context has been compared
 * with the cluster DescribeCluster describes (endpoint, and CA when both sides have one). The guard wraps
 * either gateway, so the rule holds whichever client runs and whichever command calls first.
 */
import type { ClusterInfo } from '../domain.js';
import { UsageError } from '../errors.js';
import type { KubeGateway } from './kubectl.js';
import { assertContextMatches } from './kubectl.js';
import { sameApiServer, type KubeContext } from './kubeconfig.js';

/** Throws unless the context's CA (PEM) is the cluster's (DescribeCluster's base64 PEM); skipped when either is absent. */
export function assertSameCa(context: KubeContext | null, cluster: ClusterInfo): void {
  const mine = context?.connection?.ca;
  const theirs = cluster.certificateAuthority;
  if (!mine || !theirs || context?.connection?.insecureSkipTlsVerify) return;
  const norm = (pem: string) => pem.replace(/-----[A-Z ]+-----|\s/g, '');
  if (norm(mine) !== norm(Buffer.from(theirs, 'base64').toString('utf8'))) {
    throw new UsageError(
      `The kube context "${context.name}" trusts a different certificate authority than cluster "${cluster.name}" has; refusing to read or change the wrong cluster. Run \`aws eks update-kubeconfig --name ${cluster.name}\` or pass --context.`,
    );
  }
}

/** The check itself: endpoint, then CA. */
export async function checkContext(context: KubeContext | null, describeCluster: () => Promise<ClusterInfo>): Promise<void> {
  const cluster = await describeCluster();
  assertContextMatches(context, cluster, sameApiServer);
  assertSameCa(context, cluster);
}

/** `gateway` with every call waiting for `check` (run once) first. */
export function guardKubeGateway(gateway: KubeGateway, check: () => Promise<void>): KubeGateway {
  let once: Promise<void> | null = null;
  const first = () => (once ??= check());
  const guarded = {} as Record<string, unknown>;
  for (const [key, value] of Object.entries(gateway)) {
    guarded[key] = typeof value === 'function' ? async (...args: unknown[]) => {
      await first();
      return (value as (...a: unknown[]) => unknown)(...args);
    } : value;
  }
  return guarded as unknown as KubeGateway;
}
