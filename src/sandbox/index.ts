/**
 * The sandbox: EKS, IAM and Kubernetes API emulators on 127.0.0.1 for one scenario, with a kubeconfig that
 * points kubectl at the Kubernetes emulator. State lives as long as the returned object.
 */
import { createServer } from 'node:http';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from './temp-dirs.js';
import { readPackageYaml } from '../formats/yaml-files.js';
import { listPackageFolder } from '../package-files.js';
import { eksRegistryFor as eksImageRegistry, regionPartition as partitionOf } from './registries.js';
import type { KubeObject } from '../formats/kube-object.js';
import { imageParts as splitImage, releaseObjects as loadUpstreamManifest, retagImages as retagCniImages } from './upstream-manifests.js';
import { compareVersions as compareAddonVersions, parseVersion as tryParseAddonVersion } from './versions.js';
import { AddonController, EKS_FIELD_MANAGER, podSpecOf, setEnv, type AddonRecord } from './addon-controller.js';
import { AccountDirectory } from './aws-auth.js';
import { FaultInjector, listen, startEksApi, type RunningServer, type SandboxCluster } from './eks-api.js';
import { iamAccountsOf, startIamApi } from './iam-api.js';
import { strategicMerge } from './kube-api.js';
import { recordUpdate, serverSideApply } from './kube-ssa.js';
import { Gates, type GateName } from './gates.js';
import { ClusterInsights } from './insights.js';
import { startKubeApi } from './kube-api.js';
import { clusterTls, eksTokenProblem, mintStaticToken, SANDBOX_ACCESS_KEY_ID, SANDBOX_SECRET_ACCESS_KEY } from './kube-auth.js';
import { writeKubeconfig, writeMultiKubeconfig } from './kubeconfig.js';
import { KubeStore } from './kube-store.js';
import { PodIdentityStore } from './pod-identity.js';
import { RequestLog } from './request-log.js';
import { loadScenario, resolveFleet, type ResolvedAccount, type ResolvedFleet, type ResolvedScenario } from './scenario.js';
import type { Scenario, ScenarioDaemonSetCustom, ScenarioFaults } from './scenario-types.js';

export { serveHint, serveLine } from './serve-info.js';
export { Gate, Gates, GATE_NAMES, type GateName, type GateState } from './gates.js';
export { listScenarios, loadScenario, resolveFleet, resolveScenario, type ResolvedFleet, type ResolvedScenario } from './scenario.js';

/** One cluster of a running sandbox. */
export interface RunningCluster {
  cluster: string;
  region: string;
  account: string;
  kubernetesVersion: string;
  /** The cluster's own Kubernetes API (a port of its own). */
  kubeEndpoint: string;
  /** Its context in the sandbox kubeconfig (the cluster ARN, as `aws eks update-kubeconfig` names it). */
  contextName: string;
  scenario: ResolvedScenario;
  store: KubeStore;
  controller: AddonController;
  podIdentity: PodIdentityStore;
}

/** A started sandbox. */
export interface RunningSandbox {
  scenario: ResolvedScenario;
  cluster: string;
  region: string;
  accountId: string;
  eksEndpoint: string;
  iamEndpoint: string;
  kubeEndpoint: string;
  /** Path of the kubeconfig written for the Kubernetes emulator: the cluster CA and a long-lived bearer token. */
  kubeconfig: string;
  /** Path of the kubeconfig as `aws eks update-kubeconfig` writes it: the exec plugin `aws eks get-token`. */
  kubeconfigExec: string;
  /** The long-lived bearer token of `kubeconfig`. */
  kubeToken: string;
  /** The cluster CA, base64 PEM (DescribeCluster's certificateAuthority.data). */
  caData: string;
  /** `arn:aws:eks:<region>:<account>:cluster/<name>`, the context name EKS's `update-kubeconfig` uses. */
  contextName: string;
  log: RequestLog;
  store: KubeStore;
  /** The current EKS add-on record (null when there is none), for tests. */
  addon(): AddonRecord | null;
  /** The add-on controller (update records, last applied object), for tests. */
  controller: AddonController;
  /** Where the kubeconfig is (a temp dir removed by close() unless `dir` was given). */
  dir: string;
  /** The gates tests drive instead of timers (eks-change, rollout, kube-outage); see gates.ts. Shared by all clusters. */
  gates: Gates;
  /** Begins a Kubernetes API outage now (first cluster); it lasts kubeOutage.durationMs (1 s without one) or, while the kube-outage gate is held, until released. */
  startKubeOutage(): void;
  /** STS (AssumeRole, GetCallerIdentity) is served on the IAM endpoint; this is the same URL. */
  stsEndpoint: string;
  /** Every cluster (one for a single-cluster scenario); the fields above are the first one's. */
  clusters: RunningCluster[];
  /** The regions of the clusters, sorted. */
  regions: string[];
  /** The accounts and the access keys that select them. */
  accounts: ResolvedAccount[];
  /** True when the scenario declares several clusters (EKS routes by SigV4 region and access key). */
  multi: boolean;
  close(): Promise<void>;
}

const METRICS_DIR = 'fixtures/manifests';

/** The objects of the cni-metrics-helper manifest nearest to (not newer than) `tag`, re-tagged. */
function metricsHelperObjects(tag: string, region: string, clusterName: string): KubeObject[] {
  const wanted = tryParseAddonVersion(tag);
  if (!wanted) return [];
  const files = listPackageFolder(METRICS_DIR)
    .map((file) => ({ file, version: tryParseAddonVersion(/^cni-metrics-helper-(v[\d.]+)\.yaml$/.exec(file)?.[1] ?? '') }))
    .filter((f): f is { file: string; version: NonNullable<typeof f.version> } => f.version !== null)
    .sort((a, b) => compareAddonVersions(a.version, b.version));
  const chosen = files.filter((f) => compareAddonVersions(f.version, wanted) <= 0).at(-1) ?? files[0];
  if (!chosen) return [];
  const objects = (readPackageYaml(`${METRICS_DIR}/${chosen.file}`) as Array<KubeObject | null>)
    .filter((obj): obj is KubeObject => obj !== null && typeof obj === 'object' && 'kind' in obj);
  for (const obj of objects) {
    if (obj.kind !== 'Deployment') continue;
    const pod = podSpecOf(obj);
    for (const container of pod.containers) {
      const { repository } = splitImage(container.image ?? '');
      const path = repository.split('/').slice(1).join('/');
      container.image = `${eksImageRegistry(region)}/${path}:${tag}`;
      setEnv(container, { AWS_CLUSTER_ID: clusterName });
    }
  }
  return objects;
}

function nodeObject(node: ResolvedScenario['nodes'][number], kubernetesVersion: string): KubeObject {
  const hybrid = node.labels?.['eks.amazonaws.com/compute-type'] === 'hybrid';
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      labels: {
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': node.name,
        ...(node.labels ?? {}),
      },
      ...(node.annotations ? { annotations: node.annotations } : {}),
    },
    spec: hybrid ? {} : { providerID: `aws:///${node.labels?.['topology.kubernetes.io/zone'] ?? 'us-west-2a'}/i-0${node.name.length}a1b2c3d4e5f6789` },
    status: {
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }],
      nodeInfo: {
        kubeletVersion: `v${kubernetesVersion}.0-eks-${hybrid ? 'hybrid' : 'a737599'}`,
        operatingSystem: 'linux',
        architecture: 'amd64',
        containerRuntimeVersion: 'containerd://1.7.11',
      },
    },
  };
}

/** The `eks-pod-identity-agent` DaemonSet EKS's add-on of that name installs (hostNetwork, port 80 on 169.254.170.23). */
function podIdentityAgentDaemonSet(imageTag: string, region: string): KubeObject {
  const labels = { 'app.kubernetes.io/name': 'eks-pod-identity-agent', 'app.kubernetes.io/instance': 'eks-pod-identity-agent' };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'eks-pod-identity-agent', namespace: 'kube-system', labels: { ...labels, 'app.kubernetes.io/managed-by': 'EKS' } },
    spec: {
      selector: { matchLabels: labels },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } },
      template: {
        metadata: { labels },
        spec: {
          hostNetwork: true,
          priorityClassName: 'system-node-critical',
          containers: [
            {
              name: 'eks-pod-identity-agent',
              image: `602401143452.dkr.ecr.${region}.amazonaws.com/eks/eks-pod-identity-agent:${imageTag}`,
              command: ['/go-runner', '/eks-pod-identity-agent', 'server'],
              args: ['--port', '80', '--cluster-name', 'demo', '--probe-port', '2703'],
              env: [{ name: 'AWS_REGION', value: region }],
              ports: [{ containerPort: 80, name: 'proxy', protocol: 'TCP' }],
            },
          ],
        },
      },
    },
  };
}

/** Applies a scenario's hand-made settings (args, images, nodeSelector, update strategy, annotations, sidecars). */
function applyCustom(daemonSet: KubeObject, custom: ScenarioDaemonSetCustom): void {
  const pod = podSpecOf(daemonSet) as ReturnType<typeof podSpecOf> & { nodeSelector?: Record<string, string> };
  const all = [...pod.containers, ...(pod.initContainers ?? [])];
  for (const [name, args] of Object.entries(custom.args ?? {})) {
    const container = all.find((c) => c.name === name);
    if (container) container.args = [...args];
  }
  for (const [name, image] of Object.entries(custom.images ?? {})) {
    const container = all.find((c) => c.name === name);
    if (container) container.image = image;
  }
  if (custom.nodeSelector) pod.nodeSelector = { ...custom.nodeSelector };
  const spec = daemonSet.spec as { updateStrategy?: unknown; template: { metadata?: { annotations?: Record<string, string> } } };
  if (custom.updateStrategy !== undefined) spec.updateStrategy = structuredClone(custom.updateStrategy);
  if (custom.podAnnotations) {
    spec.template.metadata ??= {};
    spec.template.metadata.annotations = { ...spec.template.metadata.annotations, ...custom.podAnnotations };
  }
  for (const sidecar of custom.sidecars ?? []) pod.containers.push(structuredClone(sidecar) as never);
}

/** Fills the Kubernetes store as the scenario describes the cluster. */
function populateStore(store: KubeStore, scenario: ResolvedScenario, controller: AddonController): void {
  for (const node of scenario.nodes) store.put(nodeObject(node, scenario.cluster.kubernetesVersion));
  const ds = scenario.daemonSet;
  if (ds) {
    // A managed add-on's objects are what EKS server-side applied (field manager "eks"); a self-managed install
    // is what `kubectl apply` created. Then the drift, as someone's kubectl edit.
    const managed = controller.lastApplied !== null;
    const creator = managed ? null : 'kubectl-client-side-apply';
    // Everything of the release manifest (CRDs incl. ENIConfig, RBAC, ServiceAccount, ConfigMap) but the DaemonSet.
    const others = loadUpstreamManifest(ds.manifest).filter((obj) => obj.kind !== 'DaemonSet');
    for (const obj of others) {
      if (obj.kind === 'ServiceAccount' && obj.metadata.name === 'aws-node' && scenario.addon?.serviceAccountRoleArn) {
        obj.metadata.annotations = { 'eks.amazonaws.com/role-arn': scenario.addon.serviceAccountRoleArn };
      }
    }
    if (managed) controller.applyAsEks(others, 'OVERWRITE');
    else for (const obj of others) store.put(obj, { manager: creator });
    const applied = managed ? serverSideApply(undefined, controller.lastApplied as KubeObject, EKS_FIELD_MANAGER, true, strategicMerge) : undefined;
    const daemonSet = applied ? structuredClone(applied) : loadUpstreamManifest(ds.manifest).find((o) => o.kind === 'DaemonSet');
    if (!daemonSet) throw new Error(`The upstream manifest ${ds.manifest} has no aws-node DaemonSet.`);
    retagCniImages(daemonSet, ds.imageTag, ds.registry);
    const pod = podSpecOf(daemonSet);
    pod.containers = pod.containers.filter((c) => !ds.removeContainers.includes(c.name));
    pod.initContainers = pod.initContainers?.filter((c) => !ds.removeContainers.includes(c.name));
    for (const [name, env] of Object.entries(ds.env)) {
      setEnv([...pod.containers, ...(pod.initContainers ?? [])].find((c) => c.name === name), env);
    }
    if (ds.affinity !== undefined) pod.affinity = structuredClone(ds.affinity);
    if (ds.custom) applyCustom(daemonSet, ds.custom);
    // The drift is created with the DaemonSet (no rollout at start), owned by kubectl-edit where it differs.
    if (applied) recordUpdate(applied, daemonSet, 'kubectl-edit');
    store.put(daemonSet, { manager: applied ? null : creator });
    if (ds.rollingOut) {
      // A second spec change starts a rollout that the store finishes after rolloutDurationMs.
      const again = structuredClone(store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system') as KubeObject);
      const template = (again.spec as { template: { metadata?: { annotations?: Record<string, string> } } }).template;
      template.metadata ??= {};
      template.metadata.annotations = { ...template.metadata.annotations, 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() };
      store.put(again, { manager: 'kubectl-rollout' });
    }
  }
  if (ds && Object.keys(scenario.configMapData).length > 0) {
    const cm = store.get('v1', 'ConfigMap', 'amazon-vpc-cni', 'kube-system') ?? {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'amazon-vpc-cni', namespace: 'kube-system' },
      data: {},
    };
    const data = { ...((cm.data as Record<string, string> | undefined) ?? {}) };
    for (const [key, value] of Object.entries(scenario.configMapData)) {
      if (value === null) delete data[key];
      else data[key] = value;
    }
    store.put({ ...structuredClone(cm), data }, { manager: 'kubectl-client-side-apply' });
  }
  for (const eni of scenario.eniConfigs) {
    store.put({
      apiVersion: 'crd.k8s.amazonaws.com/v1alpha1',
      kind: 'ENIConfig',
      metadata: { name: eni.name },
      spec: { subnet: eni.subnet, ...(eni.securityGroups ? { securityGroups: eni.securityGroups } : {}) },
    });
  }
  if (scenario.podIdentityAgent) store.put(podIdentityAgentDaemonSet(scenario.podIdentityAgent.imageTag, scenario.cluster.region));
  if (scenario.metricsHelper) {
    for (const obj of metricsHelperObjects(scenario.metricsHelper.imageTag, scenario.cluster.region, scenario.cluster.name)) {
      if (obj.kind === 'ServiceAccount' && scenario.metricsHelper.serviceAccountRoleArn) {
        obj.metadata.annotations = { ...(obj.metadata.annotations as Record<string, string> | undefined), 'eks.amazonaws.com/role-arn': scenario.metricsHelper.serviceAccountRoleArn };
      }
      store.put(obj);
    }
  }
}

/** A server that accepts connections and never answers: the Kubernetes API of a cluster that times out. */
async function startBlackHole(): Promise<RunningServer> {
  return listen(createServer(() => undefined));
}

/**
 * Starts the sandbox for a built-in scenario name, a scenario file path or a Scenario object: the emulators
 * on 127.0.0.1 (ephemeral ports) and a kubeconfig in `dir` (default: a fresh temp dir). A scenario with
 * `clusters` gets one Kubernetes API per cluster and one EKS endpoint that routes by the SigV4 credential
 * scope's region and the access key's account (docs/sandbox-fleet.md).
 */
export async function startSandbox(
  scenarioInput: string | Scenario,
  options: { dir?: string; faults?: ScenarioFaults; hold?: GateName[] } = {},
): Promise<RunningSandbox> {
  const fleet: ResolvedFleet = resolveFleet(typeof scenarioInput === 'string' ? loadScenario(scenarioInput) : scenarioInput);
  const log = new RequestLog();
  const gates = new Gates(Object.fromEntries((options.hold ?? []).map((name) => [name, true])));
  const started: Array<{ close(): Promise<void> }> = [];
  const controllers: AddonController[] = [];
  const units: Array<SandboxCluster & { running: RunningCluster }> = [];
  // Faults of the first cluster (and the command line's) drive the AWS endpoints, as before.
  let onMutatingCall: (count: number) => void = () => undefined;
  // One CA and one minted token for every cluster's API; EKS tokens are checked per cluster, signed with any key
  // the sandbox knows (an account's, or one AssumeRole issued).
  const tls = clusterTls();
  const kubeToken = mintStaticToken();
  const caData = Buffer.from(tls.caPem).toString('base64');
  let accounts: AccountDirectory | undefined;
  const secretOf = (key: string): string | undefined =>
    key === SANDBOX_ACCESS_KEY_ID ? SANDBOX_SECRET_ACCESS_KEY : accounts?.secretOf(key);
  try {
    for (const [index, scenario] of fleet.clusters.entries()) {
      const faults: ScenarioFaults = { ...scenario.sandbox.faults, ...(options.faults ?? {}) };
      scenario.sandbox.faults = faults;
      const { cluster } = scenario;
      const store = new KubeStore({
        rolloutDurationMs: scenario.sandbox.rolloutDurationMs,
        rolloutNeverFinishes: faults.rolloutNeverFinishes ?? false,
        rolloutGate: gates.rollout,
        // Read when a rollout starts, so that a test may set the fault on a running sandbox.
        pullFails: (image) => (faults.imagePullFails ?? []).some((part) => part !== '' && image.includes(part)),
      });
      const podIdentity = new PodIdentityStore(cluster);
      const controller = new AddonController(scenario, store, { faults, gate: gates.eksChange, podIdentity });
      controllers.push(controller);
      populateStore(store, scenario, controller);
      const kube = faults.timeout
        ? await startBlackHole()
        : await startKubeApi(store, {
            kubernetesVersion: cluster.kubernetesVersion,
            log,
            tls,
            authenticate: (token) => token === kubeToken || eksTokenProblem(token, cluster.name, Date.now(), secretOf) === null,
            ...(index === 0 ? { outageGate: gates.kubeOutage } : {}),
            ...(faults.latencyMs ? { latencyMs: faults.latencyMs } : {}),
          });
      started.push(kube);
      if (index === 0 && 'refuseConnectionsFor' in kube) {
        const outage = faults.kubeOutage;
        const api = kube as { refuseConnectionsFor(ms: number): void };
        onMutatingCall = (count: number): void => {
          if (outage && count === outage.afterMutatingCall) api.refuseConnectionsFor(outage.durationMs);
        };
        gates.startKubeOutage = (): void => api.refuseConnectionsFor(outage?.durationMs ?? 1000);
      }
      const contextName = `arn:${partitionOf(cluster.region)}:eks:${cluster.region}:${cluster.accountId}:cluster/${cluster.name}`;
      units.push({
        scenario,
        controller,
        podIdentity,
        insights: new ClusterInsights(scenario, () => controller.addon),
        kubeEndpoint: kube.url,
        certificateAuthorityData: caData,
        running: {
          cluster: cluster.name,
          region: cluster.region,
          account: cluster.accountId,
          kubernetesVersion: cluster.kubernetesVersion,
          kubeEndpoint: kube.url,
          contextName,
          scenario,
          store,
          controller,
          podIdentity,
        },
      });
    }
    const first = units[0] as (typeof units)[number];
    const firstFaults = first.scenario.sandbox.faults;
    accounts = new AccountDirectory(fleet.accounts);
    const eks = await startEksApi({
      clusters: units,
      accounts,
      multi: fleet.multi,
      log,
      faults: new FaultInjector(firstFaults, (count) => onMutatingCall(count)),
      gates,
    });
    started.push(eks);
    const iam = await startIamApi({
      iam: iamAccountsOf(fleet.clusters),
      accounts,
      ...(fleet.multi ? {} : { defaultAccountId: first.scenario.cluster.accountId }),
      log,
      faults: new FaultInjector(firstFaults),
    });
    started.push(iam);
    for (const c of controllers) c.start();
    const ownDir = options.dir ? null : makeTempDir('vpccni-sandbox-');
    const dir = options.dir ?? ownDir!;
    const kubeconfig = join(dir, 'kubeconfig');
    const { scenario, controller } = first;
    const { cluster } = scenario;
    const contextName = first.running.contextName;
    if (fleet.multi) {
      writeMultiKubeconfig(kubeconfig, units.map((u) => ({ server: u.kubeEndpoint, contextName: u.running.contextName, caData, token: kubeToken })));
    } else {
      writeKubeconfig(kubeconfig, { server: first.kubeEndpoint, contextName, caData, user: { token: kubeToken } });
    }
    // As `aws eks update-kubeconfig` writes it: the exec plugin `aws eks get-token` (the first cluster's).
    const kubeconfigExec = join(dir, 'kubeconfig-exec');
    writeKubeconfig(kubeconfigExec, {
      server: first.kubeEndpoint,
      contextName,
      caData,
      user: {
        exec: {
          cluster: cluster.name,
          region: cluster.region,
          env: { AWS_ACCESS_KEY_ID: SANDBOX_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SANDBOX_SECRET_ACCESS_KEY },
        },
      },
    });
    return {
      scenario,
      cluster: cluster.name,
      region: cluster.region,
      accountId: cluster.accountId,
      eksEndpoint: eks.url,
      iamEndpoint: iam.url,
      stsEndpoint: iam.url,
      kubeEndpoint: first.kubeEndpoint,
      kubeconfig,
      kubeconfigExec,
      kubeToken,
      caData,
      contextName,
      log,
      store: first.running.store,
      controller,
      gates,
      startKubeOutage: () => gates.startKubeOutage(),
      addon: () => (controller.addon ? structuredClone(controller.addon) : null),
      clusters: units.map((u) => u.running),
      regions: [...new Set(units.map((u) => u.running.region))].sort(),
      accounts: fleet.accounts,
      multi: fleet.multi,
      /** The sandbox's own temp dir (null when `dir` was given): the kubeconfig, and the journal of in-process runs. */
      dir,
      close: async () => {
        for (const c of controllers) c.close();
        gates.close();
        await Promise.all(started.map((s) => s.close()));
        if (ownDir) removeTempDir(ownDir);
      },
    };
  } catch (error) {
    for (const c of controllers) c.close();
    gates.close();
    await Promise.all(started.map((s) => s.close()));
    throw error;
  }
}
