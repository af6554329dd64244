/**
 * The cni-metrics-helper at the CNI's version (EKS user guide, "Install or update the CNI metrics helper"):
 * which shipped release matches the CNI, the path to it one minor at a time, the manifest rendered for the
 * region (and annotated with the role), the IAM policy and trust policy the guide gives, and the state of the
 * helper's role. Pure, but for reading the shipped manifests (fixtures/manifests/cni-metrics-helper-v*.yaml).
 */
import { parseAllDocuments } from 'yaml';
import { listPackageFolder, readPackageText } from '../package-files.js';
import type { Finding, RoleInfo } from '../domain.js';
import { oidcProviderArnFor, trustAllowsAwsNode } from './checks/irsa.js';
import { containerList, podTemplateSpec, splitImage, type KubeObject } from './manifests.js';
import { rehostImages } from './self-managed.js';
import {
  compareAddonVersions,
  formatAddonVersion,
  minorIndex,
  sameRelease,
  tryParseAddonVersion,
  type AddonVersion,
} from '../upgrade-planner/version.js';

export const HELPER_NAME = 'cni-metrics-helper';
export const HELPER_SUBJECT = 'system:serviceaccount:kube-system:cni-metrics-helper';
export const HELPER_POLICY_NAME = 'AmazonEKSVPCCNIMetricsHelperPolicy';
export const ROLE_ANNOTATION = 'eks.amazonaws.com/role-arn';

/** The policy the user guide creates for the helper. */
export const HELPER_POLICY_DOCUMENT = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['cloudwatch:PutMetricData', 'ec2:DescribeTags'], Resource: '*' }],
} as const;

/** The role name the user guide uses: `AmazonEKSVPCCNIMetricsHelperRole-<cluster>` (IAM allows 64 characters). */
export function helperRoleName(cluster: string): string {
  return `AmazonEKSVPCCNIMetricsHelperRole-${cluster}`.slice(0, 64);
}

/** The trust policy of the user guide: the cluster's OIDC provider, for the helper's service account. */
export function helperTrustPolicy(providerArn: string, issuerHost: string): unknown {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: providerArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: { StringEquals: { [`${issuerHost}:sub`]: HELPER_SUBJECT, [`${issuerHost}:aud`]: 'sts.amazonaws.com' } },
      },
    ],
  };
}

const MANIFEST_DIR = 'fixtures/manifests';

let shipped: Array<{ version: AddonVersion; file: string }> | undefined;

/** The cni-metrics-helper releases whose manifest is shipped, oldest first. */
export function helperReleases(): Array<{ version: AddonVersion; file: string }> {
  shipped ??= listPackageFolder(MANIFEST_DIR)
    .map((file) => ({ file, version: tryParseAddonVersion(/^cni-metrics-helper-(v\d+\.\d+\.\d+)\.yaml$/.exec(file)?.[1] ?? '') }))
    .filter((f): f is { file: string; version: AddonVersion } => f.version !== null)
    .sort((a, b) => compareAddonVersions(a.version, b.version));
  return shipped;
}

/**
 * The helper release for a CNI version: the same release when shipped, else the newest shipped release of the
 * same minor that is not newer; null when vpccni ships none of that minor.
 */
export function helperTargetFor(cniVersion: string): string | null {
  const cni = tryParseAddonVersion(cniVersion);
  if (!cni) return null;
  const inMinor = helperReleases().filter((r) => minorIndex(r.version) === minorIndex(cni));
  const exact = inMinor.find((r) => sameRelease(r.version, cni));
  const older = inMinor.filter((r) => compareAddonVersions(r.version, { ...cni, build: null }) <= 0).at(-1);
  const chosen = exact ?? older;
  return chosen ? formatAddonVersion(chosen.version) : null;
}

/**
 * The helper's path to `target`, one minor at a time as the guide asks (patches may be skipped): the newest
 * shipped release of each minor in between, then the target. A helper that is absent goes straight there.
 */
export function helperPath(current: string | null, target: string): string[] {
  const from = current ? tryParseAddonVersion(current) : null;
  const to = tryParseAddonVersion(target);
  if (!to) return [];
  if (!from) return [target];
  if (sameRelease(from, to)) return [];
  const direction = Math.sign(minorIndex(to) - minorIndex(from));
  const path: string[] = [];
  for (let m = minorIndex(from) + direction; direction !== 0 && m !== minorIndex(to); m += direction) {
    const newest = helperReleases().filter((r) => minorIndex(r.version) === m).at(-1);
    if (!newest) throw new Error(`no shipped cni-metrics-helper manifest of v${Math.floor(m / 1000)}.${m % 1000}`);
    path.push(formatAddonVersion(newest.version));
  }
  path.push(target);
  return path;
}

/** The objects of the shipped helper manifest of `release`. */
export function loadHelperManifest(release: string): KubeObject[] {
  const entry = helperReleases().find((r) => formatAddonVersion(r.version) === release);
  if (!entry) throw new Error(`no shipped cni-metrics-helper manifest of ${release}`);
  return parseAllDocuments(readPackageText(`${MANIFEST_DIR}/${entry.file}`))
    .map((doc) => doc.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null && typeof o === 'object' && 'kind' in o);
}

/**
 * The helper's manifest of `release` as the guide has it applied: images from `imagePrefix` (the region's
 * registry, or the CNI's mirror), the service account annotated with `roleArn`, and the env values of the
 * running helper kept (e.g. AWS_CLUSTER_ID).
 */
export function renderHelperManifest(release: string, options: { imagePrefix: string; roleArn: string | null; live: KubeObject | null }): KubeObject[] {
  const objects = loadHelperManifest(release);
  const liveEnv = new Map<string, { name: string; value?: string; valueFrom?: unknown }>();
  if (options.live) {
    for (const c of containerList<{ name: string; env?: Array<{ name: string; value?: string; valueFrom?: unknown }> }>(podTemplateSpec(options.live), 'containers')) {
      if (c.name === HELPER_NAME) for (const e of c.env ?? []) liveEnv.set(e.name, e);
    }
  }
  for (const object of objects) {
    if (object.kind === 'Deployment') {
      rehostImages(object, options.imagePrefix);
      for (const c of containerList<{ name: string; env?: Array<{ name: string; value?: string; valueFrom?: unknown }> }>(podTemplateSpec(object), 'containers')) {
        if (c.name !== HELPER_NAME) continue;
        const env = (c.env ??= []);
        for (const [name, live] of liveEnv) {
          const at = env.findIndex((e) => e.name === name);
          if (at >= 0) env[at] = structuredClone(live);
          else env.push(structuredClone(live));
        }
      }
    }
    if (object.kind === 'ServiceAccount' && options.roleArn) {
      object.metadata.annotations = { ...(object.metadata.annotations as Record<string, string> | undefined), [ROLE_ANNOTATION]: options.roleArn };
    }
  }
  return objects;
}

/** The version a helper Deployment runs: the tag of its cni-metrics-helper image. */
export function helperVersionOf(deployment: KubeObject | null): string | null {
  if (!deployment) return null;
  const c = containerList<{ name: string; image?: string }>(podTemplateSpec(deployment), 'containers').find((x) => /cni-metrics-helper/.test(x.image ?? ''));
  return c?.image ? splitImage(c.image).tag : null;
}

/** How the helper's IAM role stands. */
export type HelperRoleState = 'ok' | 'none' | 'missing' | 'untrusted' | 'no-oidc-provider';

/** The state of the role the helper's service account names (null: none named). */
export function helperRoleState(role: RoleInfo | null, issuer: string | null, providerArns: string[]): HelperRoleState {
  if (!role) return 'none';
  if (!role.exists) return 'missing';
  const provider = oidcProviderArnFor(role.arn, issuer);
  if (!provider || !providerArns.includes(provider)) return 'no-oidc-provider';
  const host = (issuer ?? '').replace(/^https:\/\//, '').replace(/\/+$/, '');
  return trustAllowsAwsNode(role.trustPolicy, provider, host, HELPER_SUBJECT) ? 'ok' : 'untrusted';
}

/** What the role state means, as findings (none when it is fine). */
export function helperRoleFindings(state: HelperRoleState, roleArn: string | null): Finding[] {
  const fix = 'run `vpccni metrics-helper upgrade --create-role`, or fix the role as the user guide\'s "Deploy the CNI metrics helper" shows';
  switch (state) {
    case 'ok':
      return [];
    case 'none':
      return [{ id: 'metrics-helper-no-role', severity: 'warning', message: 'The cni-metrics-helper service account names no IAM role, so the helper can only push metrics with the node\'s role.', remediation: `Give it its own role: ${fix}.` }];
    case 'missing':
      return [{ id: 'metrics-helper-role-missing', severity: 'error', message: `The cni-metrics-helper service account names ${roleArn}, which does not exist in IAM; the helper cannot get credentials.`, remediation: `Create it: ${fix}.` }];
    case 'untrusted':
      return [{ id: 'metrics-helper-role-untrusted', severity: 'error', message: `The trust policy of ${roleArn} does not let ${HELPER_SUBJECT} assume it through the cluster's OIDC provider.`, remediation: 'Add a statement allowing sts:AssumeRoleWithWebIdentity for that subject (the user guide\'s trust policy), then run `vpccni metrics-helper upgrade`.' }];
    case 'no-oidc-provider':
      return [{ id: 'metrics-helper-oidc-provider-missing', severity: 'error', message: `The cluster's IAM OIDC provider does not exist, so ${roleArn} cannot be assumed by the helper.`, remediation: 'Create it: `eksctl utils associate-iam-oidc-provider --cluster <name> --approve`.' }];
  }
}
