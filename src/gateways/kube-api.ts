/**
 * The Kubernetes gateway in-process (`--kube-client api`, the default): the KubeGateway over the API server's
 * REST API through kube-http.ts, with no kubectl and no credential plugin process per call. Reads what the
 * checks need only: named objects by GET, nodes as metadata (PartialObjectMetadataList) in pages, and only
 * the hybrid nodes unless custom networking needs them all. Rollouts are watched, not polled.
 */
import type { KubeObject } from '../decide/manifests.js';
import { UnreachableError, UsageError } from '../errors.js';
import type { ClusterObjects, KubeGateway, KubectlResult, RolloutProgress } from './kubectl.js';
import { isConnectionFailure, type KubeHttp, type KubeRequest, type KubeResponse } from './kube-http.js';

/** Options of the in-process gateway. */
export interface KubeApiOptions {
  /** Attempts for reads that fail to connect (default 3). */
  readAttempts?: number;
  /** Nodes per page (default 500, as kubectl's chunk size). */
  pageSize?: number;
  /** Called before the first request; the runtime's context check (the gateway never reads before it). */
  beforeFirstRequest?: () => Promise<void>;
  /** Told about each retried read (shown with --verbose). */
  onRetry?: (message: string) => void;
}

const METADATA_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
const COMPUTE_TYPE = 'eks.amazonaws.com/compute-type';
const CUSTOM_NETWORK_ENV = 'AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG';

/** Paths of the resources vpccni reads or writes, by the names kubectl's arguments use. */
const RESOURCES: Record<string, { prefix: string; plural: string; namespaced: boolean }> = {
  daemonset: { prefix: '/apis/apps/v1', plural: 'daemonsets', namespaced: true },
  deployment: { prefix: '/apis/apps/v1', plural: 'deployments', namespaced: true },
  configmap: { prefix: '/api/v1', plural: 'configmaps', namespaced: true },
  serviceaccount: { prefix: '/api/v1', plural: 'serviceaccounts', namespaced: true },
  clusterrole: { prefix: '/apis/rbac.authorization.k8s.io/v1', plural: 'clusterroles', namespaced: false },
  clusterrolebinding: { prefix: '/apis/rbac.authorization.k8s.io/v1', plural: 'clusterrolebindings', namespaced: false },
  customresourcedefinition: { prefix: '/apis/apiextensions.k8s.io/v1', plural: 'customresourcedefinitions', namespaced: false },
  eniconfig: { prefix: '/apis/crd.k8s.amazonaws.com/v1alpha1', plural: 'eniconfigs', namespaced: false },
  node: { prefix: '/api/v1', plural: 'nodes', namespaced: false },
  pod: { prefix: '/api/v1', plural: 'pods', namespaced: true },
};

/** The API path of a kind (kubectl's singular, plural or Kind name), or null when vpccni never uses it. */
export function resourcePath(kind: string, name: string | undefined, namespace: string | undefined): string | null {
  const key = kind.toLowerCase().split('.')[0]!.replace(/s$/, '');
  const r = RESOURCES[key];
  if (!r) return null;
  const ns = r.namespaced ? `/namespaces/${encodeURIComponent(namespace ?? 'default')}` : '';
  return `${r.prefix}${ns}/${r.plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

/** Kubernetes's Status message of a failed response, else its first line. */
function statusMessage(response: KubeResponse): string {
  try {
    const doc = JSON.parse(response.text) as { message?: string };
    if (doc.message) return doc.message;
  } catch {
    // not JSON
  }
  return response.text.split('\n')[0]?.trim() || `HTTP ${response.status}`;
}

/** True when the DaemonSet's pods all run its current template and are available (kubectl's rule). */
export function rolloutProgress(ds: KubeObject): RolloutProgress & { done: boolean } {
  const status = (ds.status ?? {}) as Record<string, number | undefined>;
  const generation = (ds.metadata as { generation?: number }).generation ?? 0;
  const observed = status.observedGeneration ?? 0;
  const desired = status.desiredNumberScheduled ?? 0;
  const updated = status.updatedNumberScheduled ?? 0;
  const available = status.numberAvailable ?? 0;
  return { desired, updated, available, done: observed >= generation && updated >= desired && available >= desired };
}

/** The KubeGateway over the API. */
export function createKubeApiGateway(http: KubeHttp, options: KubeApiOptions = {}): KubeGateway {
  const attempts = options.readAttempts ?? 5;
  const pageSize = options.pageSize ?? 500;
  let checked: Promise<void> | null = null;

  async function send(req: KubeRequest): Promise<KubeResponse> {
    checked ??= options.beforeFirstRequest ? options.beforeFirstRequest() : Promise.resolve();
    await checked;
    return http.request(req);
  }

  /** GETs, retrying connection failures with a short backoff (the API may be restarting). */
  async function read(path: string, accept?: string): Promise<KubeResponse> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await send({ method: 'GET', path, ...(accept ? { accept } : {}) });
      } catch (error) {
        if (!isConnectionFailure(error) || attempt >= attempts) throw error;
        options.onRetry?.(`GET ${path.split('?')[0]} could not connect (attempt ${attempt} of ${attempts}); retrying: ${(error as Error).message}`);
        await new Promise((r) => setTimeout(r, 250 * 2 ** (attempt - 1)));
      }
    }
  }

  function failed(response: KubeResponse, what: string): UnreachableError {
    const message = statusMessage(response);
    if (response.status === 401) {
      return new UnreachableError(`Kubernetes did not accept our credentials to ${what} (${message}); check the kube context's user (aws sts get-caller-identity, the cluster's access entries).`);
    }
    if (response.status === 403) return new UnreachableError(`Kubernetes refused to ${what}: ${message}; check your RBAC permissions.`);
    return new UnreachableError(`Could not ${what}: ${message}`);
  }

  function parse<T>(response: KubeResponse, what: string): T {
    try {
      return JSON.parse(response.text) as T;
    } catch {
      throw new UnreachableError(`The Kubernetes API answered ${what} with something that is not JSON.`);
    }
  }

  async function getObject(path: string, what: string): Promise<KubeObject | null> {
    const response = await read(path);
    if (response.status === 404) return null;
    if (response.status !== 200) throw failed(response, `read ${what}`);
    return parse<KubeObject>(response, what);
  }

  /** Every page of a list (limit/continue), as metadata only when asked. */
  async function listAll(path: string, what: string, query: Record<string, string>, metadataOnly: boolean): Promise<KubeObject[] | null> {
    const items: KubeObject[] = [];
    let next = '';
    do {
      const params = new URLSearchParams({ ...query, limit: String(pageSize), ...(next ? { continue: next } : {}) });
      const response = await read(`${path}?${params}`, metadataOnly ? METADATA_LIST : undefined);
      if (response.status === 404) return null;
      if (response.status === 410 && next) {
        // The continue token expired: list again from the start.
        items.length = 0;
        next = '';
        continue;
      }
      if (response.status !== 200) throw failed(response, `list ${what}`);
      const list = parse<{ items?: KubeObject[]; metadata?: { continue?: string } }>(response, what);
      items.push(...(list.items ?? []));
      next = list.metadata?.continue ?? '';
    } while (next);
    return items;
  }

  const getDaemonSet = () => getObject(resourcePath('daemonset', 'aws-node', 'kube-system')!, 'the aws-node DaemonSet');
  const listEniConfigs = () => listAll(resourcePath('eniconfig', undefined, undefined)!, 'the ENIConfigs', {}, false);

  async function readNodes(daemonSet: Promise<KubeObject | null>): Promise<KubeObject[]> {
    const path = resourcePath('node', undefined, undefined)!;
    // The checks need every node only under custom networking; otherwise only the hybrid ones.
    const hybrid = listAll(path, 'the nodes', { labelSelector: `${COMPUTE_TYPE}=hybrid` }, true);
    hybrid.catch(() => undefined);
    const ds = await daemonSet.catch(() => null);
    if (ds && customNetworking(ds)) return (await listAll(path, 'the nodes', {}, true)) ?? [];
    return (await hybrid) ?? [];
  }

  /** Server-side apply as `fieldManager`, taking conflicting fields (kubectl's --force-conflicts); `kind/name`. */
  async function serverSideApply(object: KubeObject, fieldManager: string, dryRun: boolean): Promise<string> {
    const path = resourcePath(object.kind, object.metadata.name, object.metadata.namespace);
    if (!path) throw new UsageError(`vpccni does not apply ${object.kind} objects.`);
    const params = new URLSearchParams({ fieldManager, force: 'true', ...(dryRun ? { dryRun: 'All' } : {}) });
    const response = await send({ method: 'PATCH', path: `${path}?${params}`, body: JSON.stringify(object), contentType: 'application/apply-patch+yaml' });
    if (response.status >= 300) throw failed(response, `apply ${object.kind} ${object.metadata.name}`);
    return `${object.kind.toLowerCase()}/${object.metadata.name}`;
  }

  async function writeObject(object: KubeObject, exists: boolean): Promise<KubectlResult> {
    const path = resourcePath(object.kind, exists ? object.metadata.name : undefined, object.metadata.namespace);
    if (!path) throw new UsageError(`vpccni does not write ${object.kind} objects.`);
    try {
      const response = await send({ method: exists ? 'PUT' : 'POST', path: `${path}?fieldManager=vpccni`, body: JSON.stringify(object) });
      if (response.status < 300) return { exitCode: 0, stdout: `${object.kind.toLowerCase()}/${object.metadata.name}`, stderr: '' };
      return { exitCode: 1, stdout: '', stderr: `Error from server (${response.status}): ${statusMessage(response)}` };
    } catch (error) {
      if (isConnectionFailure(error)) return { exitCode: 1, stdout: '', stderr: `Unable to connect to the server: ${(error as Error).message}` };
      throw error;
    }
  }

  return {
    async run(args, runOptions = {}) {
      // The only kubectl-shaped call left outside the gateway: restore's `replace`/`create -f -`.
      const verb = args[0];
      if ((verb === 'replace' || verb === 'create') && runOptions.input !== undefined) {
        return writeObject(JSON.parse(runOptions.input) as KubeObject, verb === 'replace');
      }
      throw new UsageError(`The in-process Kubernetes client cannot run "kubectl ${args.join(' ')}"; use --kube-client kubectl.`);
    },

    async getJson(args) {
      // kubectl get's arguments as the gather stage passes them: kind [name], -n ns, --all-namespaces, -l selector.
      let namespace: string | undefined;
      let allNamespaces = false;
      let selector: string | undefined;
      let known = true;
      const words: string[] = [];
      for (let i = 0; i < args.length; i++) {
        const arg = args[i]!;
        if (arg === '-n' || arg === '--namespace') namespace = args[++i];
        else if (arg === '--all-namespaces' || arg === '-A') allNamespaces = true;
        else if (arg === '-l' || arg === '--selector') selector = args[++i];
        else if (arg.startsWith('-')) known = false;
        else words.push(arg);
      }
      const [kind, name, extra] = words;
      let path = known && kind && extra === undefined && !(allNamespaces && name) ? resourcePath(kind, name, namespace) : null;
      if (path && allNamespaces) path = path.replace(/\/namespaces\/[^/]+/, '');
      if (!path) throw new UsageError(`The in-process Kubernetes client does not read "${args.join(' ')}".`);
      if (selector) path += `?labelSelector=${encodeURIComponent(selector)}`;
      return getObject(path, `${kind} ${name ?? ''}`.trim());
    },

    getDaemonSet,

    async readClusterObjects(): Promise<ClusterObjects> {
      const daemonSet = getDaemonSet();
      const [ds, configMap, metricsHelper, nodes, eniConfigs] = await Promise.all([
        daemonSet,
        getObject(resourcePath('configmap', 'amazon-vpc-cni', 'kube-system')!, 'the amazon-vpc-cni ConfigMap'),
        getObject(resourcePath('deployment', 'cni-metrics-helper', 'kube-system')!, 'the cni-metrics-helper Deployment'),
        readNodes(daemonSet),
        listEniConfigs(),
      ]);
      return { daemonSet: ds, configMap, metricsHelper, nodes, eniConfigs: eniConfigs ?? [] };
    },

    listEniConfigs,

    async rolloutStatus(timeoutSeconds, onProgress) {
      return watchRollout(http, getDaemonSet, Date.now() + timeoutSeconds * 1000, onProgress);
    },

    apply: (object, applyOptions = {}) => serverSideApply(object, applyOptions.fieldManager ?? 'vpccni', Boolean(applyOptions.dryRun)),

    async applyObjects(objects, applyOptions) {
      const names: string[] = [];
      for (const object of objects) names.push(await serverSideApply(object, applyOptions.fieldManager, Boolean(applyOptions.dryRun)));
      return names;
    },

    async restartRollout(kind, name) {
      // What `kubectl rollout restart` does: a new pod-template annotation, so the controller replaces every pod.
      const path = resourcePath(kind, name, 'kube-system')!;
      const body = JSON.stringify({ spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } });
      const response = await send({ method: 'PATCH', path: `${path}?fieldManager=vpccni`, body, contentType: 'application/strategic-merge-patch+json' });
      if (response.status >= 300) throw failed(response, `restart ${kind} ${name}`);
    },

    async waitRollout(kind, name, timeoutSeconds) {
      if (kind === 'daemonset' && name === 'aws-node') return watchRollout(http, getDaemonSet, Date.now() + timeoutSeconds * 1000, undefined);
      const path = resourcePath(kind, name, 'kube-system')!;
      const deadline = Date.now() + timeoutSeconds * 1000;
      for (;;) {
        const object = await getObject(path, `${kind} ${name}`);
        if (object && workloadRolledOut(object)) return true;
        if (Date.now() >= deadline) return false;
        await new Promise((r) => setTimeout(r, Math.min(1000, Math.max(50, deadline - Date.now()))));
      }
    },

    async diff() {
      throw new UsageError('The in-process Kubernetes client does not diff; use --kube-client kubectl.');
    },
  };
}

/** kubectl's rollout rule for a Deployment or DaemonSet: the current generation observed, every replica updated and available. */
function workloadRolledOut(object: KubeObject): boolean {
  if (object.kind === 'DaemonSet') return rolloutProgress(object).done;
  const status = (object.status ?? {}) as Record<string, number | undefined>;
  const generation = (object.metadata as { generation?: number }).generation ?? 0;
  const replicas = (object.spec as { replicas?: number } | undefined)?.replicas ?? 1;
  return (status.observedGeneration ?? 0) >= generation && (status.updatedReplicas ?? 0) >= replicas && (status.availableReplicas ?? 0) >= replicas && (status.replicas ?? 0) <= replicas;
}

/** True when the DaemonSet's aws-node container turns custom networking on. */
function customNetworking(ds: KubeObject): boolean {
  const spec = (ds.spec as { template?: { spec?: { containers?: Array<{ name?: string; env?: Array<{ name: string; value?: string }> }> } } }).template?.spec;
  const env = spec?.containers?.find((c) => c.name === 'aws-node')?.env ?? [];
  return env.some((e) => e.name === CUSTOM_NETWORK_ENV && e.value === 'true');
}

/**
 * Waits for the aws-node rollout by watching the DaemonSet (one long request, events as they happen)
 * until it is done or `deadline`; re-lists after a dropped or expired watch. True when rolled out.
 */
async function watchRollout(
  http: KubeHttp,
  getDaemonSet: () => Promise<KubeObject | null>,
  deadline: number,
  onProgress: ((p: RolloutProgress) => void) | undefined,
): Promise<boolean> {
  const path = resourcePath('daemonset', undefined, 'kube-system')!;
  for (;;) {
    const ds = await getDaemonSet();
    if (!ds) throw new UnreachableError('The aws-node DaemonSet disappeared while its rollout was watched; run vpccni status.');
    const first = rolloutProgress(ds);
    onProgress?.(first);
    if (first.done) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    const params = new URLSearchParams({
      watch: 'true',
      fieldSelector: 'metadata.name=aws-node',
      resourceVersion: String((ds.metadata as { resourceVersion?: string }).resourceVersion ?? ''),
      timeoutSeconds: String(Math.max(1, Math.ceil(left / 1000))),
      allowWatchBookmarks: 'true',
    });
    let opened: Awaited<ReturnType<KubeHttp['stream']>>;
    try {
      opened = await http.stream({ method: 'GET', path: `${path}?${params}`, timeoutMs: left + 30_000 });
    } catch (error) {
      if (isConnectionFailure(error)) {
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      throw error;
    }
    if (opened.status !== 200) {
      opened.response.resume();
      if (opened.status === 410) continue;
      throw new UnreachableError(`Could not watch the aws-node rollout: HTTP ${opened.status}; check your RBAC permissions (watch daemonsets).`);
    }
    const timer = setTimeout(() => opened.abort(), left);
    let outcome: boolean | null = null;
    try {
      let buffer = '';
      for await (const chunk of opened.response) {
        buffer += (chunk as Buffer).toString('utf8');
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          if (!line) continue;
          const event = JSON.parse(line) as { type: string; object: KubeObject };
          if (event.type === 'ERROR') break;
          if (event.type === 'DELETED') throw new UnreachableError('The aws-node DaemonSet was deleted while its rollout was watched; run vpccni status.');
          if (event.type !== 'ADDED' && event.type !== 'MODIFIED') continue;
          const progress = rolloutProgress(event.object);
          onProgress?.(progress);
          if (progress.done) {
            outcome = true;
            break;
          }
        }
        if (outcome !== null) break;
      }
    } catch (error) {
      if (error instanceof UnreachableError) throw error;
      // A dropped watch: list again and go on watching.
    } finally {
      clearTimeout(timer);
      opened.abort();
    }
    if (outcome) return true;
    if (Date.now() >= deadline) return (await getDaemonSet().then((d) => (d ? rolloutProgress(d).done : false)).catch(() => false));
  }
}
