/**
 * The shape of a sandbox scenario (a JSON or YAML file, described by schemas/scenario.schema.json).
 * Everything is optional except `name`; what is left out comes from the `default` scenario's values.
 */

export interface ScenarioEnvOverrides {
  /** Container name (`aws-node`, `aws-vpc-cni-init`, `aws-eks-nodeagent`) → env name → value; null removes it. */
  [container: string]: Record<string, string | null>;
}

export interface ScenarioFaults {
  /** Added latency for every EKS, IAM and Kubernetes API call, in milliseconds. */
  latencyMs?: number;
  /** Share (0..1) of EKS/IAM calls answered with ThrottlingException / HTTP 429 (or 400 Throttling for IAM). */
  throttleRate?: number;
  /** Share (0..1) of EKS/IAM calls answered with HTTP 500/503. */
  serverErrorRate?: number;
  /** The nth UpdateAddon/CreateAddon (1-based) ends `Failed` with an EKS-style error. */
  failUpdateNumber?: number;
  /** Updates never leave InProgress (and CreateAddon never leaves CREATING). */
  updateNeverFinishes?: boolean;
  /** The DaemonSet rollout never completes after a change. */
  rolloutNeverFinishes?: boolean;
  /**
   * Image references the kubelets cannot pull: a DaemonSet rollout whose template has a container or init
   * container image containing one of these strings never completes; its new pods wait in ErrImagePull, then
   * ImagePullBackOff (one rollout-gate passage later), counted in updatedNumberScheduled but never available.
   */
  imagePullFails?: string[];
  /** The Kubernetes API refuses connections for this many milliseconds after the nth mutating EKS call (1-based). */
  kubeOutage?: { afterMutatingCall: number; durationMs: number };
  /**
   * The nth add-on change (1-based) ends with the update `Failed` although EKS applied it: the add-on is at
   * the new version, in `addonStatus` (default DEGRADED), the DaemonSet rolled. Seen on real clusters when
   * the health check times out after the apply.
   */
  failedButApplied?: { changeNumber: number; addonStatus?: 'DEGRADED' | 'ACTIVE' };
  /** A DEGRADED add-on (from the start or after a change) recovers to ACTIVE on its own, through the eks-change gate. */
  degradedRecovers?: boolean;
  /** Multi-cluster: every EKS call naming this cluster hangs (never answered), and its Kubernetes API too. */
  timeout?: boolean;
  /**
   * IAM list calls return at most this many items a page whatever `MaxItems` asks (IAM "might return fewer
   * results, even when there are more results available": iam-service-2.json, `MaxItems`), so a client that
   * does not follow `Marker` misses the rest.
   */
  iamPageSize?: number;
}

/** An UPGRADE_READINESS (or MISCONFIGURATION) insight as the scenario fixes it (see ListInsights). */
export interface ScenarioInsight {
  id?: string;
  name: string;
  category?: 'UPGRADE_READINESS' | 'MISCONFIGURATION';
  kubernetesVersion?: string;
  status: 'PASSING' | 'WARNING' | 'ERROR' | 'UNKNOWN';
  reason?: string;
  description?: string;
  recommendation?: string;
  addonCompatibilityDetails?: Array<{ name: string; compatibleVersions: string[] }>;
}

/** A Pod Identity association present from the start. */
export interface ScenarioPodIdentityAssociation {
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  /** True: owned by the vpc-cni add-on (created through its `podIdentityAssociations`). */
  ownedByAddon?: boolean;
}

/** An AWS account of a multi-cluster sandbox: the access key that selects it, and its faults. */
export interface ScenarioAccount {
  id: string;
  accessKeyId: string;
  secretAccessKey?: string;
  /** Every EKS, IAM and STS call with this account's credentials is refused (AccessDeniedException). */
  denyAccess?: boolean;
}

/** One cluster of a multi-cluster scenario: a scenario without name, accounts or clusters. */
export type ScenarioCluster = Omit<Scenario, 'name' | 'description' | 'accounts' | 'clusters'>;


/** Hand-made settings of a DaemonSet beyond env: what platform teams change on aws-node. */
export interface ScenarioDaemonSetCustom {
  /** Container name → its whole `args` list. */
  args?: Record<string, string[]>;
  /** Container name → its whole image reference (e.g. a digest-pinned one, `…:v1.13.4@sha256:…`). */
  images?: Record<string, string>;
  nodeSelector?: Record<string, string>;
  /** The DaemonSet's `spec.updateStrategy`. */
  updateStrategy?: unknown;
  /** Annotations of the pod template. */
  podAnnotations?: Record<string, string>;
  /** Extra containers (sidecars) appended to the pod. */
  sidecars?: Array<Record<string, unknown> & { name: string; image: string }>;
}

export interface ScenarioCatalogueEntry {
  version: string;
  compatibilities: Array<{ clusterVersion: string; defaultVersion?: boolean }>;
  /** Where the version runs (`ec2`, `auto`, `hybrid`, `fargate`); absent in catalogues older than the field (before December 2024). */
  computeTypes?: string[];
  /** Absent in catalogues older than the field; EKS answers false for vpc-cni. */
  requiresConfiguration?: boolean;
  /** Absent in catalogues older than the field (before November 2023); true for vpc-cni, which needs the CNI policy. */
  requiresIamPermissions?: boolean;
}

export interface ScenarioNode {
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A managed node group of the cluster. */
export interface ScenarioNodeGroup {
  name: string;
  /**
   * The node IAM role: a role name in the cluster's account, or a role ARN; default `AmazonEKSNodeRole`. A role
   * name that `iam.roles` does not declare is added to IAM with the EKS user guide's node role policies
   * (AmazonEKSWorkerNodePolicy, AmazonEC2ContainerRegistryReadOnly, and AmazonEKS_CNI_Policy when aws-node has
   * neither an IRSA role nor a Pod Identity association).
   */
  nodeRole?: string;
  /** Default: the `node.kubernetes.io/instance-type` labels of its nodes. */
  instanceTypes?: string[];
  status?: 'CREATING' | 'ACTIVE' | 'UPDATING' | 'DELETING' | 'CREATE_FAILED' | 'DELETE_FAILED' | 'DEGRADED';
}

export interface ScenarioEniConfig {
  name: string;
  subnet: string;
  securityGroups?: string[];
}

export interface ScenarioRole {
  name: string;
  /** IAM trust policy document (object); default: trusts this cluster's OIDC provider for aws-node. */
  trustPolicy?: unknown;
  attachedPolicyArns?: string[];
  /** `pod-identity`: trusts pods.eks.amazonaws.com (sts:AssumeRole, sts:TagSession) instead of the OIDC provider. */
  trust?: 'irsa' | 'pod-identity';
  /** Inline policies: name → policy document. */
  inlinePolicies?: Record<string, unknown>;
}

export interface Scenario {
  name: string;
  description?: string;
  cluster?: {
    name?: string;
    region?: string;
    accountId?: string;
    kubernetesVersion?: string;
    ipFamily?: 'ipv4' | 'ipv6';
    /** null: the cluster has no OIDC issuer. */
    oidcIssuer?: string | null;
    /** EKS Auto Mode: computeConfig, storageConfig.blockStorage and elasticLoadBalancing enabled. */
    autoMode?: boolean;
    /**
     * The managed node groups (ListNodegroups, DescribeNodegroup); default: one per value of the nodes'
     * `eks.amazonaws.com/nodegroup` label, with the node role `AmazonEKSNodeRole`. `[]`: none.
     */
    nodeGroups?: ScenarioNodeGroup[];
  };
  /** null: no EKS add-on (self-managed install). */
  addon?: {
    version: string;
    status?: string;
    configurationValues?: string | null;
    serviceAccountRoleArn?: string | null;
    health?: Array<{ code: string; message: string; resourceIds?: string[] }>;
    /** The add-on's tags (DescribeAddon `tags`), e.g. the `aws:cloudformation:*` tags of a stack that owns it. */
    tags?: Record<string, string>;
  } | null;
  /** null: no aws-node DaemonSet at all. */
  daemonSet?: {
    /** Which upstream manifest to build it from (`v1.12.6`), default: the release of `imageTag`. */
    manifest?: string;
    /** The tag put on the CNI images, e.g. `v1.12.6-eksbuild.2` or `v1.12.6`. */
    imageTag: string;
    /** Image registry, default `602401143452.dkr.ecr.<region>.amazonaws.com`. */
    registry?: string;
    env?: ScenarioEnvOverrides;
    /** Containers to remove (e.g. `aws-eks-nodeagent`). */
    removeContainers?: string[];
    /** Values of `affinity` to use instead of the manifest's. */
    affinity?: unknown;
    /** Number of nodes the DaemonSet is scheduled on; default: the number of non-hybrid nodes. */
    desiredNumberScheduled?: number;
    /** True when the DaemonSet is mid-rollout (updated < desired). */
    rollingOut?: boolean;
    /** More custom settings made by hand on the DaemonSet (applied after everything above). */
    custom?: ScenarioDaemonSetCustom;
  } | null;
  /** Keys of the `amazon-vpc-cni` ConfigMap to set (created when the release manifest has none); null removes a key. */
  configMapData?: Record<string, string | null>;
  /** Version catalogue; default: a realistic catalogue built from real version names. */
  catalogue?: ScenarioCatalogueEntry[];
  /** Added: a built-in catalogue by name (`eks-1.28-launch`, the default; `eks-2024-04`, `eks-2024-12`, `mid-2025`, `eks-2026-07`; fixtures/catalogues/), when `catalogue` is absent. */
  catalogueSnapshot?: string;
  nodes?: ScenarioNode[];
  eniConfigs?: ScenarioEniConfig[];
  /** The `cni-metrics-helper` Deployment's image tag; absent when null. */
  metricsHelper?: { imageTag: string; serviceAccountRoleArn?: string } | null;
  iam?: {
    roles?: ScenarioRole[];
    /** Provider ARNs; default: the provider of the cluster's OIDC issuer. */
    oidcProviders?: string[];
  };
  podIdentityAssociations?: ScenarioPodIdentityAssociation[];
  /** The `eks-pod-identity-agent` DaemonSet in kube-system, at this image tag; absent when null. */
  podIdentityAgent?: { imageTag: string } | null;
  /** Insights; default: the add-on compatibility insight for the next Kubernetes version, from the catalogue. */
  insights?: ScenarioInsight[];
  /** Multi-cluster: the accounts (access key → account); default: one account, any access key. */
  accounts?: ScenarioAccount[];
  /** Multi-cluster: several clusters; each takes this scenario's values for what it leaves out. */
  clusters?: ScenarioCluster[];
  sandbox?: {
    /** How long an UpdateAddon/CreateAddon stays InProgress/CREATING, in ms (default 300). */
    updateDurationMs?: number;
    /** How long the DaemonSet rollout takes after a change, in ms (default 200). */
    rolloutDurationMs?: number;
    faults?: ScenarioFaults;
  };
}
