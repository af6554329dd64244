/**
 * The live objects EKS will server-side apply the add-on onto, with their field owners (`managedFields`),
 * read before an upgrade's first change so that src/decide/apply-conflicts.ts can predict EKS's conflicts.
 */
import type { KubeGateway } from '../gateways/kubectl.js';
import type { KubeObject } from '../decide/manifests.js';

/**
 * Reads each object of `desired` as it is on the cluster (same order; null when it does not exist). A read
 * that fails is named in `unread` and counts as absent: the prediction then cannot see its conflicts.
 */
export async function readApplyTargets(kube: KubeGateway, desired: readonly KubeObject[]): Promise<{ live: Array<KubeObject | null>; unread: string[] }> {
  const unread: string[] = [];
  const live = await Promise.all(
    desired.map(async (obj) => {
      const args = [obj.kind.toLowerCase(), obj.metadata.name, ...(obj.metadata.namespace ? ['-n', obj.metadata.namespace] : [])];
      try {
        return await kube.getJson(args);
      } catch (error) {
        unread.push(`${obj.kind} ${obj.metadata.name}: ${(error as Error).message}`);
        return null;
      }
    }),
  );
  return { live, unread };
}
