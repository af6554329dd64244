/**
 * Which clusters a fleet run reads: the entries of a fleet file (schemas/fleet-file.schema.json), or the
 * clusters ListClusters finds in each region for each credential source (profiles, or a role per account),
 * then filtered by a label selector. Discovery that fails (an account that denies access) is a row of its
 * own, never the end of the run.
 */
import { createRequire } from 'node:module';
import { yamlLib } from '../formats/yaml-files.js';
import { UsageError } from '../errors.js';
import { assertNesting } from '../formats/nesting.js';
import { readRegularFile } from './input-file.js';
import { readPackageJson } from '../package-files.js';

const require = createRequire(import.meta.url);

/**
 * The key of the clusters that share their SDK clients and answers (fleet-access.ts): the same credentials
 * (role or profile) in the same region. readFleet interleaves its reads by it.
 */
export function sharingKey(source: { profile?: string; roleArn?: string }, region: string): string {
  return `${source.roleArn ?? ''}|${source.profile ?? ''}|${region}`;
}

/** One cluster to read, and as whom. */
export interface FleetTarget {
  cluster: string;
  region: string;
  /** The account, when known before reading (a role ARN names it; DescribeCluster's ARN tells the rest). */
  account: string | null;
  profile?: string;
  roleArn?: string;
  /** A kube context to use instead of DescribeCluster's endpoint and an in-process token. */
  context?: string;
  labels: Record<string, string>;
}

/** A credential source discovery lists clusters with. */
export interface CredentialSource {
  profile?: string;
  roleArn?: string;
  account: string | null;
}

/** What a discovery or a target failure leaves: a row with the reason. */
export interface TargetFailure {
  cluster: string;
  region: string;
  account: string | null;
  profile?: string;
  roleArn?: string;
  error: string;
}

/** `k=v,k2=v2` → pairs, all of which must match (ANDed). */
export function parseSelector(text: string | undefined): Array<[string, string]> {
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map((part) => {
    const match = /^\s*([A-Za-z0-9_./-]+)\s*=\s*([^=]*?)\s*$/.exec(part);
    if (!match) throw new UsageError(`--selector takes key=value pairs separated by commas (e.g. env=prod,wave=1), not "${part.trim()}".`);
    return [match[1]!, match[2]!];
  });
}

/** The labels a selector sees: the file's labels, then `cluster`, `region`, `account` and `profile` unless set. */
export function effectiveLabels(target: FleetTarget): Record<string, string> {
  return {
    cluster: target.cluster,
    region: target.region,
    ...(target.account ? { account: target.account } : {}),
    ...(target.profile ? { profile: target.profile } : {}),
    ...target.labels,
  };
}

/** True when every pair of the selector matches the target's labels. */
export function matchesSelector(target: FleetTarget, selector: Array<[string, string]>): boolean {
  const labels = effectiveLabels(target);
  return selector.every(([key, value]) => labels[key] === value);
}

const FLEET_FILE_SCHEMA = 'schemas/fleet-file.schema.json';

interface FleetFileEntry {
  cluster: string;
  region: string;
  profile?: string;
  roleArn?: string;
  account?: string;
  context?: string;
  labels?: Record<string, string | number | boolean>;
}

/** The largest fleet file read (thousands of clusters fit in far less). */
export const MAX_FLEET_FILE_BYTES = 16 * 1024 * 1024;

/** Reads and validates a fleet file (YAML or JSON); exit 2 with the first problem when it is wrong. */
export function readFleetFile(path: string): FleetTarget[] {
  const hint = 'check the path given to --fleet';
  const text = readRegularFile(path, { maxBytes: MAX_FLEET_FILE_BYTES, what: `The fleet file ${path}`, hint });
  assertNesting(text, `The fleet file ${path}`, 'a fleet file is a list of clusters, so fix it');
  let doc: unknown;
  try {
    doc = yamlLib().parse(text);
  } catch (error) {
    throw new UsageError(`The fleet file ${path} is not valid YAML (${(error as Error).message.split('\n')[0]}); fix it.`);
  }
  // Required here, not imported: a run that discovers its clusters reads no file and needs neither YAML nor Ajv.
  const { Ajv } = require('ajv') as typeof import('ajv');
  const validate = new Ajv({ strict: false }).compile(readPackageJson<object>(FLEET_FILE_SCHEMA));
  if (!validate(doc)) {
    const first = validate.errors?.[0];
    const where = first?.instancePath || '(the document)';
    throw new UsageError(`The fleet file ${path} is not valid at ${where}: ${first?.message ?? 'unknown error'}; see schemas/fleet-file.schema.json.`);
  }
  const entries = (doc as { clusters: FleetFileEntry[] }).clusters;
  return entries.map((e) => ({
    cluster: e.cluster,
    region: e.region,
    account: e.account ?? accountOfRoleArn(e.roleArn) ?? null,
    ...(e.profile ? { profile: e.profile } : {}),
    ...(e.roleArn ? { roleArn: e.roleArn } : {}),
    ...(e.context ? { context: e.context } : {}),
    labels: Object.fromEntries(Object.entries(e.labels ?? {}).map(([k, v]) => [k, String(v)])),
  }));
}

/** The account an IAM role ARN is in. */
export function accountOfRoleArn(arn: string | undefined): string | null {
  return (arn && /^arn:aws[a-z-]*:iam::(\d{12}):role\//.exec(arn)?.[1]) || null;
}

/** The credential sources of discovery: a role per account, a profile each, or the default chain. */
export function credentialSources(options: { profiles?: string[]; roleArnTemplate?: string; accounts?: string[] }): CredentialSource[] {
  if (options.roleArnTemplate !== undefined) {
    if (!options.roleArnTemplate.includes('{account}')) {
      throw new UsageError('--role-arn-template must contain {account}, e.g. arn:aws:iam::{account}:role/VpccniFleetReadOnly.');
    }
    if (!options.accounts?.length) throw new UsageError('--role-arn-template needs --accounts with the account ids to read.');
    for (const account of options.accounts) {
      if (!/^\d{12}$/.test(account)) throw new UsageError(`--accounts takes 12-digit AWS account ids, not "${account}".`);
    }
    return options.accounts.map((account) => ({ roleArn: options.roleArnTemplate!.replaceAll('{account}', account), account }));
  }
  if (options.accounts?.length) throw new UsageError('--accounts goes with --role-arn-template; pass both, or use --profiles.');
  if (options.profiles?.length) return options.profiles.map((profile) => ({ profile, account: null }));
  return [{ account: null }];
}

/** Lists the cluster names of one region as one credential source sees them (all pages). */
export type ListClusters = (source: CredentialSource, region: string) => Promise<{ clusters: string[]; account: string | null }>;

/**
 * Discovers the clusters of every (source, region), `limit` listings at a time; a listing that fails is a
 * failure row for that account and region.
 */
export async function discoverTargets(
  sources: CredentialSource[],
  regions: string[],
  list: ListClusters,
  mapLimit: <I, O>(items: I[], fn: (item: I) => Promise<O>) => Promise<O[]>,
  describeError: (error: unknown) => string,
): Promise<{ targets: FleetTarget[]; failures: TargetFailure[] }> {
  const pairs = sources.flatMap((source) => regions.map((region) => ({ source, region })));
  const results = await mapLimit(pairs, async ({ source, region }) => {
    try {
      return { source, region, listed: await list(source, region) };
    } catch (error) {
      return { source, region, error: describeError(error) };
    }
  });
  const targets: FleetTarget[] = [];
  const failures: TargetFailure[] = [];
  for (const r of results) {
    const who = { ...(r.source.profile ? { profile: r.source.profile } : {}), ...(r.source.roleArn ? { roleArn: r.source.roleArn } : {}) };
    if ('error' in r) {
      failures.push({ cluster: '*', region: r.region, account: r.source.account, ...who, error: r.error! });
      continue;
    }
    for (const cluster of r.listed.clusters) {
      targets.push({ cluster, region: r.region, account: r.listed.account ?? r.source.account, ...who, labels: {} });
    }
  }
  return { targets, failures };
}
