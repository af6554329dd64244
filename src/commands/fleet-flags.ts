/** The flags of `vpccni fleet status|check|plan`, parsed and checked before any call (exit 2). */
import { parseDuration } from '../act/upgrade/wait.js';
import { parseOwnerTags, type OwnerTagRule } from '../decide/owner.js';
import type { FleetMode } from '../decide/fleet.js';
import { UsageError } from '../errors.js';
import { credentialSources, parseSelector } from '../gather/fleet-targets.js';
import type { FleetOutput } from '../render/fleet.js';
import type { GlobalOptions } from '../runtime.js';
import { formatKubernetesVersion, tryParseAddonVersion } from '../upgrade-planner/version.js';

const OUTPUTS: FleetOutput[] = ['text', 'json', 'markdown', 'github-matrix'];

/** The flags of every fleet command, validated (exit 2 before any call). */
export interface FleetFlags {
  mode: FleetMode;
  output: FleetOutput;
  fleetFile?: string;
  regions: string[];
  profiles: string[];
  roleArnTemplate?: string;
  accounts: string[];
  selector: Array<[string, string]>;
  concurrency: number;
  clusterTimeoutMs: number;
  /** `--owner-tag` (else VPCCNI_OWNER_TAGS): the team's tags that mark an add-on as owned. */
  ownerTags: OwnerTagRule[];
}

function clusterTimeout(text: string): number {
  try {
    return parseDuration(text);
  } catch {
    throw new UsageError(`--cluster-timeout "${text}" is not a duration from 1s to 24h; use e.g. 30s or 2m.`);
  }
}

const list = (value: unknown): string[] => (typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : []);

/** Parses and checks the flags. */
export function fleetFlags(kind: FleetMode['kind'], options: Record<string, unknown>, globals: GlobalOptions): FleetFlags {
  const output = (globals.output ?? 'text') as FleetOutput;
  if (!OUTPUTS.includes(output)) throw new UsageError(`--output must be one of ${OUTPUTS.join(', ')} for fleet commands, not "${output}".`);
  let mode: FleetMode = { kind: 'status' };
  if (kind === 'check') {
    const asked = options.kubernetesVersion;
    mode = typeof asked === 'string' ? { kind, kubernetesVersion: formatKubernetesVersion(asked) } : { kind };
  } else if (kind === 'plan') {
    const to = String(options.to ?? '');
    if (!['latest', 'default'].includes(to) && !tryParseAddonVersion(to)) {
      throw new UsageError(`--to takes a vpc-cni version (e.g. v1.19.5-eksbuild.1), "latest" or "default", not "${to}".`);
    }
    mode = { kind, to };
  }
  const concurrency = Number(options.concurrency ?? 8);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw new UsageError('--concurrency takes a whole number from 1 to 256.');
  const clusterTimeoutMs = clusterTimeout(String(options.clusterTimeout ?? '60s'));
  const regions = list(options.regions);
  const fleetFile = typeof options.fleet === 'string' ? options.fleet : undefined;
  if (fleetFile && (regions.length || options.profiles || options.roleArnTemplate || options.accounts)) {
    throw new UsageError('--fleet lists the clusters itself; drop --regions, --profiles, --role-arn-template and --accounts, or drop --fleet.');
  }
  const region = globals.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!fleetFile && regions.length === 0 && !region) throw new UsageError('Name the clusters: pass --fleet <file>, or --regions a,b to discover them with ListClusters.');
  const flags: FleetFlags = {
    mode,
    output,
    regions: regions.length ? regions : region ? [region] : [],
    profiles: list(options.profiles),
    accounts: list(options.accounts),
    selector: parseSelector(typeof options.selector === 'string' ? options.selector : undefined),
    concurrency,
    clusterTimeoutMs,
    ownerTags: parseOwnerTags(globals.ownerTag, process.env.VPCCNI_OWNER_TAGS),
    ...(fleetFile ? { fleetFile } : {}),
    ...(typeof options.roleArnTemplate === 'string' ? { roleArnTemplate: options.roleArnTemplate } : {}),
  };
  if (!fleetFile) credentialSources(flags); // refuse bad combinations now
  return flags;
}
