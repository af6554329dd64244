/** `vpccni fleet status|check|plan`: every cluster of a fleet, read concurrently, judged as one cluster is. */
import { decideCluster, failedRow, fleetExitCode, fleetReport, notUpgradable, type FleetMode, type FleetRow } from '../decide/fleet.js';
import { UsageError } from '../errors.js';
import { createFleetAccess, type FleetAccess } from '../gather/fleet-access.js';
import { credentialSources, discoverTargets, matchesSelector, readFleetFile } from '../gather/fleet-targets.js';
import { describeError, mapLimit, readFleet, type ClusterOutcome, type Deadline } from '../gather/fleet.js';
import { publishFleetSummary, renderFleetDocument, renderFleetMarkdown, renderFleetText } from '../render/fleet.js';
import { createUi } from '../render/ui.js';
import type { GlobalOptions } from '../runtime.js';
import { fleetFlags, type FleetFlags } from './fleet-flags.js';

/** Finds the targets, reads them, decides each: the rows of the fleet (never throws for one cluster). */
export async function fleetRows(
  flags: FleetFlags,
  access: FleetAccess,
  progress: (text: string) => void = () => undefined,
  deadline?: Deadline,
): Promise<FleetRow[]> {
  const limit = <I, O>(items: I[], fn: (item: I) => Promise<O>) => mapLimit(items, flags.concurrency, fn);
  const found = flags.fleetFile
    ? { targets: readFleetFile(flags.fleetFile), failures: [] }
    : await discoverTargets(credentialSources(flags), flags.regions, access.listClusters, limit, describeError);
  const targets = found.targets.filter((t) => matchesSelector(t, flags.selector));
  progress(`Reading ${targets.length} cluster${targets.length === 1 ? '' : 's'}, ${flags.concurrency} at a time.`);
  // Each cluster is decided as soon as it is read, so that its facts need not be kept until the last one.
  const rows = await readFleet(targets, access, {
    concurrency: flags.concurrency,
    clusterTimeoutMs: flags.clusterTimeoutMs,
    ...(deadline ? { deadline } : {}),
    onDone: (o, done, total) => progress(`[${done}/${total}] ${o.target.cluster} (${o.target.region})${'error' in o ? `: ${o.error}` : ''}`),
    decide: (o: ClusterOutcome): FleetRow => {
      const { cluster, region, account, profile, roleArn } = o.target;
      const identity = { cluster, region, account, ...(profile ? { profile } : {}), ...(roleArn ? { roleArn } : {}) };
      if ('error' in o) return failedRow(identity, o.error);
      try {
        return decideCluster(identity, { ...o.facts, ownerTags: flags.ownerTags }, flags.mode);
      } catch (error) {
        return failedRow(identity, describeError(error));
      }
    },
  });
  return [...found.failures.map((f) => failedRow(f, f.error)), ...rows];
}

/** The action of `fleet status`, `fleet check` and `fleet plan`. */
export function fleetCommand(kind: FleetMode['kind']) {
  return async (options: Record<string, unknown>, globals: GlobalOptions): Promise<number> => {
    const flags = fleetFlags(kind, options, globals);
    const ui = createUi({ format: 'text', color: globals.color !== false, quiet: Boolean(globals.quiet), verbose: Boolean(globals.verbose) });
    if (globals.sandbox || globals.scenario) throw new UsageError('fleet commands read a served sandbox: run `vpccni sandbox serve fleet` and point AWS_ENDPOINT_URL_EKS, _IAM and _STS at it.');
    const access = createFleetAccess({ ...(globals.profile ? { baseProfile: globals.profile } : {}), ...(globals.kubeconfig ? { kubeconfig: globals.kubeconfig } : {}) });
    try {
      const rows = await fleetRows(flags, access, (text) => ui.debug(text));
      const report = fleetReport(flags.mode, rows);
      if (flags.output === 'text') for (const line of renderFleetText(flags.mode, rows)) ui.out(line);
      else if (flags.output === 'markdown') process.stdout.write(renderFleetMarkdown(flags.mode, rows));
      else process.stdout.write(renderFleetDocument(flags.output, flags.mode, report));
      if (flags.output !== 'markdown') publishFleetSummary(renderFleetMarkdown(flags.mode, rows), process.env, (t) => ui.warn(t));
      for (const r of rows.filter((r) => r.error !== null)) ui.warn(`Could not read ${r.cluster === '*' ? `the clusters of account ${r.account ?? r.profile ?? '?'}` : r.cluster} in ${r.region}: ${r.error}`);
      if (flags.output === 'github-matrix') {
        for (const r of notUpgradable(flags.mode, rows)) {
          if (r.owner && r.upgradeTo) ui.warn(`${r.cluster} (${r.region}) is not ready, but its add-on is owned by ${r.owner.kind} (${r.owner.detail}); it is not in the matrix: move its pin to ${r.upgradeTo} there.`);
          else ui.warn(`${r.cluster} (${r.region}) is not ready and no upgrade fixes it; it is not in the matrix.`);
        }
      }
      return fleetExitCode(rows);
    } finally {
      access.close();
    }
  };
}
