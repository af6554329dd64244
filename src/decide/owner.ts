/**
 * Pure: who owns the vpc-cni add-on, from the tags DescribeAddon returns (docs/domain.md, "Who owns the add-on").
 * An add-on that CloudFormation, Terraform or eksctl declares is taken back to its pinned version on the owner's
 * next run when it is upgraded outside it (terraform-aws-modules/terraform-aws-eks#2758, #3381), so the
 * commands name the owner and its pin.
 */
import type { AddonOwner, ClusterFacts, Finding, OwnerTagRule } from '../domain.js';
import { UsageError } from '../errors.js';

export type { AddonOwner, OwnerTagRule } from '../domain.js';

const WHO: Record<AddonOwner['kind'], string> = { cloudformation: 'CloudFormation', terraform: 'Terraform', eksctl: 'eksctl', tag: 'infrastructure code' };

/**
 * Tags CloudFormation puts on the resources of a stack (CloudFormation template reference, "Resource tag":
 * "CloudFormation automatically creates the following stack-level tags with the aws: prefix").
 */
export const CLOUDFORMATION_TAGS = {
  stackName: 'aws:cloudformation:stack-name',
  stackId: 'aws:cloudformation:stack-id',
  logicalId: 'aws:cloudformation:logical-id',
} as const;

/**
 * eksctl's ownership tags (pkg/apis/eksctl.io/v1alpha5/types.go: ClusterNameTag, OldClusterNameTag, AddonNameTag).
 * eksctl puts them on its CloudFormation stacks, not on the add-on it creates (pkg/actions/addon/create.go sends
 * only the config's `addons[].tags`), so they are found on an add-on only where a team copied them there.
 */
const EKSCTL_CLUSTER_TAGS = ['alpha.eksctl.io/cluster-name', 'eksctl.cluster.k8s.io/v1alpha1/cluster-name'];
const EKSCTL_ADDON_TAG = 'alpha.eksctl.io/addon-name';

// EKS's TagKey and TagValue (eks-service-2.json): 1–128 and 0–256 characters; `aws:` is reserved for AWS.
const MAX_KEY = 128;
const MAX_VALUE = 256;

/**
 * Parses `KEY[=VALUE]` rules: the `--owner-tag` values when any are given, else `VPCCNI_OWNER_TAGS` (comma
 * separated). Refuses (UsageError, exit 2) an empty key, a key or value longer than EKS allows.
 */
export function parseOwnerTags(flags: readonly string[] | undefined, env: string | undefined): OwnerTagRule[] {
  const fromFlags = (flags ?? []).length > 0;
  const source = fromFlags ? '--owner-tag' : 'VPCCNI_OWNER_TAGS';
  const items = fromFlags ? [...(flags ?? [])] : env === undefined || env.trim() === '' ? [] : env.split(',');
  return items.map((raw) => {
    const text = raw.trim();
    const at = text.indexOf('=');
    const key = (at < 0 ? text : text.slice(0, at)).trim();
    const value = at < 0 ? undefined : text.slice(at + 1).trim();
    if (key === '') {
      throw new UsageError(`${source} "${raw}" names no tag key; use KEY or KEY=VALUE, e.g. --owner-tag ManagedBy=Terraform.`);
    }
    if (key.length > MAX_KEY || (value?.length ?? 0) > MAX_VALUE) {
      throw new UsageError(`${source} "${raw}" is longer than an EKS tag can be (key up to ${MAX_KEY} characters, value up to ${MAX_VALUE}); shorten it.`);
    }
    return value === undefined || value === '' ? { key } : { key, value };
  });
}

/** The stack name in a CloudFormation stack ARN (`arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/ID`). */
function stackNameOfId(stackId: string | undefined): string | undefined {
  return stackId ? /:stack\/([^/]+)\//.exec(stackId)?.[1] : undefined;
}

/** The kind a team's tag names by its key or value (`ManagedBy=Terraform` → terraform), else `tag`. */
function kindOfTeamTag(key: string, value: string): AddonOwner['kind'] {
  const text = `${key} ${value}`.toLowerCase();
  if (text.includes('terraform') || text.includes('opentofu')) return 'terraform';
  if (text.includes('cloudformation')) return 'cloudformation';
  if (text.includes('eksctl')) return 'eksctl';
  return 'tag';
}

/**
 * Who owns the add-on by its tags: CloudFormation's stack tags first, then eksctl's, then the first of the team's
 * own tags that matches (key exactly, value without regard to case, as teams write `Terraform` or `terraform`).
 * Null when nothing says.
 */
export function decideOwner(tags: Readonly<Record<string, string>> | undefined, rules: readonly OwnerTagRule[] = []): AddonOwner | null {
  if (!tags) return null;
  const stack = tags[CLOUDFORMATION_TAGS.stackName] ?? stackNameOfId(tags[CLOUDFORMATION_TAGS.stackId]);
  if (stack !== undefined) {
    const logicalId = tags[CLOUDFORMATION_TAGS.logicalId];
    return { kind: 'cloudformation', detail: `stack ${stack}${logicalId ? `, logical id ${logicalId}` : ''}` };
  }
  const eksctlCluster = EKSCTL_CLUSTER_TAGS.map((k) => tags[k]).find((v) => v !== undefined);
  if (eksctlCluster !== undefined || tags[EKSCTL_ADDON_TAG] !== undefined) {
    return { kind: 'eksctl', detail: eksctlCluster !== undefined ? `eksctl cluster ${eksctlCluster}` : `eksctl add-on ${tags[EKSCTL_ADDON_TAG]}` };
  }
  for (const rule of rules) {
    const value = tags[rule.key];
    if (value === undefined) continue;
    if (rule.value !== undefined && rule.value.toLowerCase() !== value.toLowerCase()) continue;
    return { kind: kindOfTeamTag(rule.key, value), detail: `tag ${rule.key}=${value}` };
  }
  return null;
}

/** Where the owner pins the version, as a phrase: `in CloudFormation stack demo-addons (logical id VpcCniAddon)`. */
export function ownerPin(owner: AddonOwner): string {
  switch (owner.kind) {
    case 'cloudformation': {
      const match = /^stack (.+?)(?:, logical id (.+))?$/.exec(owner.detail);
      if (match) return `in CloudFormation stack ${match[1]}${match[2] ? ` (logical id ${match[2]})` : ''}`;
      return `in the CloudFormation stack that sets ${owner.detail}`;
    }
    case 'terraform':
      return `in the Terraform code that sets ${owner.detail} (\`addon_version\` of its aws_eks_addon)`;
    case 'eksctl':
      return `in the eksctl config file (${owner.detail}, \`addons[].version\` of vpc-cni)`;
    default:
      return `in the infrastructure code that sets ${owner.detail}`;
  }
}

/** What one step means to the owner: one stack update, one `terraform apply`, one `eksctl update addon`. */
function ownerRun(owner: AddonOwner): string {
  return { cloudformation: 'one stack update each', terraform: 'one `terraform apply` each', eksctl: 'one `eksctl update addon -f` each', tag: 'one apply each' }[owner.kind];
}

/**
 * The instruction that moves an owned add-on: the pin to change and the versions, one run of the owner per step,
 * and the `plan --output` that prints them for the owners it knows.
 */
export function ownerUpgradeInstruction(owner: AddonOwner, steps: readonly string[]): string {
  const to = steps.at(-1) ?? '';
  const versions = steps.length > 1 ? `${steps.slice(0, -1).join(', then ')}, then ${to}, ${ownerRun(owner)}` : to;
  const print = owner.kind === 'tag' ? `\`vpccni plan --to ${to}\` lists them` : `\`vpccni plan --to ${to} --output ${owner.kind}\` prints them`;
  return `change the add-on's version ${ownerPin(owner)} to ${versions}; ${print}`;
}

/** The owner of the facts' add-on (a managed add-on's tags with the team's rules); null for a self-managed install. */
export function ownerOf(facts: ClusterFacts): AddonOwner | null {
  return facts.addon.managed ? decideOwner(facts.addon.tags, facts.ownerTags ?? []) : null;
}

/**
 * Findings whose remediation says to run `vpccni upgrade --to V`, rewritten for an owned add-on to name the
 * owner's pin instead (the upgrade itself would be taken back by the owner's next run).
 */
export function withOwnerRemediation(findings: readonly Finding[], owner: AddonOwner | null, steps: readonly string[]): Finding[] {
  if (!owner || steps.length === 0) return [...findings];
  const instruction = ownerUpgradeInstruction(owner, steps);
  return findings.map((f) =>
    f.remediation && /run `vpccni upgrade --to [^`]+`/.test(f.remediation)
      ? { ...f, remediation: f.remediation.replace(/run `vpccni upgrade --to [^`]+`/, instruction) }
      : f,
  );
}

/** The finding that names the owner, for status and check (info: knowing it is no fault). */
export function ownerFinding(owner: AddonOwner | null): Finding[] {
  if (!owner) return [];
  const who = WHO[owner.kind];
  return [
    {
      id: 'addon-owned-by-iac',
      severity: 'info',
      message: `The vpc-cni add-on is owned by ${who} (${owner.detail}): a version set outside it is taken back on the owner's next run.`,
      remediation: `Move the add-on's version ${ownerPin(owner)}, not with \`vpccni upgrade\` alone.`,
    },
  ];
}

/** The warning `upgrade` gives before the backup when the add-on is owned. */
export function ownerUpgradeWarning(owner: AddonOwner, to: string): string {
  return `The vpc-cni add-on is owned by ${WHO[owner.kind]} (${owner.detail}): its next run will take the add-on back unless you also change the add-on's version ${ownerPin(owner)} to ${to}.`;
}
