/** The aws-node pods that are not ready, read when a rollout stops, so that the stop can name them. */
import { describePods, notReadyPods } from '../decide/pods.js';
import type { KubeGateway } from '../gateways/kubectl.js';

/**
 * `; not ready: …` naming the aws-node pods that are not ready and why, or '' when all are ready or the pods
 * cannot be read (the stop's own message stands without it).
 */
export async function notReadyClause(kube: KubeGateway): Promise<string> {
  try {
    const pods = notReadyPods(await kube.getJson(['pods', '-n', 'kube-system', '-l', 'k8s-app=aws-node']));
    return pods.length ? `; not ready: ${describePods(pods)}` : '';
  } catch {
    return '';
  }
}
