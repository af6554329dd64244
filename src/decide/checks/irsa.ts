/** Findings about the add-on's IAM role for service accounts (IRSA): role, trust policy, OIDC provider, policy. */
import type { ClusterFacts, Finding } from '../../domain.js';

/** The subject the aws-node service account presents to STS. */
export const AWS_NODE_SUBJECT = 'system:serviceaccount:kube-system:aws-node';

/** `arn:<partition>:iam::<account>:oidc-provider/<issuer without https://>`, or null when not derivable. */
export function oidcProviderArnFor(roleArn: string, issuer: string | null): string | null {
  if (!issuer) return null;
  const match = /^arn:([^:]+):iam::(\d{12}):/.exec(roleArn);
  if (!match) return null;
  const host = issuer.replace(/^https:\/\//, '').replace(/\/+$/, '');
  return `arn:${match[1]}:iam::${match[2]}:oidc-provider/${host}`;
}

function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function globMatches(pattern: string, text: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return regex.test(text);
}

/**
 * True when the trust policy lets `providerArn` assume the role with sts:AssumeRoleWithWebIdentity for the
 * aws-node service account, or `subject` (a `<issuer>:sub` condition, when present, must admit it).
 */
export function trustAllowsAwsNode(trustPolicy: unknown, providerArn: string, issuerHost: string, subject: string = AWS_NODE_SUBJECT): boolean {
  if (!isRecord(trustPolicy)) return false;
  const subKey = `${issuerHost}:sub`;
  return asArray(trustPolicy.Statement).some((raw) => {
    if (!isRecord(raw) || raw.Effect !== 'Allow') return false;
    const actions = asArray(raw.Action).filter((a): a is string => typeof a === 'string');
    if (!actions.some((a) => a === 'sts:AssumeRoleWithWebIdentity' || a === 'sts:*' || a === '*')) return false;
    const principal = isRecord(raw.Principal) ? raw.Principal : {};
    if (!asArray(principal.Federated).includes(providerArn)) return false;
    const condition = isRecord(raw.Condition) ? raw.Condition : {};
    for (const [operator, block] of Object.entries(condition)) {
      if (!isRecord(block)) continue;
      for (const [key, value] of Object.entries(block)) {
        if (key.toLowerCase() !== subKey.toLowerCase()) continue;
        const values = asArray(value).filter((v): v is string => typeof v === 'string');
        const ok = /like/i.test(operator)
          ? values.some((v) => globMatches(v, subject))
          : /^StringEquals/i.test(operator) && values.includes(subject);
        if (!ok) return false;
      }
    }
    return true;
  });
}

const CNI_POLICY = /\/AmazonEKS_CNI_Policy$|CNI.*IPv6|IPv6.*CNI/i;

/** IRSA findings: no role (info), role missing, untrusted, OIDC provider missing, no CNI policy attached. */
export function irsaFindings(facts: ClusterFacts): Finding[] {
  const role = facts.role;
  if (!role) {
    if (!facts.addon.managed && facts.daemonSet === null) return [];
    // EKS says whether the installed version needs IAM permissions at all (requiresIamPermissions); none needed, no role to suggest.
    if (facts.addon.version && facts.catalogue.find((e) => e.version === facts.addon.version)?.requiresIamPermissions === false) return [];
    return [
      {
        id: 'irsa-not-configured',
        severity: 'info',
        message: 'aws-node has no IAM role for its service account, so it uses the node\'s IAM role (which then needs AmazonEKS_CNI_Policy).',
        remediation: 'AWS recommends a dedicated role: pass `--service-account-role-arn <arn>` to `vpccni upgrade`.',
      },
    ];
  }
  if (!role.exists) {
    return [
      {
        id: 'irsa-role-missing',
        severity: 'error',
        message: `The add-on's service account role ${role.arn} does not exist in IAM; aws-node cannot get credentials.`,
        remediation: 'Create the role (trusting the cluster\'s OIDC provider, with AmazonEKS_CNI_Policy) or pass an existing one with `--service-account-role-arn`.',
      },
    ];
  }
  const findings: Finding[] = [];
  const issuer = facts.cluster.oidcIssuer;
  const providerArn = oidcProviderArnFor(role.arn, issuer);
  const issuerHost = (issuer ?? '').replace(/^https:\/\//, '').replace(/\/+$/, '');
  if (providerArn === null || !facts.oidcProviderArns.includes(providerArn)) {
    findings.push({
      id: 'irsa-oidc-provider-missing',
      severity: 'error',
      message: issuer
        ? `The cluster's IAM OIDC provider ${providerArn ?? issuerHost} does not exist, so the role ${role.arn} cannot be assumed by aws-node.`
        : `The cluster reports no OIDC issuer, so the role ${role.arn} cannot be assumed by aws-node.`,
      remediation: `Create the IAM OIDC provider for the cluster: \`eksctl utils associate-iam-oidc-provider --cluster ${facts.cluster.name} --approve\`, or \`aws iam create-open-id-connect-provider\` with the issuer URL.`,
    });
  }
  if (providerArn !== null && !trustAllowsAwsNode(role.trustPolicy, providerArn, issuerHost)) {
    findings.push({
      id: 'irsa-trust-policy-mismatch',
      severity: 'error',
      message: `The trust policy of ${role.arn} does not allow sts:AssumeRoleWithWebIdentity from ${providerArn} for ${AWS_NODE_SUBJECT}.`,
      remediation: `Add a statement allowing sts:AssumeRoleWithWebIdentity to Federated principal ${providerArn} with condition StringEquals "${issuerHost}:sub": "${AWS_NODE_SUBJECT}" and "${issuerHost}:aud": "sts.amazonaws.com".`,
    });
  }
  if (!role.attachedPolicyArns.some((arn) => CNI_POLICY.test(arn))) {
    findings.push({
      id: 'irsa-cni-policy-missing',
      severity: 'warning',
      message: `No CNI policy (AmazonEKS_CNI_Policy, or the IPv6 policy) is attached to ${role.arn}; aws-node may lack EC2 permissions unless an inline policy grants them.`,
      remediation: `Attach it: \`aws iam attach-role-policy --role-name ${role.arn.split('/').pop() ?? '<role>'} --policy-arn arn:${role.arn.split(':')[1] ?? 'aws'}:iam::aws:policy/AmazonEKS_CNI_Policy\` (IPv4 clusters).`,
    });
  }
  return findings;
}
