/**
 * Which configuration schema applies, and its text: the add-on's version, else the running DaemonSet's (a
 * plain tag resolved to its newest EKS build), or the version given; fetched from EKS.
 */
import type { CatalogueEntry } from '../domain.js';
import { UsageError } from '../errors.js';
import { daemonSetInfo } from './facts.js';
import { AwsCallError } from '../gateways/aws-errors.js';
import { assertContextMatches } from '../gateways/kubectl.js';
import { sameApiServer } from '../gateways/kubeconfig.js';
import type { Runtime } from '../runtime.js';
import { compareAddonVersions, formatAddonVersion, sameRelease, tryParseAddonVersion, type AddonVersion } from '../upgrade-planner/version.js';

/** The newest build in the catalogue of the release `version` names (`v1.12.6` → `v1.12.6-eksbuild.2`), or null. */
export function newestBuildOf(version: AddonVersion, catalogue: readonly CatalogueEntry[]): string | null {
  const builds = catalogue
    .map((entry) => tryParseAddonVersion(entry.version))
    .filter((v): v is AddonVersion => v !== null && v.build !== null && sameRelease(v, version))
    .sort(compareAddonVersions);
  const newest = builds.at(-1);
  return newest ? formatAddonVersion(newest) : null;
}

/** The installed version: the managed add-on's, else the DaemonSet's image tag (a plain tag resolved to its newest build). */
export async function schemaVersionOfCluster(runtime: Runtime): Promise<string> {
  const addon = await runtime.eks.describeAddon();
  if (addon.managed && addon.version) {
    runtime.ui.info(`Using the schema of vpc-cni ${addon.version}, the EKS add-on's version.`);
    return addon.version;
  }
  const cluster = await runtime.eks.describeCluster();
  assertContextMatches(runtime.kubeContext, cluster, sameApiServer);
  const daemonSet = await runtime.kube.getDaemonSet();
  const tag = daemonSet ? daemonSetInfo(daemonSet).version : null;
  if (!tag) {
    throw new UsageError(
      `Cluster "${cluster.name}" has neither a vpc-cni add-on nor an aws-node DaemonSet with a readable version; pass --addon-version to choose the schema.`,
    );
  }
  const parsed = tryParseAddonVersion(tag);
  if (!parsed) {
    throw new UsageError(`The aws-node DaemonSet runs the image tag "${tag}", which is not an add-on version; pass --addon-version to choose the schema.`);
  }
  return resolveBuild(runtime, parsed, 'installed');
}

/** A version with an eksbuild as is; a plain release as its newest build in the EKS catalogue. */
export async function resolveBuild(runtime: Runtime, version: AddonVersion, how: 'given' | 'installed'): Promise<string> {
  const text = formatAddonVersion(version);
  if (version.build !== null) {
    if (how === 'installed') runtime.ui.info(`Using the schema of vpc-cni ${text}, the version the aws-node DaemonSet runs.`);
    return text;
  }
  const build = newestBuildOf(version, await runtime.eks.describeAddonVersions());
  if (!build) {
    throw new UsageError(
      `EKS has no configuration schema for vpc-cni ${text} (no build of it is in the EKS catalogue); check the version (vpccni plan --to latest) or pass --addon-version with an eksbuild.`,
    );
  }
  runtime.ui.info(
    `Using the schema of vpc-cni ${build}, the newest EKS build of ${text}${how === 'installed' ? ' (the version the self-managed aws-node DaemonSet runs)' : ''}.`,
  );
  return build;
}

/** The schema text EKS publishes for `version`; an unknown version is bad input (exit 2). */
export async function fetchSchema(runtime: Runtime, version: string): Promise<string> {
  try {
    return await runtime.eks.describeAddonConfiguration(version);
  } catch (error) {
    if (error instanceof AwsCallError && /^(InvalidParameterException|ResourceNotFoundException)$/.test(error.code)) {
      throw new UsageError(`EKS has no configuration schema for vpc-cni ${version}; check the version (vpccni plan --to latest).`, {
        cause: error,
      });
    }
    throw error;
  }
}
