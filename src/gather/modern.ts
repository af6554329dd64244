/**
 * Gathering the EKS of 2025–2026 beside the classic facts: the Pod Identity associations of kube-system/aws-node
 * and their role, the eks-pod-identity-agent and other CNIs' DaemonSets, the UPGRADE_READINESS insights, the
 * permissions of the role aws-node uses, a prometheus-adapter, the policyendpoints CRD. Each read that fails is
 * left unknown (null) and named in `unread`, so that a missing IAM or EKS permission never stops `status`.
 */
import semver from 'semver';
import type { AddonInfo, ClusterInfo, DaemonSetSummary, ModernFacts, RoleInfo } from '../domain.js';
import { concernsAddons } from '../decide/checks/insights.js';
import { OTHER_CNI_DAEMONSETS } from '../decide/checks/networking-mode.js';
import { rolePermissionsFrom } from '../decide/checks/permissions.js';
import { POD_IDENTITY_AGENT } from '../decide/checks/pod-identity.js';
import type { KubeObject } from '../decide/manifests.js';
import type { EksGateway } from '../gateways/eks.js';
import type { IamGateway, RolePolicies } from '../gateways/iam.js';
import type { KubeGateway } from '../gateways/kubectl.js';

/** The releases the prometheus-adapter advisory concerns (a wider range than it, to be safe). */
const PROMETHEUS_ADAPTER_RELEASES = '>=1.12.0 <1.14.0';

/** CRDs some advisories decide on. */
const CRDS = ['policyendpoints.networking.k8s.aws'];

function why(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.replace(/\.$/, '');
}

async function settle<T>(what: string, unread: string[], read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (error) {
    unread.push(`${what}: ${why(error)}`);
    return null;
  }
}

function summary(object: KubeObject): DaemonSetSummary {
  const status = (object.status ?? {}) as Record<string, number | undefined>;
  return { name: object.metadata.name, desired: status.desiredNumberScheduled ?? 0, ready: status.numberReady ?? status.numberAvailable ?? 0 };
}

/**
 * The reads that depend on nothing, started at once beside the classic ones; the kube results are used only
 * after the kube context was checked. The policies of each role aws-node may use are asked for as soon as
 * that role's ARN is known (`irsaRoleArn` when DescribeAddon answers, the Pod Identity role when its
 * association is read), beside its GetRole rather than after it: which one applies is decided later, and a
 * read that is not used is dropped without a word (its failure is not reported either).
 */
export function startModernReads(
  gateways: { eks: EksGateway; iam: IamGateway; kube: KubeGateway },
  unread: string[],
  irsaRoleArn: Promise<string | null> = Promise.resolve(null),
  addon: Promise<Pick<AddonInfo, 'managed' | 'version'>> = Promise.reject(new Error('not asked')),
) {
  const kube = gateways.kube;
  const early = advisoryReads(kube, addon);
  const policyReads = new Map<string, Promise<RolePolicies>>();
  const policiesOf = (arn: string): Promise<RolePolicies> => {
    let read = policyReads.get(arn);
    if (!read) {
      read = quiet(gateways.iam.readRolePolicies(arn));
      policyReads.set(arn, read);
    }
    return read;
  };
  irsaRoleArn.then(
    (arn) => {
      if (arn) policiesOf(arn);
    },
    () => undefined,
  );
  const associations = settle('the Pod Identity associations of kube-system/aws-node', unread, () =>
    gateways.eks.listPodIdentityAssociations('kube-system', 'aws-node'),
  );
  const podIdentityRole = associations.then((list) => {
    const roleArn = list?.[0]?.roleArn;
    if (!roleArn) return null;
    policiesOf(roleArn);
    return settle(`the Pod Identity role ${roleArn}`, unread, () => gateways.iam.getRole(roleArn));
  });
  const insights = settle('the upgrade insights', unread, async () => {
    const items = await gateways.eks.listUpgradeInsights(concernsAddons);
    return { readAt: new Date().toISOString(), items };
  });
  const daemonSets = settle('the DaemonSets of kube-system', unread, async () => {
    const list = await kube.getJson(['daemonsets.v1.apps', '-n', 'kube-system']);
    return ((list as unknown as { items?: KubeObject[] } | null)?.items ?? []).map(summary);
  });
  return { daemonSets, associations, podIdentityRole, insights, policiesOf, early };
}

/** A read started before it is known to be needed: its failure is reported only if it is used. */
function quiet<T>(read: Promise<T>): Promise<T> {
  read.catch(() => undefined);
  return read;
}

const prometheusAdapterRead = (kube: KubeGateway) =>
  kube.getJson(['deployments.v1.apps', '--all-namespaces', '-l', 'app.kubernetes.io/name=prometheus-adapter']);
const crdRead = (kube: KubeGateway, name: string) => kube.getJson(['customresourcedefinitions.v1.apiextensions.k8s.io', name]);

/**
 * The reads only some advisories need, started as soon as DescribeAddon answers instead of after the
 * DaemonSet is read (one round trip less): the CRDs when the add-on is not managed, a prometheus-adapter when
 * the add-on's version is in the releases it breaks, or when only the DaemonSet will tell (not managed).
 * gatherModern uses them only where they matter; null when DescribeAddon failed (it reads them itself then).
 */
function advisoryReads(kube: KubeGateway, addon: Promise<Pick<AddonInfo, 'managed' | 'version'>>) {
  const started = addon.then(
    (a) => {
      const release = a.managed ? (semver.coerce(a.version ?? '')?.version ?? null) : null;
      const adapterMayMatter = release === null || semver.satisfies(release, PROMETHEUS_ADAPTER_RELEASES);
      return {
        prometheusAdapter: adapterMayMatter ? quiet(prometheusAdapterRead(kube)) : null,
        crds: a.managed ? null : new Map(CRDS.map((name) => [name, quiet(crdRead(kube, name))])),
      };
    },
    () => null,
  );
  return started;
}

/** Reads the modern facts; `reads` come from `startModernReads` (awaited here, after the context check). */
export async function gatherModern(
  gateways: { eks: EksGateway; iam: IamGateway },
  cluster: ClusterInfo,
  addon: AddonInfo,
  irsaRole: RoleInfo | null,
  configMap: KubeObject | null,
  awsNodePresent: boolean,
  installedVersion: string | null,
  kube: KubeGateway,
  reads: ReturnType<typeof startModernReads>,
  unread: string[],
): Promise<ModernFacts> {
  const associations = await reads.associations;
  const association = associations?.[0] ?? null;
  const podIdentityRole = await reads.podIdentityRole;

  // The role aws-node uses: Pod Identity's when the IRSA role is absent, else IRSA's, else the node role.
  let via: 'irsa' | 'pod-identity' | 'node' | null = null;
  let roleArn: string | null = null;
  if (irsaRole?.exists) [via, roleArn] = ['irsa', irsaRole.arn];
  else if (podIdentityRole?.exists) [via, roleArn] = ['pod-identity', podIdentityRole.arn];
  else if (!irsaRole && !association && (awsNodePresent || addon.managed)) {
    const nodeRoles = await settle('the node groups\' node role', unread, () => gateways.eks.listNodeRoleArns());
    if (nodeRoles && nodeRoles.length > 0) [via, roleArn] = ['node', nodeRoles[0]!];
  }
  const policies = roleArn ? await settle(`the policies of ${roleArn}`, unread, () => reads.policiesOf(roleArn)) : null;

  // Reads only some advisories need, made only where they can matter (each is one more kubectl): the
  // policyendpoints CRD when the next step creates the add-on, a prometheus-adapter on the releases it breaks.
  const release = semver.coerce(installedVersion ?? '')?.version ?? null;
  const early = await reads.early;
  const [daemonSets, prometheusAdapterPresent, crdEntries, insights] = await Promise.all([
    reads.daemonSets,
    release !== null && semver.satisfies(release, PROMETHEUS_ADAPTER_RELEASES)
      ? settle('prometheus-adapter Deployments', unread, async () => {
          const list = await (early?.prometheusAdapter ?? prometheusAdapterRead(kube));
          return ((list as unknown as { items?: unknown[] } | null)?.items ?? []).length > 0;
        })
      : Promise.resolve(null),
    addon.managed
      ? Promise.resolve([] as Array<readonly [string, boolean | null]>)
      : Promise.all(
          CRDS.map(async (name) => [name, await settle(`the CRD ${name}`, unread, async () => (await (early?.crds?.get(name) ?? crdRead(kube, name))) !== null)] as const),
        ),
    reads.insights,
  ]);
  const crds: Record<string, boolean> = {};
  for (const [name, present] of crdEntries) if (present !== null) crds[name] = present;
  const data = (configMap?.data ?? {}) as Record<string, unknown>;
  return {
    podIdentityAssociations: associations,
    podIdentityAgent: daemonSets?.find((d) => d.name === POD_IDENTITY_AGENT) ?? null,
    podIdentityRole,
    otherCnis: (daemonSets ?? []).map((d) => d.name).filter((n) => OTHER_CNI_DAEMONSETS.includes(n)),
    insights,
    rolePermissions: via && roleArn && policies ? rolePermissionsFrom(roleArn, via, policies, cluster.ipFamily) : null,
    prometheusAdapterPresent,
    crds,
    configMapData: Object.fromEntries(Object.entries(data).filter((e): e is [string, string] => typeof e[1] === 'string')),
    unread,
  };
}
