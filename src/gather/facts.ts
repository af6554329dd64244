/**
 * Gathering: every fact `status`, `plan`, `check` and `upgrade` decide on, read once, with independent
 * calls running concurrently. The only function here that does I/O is `gatherFacts`; the rest turn API
 * objects into domain types.
 */
import type {
  OwnerTagRule,
  AddonInfo,
  ClusterFacts,
  ClusterInfo,
  ContainerSpec,
  DaemonSetInfo,
  EniConfigInfo,
  EnvVar,
  NodeInfo,
  RoleInfo,
} from '../domain.js';
import type { EksGateway } from '../gateways/eks.js';
import type { IamGateway } from '../gateways/iam.js';
import type { ClusterObjects, KubeGateway } from '../gateways/kubectl.js';
import { assertContextMatches } from '../gateways/kubectl.js';
import { sameApiServer, type KubeContext } from '../gateways/kubeconfig.js';
import type { Advisory } from '../upgrade-planner/advisories.js';
import { gatherModern, startModernReads } from './modern.js';
import { podTemplateSpec, splitImage, type KubeObject } from '../decide/manifests.js';

/** The gateways of one run, and the kube context they were built for. */
export interface Gateways {
  eks: EksGateway;
  iam: IamGateway;
  kube: KubeGateway;
  kubeContext: KubeContext | null;
  /** The advisories in force (loaded from the shipped file or `--advisories`); the shipped ones when absent. */
  advisories?: readonly Advisory[];
  /** The team's owner tags (`--owner-tag`, `VPCCNI_OWNER_TAGS`). */
  ownerTags?: readonly OwnerTagRule[];
}

/** Facts plus the raw objects a backup or an upgrade needs. */
export interface GatheredFacts extends ClusterFacts {
  raw: { addon: Record<string, unknown> | null; objects: ClusterObjects };
}

/**
 * Reads the cluster: DescribeCluster, DescribeAddon, DescribeAddonVersions and the IAM OIDC providers at
 * once; then the add-on's role. The Kubernetes reads are asked for at once too, but the gateway (see
 * kube-guard.ts) sends nothing before the kube context has been checked against DescribeCluster.
 */
export async function gatherFacts(gateways: Gateways, options: { roleArn?: string } = {}): Promise<GatheredFacts> {
  const cluster = gateways.eks.describeCluster();
  const objects = gateways.kube.readClusterObjects();
  // Don't leave a rejection unobserved while we wait on the others.
  objects.catch(() => undefined);
  const addon = gateways.eks.describeAddon();
  const catalogue = gateways.eks.describeAddonVersions();
  const providers = gateways.iam.listOpenIdConnectProviders();
  const role = addon.then(async (a): Promise<RoleInfo | null> => {
    const arn = options.roleArn ?? a.serviceAccountRoleArn;
    return arn ? gateways.iam.getRole(arn) : null;
  });
  for (const p of [addon, catalogue, providers, role]) p.catch(() => undefined);
  const unread: string[] = [];
  const irsaRoleArn = addon.then((a) => options.roleArn ?? a.serviceAccountRoleArn ?? null, () => null);
  const modernReads = startModernReads(gateways, unread, irsaRoleArn, addon);

  const clusterInfo: ClusterInfo = await cluster;
  assertContextMatches(gateways.kubeContext, clusterInfo, sameApiServer);
  const [kubeObjects, addonInfo, catalogueEntries, providerArns, roleInfo] = await Promise.all([
    objects,
    addon,
    catalogue,
    providers,
    role,
  ]);
  const { raw: rawAddon, ...addonFacts } = addonInfo;
  const daemonSet = kubeObjects.daemonSet ? daemonSetInfo(kubeObjects.daemonSet) : null;
  const addonRecord = addonFacts as AddonInfo;
  const installed = addonRecord.managed ? (addonRecord.version ?? daemonSet?.version ?? null) : (daemonSet?.version ?? null);
  const modern = await gatherModern(gateways, clusterInfo, addonRecord, roleInfo, kubeObjects.configMap, daemonSet !== null, installed, gateways.kube, modernReads, unread);
  return {
    cluster: clusterInfo,
    addon: addonRecord,
    daemonSet,
    catalogue: catalogueEntries,
    nodes: kubeObjects.nodes.map(nodeInfo),
    eniConfigs: kubeObjects.eniConfigs.map(eniConfigInfo),
    metricsHelperVersion: kubeObjects.metricsHelper ? metricsHelperVersion(kubeObjects.metricsHelper) : null,
    role: roleInfo,
    oidcProviderArns: providerArns,
    modern,
    ...(gateways.advisories ? { advisories: gateways.advisories } : {}),
    ...(gateways.ownerTags ? { ownerTags: gateways.ownerTags } : {}),
    raw: { addon: rawAddon, objects: kubeObjects },
  };
}

type PodSpec = {
  containers?: Array<Record<string, unknown>>;
  initContainers?: Array<Record<string, unknown>>;
  affinity?: unknown;
  tolerations?: unknown;
};

/** The DaemonSet's pod spec, tolerating missing parts. */
function podSpecOf(daemonSet: KubeObject): PodSpec {
  return podTemplateSpec(daemonSet) as PodSpec;
}

function containerSpec(raw: Record<string, unknown>): ContainerSpec {
  return {
    name: String(raw.name ?? ''),
    image: String(raw.image ?? ''),
    env: ((raw.env as EnvVar[] | undefined) ?? []).map((e) => ({ ...e })),
    ...(raw.resources !== undefined ? { resources: raw.resources } : {}),
    ...(typeof raw.imagePullPolicy === 'string' ? { imagePullPolicy: raw.imagePullPolicy } : {}),
  };
}

/** The version a DaemonSet runs: the tag of its `amazon-k8s-cni` image (never its labels, see v1.19.4). */
export function cniVersionOf(containers: ContainerSpec[]): string | null {
  for (const container of containers) {
    const { repository, tag } = splitImage(container.image);
    if (/(^|\/)amazon-k8s-cni$/.test(repository)) return tag.startsWith('sha256:') ? null : tag;
  }
  return null;
}

/** Reads what we decide on from an aws-node DaemonSet object. */
export function daemonSetInfo(object: KubeObject): DaemonSetInfo {
  const spec = podSpecOf(object);
  const containers = (spec.containers ?? []).map(containerSpec);
  const initContainers = (spec.initContainers ?? []).map(containerSpec);
  const status = (object.status ?? {}) as Record<string, number | undefined>;
  const metadata = object.metadata as { generation?: number };
  const images: Record<string, string> = {};
  for (const c of [...initContainers, ...containers]) images[c.name] = c.image;
  return {
    version: cniVersionOf(containers) ?? cniVersionOf(initContainers.map((c) => ({ ...c, image: c.image.replace(/-init(?=[:@])/, '') }))),
    images,
    containers,
    initContainers,
    affinity: spec.affinity ?? null,
    tolerations: spec.tolerations ?? null,
    generation: metadata.generation ?? 0,
    observedGeneration: status.observedGeneration ?? 0,
    desired: status.desiredNumberScheduled ?? 0,
    updated: status.updatedNumberScheduled ?? 0,
    available: status.numberAvailable ?? 0,
    raw: object as unknown as Record<string, unknown>,
  };
}

function nodeInfo(object: KubeObject): NodeInfo {
  const metadata = object.metadata as { labels?: Record<string, string>; annotations?: Record<string, string> };
  return { name: object.metadata.name, labels: metadata.labels ?? {}, annotations: metadata.annotations ?? {} };
}

function eniConfigInfo(object: KubeObject): EniConfigInfo {
  const spec = (object.spec ?? {}) as { subnet?: string; securityGroups?: string[] };
  return { name: object.metadata.name, subnet: spec.subnet ?? null, securityGroups: spec.securityGroups ?? [] };
}

function metricsHelperVersion(object: KubeObject): string | null {
  const containers = podSpecOf(object).containers ?? [];
  const image = containers.map((c) => String(c.image ?? '')).find((i) => i.includes('cni-metrics-helper'));
  return image ? splitImage(image).tag : null;
}
