/**
 * Plain data shared by the gateways (which produce it), the pure deciders (planner, checks, config
 * migration) and the renderers. Nothing here does I/O.
 */

/** One `AddonVersionInfo` of DescribeAddonVersions, reduced to what we decide on. */
export interface CatalogueEntry {
  /** As EKS spells it, e.g. `v1.14.0-eksbuild.3`. */
  version: string;
  compatibilities: Array<{ clusterVersion: string; defaultVersion: boolean }>;
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

/** One step of an upgrade plan. */
export interface PlanStep {
  from: string;
  to: string;
  action: 'create' | 'update';
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
}
