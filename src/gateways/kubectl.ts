/**
 * The Kubernetes gateway: kubectl through node:child_process, with --kubeconfig/--context passed through, JSON output,
 * timeouts, a bounded retry of reads on connection errors, and errors translated into ours.
 */
import { spawn } from 'node:child_process';
import type { KubeObject } from '../decide/manifests.js';
import { UnreachableError, UsageError, type VpccniError } from '../errors.js';

export interface KubectlOptions {
  kubeconfig?: string;
  context?: string;
  /** Per-call timeout in ms (default 30 s). */
  timeoutMs?: number;
  /** Attempts for reads that fail to connect (default 3). */
  readAttempts?: number;
  /** Extra environment (tests set KUBECACHEDIR). */
  env?: Record<string, string>;
  /** Told about each retried read (the CLI shows it with --verbose). */
  onRetry?: (message: string) => void;
}

/** What kubectl printed, and how it ended. */
export interface KubectlResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The objects vpccni reads from the cluster in one go. */
export interface ClusterObjects {
  daemonSet: KubeObject | null;
  configMap: KubeObject | null;
  metricsHelper: KubeObject | null;
  nodes: KubeObject[];
  eniConfigs: KubeObject[];
}

/** Pods of the aws-node DaemonSet: on the current template, available, wanted. */
export interface RolloutProgress {
  desired: number;
  updated: number;
  available: number;
}

/** The Kubernetes calls vpccni makes (over kubectl, or in-process: kube-api.ts). */
export interface KubeGateway {
  run(args: string[], options?: { input?: string; timeoutMs?: number }): Promise<KubectlResult>;
  /** `kubectl get … -o json`, null when NotFound. */
  getJson(args: string[]): Promise<KubeObject | null>;
  getDaemonSet(): Promise<KubeObject | null>;
  /** DaemonSet, ConfigMap and metrics helper in one kubectl call; nodes and ENIConfigs alongside. */
  readClusterObjects(): Promise<ClusterObjects>;
  /** The ENIConfigs, or null when the cluster has no ENIConfig resource type. */
  listEniConfigs(): Promise<KubeObject[] | null>;
  /** Waits for the aws-node rollout; true when rolled out, false on timeout. `onProgress` sees pod counts as they change (API client only). */
  rolloutStatus(timeoutSeconds: number, onProgress?: (progress: RolloutProgress) => void): Promise<boolean>;
  /**
   * `kubectl apply -f -` (server-side dry run when asked); returns kubectl's output. Server-side applies take
   * the fields they set from other managers (`--force-conflicts`), as `fieldManager` when given.
   */
  apply(object: KubeObject, options?: { dryRun?: boolean; serverSide?: boolean; fieldManager?: string }): Promise<string>;
  /**
   * Server-side apply of several objects in one go, in order (`kubectl apply --server-side
   * --field-manager=<fieldManager> --force-conflicts -f -` with a List): returns one `kind/name` per object.
   */
  applyObjects(objects: KubeObject[], options: { fieldManager: string; dryRun?: boolean }): Promise<string[]>;
  /** `kubectl rollout restart <kind> <name> -n kube-system`. */
  restartRollout(kind: 'deployment' | 'daemonset', name: string): Promise<void>;
  /** `kubectl rollout status <kind> <name> -n kube-system`; true when rolled out, false on timeout. */
  waitRollout(kind: 'deployment' | 'daemonset', name: string, timeoutSeconds: number): Promise<boolean>;
  /** `kubectl diff -f -`: the unified diff of what apply would change ('' when nothing). */
  diff(object: KubeObject): Promise<string>;
}

const CONNECTION_ERROR =
  /connection refused|The connection to the server .* was refused|Unable to connect to the server|i\/o timeout|no such host|connection reset|EOF$|TLS handshake timeout|dial tcp/im;

/** True when kubectl's stderr says it could not reach the API server. */
export function isConnectionError(stderr: string): boolean {
  return CONNECTION_ERROR.test(stderr);
}

/** A KubeGateway over the kubectl on the PATH. */
export function createKubeGateway(options: KubectlOptions): KubeGateway {
  const base: string[] = [];
  if (options.kubeconfig) base.push('--kubeconfig', options.kubeconfig);
  if (options.context) base.push('--context', options.context);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const attempts = options.readAttempts ?? 3;

  async function run(args: string[], runOptions: { input?: string; timeoutMs?: number } = {}): Promise<KubectlResult> {
    const limit = runOptions.timeoutMs ?? timeoutMs;
    let result: SpawnResult;
    try {
      result = await spawnKubectl([...base, ...args], { input: runOptions.input, timeoutMs: limit, env: options.env });
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') throw missingKubectl();
      throw new UnreachableError(`kubectl could not be run: ${(error as Error).message}`, { cause: error });
    }
    if (result.timedOut) {
      throw new UnreachableError(
        `kubectl ${args.slice(0, 2).join(' ')} did not finish within ${Math.round(limit / 1000)} s; check that the cluster's API server is reachable.`,
      );
    }
    return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
  }

  /** Runs a read, retrying connection errors with a short backoff (the API may be restarting). */
  async function read(args: string[]): Promise<KubectlResult> {
    let last: KubectlResult | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      last = await run(args);
      if (last.exitCode === 0 || !isConnectionError(last.stderr)) return last;
      if (attempt < attempts) {
        options.onRetry?.(`kubectl ${args.slice(0, 2).join(' ')} could not connect (attempt ${attempt} of ${attempts}); retrying: ${firstLine(last.stderr)}`);
        await new Promise((r) => setTimeout(r, 250 * 2 ** (attempt - 1)));
      }
    }
    throw unreachable(last!);
  }

  function parseJson(result: KubectlResult, what: string): unknown {
    try {
      return JSON.parse(result.stdout);
    } catch {
      throw new UnreachableError(`kubectl returned output that is not JSON for ${what}.`);
    }
  }

  function failed(result: KubectlResult, what: string): VpccniError {
    if (isConnectionError(result.stderr)) return unreachable(result);
    const message = firstLine(result.stderr) || `kubectl exited with ${result.exitCode}`;
    if (/Forbidden|Unauthorized|forbidden/.test(message)) {
      return new UnreachableError(`Kubernetes refused to ${what}: ${message}; check your RBAC permissions.`);
    }
    return new UnreachableError(`Could not ${what}: ${message}`);
  }

  async function getJson(args: string[]): Promise<KubeObject | null> {
    // With the field owners, as the API returns them: the conflict prediction reads managedFields.
    const result = await read(['get', ...args, '-o', 'json', '--show-managed-fields']);
    if (result.exitCode !== 0) {
      if (/NotFound|not found/.test(result.stderr)) return null;
      throw failed(result, `read ${args.join(' ')}`);
    }
    return parseJson(result, args.join(' ')) as KubeObject;
  }

  async function listEniConfigs(): Promise<KubeObject[] | null> {
    // The fully qualified name skips a discovery round trip.
    const result = await read(['get', 'eniconfigs.v1alpha1.crd.k8s.amazonaws.com', '-o', 'json']);
    if (result.exitCode === 0) {
      return result.stdout.trim() === '' ? [] : ((parseJson(result, 'ENIConfigs') as { items?: KubeObject[] }).items ?? []);
    }
    if (/the server doesn't have a resource type|NotFound|no matches for kind/.test(result.stderr)) return null;
    throw failed(result, 'list the ENIConfigs');
  }

  return {
    run,
    getJson,
    getDaemonSet: () => getJson(['daemonset', 'aws-node', '-n', 'kube-system']),

    async readClusterObjects() {
      // One kubectl per object, all at once: kubectl fetches the objects of one call one after the other
      // (and a missing named object costs a second GET of its namespace), so one call for the three named
      // objects took five round trips in a row; a list with a name field selector takes one, absent or not.
      const byName = (resource: string, name: string) =>
        read(['get', resource, '-n', 'kube-system', '--field-selector', `metadata.name=${name}`, '-o', 'json']);
      const [daemonSet, configMap, metricsHelper, nodes, eniConfigs] = await Promise.all([
        byName('daemonsets.v1.apps', 'aws-node'),
        byName('configmaps', 'amazon-vpc-cni'),
        byName('deployments.v1.apps', 'cni-metrics-helper'),
        read(['get', 'nodes', '-o', 'json']),
        listEniConfigs(),
      ]);
      if (daemonSet.exitCode !== 0) throw failed(daemonSet, 'read the aws-node DaemonSet');
      if (configMap.exitCode !== 0) throw failed(configMap, 'read the amazon-vpc-cni ConfigMap');
      if (metricsHelper.exitCode !== 0) throw failed(metricsHelper, 'read the cni-metrics-helper Deployment');
      if (nodes.exitCode !== 0) throw failed(nodes, 'list the nodes');
      const items = (text: KubectlResult, what: string): KubeObject[] =>
        text.stdout.trim() === '' ? [] : ((parseJson(text, what) as { items?: KubeObject[] }).items ?? []);
      const one = (text: KubectlResult, what: string, kind: string, apiVersion: string): KubeObject | null => {
        const item = items(text, what)[0];
        return item ? { ...item, apiVersion: item.apiVersion ?? apiVersion, kind: item.kind ?? kind } : null;
      };
      return {
        daemonSet: one(daemonSet, 'the aws-node DaemonSet', 'DaemonSet', 'apps/v1'),
        configMap: one(configMap, 'the amazon-vpc-cni ConfigMap', 'ConfigMap', 'v1'),
        metricsHelper: one(metricsHelper, 'the cni-metrics-helper Deployment', 'Deployment', 'apps/v1'),
        nodes: items(nodes, 'nodes'),
        // A cluster without the CRD has no ENIConfigs.
        eniConfigs: eniConfigs ?? [],
      };
    },

    listEniConfigs,

    async rolloutStatus(timeoutSeconds) {
      const result = await run(
        ['rollout', 'status', 'daemonset', 'aws-node', '-n', 'kube-system', `--timeout=${timeoutSeconds}s`],
        { timeoutMs: (timeoutSeconds + 30) * 1000 },
      );
      if (result.exitCode === 0) return true;
      if (/timed out waiting/.test(result.stderr)) return false;
      throw failed(result, 'watch the aws-node rollout');
    },

    async apply(object, applyOptions = {}) {
      const args = ['apply', '-f', '-', '-o', 'name'];
      if (applyOptions.serverSide) args.push('--server-side', '--force-conflicts');
      if (applyOptions.serverSide && applyOptions.fieldManager) args.push(`--field-manager=${applyOptions.fieldManager}`);
      if (applyOptions.dryRun) args.push('--dry-run=server');
      const result = await run(args, { input: JSON.stringify(object) });
      if (result.exitCode !== 0) throw failed(result, `apply ${object.kind} ${object.metadata.name}`);
      return result.stdout.trim();
    },

    async applyObjects(objects, applyOptions) {
      const args = ['apply', '-f', '-', '-o', 'name', '--server-side', '--force-conflicts', `--field-manager=${applyOptions.fieldManager}`];
      if (applyOptions.dryRun) args.push('--dry-run=server');
      const list = { apiVersion: 'v1', kind: 'List', metadata: {}, items: objects };
      const result = await run(args, { input: JSON.stringify(list), timeoutMs: Math.max(timeoutMs, 60_000) });
      if (result.exitCode !== 0) throw failed(result, `apply the manifest (${objects.length} objects)`);
      return result.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    },

    async restartRollout(kind, name) {
      const result = await run(['rollout', 'restart', kind, name, '-n', 'kube-system']);
      if (result.exitCode !== 0) throw failed(result, `restart ${kind} ${name}`);
    },

    async waitRollout(kind, name, timeoutSeconds) {
      const result = await run(
        ['rollout', 'status', kind, name, '-n', 'kube-system', `--timeout=${timeoutSeconds}s`],
        { timeoutMs: (timeoutSeconds + 30) * 1000 },
      );
      if (result.exitCode === 0) return true;
      if (/timed out waiting/.test(result.stderr)) return false;
      throw failed(result, `watch the ${kind} ${name} rollout`);
    },

    async diff(object) {
      const result = await run(['diff', '-f', '-'], { input: JSON.stringify(object) });
      // kubectl diff exits 1 when there are differences, > 1 on error.
      if (result.exitCode > 1) throw failed(result, `diff ${object.kind} ${object.metadata.name}`);
      return result.stdout;
    },
  };
}

interface SpawnResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Runs kubectl with node:child_process rather than execa: execa's import costs about 65 ms of CPU on the
 * critical path of every command (the kubectl reads start only after it), for features we do not use.
 * Rejects only when kubectl cannot be started (ENOENT); a timeout kills it and sets `timedOut`.
 */
function spawnKubectl(
  args: string[],
  options: { input: string | undefined; timeoutMs: number; env: Record<string, string> | undefined },
): Promise<SpawnResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', args, {
      env: { ...process.env, ...options.env },
      stdio: [options.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, options.timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        exitCode: code ?? 1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
    if (options.input !== undefined && child.stdin) {
      // kubectl may exit before reading all its input (e.g. a bad flag); that is its answer, not ours.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
  });
}

/** The first non-empty line of kubectl's output, trimmed. */
export function firstLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).find(Boolean) ?? '';
}

function missingKubectl(): UnreachableError {
  return new UnreachableError(
    'kubectl was not found on the PATH; install it (https://kubernetes.io/docs/tasks/tools/) and try again.',
  );
}

function unreachable(result: KubectlResult): UnreachableError {
  return new UnreachableError(
    `The Kubernetes API server could not be reached (${firstLine(result.stderr)}); check the kube context and your network.`,
  );
}

/** Guards against a kube context that is not the cluster we were asked about. */
export function assertContextMatches(
  context: { name: string; server: string | null } | null,
  cluster: { name: string; endpoint: string | null },
  same: (a: string, b: string) => boolean,
): void {
  if (!context) {
    throw new UsageError(
      `No kubeconfig was found; run \`aws eks update-kubeconfig --name ${cluster.name}\` or pass --kubeconfig.`,
    );
  }
  if (!context.server || !cluster.endpoint || !same(context.server, cluster.endpoint)) {
    throw new UsageError(
      `The kube context "${context.name}" points at ${context.server ?? 'no server'}, but cluster "${cluster.name}" is at ${cluster.endpoint ?? 'an unknown endpoint'}; refusing to read or change the wrong cluster. Run \`aws eks update-kubeconfig --name ${cluster.name}\` or pass --context.`,
    );
  }
}
