/** The aws-node pods that are not ready, read when a rollout stops, so that the stop can name them. */
import { describePods, notReadyPods } from '../decide/pods.js';
import type { KubeGateway } from '../gateways/kubectl.js';

/** How long the stop waits for the pods before it is said without them (the API may be why it stopped). */
const READ_PODS_MS = 10_000;

/**
 * `; not ready: …` naming the aws-node pods that are not ready and why, or '' when all are ready or the pods
 * cannot be read within READ_PODS_MS (the stop's own message stands without it).
 */
export async function notReadyClause(kube: KubeGateway): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const giveUp = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(''), READ_PODS_MS);
    timer.unref();
  });
  const read = kube.getJson(['pods', '-n', 'kube-system', '-l', 'k8s-app=aws-node']).then(
    (list) => {
      const pods = notReadyPods(list);
      return pods.length ? `; not ready: ${describePods(pods)}` : '';
    },
    () => '',
  );
  try {
    return await Promise.race([read, giveUp]);
  } finally {
    clearTimeout(timer);
  }
}
