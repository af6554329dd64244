/** Findings about EKS Pod Identity for aws-node: the association, its role's trust policy, and the agent. */
import type { ClusterFacts, Finding } from '../../domain.js';

/** The service principal Pod Identity assumes roles as. */
export const POD_IDENTITY_PRINCIPAL = 'pods.eks.amazonaws.com';
/** The DaemonSet of the EKS Pod Identity Agent add-on. */
export const POD_IDENTITY_AGENT = 'eks-pod-identity-agent';

function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when the trust policy lets pods.eks.amazonaws.com call sts:AssumeRole and sts:TagSession. */
export function trustAllowsPodIdentity(trustPolicy: unknown): boolean {
  if (!isRecord(trustPolicy)) return false;
  const granted = new Set<string>();
  for (const raw of asArray(trustPolicy.Statement)) {
    if (!isRecord(raw) || raw.Effect !== 'Allow') continue;
    const principal = isRecord(raw.Principal) ? raw.Principal : {};
    if (!asArray(principal.Service).includes(POD_IDENTITY_PRINCIPAL)) continue;
    for (const a of asArray(raw.Action)) if (typeof a === 'string') granted.add(a);
  }
  const has = (action: string) => granted.has(action) || granted.has('sts:*') || granted.has('*');
  return has('sts:AssumeRole') && has('sts:TagSession');
}

/** The Pod Identity associations of kube-system/aws-node (empty when none, or not read). */
export function awsNodeAssociations(facts: ClusterFacts) {
  return facts.modern?.podIdentityAssociations ?? [];
}

/** True when the agent's DaemonSet exists and every desired pod is ready (null when not read). */
export function podIdentityAgentRunning(facts: ClusterFacts): boolean | null {
  if (!facts.modern) return null;
  const agent = facts.modern.podIdentityAgent;
  return agent !== null && agent.desired > 0 && agent.ready >= agent.desired;
}

/** Pod Identity findings: in use (info), both IRSA and Pod Identity, role missing or untrusted, agent not running. */
export function podIdentityFindings(facts: ClusterFacts): Finding[] {
  const associations = awsNodeAssociations(facts);
  if (associations.length === 0) return [];
  const findings: Finding[] = [];
  const association = associations[0]!;
  findings.push({
    id: 'pod-identity-in-use',
    severity: 'info',
    message: `aws-node gets its credentials from EKS Pod Identity: association ${association.associationId} with role ${association.roleArn}${association.ownerArn ? ' (owned by the add-on)' : ''}.`,
  });
  if (facts.addon.serviceAccountRoleArn) {
    findings.push({
      id: 'pod-identity-and-irsa',
      severity: 'warning',
      message: `aws-node has both a Pod Identity association (${association.roleArn}) and an IRSA role (${facts.addon.serviceAccountRoleArn}); the AWS SDK's default credential chain tries the IRSA web identity token before Pod Identity's container credentials, so aws-node keeps using the IRSA role.`,
      remediation: 'Finish the move: once the association works, remove the IRSA role from the add-on; vpccni leaves the aws-node service account\'s IRSA annotation to EKS.',
    });
  }
  const role = facts.modern?.podIdentityRole;
  if (role && !role.exists) {
    findings.push({
      id: 'pod-identity-role-missing',
      severity: 'error',
      message: `The Pod Identity role ${role.arn} of aws-node does not exist in IAM; aws-node cannot get credentials.`,
      remediation: 'Create the role (trusting pods.eks.amazonaws.com with sts:AssumeRole and sts:TagSession, with AmazonEKS_CNI_Policy) or associate an existing one.',
    });
  } else if (role && !trustAllowsPodIdentity(role.trustPolicy)) {
    findings.push({
      id: 'pod-identity-trust-policy-mismatch',
      severity: 'error',
      message: `The trust policy of ${role.arn} does not allow ${POD_IDENTITY_PRINCIPAL} to call sts:AssumeRole and sts:TagSession, so Pod Identity cannot give its credentials to aws-node.`,
      remediation: `Add a statement: Effect Allow, Principal {"Service": "${POD_IDENTITY_PRINCIPAL}"}, Action ["sts:AssumeRole", "sts:TagSession"].`,
    });
  }
  if (podIdentityAgentRunning(facts) === false) {
    const agent = facts.modern?.podIdentityAgent;
    findings.push({
      id: 'pod-identity-agent-not-running',
      severity: 'error',
      message: agent
        ? `The ${POD_IDENTITY_AGENT} DaemonSet has ${agent.ready}/${agent.desired} pods ready; aws-node, which gets its credentials through it, exits without it (amazon-vpc-cni-k8s #3840).`
        : `aws-node has a Pod Identity association but the ${POD_IDENTITY_AGENT} DaemonSet is not in kube-system; aws-node exits without it (amazon-vpc-cni-k8s #3840).`,
      remediation: `Install or repair the EKS Pod Identity Agent add-on (\`aws eks create-addon --cluster-name ${facts.cluster.name} --addon-name ${POD_IDENTITY_AGENT}\`) and wait until its DaemonSet is ready.`,
    });
  }
  return findings;
}

/** The guided move from IRSA to Pod Identity, as steps to say (plan/upgrade) when IRSA is in use without an association. */
export function podIdentityMoveSteps(facts: ClusterFacts, roleArn: string | null): string[] {
  const cluster = facts.cluster.name;
  const role = roleArn ?? '<role-arn>';
  return [
    `Install the EKS Pod Identity Agent add-on if it is not running: \`aws eks create-addon --cluster-name ${cluster} --addon-name ${POD_IDENTITY_AGENT}\`.`,
    `Let the role trust ${POD_IDENTITY_PRINCIPAL} with sts:AssumeRole and sts:TagSession (it keeps AmazonEKS_CNI_Policy).`,
    `Run \`vpccni upgrade --to <version> --pod-identity-role-arn ${role}\`: the update sets the association for kube-system/aws-node through podIdentityAssociations and sends no IRSA role; vpccni leaves the service account's IRSA annotation to EKS.`,
    'Check with `vpccni status` that the association shows and aws-node pods restarted ready; then the IRSA role\'s OIDC trust can be removed.',
  ];
}
