/**
 * Plain data shared by the gateways (which produce it), the pure deciders (planner, checks, config
 * migration) and the renderers. Nothing here does I/O.
 */

/** One `AddonVersionInfo` of DescribeAddonVersions, reduced to what we decide on. */
export interface CatalogueEntry {
  /** As EKS spells it, e.g. `v1.14.0-eksbuild.3`. */
  version: string;
  compatibilities: Array<{ clusterVersion: string; defaultVersion: boolean }>;
  /** DescribeAddonVersions' `requiresIamPermissions` (absent from older EKS answers): whether the version needs an IAM role's permissions. */
  requiresIamPermissions?: boolean;
  /** DescribeAddonVersions' `computeTypes` (absent from older EKS answers): `ec2`, `auto`, `hybrid`, `fargate`. */
  computeTypes?: string[];
}

/** The severity of a finding; `error` fails `check` and makes `status`/`plan` exit 1. */
export type Severity = 'error' | 'warning' | 'info';

/** One thing worth telling the user, with a stable id (documented in the README) and what to do. */
export interface Finding {
  id: string;
  severity: Severity;
  message: string;
  remediation?: string;
}

/**
 * One step of an upgrade plan: `create` (CreateAddon, adopting the self-managed install), `update`
 * (UpdateAddon), or `apply` (server-side apply of the upstream manifest of `to`, the install stays self-managed).
 */
export interface PlanStep {
  from: string;
  to: string;
  action: 'create' | 'update' | 'apply';
}

export type ResolveConflicts = 'PRESERVE' | 'OVERWRITE' | 'NONE';

/** The cluster as DescribeCluster tells it. */
export interface ClusterInfo {
  name: string;
  region: string;
  arn: string | null;
  kubernetesVersion: string;
  /** The API server URL, compared with the kube context's server before kubectl is trusted. */
  endpoint: string | null;
  /** `certificateAuthority.data` (base64 of the PEM), compared with the kube context's CA; null when unknown. */
  certificateAuthority?: string | null;
  ipFamily: 'ipv4' | 'ipv6';
  /** `identity.oidc.issuer`, e.g. https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE */
  oidcIssuer: string | null;
  /** EKS Auto Mode (`computeConfig.enabled`): EKS runs the networking itself, no aws-node is needed. */
  autoMode?: boolean;
}

export interface HealthIssue {
  code: string;
  message: string;
  resourceIds: string[];
}

/** The EKS add-on record, or `managed: false` when DescribeAddon says ResourceNotFoundException. */
export interface AddonInfo {
  managed: boolean;
  version: string | null;
  status: string | null;
  health: HealthIssue[];
  serviceAccountRoleArn: string | null;
  /** The raw string EKS stores (JSON or YAML text), or null. */
  configurationValues: string | null;
  /** The add-on's tags (DescribeAddon `tags`); absent in facts built by hand. */
  tags?: Record<string, string>;
}

/** A team's own tag that marks the add-on as owned (`--owner-tag KEY[=VALUE]`, `VPCCNI_OWNER_TAGS`). */
export interface OwnerTagRule {
  key: string;
  /** Absent: any value of the key matches. */
  value?: string;
}

/** Who owns the add-on (infrastructure code): the JSON `owner` of status, check and fleet rows. */
export interface AddonOwner {
  kind: 'cloudformation' | 'terraform' | 'eksctl' | 'tag';
  /** For people: `stack demo-addons, logical id VpcCniAddon`, `eksctl cluster demo`, `tag ManagedBy=Terraform`. */
  detail: string;
}

/** An env var of a container; `valueFrom` is kept as-is so that nothing is lost. */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

export interface ContainerSpec {
  name: string;
  image: string;
  env: EnvVar[];
  resources?: unknown;
  imagePullPolicy?: string;
}

/** What we read of the `aws-node` DaemonSet. */
export interface DaemonSetInfo {
  /** The tag of the `amazon-k8s-cni` image, e.g. `v1.12.6-eksbuild.2` or `v1.12.6`; null if unreadable. */
  version: string | null;
  /** Container name → image reference, init containers included. */
  images: Record<string, string>;
  containers: ContainerSpec[];
  initContainers: ContainerSpec[];
  affinity: unknown;
  tolerations: unknown;
  generation: number;
  observedGeneration: number;
  desired: number;
  updated: number;
  available: number;
  /** The object as the API server returned it. */
  raw: Record<string, unknown>;
}

export interface NodeInfo {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface EniConfigInfo {
  name: string;
  subnet: string | null;
  securityGroups: string[];
}

/** The IAM role named by the add-on (or by `--service-account-role-arn`). */
export interface RoleInfo {
  arn: string;
  exists: boolean;
  /** The parsed trust policy document, or null when the role does not exist. */
  trustPolicy: unknown;
  attachedPolicyArns: string[];
}

/** Everything `status`, `plan`, `check` and `upgrade` decide on, gathered once. */
export interface ClusterFacts {
  cluster: ClusterInfo;
  addon: AddonInfo;
  daemonSet: DaemonSetInfo | null;
  /** Every vpc-cni version EKS offers, with all its compatibilities (DescribeAddonVersions, no filter). */
  catalogue: CatalogueEntry[];
  nodes: NodeInfo[];
  eniConfigs: EniConfigInfo[];
  /** The `cni-metrics-helper` Deployment's image tag when it exists. */
  metricsHelperVersion: string | null;
  role: RoleInfo | null;
  /** ARNs of the account's IAM OIDC providers. */
  oidcProviderArns: string[];
  /** Pod Identity, insights, other CNIs, the role's permissions (absent in facts built by hand: treated as unknown). */
  modern?: ModernFacts;
  /** The advisories in force (the shipped file, or `--advisories`); the shipped ones when absent. */
  advisories?: readonly import('./upgrade-planner/advisories.js').Advisory[];
  /** The team's owner tags (`--owner-tag`, `VPCCNI_OWNER_TAGS`); none when absent. */
  ownerTags?: readonly OwnerTagRule[];
}

/** One EKS Pod Identity association (DescribePodIdentityAssociation). */
export interface PodIdentityAssociationInfo {
  associationId: string;
  associationArn: string | null;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  /** Set when an add-on owns the association (created through CreateAddon/UpdateAddon). */
  ownerArn: string | null;
}

/** One UPGRADE_READINESS insight (ListInsights, with DescribeInsight's details for those about add-ons). */
export interface UpgradeInsightInfo {
  id: string;
  name: string;
  category: string;
  /** The Kubernetes version the insight checks readiness for. */
  kubernetesVersion: string | null;
  /** PASSING, WARNING, ERROR or UNKNOWN. */
  status: string;
  reason: string | null;
  description: string | null;
  /** ISO time of the insight's last refresh (EKS refreshes them about daily). */
  lastRefreshTime: string | null;
  lastTransitionTime: string | null;
  recommendation: string | null;
  /** addonCompatibilityDetails: the add-ons it names and the versions compatible with its Kubernetes version. */
  addons: Array<{ name: string; compatibleVersions: string[] }>;
}

/** What the role aws-node uses is allowed, read from its attached and inline policies. */
export interface RolePermissions {
  roleArn: string;
  /** Where aws-node gets the role from. */
  via: 'irsa' | 'pod-identity' | 'node';
  /** Required action → allowed; null when a policy could not be read (so the answer is not known). */
  allows: Record<string, boolean | null>;
  /** The policies read (ARNs of attached ones, `inline:<name>` for inline ones). */
  policies: string[];
  /** Policies that could not be read (their documents unknown). */
  unreadable: string[];
}

/** The DaemonSet of another component, as far as the checks need it. */
export interface DaemonSetSummary {
  name: string;
  desired: number;
  ready: number;
}

/**
 * The EKS of 2025–2026, gathered next to the classic facts (each null when it could not be read): Pod Identity,
 * upgrade insights, other CNIs, the role's permissions, and the cluster objects some advisories decide on.
 */
export interface ModernFacts {
  podIdentityAssociations: PodIdentityAssociationInfo[] | null;
  /** The eks-pod-identity-agent DaemonSet in kube-system, null when absent. */
  podIdentityAgent: DaemonSetSummary | null;
  /** The Pod Identity association's role, read from IAM (null without an association). */
  podIdentityRole: RoleInfo | null;
  /** DaemonSets of other CNIs in kube-system (cilium, calico-node, …). */
  otherCnis: string[];
  /** The UPGRADE_READINESS insights and when they were read; null when they could not be read. */
  insights: { readAt: string; items: UpgradeInsightInfo[] } | null;
  rolePermissions: RolePermissions | null;
  /** A prometheus-adapter Deployment in any namespace; null when not read. */
  prometheusAdapterPresent: boolean | null;
  /** CRD name → present. */
  crds: Record<string, boolean>;
  /** The amazon-vpc-cni ConfigMap's data. */
  configMapData: Record<string, string>;
  /** What could not be read, one sentence each (shown as info findings). */
  unread: string[];
}
