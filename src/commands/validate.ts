/**
 * `vpccni validate --configuration-values <json|yaml|@file> [--addon-version V]`: checks values against the
 * configuration schema EKS publishes for a version, locally, one line per problem. With --addon-version
 * only EKS is called (never kubectl).
 */
import type { CatalogueEntry } from '../domain.js';
import { UsageError } from '../errors.js';
import { parseConfigurationValues } from '../config/values.js';
import { validateConfigurationValues, type ConfigProblem } from '../config/validate.js';
import { daemonSetInfo } from '../facts.js';
import { AwsCallError } from '../gateways/aws-errors.js';
import { assertContextMatches } from '../gateways/kubectl.js';
import { sameApiServer } from '../gateways/kubeconfig.js';
import type { GlobalOptions, Runtime } from '../runtime.js';
import {
  compareAddonVersions,
  formatAddonVersion,
  parseAddonVersion,
  sameRelease,
  tryParseAddonVersion,
  type AddonVersion,
} from '../upgrade-planner/version.js';
import { withRuntime } from './shared.js';

/** The `validate --output json` document (schemas/validate.schema.json). */
export interface ValidateReport {
  schemaVersion: 1;
  addonVersion: string;
  valid: boolean;
  problems: ConfigProblem[];
}

/** A problem as the one text line `path: message` (the message without the path it starts with). */
export function problemLine(problem: ConfigProblem): string {
  if (problem.path === '') return `(top level): ${problem.message}`;
  const rest = problem.message.startsWith(`${problem.path} `) ? problem.message.slice(problem.path.length + 1) : problem.message;
  return `${problem.path}: ${rest}`;
}

/** The newest build in the catalogue of the release `version` names (`v1.12.6` → `v1.12.6-eksbuild.2`), or null. */
export function newestBuildOf(version: AddonVersion, catalogue: readonly CatalogueEntry[]): string | null {
  const builds = catalogue
    .map((entry) => tryParseAddonVersion(entry.version))
    .filter((v): v is AddonVersion => v !== null && v.build !== null && sameRelease(v, version))
    .sort(compareAddonVersions);
  const newest = builds.at(-1);
  return newest ? formatAddonVersion(newest) : null;
}

/** Parses, picks the version, fetches its schema, validates; exit 0 valid, 2 invalid input. */
export async function validateCommand(options: Record<string, unknown>, globals: GlobalOptions): Promise<number> {
  const input = typeof options.configurationValues === 'string' ? options.configurationValues : '';
  const values = parseConfigurationValues(input);
  const asked = typeof options.addonVersion === 'string' ? parseAddonVersion(options.addonVersion) : null;
  // With a version given no cluster is read, so none needs to be named.
  const runtimeGlobals: GlobalOptions =
    asked && !globals.cluster ? { ...globals, cluster: process.env.VPCCNI_CLUSTER ?? '(none)' } : globals;
  return withRuntime(runtimeGlobals, async (runtime) => {
    const { ui } = runtime;
    const version = asked
      ? await resolveBuild(runtime, asked, 'given')
      : await ui.step(`Reading the installed vpc-cni version of ${runtime.clusterName}`, () => installedVersion(runtime));
    const schema = await ui.step(`Fetching the configuration schema of vpc-cni ${version}`, () => fetchSchema(runtime, version));
    const problems = validateConfigurationValues(values.value, schema);
    const report: ValidateReport = { schemaVersion: 1, addonVersion: version, valid: problems.length === 0, problems };
    if (ui.format === 'json') {
      ui.json(report);
    } else if (report.valid) {
      ui.out(`Valid for vpc-cni ${version}.`);
    } else {
      for (const problem of problems) ui.out(problemLine(problem));
    }
    if (!report.valid) {
      ui.warn(
        `vpccni: the configuration values are not valid for vpc-cni ${version} (${problems.length} problem${problems.length === 1 ? '' : 's'}${ui.format === 'text' ? ' listed above' : ''}); fix them and run validate again.`,
      );
      return 2;
    }
    return 0;
  });
}

/** The installed version: the managed add-on's, else the DaemonSet's image tag (a plain tag resolved to its newest build). */
async function installedVersion(runtime: Runtime): Promise<string> {
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
async function resolveBuild(runtime: Runtime, version: AddonVersion, how: 'given' | 'installed'): Promise<string> {
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

async function fetchSchema(runtime: Runtime, version: string): Promise<string> {
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
