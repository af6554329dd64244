/**
 * The permissions of the role aws-node uses (IRSA, Pod Identity, or the node role), read from its policies and
 * compared with what the VPC CNI needs (fixtures/iam/cni-policies.json, upstream docs/iam-policy.md).
 */
import type { ClusterFacts, Finding, RolePermissions } from '../../domain.js';
import { readPackageJson } from '../../package-files.js';

interface CniPolicies {
  source: string;
  ipv4: { Statement: unknown[] };
  ipv6: { Statement: unknown[] };
}

const POLICIES = readPackageJson<CniPolicies>('fixtures/iam/cni-policies.json');

/** The ARN suffix of the AWS managed CNI policy, whose document is upstream's IPv4 policy. */
const MANAGED_CNI_POLICY = /:iam::aws:policy\/AmazonEKS_CNI_Policy$/;

function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Each action pattern's expression, made once (a fleet run matches the same policies for every cluster). */
const patterns = new Map<string, RegExp>();

function matches(pattern: string, action: string): boolean {
  let regex = patterns.get(pattern);
  if (!regex) {
    regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
    if (patterns.size < 10_000) patterns.set(pattern, regex);
  }
  return regex.test(action);
}

/** The actions (with `ec2:` prefix) the VPC CNI's policy grants for an IP family, CreateTags aside. */
export function cniActions(ipFamily: 'ipv4' | 'ipv6'): string[] {
  const statement = POLICIES[ipFamily].Statement.find((s) => isRecord(s) && s.Resource === '*');
  return asArray(isRecord(statement) ? statement.Action : []).filter((a): a is string => typeof a === 'string');
}

/**
 * How a set of policy documents answers `action`: an explicit Deny wins, then any Allow (on any resource; conditions
 * are not evaluated, so "allowed" means "some statement may allow it"); NotAction statements are honoured.
 */
export function policiesAllow(documents: unknown[], action: string): boolean {
  let allowed = false;
  for (const document of documents) {
    if (!isRecord(document)) continue;
    for (const statement of asArray(document.Statement)) {
      if (!isRecord(statement)) continue;
      const actions = asArray(statement.Action).filter((a): a is string => typeof a === 'string');
      const notActions = asArray(statement.NotAction).filter((a): a is string => typeof a === 'string');
      const applies = statement.NotAction !== undefined ? !notActions.some((p) => matches(p, action)) : actions.some((p) => matches(p, action));
      if (!applies) continue;
      if (statement.Effect === 'Deny') return false;
      if (statement.Effect === 'Allow') allowed = true;
    }
  }
  return allowed;
}

/**
 * What the role allows of the CNI's actions. The AWS managed AmazonEKS_CNI_Policy, when attached but unreadable,
 * counts as upstream's IPv4 policy (its documented content); any other unreadable policy makes a missing action
 * unknown (null) rather than denied.
 */
export function rolePermissionsFrom(
  roleArn: string,
  via: RolePermissions['via'],
  read: { documents: Array<{ name: string; document: unknown }>; unreadable: string[] },
  ipFamily: 'ipv4' | 'ipv6',
): RolePermissions {
  const documents = read.documents.map((d) => d.document);
  const unreadable = read.unreadable.filter((name) => {
    if (!MANAGED_CNI_POLICY.test(name)) return true;
    documents.push(POLICIES.ipv4);
    return false;
  });
  const allows: Record<string, boolean | null> = {};
  for (const action of [...new Set([...cniActions(ipFamily), 'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets'])]) {
    const yes = policiesAllow(documents, action);
    allows[action] = yes ? true : unreadable.length > 0 ? null : false;
  }
  return { roleArn, via, allows, policies: [...read.documents.map((d) => d.name), ...read.unreadable.filter((n) => MANAGED_CNI_POLICY.test(n))].sort(), unreadable };
}

const VERSION_BOUND = new Set(['ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets']);

const VIA: Record<RolePermissions['via'], string> = {
  irsa: 'The IRSA role',
  'pod-identity': 'The Pod Identity role',
  node: 'The node role',
};

/** The CNI's actions the role lacks (a warning: aws-node cannot manage IP addresses without them). */
export function permissionFindings(facts: ClusterFacts): Finding[] {
  const p = facts.modern?.rolePermissions;
  if (!p) return [];
  // DescribeSubnets (from v1.18) and DescribeSecurityGroups (v1.22.0 – v1.22.1) are needed only by some releases:
  // their advisories decide on them, for the running version and for every step of a plan.
  const missing = cniActions(facts.cluster.ipFamily).filter((a) => !VERSION_BOUND.has(a) && p.allows[a] === false);
  const findings: Finding[] = [];
  if (missing.length > 0) {
    findings.push({
      id: 'cni-role-permissions-missing',
      severity: 'warning',
      message: `${VIA[p.via]} ${p.roleArn} does not allow ${missing.join(', ')} (read from ${p.policies.length} polic${p.policies.length === 1 ? 'y' : 'ies'}); aws-node needs them to manage ENIs and IP addresses.`,
      remediation: `Attach arn:${p.roleArn.split(':')[1] ?? 'aws'}:iam::aws:policy/AmazonEKS_CNI_Policy (IPv4) or grant the actions in an inline policy.`,
    });
  }
  if (p.unreadable.length > 0) {
    findings.push({
      id: 'cni-role-policies-unreadable',
      severity: 'info',
      message: `The policies ${p.unreadable.join(', ')} of ${p.roleArn} could not be read, so its permissions are known only in part.`,
      remediation: 'Allow iam:GetPolicy, iam:GetPolicyVersion and iam:GetRolePolicy to whoever runs vpccni.',
    });
  }
  return findings;
}
