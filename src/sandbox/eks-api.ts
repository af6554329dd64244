/**
 * An Amazon EKS emulator on 127.0.0.1 speaking the real REST-JSON protocol (eks-service-2.json, API
 * version 2017-11-01): the add-on operations, DescribeCluster and the managed node groups (ListNodegroups,
 * DescribeNodegroup), with EKS's error shapes (HTTP status,
 * `x-amzn-ErrorType` header, `{"message"}` body) and epoch-second timestamps.
 * https://docs.aws.amazon.com/eks/latest/APIReference/API_Operations.html
 */
import { createHash, randomUUID } from 'node:crypto';
import { regionPartition as partitionOf } from './registries.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compareVersionTexts as compareVersionStrings } from './versions.js';
import { ADDON_NAME, EksApiError, type AddonController, configurationSchemaFor, type AddonChangeInput } from './addon-controller.js';
import type { AccountDirectory } from './aws-auth.js';
import { otherAddonsCatalogue } from './default-catalogue.js';
import { TAG_OPERATIONS, tagOperation } from './tags.js';
import { insightSummary, type ClusterInsights } from './insights.js';
import type { PodIdentityStore } from './pod-identity.js';
import type { Gates } from './gates.js';
import type { RequestLog } from './request-log.js';
import type { ResolvedScenario } from './scenario.js';
import type { ScenarioFaults } from './scenario-types.js';

/**
 * Deterministic fault injection: a call is hit when the running count crosses a multiple of 1/rate, so a
 * rate of 0.34 hits every third call and tests stay stable (no randomness). A request that was just hit is
 * never hit again on its retry (unless the rate is one): with calls in flight side by side, a global count alone could keep landing
 * one request's retries on the faulty slots, which no rate below one does on a real service.
 */
export class FaultInjector {
  private calls = 0;
  private serverErrors = 0;
  private mutatingCalls = 0;

  constructor(
    readonly faults: ScenarioFaults,
    private readonly onMutatingCall?: (count: number) => void,
  ) {}

  private readonly justHit = new Set<string>();

  /**
   * What happens to the next call: nothing, a throttle, or a 500 / 503 (alternating). `request` names the
   * request (its method, path and body): the retry of a request that was just hit goes through.
   */
  next(request?: string): null | 'throttle' | 500 | 503 {
    const n = ++this.calls;
    const always = (this.faults.throttleRate ?? 0) >= 1 || (this.faults.serverErrorRate ?? 0) >= 1;
    if (request !== undefined && !always && this.justHit.delete(request)) return null;
    const fault = hits(n, this.faults.throttleRate)
      ? 'throttle'
      : hits(n, this.faults.serverErrorRate)
        ? ++this.serverErrors % 2 === 1
          ? 500
          : 503
        : null;
    if (fault !== null && request !== undefined) this.justHit.add(request);
    return fault;
  }

  /** Counts a successful mutating call (for `kubeOutage.afterMutatingCall`). */
  mutated(): void {
    this.onMutatingCall?.(++this.mutatingCalls);
  }

  /** Waits `latencyMs`. */
  async delay(): Promise<void> {
    const ms = this.faults.latencyMs ?? 0;
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  }
}

function hits(n: number, rate: number | undefined): boolean {
  if (!rate || rate <= 0) return false;
  return Math.floor(n * rate) > Math.floor((n - 1) * rate);
}

/** Reads a request body as text. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A started loopback server. */
export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (ephemeral port unless given) and returns the URL. */
export async function listen(server: Server, port = 0): Promise<RunningServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: actual } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Route = {
  method: string;
  pattern: RegExp;
  operation: string;
  mutating: boolean;
};

// URIs from eks-service-2.json `http.requestUri`.
const ROUTES: Route[] = [
  { method: 'GET', pattern: /^\/clusters$/, operation: 'ListClusters', mutating: false },
  { method: 'GET', pattern: /^\/clusters\/([^/]+)$/, operation: 'DescribeCluster', mutating: false },
  { method: 'GET', pattern: /^\/clusters\/([^/]+)\/addons$/, operation: 'ListAddons', mutating: false },
  { method: 'POST', pattern: /^\/clusters\/([^/]+)\/addons$/, operation: 'CreateAddon', mutating: true },
  { method: 'GET', pattern: /^\/clusters\/([^/]+)\/addons\/([^/]+)$/, operation: 'DescribeAddon', mutating: false },
  { method: 'DELETE', pattern: /^\/clusters\/([^/]+)\/addons\/([^/]+)$/, operation: 'DeleteAddon', mutating: true },
  { method: 'POST', pattern: /^\/clusters\/([^/]+)\/addons\/([^/]+)\/update$/, operation: 'UpdateAddon', mutating: true },
  { method: 'GET', pattern: /^\/clusters\/([^/]+)\/updates\/([^/]+)$/, operation: 'DescribeUpdate', mutating: false },
  { method: 'POST', pattern: /^\/clusters\/([^/]+)\/pod-identity-associations$/, operation: 'CreatePodIdentityAssociation', mutating: true },
  { method: 'GET', pattern: /^\/clusters\/([^/]+)\/pod-identity-associations$/, operation: 'ListPodIdentityAssociations', mutating: false },
  { method: 'GET', pattern: /^\/clusters\/([^/]+)\/pod-identity-associations\/([^/]+)$/, operation: 'DescribePodIdentityAssociation', mutating: false },
  { method: 'DELETE', pattern: /^\/clusters\/([^/]+)\/pod-identity-associations\/([^/]+)$/, operation: 'DeletePodIdentityAssociation', mutating: true },
  { method: 'GET', pattern: /^\/clusters\/([^/]+)\/node-groups$/, operation: 'ListNodegroups', mutating: false },
  { method: 'GET', pattern: /^\/clusters\/([^/]+)\/node-groups\/([^/]+)$/, operation: 'DescribeNodegroup', mutating: false },
  { method: 'POST', pattern: /^\/clusters\/([^/]+)\/insights$/, operation: 'ListInsights', mutating: false },
  { method: 'GET', pattern: /^\/clusters\/([^/]+)\/insights\/([^/]+)$/, operation: 'DescribeInsight', mutating: false },
  { method: 'GET', pattern: /^\/addons\/supported-versions$/, operation: 'DescribeAddonVersions', mutating: false },
  { method: 'GET', pattern: /^\/addons\/configuration-schemas$/, operation: 'DescribeAddonConfiguration', mutating: false },
  { method: 'POST', pattern: /^\/tags\/(.+)$/, operation: 'TagResource', mutating: true },
  { method: 'DELETE', pattern: /^\/tags\/(.+)$/, operation: 'UntagResource', mutating: true },
  { method: 'GET', pattern: /^\/tags\/(.+)$/, operation: 'ListTagsForResource', mutating: false },
];

const DEFAULT_PAGE_SIZE = 10;

/** The cluster's subnets (DescribeCluster), where its node groups run too. */
const SUBNETS = ['subnet-0a1b2c3d4e5f60718', 'subnet-0b2c3d4e5f6a71829', 'subnet-0c3d4e5f6a7b8293a'];

/** One cluster the EKS emulator serves: its scenario, add-on controller, Pod Identity and insights. */
export interface SandboxCluster {
  scenario: ResolvedScenario;
  controller: AddonController;
  podIdentity: PodIdentityStore;
  insights: ClusterInsights;
  /** The cluster's Kubernetes API URL, returned as the cluster endpoint. */
  kubeEndpoint: string;
  /** The cluster CA of its Kubernetes API, base64 PEM, returned as certificateAuthority.data. */
  certificateAuthorityData?: string;
}

/** Options of the EKS emulator. */
export interface EksApiOptions {
  clusters: SandboxCluster[];
  accounts: AccountDirectory;
  /**
   * Multi-cluster: route each call by the region of its SigV4 credential scope and the account of its access
   * key (unknown keys are refused). Single-cluster: every call reaches the one cluster, as before.
   */
  multi: boolean;
  log: RequestLog;
  faults?: FaultInjector;
  /** The sandbox's gates, driven over `/_sandbox/gates` (not part of the EKS API; docs/sandbox-gates.md). */
  gates?: Gates;
  port?: number;
}

/** Pages `items` by an opaque token bound to the filter it was issued for. */
function page<T>(items: T[], query: { maxResults: number; nextToken: string | null; filter: string }): { page: T[]; nextToken?: string } {
  let offset = 0;
  if (query.nextToken) {
    try {
      const decoded = JSON.parse(Buffer.from(query.nextToken, 'base64url').toString('utf8')) as { offset: number; filter: string };
      if (decoded.filter !== query.filter || !Number.isInteger(decoded.offset)) throw new Error('mismatch');
      offset = decoded.offset;
    } catch {
      throw new EksApiError(400, 'InvalidParameterException', 'The nextToken provided is not valid.');
    }
  }
  const end = offset + query.maxResults;
  return {
    page: items.slice(offset, end),
    ...(end < items.length ? { nextToken: Buffer.from(JSON.stringify({ offset: end, filter: query.filter })).toString('base64url') } : {}),
  };
}

function maxResultsOf(value: unknown, max = 100): number {
  if (value === null || value === undefined) return DEFAULT_PAGE_SIZE;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new EksApiError(400, 'InvalidParameterException', `maxResults must be between 1 and ${max}.`);
  }
  return n;
}

/** The EKS emulator's request handling, independent of the server (exported for tests). */
export class EksApi {
  private readonly createdAt = Math.floor(Date.now() / 1000) - 30 * 86_400;

  constructor(private readonly options: EksApiOptions) {}

  /** Handles one HTTP request. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    const route = ROUTES.find((r) => r.method === method && r.pattern.test(url.pathname));
    const operation = route?.operation ?? 'Unknown';
    const respond = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json',
        'x-amzn-requestid': randomUUID(),
        'content-length': Buffer.byteLength(text),
        ...headers,
      });
      res.end(text);
      this.options.log.record({ service: 'eks', method, path: url.pathname + url.search, operation, mutating: route?.mutating ?? false, status });
    };
    const respondError = (error: EksApiError): void =>
      respond(error.status, { ...error.extra, message: error.message }, { 'x-amzn-errortype': error.code });

    const body = await readBody(req);
    // The sandbox's control endpoint answers before faults and the request log: it is not an EKS call.
    const control = this.options.gates?.control(method, url.pathname);
    if (control) {
      const text = JSON.stringify(control.body);
      res.writeHead(control.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    const faults = this.options.faults;
    if (faults) {
      await faults.delay();
      const fault = faults.next(`${method} ${url.pathname}${url.search} ${body}`);
      if (fault === 'throttle') return respondError(new EksApiError(429, 'ThrottlingException', 'Rate exceeded'));
      if (fault === 500) return respondError(new EksApiError(500, 'ServerException', 'An internal error occurred. Try again later.'));
      if (fault === 503) return respondError(new EksApiError(503, 'ServiceUnavailableException', 'The service is unavailable. Try again later.'));
    }
    if (!route) {
      return respondError(new EksApiError(404, 'UnknownOperationException', `No operation matches ${method} ${url.pathname}.`));
    }
    try {
      const params = route.pattern.exec(url.pathname)?.slice(1).map(decodeURIComponent) ?? [];
      // The tag operations name a resource ARN, not a cluster.
      const scope = this.scope(req, route.operation, TAG_OPERATIONS.has(route.operation) ? undefined : params[0]);
      if (scope.hang) return; // a cluster whose API calls time out: never answered (closed with the server)
      const result = this.dispatch(route.operation, scope, params, url.searchParams, body);
      respond(200, result);
      if (route.mutating) faults?.mutated();
    } catch (error) {
      if (error instanceof EksApiError) return respondError(error);
      respondError(new EksApiError(500, 'ServerException', (error as Error).message));
    }
  }

  /** The caller's account and region, the clusters they can see, and the cluster the path names. */
  private scope(
    req: IncomingMessage,
    operation: string,
    clusterName: string | undefined,
  ): { visible: SandboxCluster[]; region: string; accountId: string; cluster?: SandboxCluster; hang: boolean } {
    const { clusters, accounts, multi } = this.options;
    const first = clusters[0] as SandboxCluster;
    // Unsigned calls (curl, tests) act as the first cluster's account; signed ones with an unknown key are refused.
    const unsigned = !req.headers.authorization;
    const fallback = !multi || unsigned ? accounts.account(first.scenario.cluster.accountId) : undefined;
    const caller = accounts.caller(req, fallback);
    if (!caller.account) {
      throw new EksApiError(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    const accountId = caller.account.id;
    const region = multi ? (caller.region ?? first.scenario.cluster.region) : first.scenario.cluster.region;
    if (caller.account.denyAccess) {
      const resource = clusterName
        ? `arn:aws:eks:${region}:${accountId}:cluster/${clusterName}`
        : `arn:aws:eks:${region}:${accountId}:cluster/*`;
      const principal = accounts.session(caller.accessKeyId)?.roleArn.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/') ?? `arn:aws:iam::${accountId}:user/sandbox`;
      throw new EksApiError(
        403,
        'AccessDeniedException',
        `User: ${principal} is not authorized to perform: eks:${operation} on resource: ${resource} because no identity-based policy allows the eks:${operation} action`,
      );
    }
    const visible = multi
      ? clusters.filter((c) => c.scenario.cluster.accountId === accountId && c.scenario.cluster.region === region)
      : clusters;
    const cluster = clusterName === undefined ? undefined : visible.find((c) => c.scenario.cluster.name === clusterName);
    if (clusterName !== undefined && !cluster) {
      throw new EksApiError(404, 'ResourceNotFoundException', `No cluster found for name: ${clusterName}.`, { clusterName });
    }
    return { visible, region, accountId, ...(cluster ? { cluster } : {}), hang: cluster?.scenario.sandbox.faults.timeout === true };
  }

  private checkAddonName(cluster: string, addonName: string): void {
    if (addonName !== ADDON_NAME) {
      throw new EksApiError(404, 'ResourceNotFoundException', `No addon: ${addonName} found in cluster: ${cluster}`, {
        clusterName: cluster,
        addonName,
      });
    }
  }

  private parseBody(body: string): AddonChangeInput & { addonName?: string } {
    if (body.trim() === '') return {};
    try {
      const parsed = JSON.parse(body) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as AddonChangeInput;
    } catch {
      // fall through
    }
    throw new EksApiError(400, 'SerializationException', 'The request body is not a JSON object.');
  }

  private dispatch(
    operation: string,
    scope: { visible: SandboxCluster[]; cluster?: SandboxCluster },
    params: string[],
    query: URLSearchParams,
    body: string,
  ): unknown {
    const [clusterName = '', second = ''] = params;
    if (operation === 'ListClusters') return this.listClusters(scope.visible, query);
    if (operation === 'DescribeAddonVersions') return this.describeAddonVersions(scope.visible[0] ?? this.options.clusters[0]!, query);
    if (operation === 'DescribeAddonConfiguration') return this.describeAddonConfiguration(scope.visible[0] ?? this.options.clusters[0]!, query);
    if (TAG_OPERATIONS.has(operation)) {
      const resources = scope.visible.map((c) => ({ clusterArn: this.clusterArn(c), clusterTags: this.clusterTagsOf(c), addon: c.controller.addon }));
      return tagOperation(operation, clusterName, resources, query, body);
    }
    const unit = scope.cluster as SandboxCluster;
    const { controller, podIdentity, insights } = unit;
    switch (operation) {
      case 'DescribeCluster':
        return { cluster: this.cluster(unit) };
      case 'ListAddons':
        return { addons: controller.addon ? [ADDON_NAME] : [] };
      case 'DescribeAddon':
        this.checkAddonName(clusterName, second);
        return { addon: structuredClone(controller.requireAddon()) };
      case 'CreateAddon': {
        const input = this.parseBody(body);
        if (!input.addonName) throw new EksApiError(400, 'InvalidParameterException', 'addonName is required.');
        if (input.addonName !== ADDON_NAME) {
          throw new EksApiError(400, 'InvalidParameterException', `Addon ${input.addonName} specified is not supported in this sandbox; only ${ADDON_NAME} is.`);
        }
        return { addon: controller.createAddon(input) };
      }
      case 'UpdateAddon':
        this.checkAddonName(clusterName, second);
        return { update: controller.updateAddon(this.parseBody(body)) };
      case 'DeleteAddon':
        this.checkAddonName(clusterName, second);
        return { addon: controller.deleteAddon(query.get('preserve') === 'true') };
      case 'DescribeUpdate':
        return { update: controller.describeUpdate(second, query.get('addonName')) };
      case 'CreatePodIdentityAssociation':
        return { association: podIdentity.create(this.parseBody(body) as Record<string, unknown>) };
      case 'ListPodIdentityAssociations': {
        const all = podIdentity.list({ namespace: query.get('namespace'), serviceAccount: query.get('serviceAccount') });
        const { page: items, nextToken } = page(all, {
          maxResults: maxResultsOf(query.get('maxResults')),
          nextToken: query.get('nextToken'),
          filter: JSON.stringify([query.get('namespace'), query.get('serviceAccount')]),
        });
        return {
          associations: items.map(({ clusterName: c, namespace, serviceAccount, associationArn, associationId, ownerArn }) => ({
            clusterName: c,
            namespace,
            serviceAccount,
            associationArn,
            associationId,
            ...(ownerArn ? { ownerArn } : {}),
          })),
          ...(nextToken ? { nextToken } : {}),
        };
      }
      case 'DescribePodIdentityAssociation':
        return { association: podIdentity.get(second) };
      case 'DeletePodIdentityAssociation':
        return { association: podIdentity.delete(second) };
      case 'ListInsights': {
        const input = this.parseBody(body) as unknown as { filter?: { categories?: string[]; kubernetesVersions?: string[]; statuses?: string[] }; maxResults?: number; nextToken?: string };
        const filter = input.filter ?? {};
        const matches = (values: string[] | undefined, value: string) => !values || values.length === 0 || values.includes(value);
        const all = insights
          .all()
          .filter((i) => matches(filter.categories, i.category) && matches(filter.kubernetesVersions, i.kubernetesVersion) && matches(filter.statuses, i.insightStatus.status));
        const { page: items, nextToken } = page(all, {
          maxResults: maxResultsOf(input.maxResults),
          nextToken: input.nextToken ?? null,
          filter: JSON.stringify(filter),
        });
        return { insights: items.map(insightSummary), ...(nextToken ? { nextToken } : {}) };
      }
      case 'ListNodegroups': {
        // Managed node groups only, by name (ListNodegroupsRequest maxResults 1..100).
        const names = unit.scenario.cluster.nodeGroups.map((g) => g.name).sort();
        const { page: nodegroups, nextToken } = page(names, {
          maxResults: maxResultsOf(query.get('maxResults')),
          nextToken: query.get('nextToken'),
          filter: 'nodegroups',
        });
        return { nodegroups, ...(nextToken ? { nextToken } : {}) };
      }
      case 'DescribeNodegroup':
        return { nodegroup: this.nodegroup(unit, second) };
      case 'DescribeInsight': {
        const insight = insights.get(second);
        if (!insight) throw new EksApiError(404, 'ResourceNotFoundException', `No insight found for id: ${second}`, { clusterName });
        return { insight };
      }
      default:
        throw new EksApiError(404, 'UnknownOperationException', `Unknown operation ${operation}.`);
    }
  }

  private listClusters(visible: SandboxCluster[], query: URLSearchParams): unknown {
    const names = visible.map((c) => c.scenario.cluster.name).sort();
    const { page: clusters, nextToken } = page(names, {
      maxResults: query.get('maxResults') === null ? 100 : maxResultsOf(query.get('maxResults')),
      nextToken: query.get('nextToken'),
      filter: 'clusters',
    });
    return { clusters, ...(nextToken ? { nextToken } : {}) };
  }

  /** Each cluster's tags (TagResource on its ARN); DescribeCluster returns them. */
  private readonly clusterTags = new WeakMap<SandboxCluster, Record<string, string>>();

  private clusterTagsOf(unit: SandboxCluster): Record<string, string> {
    let tags = this.clusterTags.get(unit);
    if (!tags) this.clusterTags.set(unit, (tags = {}));
    return tags;
  }

  private clusterArn(unit: SandboxCluster): string {
    const { cluster } = unit.scenario;
    return `arn:${partitionOf(cluster.region)}:eks:${cluster.region}:${cluster.accountId}:cluster/${cluster.name}`;
  }

  /**
   * A managed node group as DescribeNodegroup answers (the `Nodegroup` shape; fields and their order as in the
   * AWS CLI's describe-nodegroup example, fixtures/aws-cli-examples/describe-nodegroup.example1.output.json).
   */
  private nodegroup(unit: SandboxCluster, name: string): unknown {
    const { cluster } = unit.scenario;
    const group = cluster.nodeGroups.find((g) => g.name === name);
    if (!group) {
      throw new EksApiError(404, 'ResourceNotFoundException', `No node group found for name: ${name}.`, { clusterName: cluster.name, nodegroupName: name });
    }
    // A stable id per cluster and node group, in the UUID form EKS gives it.
    const hex = createHash('sha256').update(`${cluster.accountId}/${cluster.region}/${cluster.name}/${name}`).digest('hex');
    const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
    const size = group.nodeCount;
    const [major, minor] = cluster.kubernetesVersion.split('.').map(Number) as [number, number];
    return {
      nodegroupName: name,
      nodegroupArn: `arn:${partitionOf(cluster.region)}:eks:${cluster.region}:${cluster.accountId}:nodegroup/${cluster.name}/${name}/${id}`,
      clusterName: cluster.name,
      version: cluster.kubernetesVersion,
      createdAt: this.createdAt,
      modifiedAt: this.createdAt,
      status: group.status,
      capacityType: 'ON_DEMAND',
      scalingConfig: { minSize: size, maxSize: Math.max(size, 1), desiredSize: size },
      instanceTypes: [...group.instanceTypes],
      subnets: [...SUBNETS],
      // EKS has no AL2 AMIs from Kubernetes 1.33 on; AL2023 is the default type there.
      amiType: major > 1 || minor >= 33 ? 'AL2023_x86_64_STANDARD' : 'AL2_x86_64',
      nodeRole: group.nodeRole,
      labels: {},
      resources: { autoScalingGroups: [{ name: `eks-${name}-${id}` }] },
      diskSize: 20,
      health: { issues: [] },
      updateConfig: { maxUnavailable: 1 },
      tags: {},
    };
  }

  private cluster(unit: SandboxCluster): unknown {
    const { scenario, kubeEndpoint, certificateAuthorityData } = unit;
    const { cluster } = scenario;
    const auto = cluster.autoMode;
    const network: Record<string, unknown> =
      cluster.ipFamily === 'ipv6'
        ? { serviceIpv6Cidr: 'fd30:1c53:5f8a::/108', ipFamily: 'ipv6' }
        : { serviceIpv4Cidr: '10.100.0.0/16', ipFamily: 'ipv4' };
    if (auto) network.elasticLoadBalancing = { enabled: true };
    return {
      ...(certificateAuthorityData ? { certificateAuthority: { data: certificateAuthorityData } } : {}),
      name: cluster.name,
      arn: this.clusterArn(unit),
      createdAt: this.createdAt,
      version: cluster.kubernetesVersion,
      endpoint: kubeEndpoint,
      roleArn: `arn:${partitionOf(cluster.region)}:iam::${cluster.accountId}:role/eksClusterRole`,
      resourcesVpcConfig: {
        subnetIds: [...SUBNETS],
        securityGroupIds: [],
        clusterSecurityGroupId: 'sg-0b1c2d3e4f5a60789',
        vpcId: 'vpc-0d4e5f6a7b8c9d0e1',
        endpointPublicAccess: true,
        endpointPrivateAccess: false,
        publicAccessCidrs: ['0.0.0.0/0'],
      },
      kubernetesNetworkConfig: network,
      ...(cluster.oidcIssuer ? { identity: { oidc: { issuer: cluster.oidcIssuer } } } : {}),
      status: 'ACTIVE',
      platformVersion: 'eks.5',
      tags: { ...this.clusterTagsOf(unit) },
      accessConfig: { authenticationMode: auto ? 'API' : 'API_AND_CONFIG_MAP' },
      ...(auto
        ? {
            // EKS Auto Mode: https://docs.aws.amazon.com/eks/latest/userguide/automode.html
            computeConfig: {
              enabled: true,
              nodePools: ['general-purpose', 'system'],
              nodeRoleArn: `arn:aws:iam::${cluster.accountId}:role/AmazonEKSAutoNodeRole`,
            },
            storageConfig: { blockStorage: { enabled: true } },
          }
        : {}),
    };
  }

  /**
   * DescribeAddonVersions as EKS pages it: by add-on (one `addons[]` entry per add-on, with every version
   * that matches the filter), `maxResults` and `nextToken` counting add-ons. vpc-cni comes from the scenario's
   * catalogue; the other AWS add-ons (coredns, kube-proxy, …) from fixtures/catalogues/other-addons.json, listed
   * only where a version matches `kubernetesVersion`, as EKS leaves out an add-on with none.
   */
  private describeAddonVersions(unit: SandboxCluster, query: URLSearchParams): unknown {
    const { catalogue } = unit.scenario;
    const maxResults = maxResultsOf(query.get('maxResults'));
    const kubernetesVersion = query.get('kubernetesVersion');
    const addonName = query.get('addonName');
    const wanted = (key: string, value: string): boolean => {
      const values = query.getAll(key);
      return values.length === 0 || values.includes(value);
    };
    const selected = (name: string, type: string, owner: string, publisher: string): boolean =>
      (!addonName || addonName === name) && wanted('types', type) && wanted('owners', owner) && wanted('publishers', publisher);
    const matches = selected(ADDON_NAME, 'networking', 'aws', 'eks');
    const versions = !matches
      ? []
      : catalogue
          .filter((entry) => !kubernetesVersion || entry.compatibilities.some((c) => c.clusterVersion === kubernetesVersion))
          .sort((a, b) => compareVersionStrings(b.version, a.version))
          .map((entry) => ({
            addonVersion: entry.version,
            architecture: ['amd64', 'arm64'],
            // As the catalogue gives them, in EKS's order; snapshots older than a field leave it out, as EKS did then.
            ...(entry.computeTypes ? { computeTypes: entry.computeTypes } : {}),
            compatibilities: entry.compatibilities
              .filter((c) => !kubernetesVersion || c.clusterVersion === kubernetesVersion)
              .map((c) => ({ clusterVersion: c.clusterVersion, platformVersions: ['*'], defaultVersion: c.defaultVersion ?? false })),
            ...(entry.requiresConfiguration !== undefined ? { requiresConfiguration: entry.requiresConfiguration } : {}),
            ...(entry.requiresIamPermissions !== undefined ? { requiresIamPermissions: entry.requiresIamPermissions } : {}),
          }));
    const others = otherAddonsCatalogue()
      .filter((a) => selected(a.addonName, a.type, a.owner, a.publisher))
      .map((a) => ({
        addonName: a.addonName,
        type: a.type,
        addonVersions: a.addonVersions
          .filter((v) => !kubernetesVersion || v.compatibilities.some((c) => c.clusterVersion === kubernetesVersion))
          .map((v) => ({ ...v, compatibilities: v.compatibilities.filter((c) => !kubernetesVersion || c.clusterVersion === kubernetesVersion) })),
        publisher: a.publisher,
        owner: a.owner,
      }))
      .filter((a) => a.addonVersions.length > 0);
    const addons = [...(versions.length === 0 ? [] : [{ addonName: ADDON_NAME, type: 'networking', addonVersions: versions, publisher: 'eks', owner: 'aws' }]), ...others];
    const filter = JSON.stringify([kubernetesVersion, addonName, query.getAll('types'), query.getAll('owners'), query.getAll('publishers')]);
    const { page: items, nextToken } = page(addons, { maxResults, nextToken: query.get('nextToken'), filter });
    return { addons: items, ...(nextToken ? { nextToken } : {}) };
  }

  private describeAddonConfiguration(unit: SandboxCluster, query: URLSearchParams): unknown {
    const addonName = query.get('addonName');
    const addonVersion = query.get('addonVersion');
    if (!addonName || !addonVersion) {
      throw new EksApiError(400, 'InvalidParameterException', 'addonName and addonVersion are required.');
    }
    if (addonName !== ADDON_NAME || !unit.scenario.catalogue.some((e) => e.version === addonVersion)) {
      throw new EksApiError(404, 'ResourceNotFoundException', `No addon: ${addonName} with version ${addonVersion} found.`, { addonName });
    }
    const minor = Number(/^v?\d+\.(\d+)/.exec(addonVersion)?.[1] ?? 0);
    return {
      addonName,
      addonVersion,
      configurationSchema: configurationSchemaFor(addonVersion),
      // Pod Identity for vpc-cni shows up from the 2023-11 launch (v1.15+); empty before.
      podIdentityConfiguration:
        minor >= 15
          ? [{ serviceAccount: 'aws-node', recommendedManagedPolicies: ['arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy'] }]
          : [],
    };
  }
}

/** Starts the EKS emulator on 127.0.0.1. */
export async function startEksApi(options: EksApiOptions): Promise<RunningServer> {
  const api = new EksApi(options);
  const server = createServer((req, res) => {
    api.handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: (error as Error).message }));
    });
  });
  return listen(server, options.port);
}
