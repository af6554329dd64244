/**
 * DeleteAddon with `preserve`: EKS forgets its record of the add-on and leaves every object on the cluster
 * (aws-node runs on as it is, self-managed from then on). The way a failed create is cleared before it is
 * tried again, and the way an adoption is walked back. eks-service-2.json, DeleteAddonRequest `preserve`:
 * "preserves the add-on software on your cluster but Amazon EKS stops managing any settings for the add-on".
 */
import type { EksGateway } from '../../gateways/eks.js';
import { pollUntil } from './wait.js';

/** Deletes the add-on record (preserving its objects) and waits until EKS no longer knows it; false when it still does at the deadline. */
export async function forgetAddon(eks: Pick<EksGateway, 'deleteAddon' | 'describeAddon'>, deadline: number, signal?: AbortSignal): Promise<boolean> {
  const now = await eks.describeAddon();
  if (!now.managed) return true;
  // A record already DELETING is waited for, never deleted twice.
  if (now.status !== 'DELETING') await eks.deleteAddon({ preserve: true });
  const gone = await pollUntil(async () => ((await eks.describeAddon()).managed ? undefined : true), { deadline, ...(signal ? { signal } : {}) });
  return gone === true;
}
