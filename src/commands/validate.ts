/**
 * `vpccni validate --configuration-values <json|yaml|@file> [--addon-version V]`: checks values against the
 * configuration schema EKS publishes for a version, locally, one line per problem. With --addon-version
 * only EKS is called (never kubectl).
 */
import { parseConfigurationValues } from '../decide/config/values.js';
import { validateConfigurationValues, type ConfigProblem } from '../decide/config/validate.js';
import { fetchSchema, resolveBuild, schemaVersionOfCluster } from '../gather/schema.js';
import type { GlobalOptions } from '../runtime.js';
import { parseAddonVersion } from '../upgrade-planner/version.js';
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
      : await ui.step(`Reading the installed vpc-cni version of ${runtime.clusterName}`, () => schemaVersionOfCluster(runtime));
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
