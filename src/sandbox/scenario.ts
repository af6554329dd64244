/**
 * Sandbox scenarios: the built-in ones (fixtures/scenarios/*.yaml) and user files (JSON or YAML), validated
 * against schemas/scenario.schema.json, then resolved: whatever a scenario leaves out takes the `default`
 * scenario's value (derived from the scenario's own cluster where that matters, e.g. zones of its region).
 */
import { eksRegistryFor as eksImageRegistry, regionPartition } from './registries.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { readPackageYaml, yamlLib } from '../formats/yaml-files.js';
import { listPackageFolder, packageLocation, readPackageJson } from '../package-files.js';
import { UsageError } from '../errors.js';
import { assertNesting } from '../formats/nesting.js';
import { parseVersion as tryParseAddonVersion } from './versions.js';
import { CATALOGUES, DEFAULT_CATALOGUE } from './default-catalogue.js';
import type {
  Scenario,
  ScenarioCatalogueEntry,
  ScenarioEniConfig,
  ScenarioEnvOverrides,
  ScenarioDaemonSetCustom,
  ScenarioFaults,
  ScenarioInsight,
  ScenarioNode,
  ScenarioNodeGroup,
  ScenarioPodIdentityAssociation,
  ScenarioRole,
} from './scenario-types.js';

/** Where the built-in scenarios live, in the package (src/package-files.ts). */
const SCENARIO_DIR = 'fixtures/scenarios';
const SCHEMA_FILE = 'schemas/scenario.schema.json';

/** The values of the default scenario that do not depend on its cluster. */
export const DEFAULTS = {
  clusterName: 'demo',
  region: 'us-west-2',
  accountId: '111122223333',
  kubernetesVersion: '1.27',
  oidcId: 'EXAMPLED539D4633E53DE1B71EXAMPLE',
  addonVersion: 'v1.12.6-eksbuild.2',
  roleName: 'AmazonEKSVPCCNIRole',
  /** The node role of the EKS user guide's managed node groups (create-node-role.html). */
  nodeRoleName: 'AmazonEKSNodeRole',
  cniPolicyArn: 'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy',
  cniIpv6PolicyArnSuffix: 'policy/AmazonEKS_CNI_IPv6_Policy',
  updateDurationMs: 300,
  rolloutDurationMs: 200,
} as const;

/** A scenario with every default filled in: what the emulators run. */
export interface ResolvedScenario {
  name: string;
  description: string;
  cluster: {
    name: string;
    region: string;
    accountId: string;
    kubernetesVersion: string;
    ipFamily: 'ipv4' | 'ipv6';
    oidcIssuer: string | null;
    autoMode: boolean;
    nodeGroups: ResolvedNodeGroup[];
  };
  addon: {
    version: string;
    status: string;
    configurationValues: string | null;
    serviceAccountRoleArn: string | null;
    health: Array<{ code: string; message: string; resourceIds?: string[] }>;
    tags: Record<string, string>;
  } | null;
  daemonSet: {
    manifest: string;
    imageTag: string;
    registry: string;
    env: ScenarioEnvOverrides;
    removeContainers: string[];
    affinity?: unknown;
    desiredNumberScheduled?: number;
    rollingOut: boolean;
    custom?: ScenarioDaemonSetCustom;
  } | null;
  configMapData: Record<string, string | null>;
  catalogue: ScenarioCatalogueEntry[];
  nodes: ScenarioNode[];
  eniConfigs: ScenarioEniConfig[];
  metricsHelper: { imageTag: string; serviceAccountRoleArn?: string } | null;
  iam: { roles: ScenarioRole[]; oidcProviders: string[] };
  podIdentityAssociations: ScenarioPodIdentityAssociation[];
  podIdentityAgent: { imageTag: string } | null;
  /** null: computed from the catalogue (the add-on compatibility insight for the next Kubernetes version). */
  insights: ScenarioInsight[] | null;
  sandbox: { updateDurationMs: number; rolloutDurationMs: number; faults: ScenarioFaults };
}

/** A managed node group as DescribeNodegroup shows it. */
export interface ResolvedNodeGroup {
  name: string;
  /** The node role's ARN. */
  nodeRole: string;
  instanceTypes: string[];
  status: NonNullable<ScenarioNodeGroup['status']>;
  /** The scenario's nodes labelled with this node group. */
  nodeCount: number;
}

let validator: ValidateFunction | undefined;

function scenarioValidator(): ValidateFunction {
  if (!validator) {
    // Loaded (and the schema compiled) only for a scenario file of the user's: the start-up of a built-in one skips both.
    const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    const ajv = new Ajv({ allErrors: true, strict: false });
    validator = ajv.compile(readPackageJson<object>(SCHEMA_FILE));
  }
  return validator;
}

function builtInFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const file of listPackageFolder(SCENARIO_DIR).sort()) {
    const match = /^(.+)\.ya?ml$/.exec(file);
    if (match?.[1]) files.set(match[1], `${SCENARIO_DIR}/${file}`);
  }
  return files;
}

/** The built-in scenarios, `default` first, with their one-line descriptions. */
export function listScenarios(): Array<{ name: string; description: string }> {
  const list = [...builtInFiles().keys()].map((name) => {
    const scenario = loadScenario(name);
    return { name: scenario.name, description: scenario.description ?? '' };
  });
  return list.sort((a, b) => (a.name === 'default' ? -1 : b.name === 'default' ? 1 : a.name.localeCompare(b.name)));
}

/** `cluster.kubernetesVersion` from Ajv's `/cluster/kubernetesVersion`; `(top level)` for the root. */
function fieldPath(error: ErrorObject): string {
  let path = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join('')
    .replace(/^\./, '');
  if (error.keyword === 'additionalProperties') {
    const extra = (error.params as { additionalProperty: string }).additionalProperty;
    path = path ? `${path}.${extra}` : extra;
    return `${path}`;
  }
  return path || '(top level)';
}

function describeError(error: ErrorObject): string {
  if (error.keyword === 'additionalProperties') return `${fieldPath(error)} is not a known field`;
  return `${fieldPath(error)} ${error.message ?? 'is invalid'}`;
}

/**
 * Checks a parsed scenario against the schema and the version syntax; throws a UsageError naming `source`.
 * `schema: false` skips the schema, for the built-in scenarios (test/sandbox-scenarios.test.ts validates each).
 */
export function validateScenario(data: unknown, source: string, options: { schema?: boolean } = {}): Scenario {
  const validate = options.schema === false ? null : scenarioValidator();
  if (validate && !validate(data)) {
    const problems = (validate.errors ?? []).slice(0, 3).map(describeError).join('; ');
    throw new UsageError(`Scenario ${source} is invalid: ${problems}; see schemas/scenario.schema.json.`);
  }
  const scenario = data as Scenario;
  const versions: Array<[string, string | undefined]> = [
    ['addon.version', scenario.addon?.version],
    ['daemonSet.imageTag', scenario.daemonSet?.imageTag],
    ['daemonSet.manifest', scenario.daemonSet?.manifest],
    ['metricsHelper.imageTag', scenario.metricsHelper?.imageTag],
    ...(scenario.catalogue ?? []).map((entry, i): [string, string] => [`catalogue[${i}].version`, entry.version]),
  ];
  for (const [path, version] of versions) {
    if (version !== undefined && !tryParseAddonVersion(version)) {
      throw new UsageError(
        `Scenario ${source} is invalid: ${path} "${version}" is not an add-on version; use the form v1.14.0-eksbuild.3 or v1.14.0.`,
      );
    }
  }
  if (scenario.catalogueSnapshot !== undefined && !(scenario.catalogueSnapshot in CATALOGUES)) {
    throw new UsageError(
      `Scenario ${source} is invalid: catalogueSnapshot "${scenario.catalogueSnapshot}" is not one of ${Object.keys(CATALOGUES).join(', ')}.`,
    );
  }
  return scenario;
}

function parseFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read scenario file ${path}: ${(error as Error).message}.`, { cause: error });
  }
  if (text.length > 16 * 1024 * 1024) throw new UsageError(`Scenario ${path} is larger than 16 MiB; a scenario is a few KiB.`);
  assertNesting(text, `Scenario ${path}`, 'a scenario is a few levels deep, so check the file');
  try {
    return extname(path).toLowerCase() === '.json' ? JSON.parse(text) : yamlLib().parse(text);
  } catch (error) {
    const kind = extname(path).toLowerCase() === '.json' ? 'JSON' : 'YAML';
    throw new UsageError(`Scenario ${path} is not valid ${kind}: ${(error as Error).message.split('\n')[0]}.`, {
      cause: error,
    });
  }
}

/** Loads a built-in scenario by name, or a scenario file (.json, .yaml, .yml) by path, and validates it. */
export function loadScenario(nameOrPath: string): Scenario {
  const builtIn = builtInFiles().get(nameOrPath);
  // A built-in scenario (one YAML document) comes from its JSON copy when the build wrote one.
  if (builtIn) return validateScenario(readPackageYaml(builtIn)[0], `"${nameOrPath}" (${packageLocation(builtIn)})`, { schema: false });
  const looksLikePath = /\.(json|ya?ml)$/i.test(nameOrPath) || nameOrPath.includes('/');
  if (!looksLikePath || !existsSync(nameOrPath)) {
    if (looksLikePath) throw new UsageError(`Scenario file ${nameOrPath} does not exist; check the path.`);
    throw new UsageError(
      `Unknown scenario "${nameOrPath}"; run \`vpccni sandbox list\` to see the built-in ones, or pass a path to a scenario file.`,
    );
  }
  return validateScenario(parseFile(nameOrPath), nameOrPath);
}

/** The IAM OIDC provider ARN for an issuer URL (`https://oidc.eks.R.amazonaws.com/id/ID`). */
export function oidcProviderArn(accountId: string, issuer: string): string {
  return `arn:aws:iam::${accountId}:oidc-provider/${issuer.replace(/^https:\/\//, '')}`;
}

/** The trust policy EKS's docs give for the aws-node IRSA role. */
export function defaultTrustPolicy(accountId: string, issuer: string | null): unknown {
  // https://docs.aws.amazon.com/eks/latest/userguide/cni-iam-role.html
  if (!issuer) return { Version: '2012-10-17', Statement: [] };
  const host = issuer.replace(/^https:\/\//, '');
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: oidcProviderArn(accountId, issuer) },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            [`${host}:aud`]: 'sts.amazonaws.com',
            [`${host}:sub`]: 'system:serviceaccount:kube-system:aws-node',
          },
        },
      },
    ],
  };
}

/** The trust policy EKS's docs give for a Pod Identity role. */
export function podIdentityTrustPolicy(): unknown {
  // https://docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AllowEksAuthToAssumeRoleForPodIdentity',
        Effect: 'Allow',
        Principal: { Service: 'pods.eks.amazonaws.com' },
        Action: ['sts:AssumeRole', 'sts:TagSession'],
      },
    ],
  };
}

function defaultNodes(region: string): ScenarioNode[] {
  const ips = ['192-168-12-34', '192-168-45-67', '192-168-78-90'];
  return ['a', 'b', 'c'].map((suffix, i) => ({
    name: `ip-${ips[i]}.${region}.compute.internal`,
    labels: {
      'topology.kubernetes.io/zone': `${region}${suffix}`,
      'topology.kubernetes.io/region': region,
      'node.kubernetes.io/instance-type': 'm5.large',
      'eks.amazonaws.com/nodegroup': 'ng-default',
    },
  }));
}

/** The trust policy of the EKS node role (EKS user guide, create-node-role.html; the custom networking tutorial). */
export function nodeRoleTrustPolicy(): unknown {
  return {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
  };
}

const NODE_GROUP_LABEL = 'eks.amazonaws.com/nodegroup';

/** The managed node groups: the scenario's, or one per value of the nodes' node group label. */
function resolveNodeGroups(declared: ScenarioNodeGroup[] | undefined, nodes: ScenarioNode[], accountId: string, region: string): ResolvedNodeGroup[] {
  const groups: ScenarioNodeGroup[] = declared ?? [...new Set(nodes.map((n) => n.labels?.[NODE_GROUP_LABEL]).filter((g): g is string => Boolean(g)))].map((name) => ({ name }));
  return groups.map((g) => {
    const members = nodes.filter((n) => n.labels?.[NODE_GROUP_LABEL] === g.name);
    const types = [...new Set(members.map((n) => n.labels?.['node.kubernetes.io/instance-type']).filter((t): t is string => Boolean(t)))];
    const role = g.nodeRole ?? DEFAULTS.nodeRoleName;
    return {
      name: g.name,
      nodeRole: role.startsWith('arn:') ? role : `arn:${regionPartition(region)}:iam::${accountId}:role/${role}`,
      instanceTypes: g.instanceTypes ?? (types.length > 0 ? types : ['m5.large']),
      status: g.status ?? 'ACTIVE',
      nodeCount: members.length,
    };
  });
}

/** Fills in every default; the `default` scenario's values, adapted to the scenario's cluster. */
export function resolveScenario(s: Scenario): ResolvedScenario {
  const region = s.cluster?.region ?? DEFAULTS.region;
  const accountId = s.cluster?.accountId ?? DEFAULTS.accountId;
  const oidcIssuer =
    s.cluster?.oidcIssuer === undefined
      ? `https://oidc.eks.${region}.amazonaws.com/id/${DEFAULTS.oidcId}`
      : s.cluster.oidcIssuer;
  const ipFamily = s.cluster?.ipFamily ?? 'ipv4';
  const defaultRoleArn = `arn:aws:iam::${accountId}:role/${DEFAULTS.roleName}`;

  const addon: ResolvedScenario['addon'] =
    s.addon === null
      ? null
      : {
          version: s.addon?.version ?? DEFAULTS.addonVersion,
          status: s.addon?.status ?? 'ACTIVE',
          configurationValues: s.addon?.configurationValues ?? null,
          serviceAccountRoleArn:
            s.addon?.serviceAccountRoleArn === undefined ? defaultRoleArn : s.addon.serviceAccountRoleArn,
          health: s.addon?.health ?? [],
          tags: { ...(s.addon?.tags ?? {}) },
        };

  const registry = eksImageRegistry(region);
  const imageTag = s.daemonSet?.imageTag ?? addon?.version ?? DEFAULTS.addonVersion;
  const release = /^v?\d+\.\d+\.\d+/.exec(imageTag)?.[0] ?? imageTag;
  const daemonSet: ResolvedScenario['daemonSet'] =
    s.daemonSet === null
      ? null
      : {
          manifest: s.daemonSet?.manifest ?? release,
          imageTag,
          registry: s.daemonSet?.registry ?? registry,
          env: s.daemonSet?.env ?? {},
          removeContainers: s.daemonSet?.removeContainers ?? [],
          ...(s.daemonSet?.affinity !== undefined ? { affinity: s.daemonSet.affinity } : {}),
          ...(s.daemonSet?.desiredNumberScheduled !== undefined
            ? { desiredNumberScheduled: s.daemonSet.desiredNumberScheduled }
            : {}),
          rollingOut: s.daemonSet?.rollingOut ?? false,
          ...(s.daemonSet?.custom ? { custom: s.daemonSet.custom } : {}),
        };

  const cniPolicy =
    ipFamily === 'ipv6' ? `arn:aws:iam::${accountId}:${DEFAULTS.cniIpv6PolicyArnSuffix}` : DEFAULTS.cniPolicyArn;
  const nodes = s.nodes ?? defaultNodes(region);
  const nodeGroups = resolveNodeGroups(s.cluster?.nodeGroups, nodes, accountId, region);
  // The node roles of this account that the scenario names by role name or by an ARN of its account.
  const nodeRoleNames = new Set(
    nodeGroups.map((g) => /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(g.nodeRole)).filter((m) => m?.[1] === accountId).map((m) => m?.[2] ?? ''),
  );
  // The EKS user guide's node role: AmazonEKSWorkerNodePolicy and AmazonEC2ContainerRegistryReadOnly, and the CNI
  // policy too where aws-node has no role of its own (the setup before IRSA, in which aws-node uses the node role).
  const awsNodeHasRole =
    Boolean(addon?.serviceAccountRoleArn) ||
    (s.podIdentityAssociations ?? []).some((a) => a.namespace === 'kube-system' && a.serviceAccount === 'aws-node');
  const nodeRolePolicies = [
    'arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy',
    'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly',
    ...(awsNodeHasRole ? [] : [cniPolicy]),
  ];
  const declaredRoles: ScenarioRole[] =
    s.iam?.roles ??
    (addon?.serviceAccountRoleArn
      ? [{ name: addon.serviceAccountRoleArn.split('/').pop() ?? DEFAULTS.roleName }]
      : [{ name: DEFAULTS.roleName }]);
  const roles: ScenarioRole[] = [
    ...declaredRoles,
    ...[...nodeRoleNames].filter((name) => !declaredRoles.some((r) => r.name === name)).map((name): ScenarioRole => ({ name })),
  ].map((role) => {
    const nodeRole = nodeRoleNames.has(role.name) && role.trust === undefined;
    return {
      name: role.name,
      trustPolicy:
        role.trustPolicy ??
        (nodeRole ? nodeRoleTrustPolicy() : role.trust === 'pod-identity' ? podIdentityTrustPolicy() : defaultTrustPolicy(accountId, oidcIssuer)),
      attachedPolicyArns: role.attachedPolicyArns ?? (nodeRole ? nodeRolePolicies : [cniPolicy]),
      inlinePolicies: role.inlinePolicies ?? {},
    };
  });

  const catalogue = s.catalogue ?? [...(CATALOGUES[s.catalogueSnapshot ?? ''] ?? DEFAULT_CATALOGUE)];

  return {
    name: s.name,
    description: s.description ?? '',
    cluster: {
      name: s.cluster?.name ?? DEFAULTS.clusterName,
      region,
      accountId,
      kubernetesVersion: s.cluster?.kubernetesVersion ?? DEFAULTS.kubernetesVersion,
      ipFamily,
      oidcIssuer,
      autoMode: s.cluster?.autoMode ?? false,
      nodeGroups,
    },
    addon,
    daemonSet,
    catalogue: structuredClone(catalogue),
    nodes,
    eniConfigs: s.eniConfigs ?? [],
    configMapData: s.configMapData ?? {},
    metricsHelper: s.metricsHelper ?? null,
    iam: {
      roles,
      oidcProviders: s.iam?.oidcProviders ?? (oidcIssuer ? [oidcProviderArn(accountId, oidcIssuer)] : []),
    },
    podIdentityAssociations: s.podIdentityAssociations ?? [],
    podIdentityAgent: s.podIdentityAgent ?? null,
    insights: s.insights ?? null,
    sandbox: {
      updateDurationMs: s.sandbox?.updateDurationMs ?? DEFAULTS.updateDurationMs,
      rolloutDurationMs: s.sandbox?.rolloutDurationMs ?? DEFAULTS.rolloutDurationMs,
      faults: s.sandbox?.faults ?? {},
    },
  };
}

/** An account of a served sandbox: the access key that selects it. */
export interface ResolvedAccount {
  id: string;
  accessKeyId: string;
  secretAccessKey: string;
  denyAccess: boolean;
}

/** A scenario of one or several clusters, resolved: what the served sandbox runs. */
export interface ResolvedFleet {
  name: string;
  description: string;
  /** True when the scenario declares `clusters` (EKS then routes by region and access key). */
  multi: boolean;
  accounts: ResolvedAccount[];
  clusters: ResolvedScenario[];
}

/** The access key a sandbox gives an account that the scenario left without one. */
export function sandboxAccessKeyId(accountId: string): string {
  return `AKIASANDBOX${accountId}`;
}

/**
 * Resolves a scenario into its clusters: one for a single-cluster scenario (unchanged), several for one
 * with `clusters`, each taking the scenario's values for what it leaves out (a shallow merge by top-level
 * field) and validated as a scenario of its own.
 */
export function resolveFleet(s: Scenario): ResolvedFleet {
  const { clusters: items, accounts, ...base } = s;
  const clusters = items
    ? items.map((item, i) => {
        for (const key of ['name', 'description', 'accounts', 'clusters']) {
          if (key in (item as object)) {
            throw new UsageError(`Scenario ${s.name} is invalid: clusters[${i}].${key} is not allowed in a cluster; set it at the top level.`);
          }
        }
        return resolveScenario(validateScenario({ ...base, ...item }, `${s.name} clusters[${i}]`));
      })
    : [resolveScenario(s)];
  const seen = new Set<string>();
  for (const c of clusters) {
    const key = `${c.cluster.accountId}/${c.cluster.region}/${c.cluster.name}`;
    if (seen.has(key)) throw new UsageError(`Scenario ${s.name} is invalid: cluster ${key} is declared twice; give each cluster its own name.`);
    seen.add(key);
  }
  const ids = [...new Set([...(accounts ?? []).map((a) => a.id), ...clusters.map((c) => c.cluster.accountId)])];
  return {
    name: s.name,
    description: s.description ?? '',
    multi: items !== undefined,
    accounts: ids.map((id) => {
      const declared = accounts?.find((a) => a.id === id);
      return {
        id,
        accessKeyId: declared?.accessKeyId ?? sandboxAccessKeyId(id),
        secretAccessKey: declared?.secretAccessKey ?? 'sandbox',
        denyAccess: declared?.denyAccess ?? false,
      };
    }),
    clusters,
  };
}
