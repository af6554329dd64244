/** Before setting a Pod Identity association through the add-on: the role must exist and trust Pod Identity. */
import type { ClusterFacts, RoleInfo } from '../domain.js';
import { UsageError } from '../errors.js';
import { POD_IDENTITY_AGENT, POD_IDENTITY_PRINCIPAL, trustAllowsPodIdentity } from './checks/pod-identity.js';

/** Throws a UsageError (nothing changed yet) unless `role` can serve aws-node through EKS Pod Identity. */
export function assertPodIdentityUsable(role: RoleInfo | null, roleArn: string, facts: ClusterFacts): void {
  if (!role || !role.exists) {
    throw new UsageError(`The IAM role ${roleArn} does not exist; create it (trusting ${POD_IDENTITY_PRINCIPAL}, with AmazonEKS_CNI_Policy) or fix --pod-identity-role-arn.`);
  }
  if (!trustAllowsPodIdentity(role.trustPolicy)) {
    throw new UsageError(`The IAM role ${roleArn} does not let ${POD_IDENTITY_PRINCIPAL} call sts:AssumeRole and sts:TagSession; add that statement to its trust policy and run again.`);
  }
  const agent = facts.modern?.podIdentityAgent ?? null;
  if (facts.modern && (agent === null || agent.ready < agent.desired || agent.desired === 0)) {
    throw new UsageError(`The ${POD_IDENTITY_AGENT} DaemonSet is not running in kube-system, and aws-node exits without it once it uses Pod Identity; install the EKS Pod Identity Agent add-on (aws eks create-addon --cluster-name ${facts.cluster.name} --addon-name ${POD_IDENTITY_AGENT}) and run again.`);
  }
}
