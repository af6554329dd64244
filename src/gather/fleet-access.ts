/**
 * Per-cluster access for a fleet run, behind one small interface: the EKS and IAM gateways as the target's
 * credentials (a profile, a role assumed once per account, or the default chain), and a Kubernetes gateway
 * built from DescribeCluster itself (endpoint, CA) with an EKS token made in-process, so that no kube
 * context is needed. A target that names a kube context uses it instead, checked against DescribeCluster.
 * Everything of a cluster ends when its AbortSignal fires (the per-cluster timeout).
 */
import { setMaxListeners } from 'node:events';
import type { ClusterInfo } from '../domain.js';
import { UnreachableError } from '../errors.js';
import type { Gateways } from './facts.js';
import type { EKSClient } from '@aws-sdk/client-eks';
import type { AwsSettings } from '../gateways/aws-config.js';
import { abortable, clientConfig } from '../gateways/aws-config.js';
import { createEksGateway, type EksGateway } from '../gateways/eks.js';
import { createIamGateway, type IamGateway } from '../gateways/iam.js';
import type { KubeGateway } from '../gateways/kubectl.js';
import type { KubeConnection, KubeContext } from '../gateways/kubeconfig.js';
import { connectionTo } from '../gateways/kube-connection.js';
import type { TokenSource } from '../gateways/kube-auth.js';
import type { KubeHttp } from '../gateways/kube-http.js';
import { eksSdk, iamSdk, signatureV4Sdk, stsSdk } from '../gateways/sdk-modules.js';
import { makeEksToken, sdkCredentials, type AwsCredentials, type BearerToken } from '../gateways/eks-token.js';
import { sharingKey, type CredentialSource, type FleetTarget, type ListClusters } from './fleet-targets.js';

/** The gateways of one cluster, and how to let go of them. */
export interface ClusterAccess {
  gateways: Gateways;
  close(): void;
}

/** What a fleet run needs from the outside world (tests give their own). */
export interface FleetAccess {
  listClusters: ListClusters;
  open(target: FleetTarget, signal: AbortSignal): Promise<ClusterAccess>;
  close(): void;
}

/** Endpoints and base credentials (the sandbox passes its own; otherwise the SDK's chain and AWS_ENDPOINT_URL_*). */
export interface FleetAccessOptions {
  eksEndpoint?: string;
  iamEndpoint?: string;
  stsEndpoint?: string;
  /** Credentials to start from (and to assume roles with); default: the SDK's chain (`--profile` when given). */
  baseCredentials?: AwsCredentials;
  baseProfile?: string;
  /** The kubeconfig for targets that name a kube context. */
  kubeconfig?: string;
  /** Kubernetes request timeout, ms. */
  kubeTimeoutMs?: number;
}

type Provider = () => Promise<AwsCredentials>;
const REFRESH_MS = 5 * 60_000;

/** A provider that loads once and again only when its credentials are about to expire. */
export function cachedProvider(load: () => Promise<AwsCredentials & { expiration?: Date }>, now: () => number = Date.now): Provider {
  let cached: (AwsCredentials & { expiration?: Date }) | null = null;
  let pending: Promise<AwsCredentials & { expiration?: Date }> | null = null;
  return async () => {
    if (cached && (!cached.expiration || cached.expiration.getTime() - REFRESH_MS > now())) return cached;
    pending ??= load().finally(() => {
      pending = null;
    });
    cached = await pending;
    return cached;
  };
}

/** The SDK-backed access of a real (or `sandbox serve`) fleet run. */
export function createFleetAccess(options: FleetAccessOptions = {}): FleetAccess {
  const providers = new Map<string, Provider>();
  const base: Provider = options.baseCredentials
    ? () => Promise.resolve(options.baseCredentials!)
    : providerFor(`profile:${options.baseProfile ?? ''}`, () => sdkCredentials(options.baseProfile ?? null));

  function providerFor(key: string, load: () => Promise<AwsCredentials & { expiration?: Date }>): Provider {
    let provider = providers.get(key);
    if (!provider) {
      provider = cachedProvider(load);
      providers.set(key, provider);
    }
    return provider;
  }

  /** The credentials of a source: a role assumed with the base credentials, a profile, or the base. */
  function credentialsOf(source: { profile?: string; roleArn?: string }, region: string): Provider {
    if (source.roleArn) {
      const roleArn = source.roleArn;
      return providerFor(`role:${roleArn}`, () => assumeRole(roleArn, region));
    }
    if (source.profile) {
      const profile = source.profile;
      return providerFor(`profile:${profile}`, () => sdkCredentials(profile));
    }
    return base;
  }

  async function assumeRole(roleArn: string, region: string): Promise<AwsCredentials & { expiration?: Date }> {
    const { STSClient, AssumeRoleCommand } = await stsSdk();
    const sts = new STSClient(clientConfig({ region, credentials: base }, options.stsEndpoint));
    try {
      const { Credentials: c } = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'vpccni-fleet', DurationSeconds: 3600 }));
      if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('AssumeRole returned no credentials');
      return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
        ...(c.Expiration ? { expiration: c.Expiration } : {}),
      };
    } catch (error) {
      const message = (error as Error).message;
      throw new UnreachableError(`Role ${roleArn} could not be assumed (${message.replace(/\.$/, '')}); check its trust policy and your base credentials.`, {
        cause: error,
      });
    } finally {
      sts.destroy();
    }
  }

  function settings(source: { profile?: string; roleArn?: string }, region: string): AwsSettings {
    return {
      region,
      credentials: credentialsOf(source, region),
      ...(options.eksEndpoint ? { eksEndpoint: options.eksEndpoint } : {}),
      ...(options.iamEndpoint ? { iamEndpoint: options.iamEndpoint } : {}),
    };
  }

  // One EKS and one IAM client per credentials and region, shared by the clusters they read (keep-alive
  // connections, one set-up); closed, with every call still open, when the run ends. The EKS client is the one
  // discovery lists the clusters with, so that it is set up, and connected, before the first cluster is read.
  const run = new AbortController();
  setMaxListeners(0, run.signal); // two listeners per shared client
  // The middleware of each command is resolved once per client, not on every call (the clients are set up
  // before their first call, and nothing adds middleware later).
  const sharedConfig = (aws: AwsSettings, endpoint: string | undefined) => ({ ...clientConfig(aws, endpoint), cacheMiddleware: true });
  const eksClients = new Map<string, Promise<EKSClient>>();
  function eksClientFor(source: { profile?: string; roleArn?: string }, region: string): Promise<EKSClient> {
    const key = sharingKey(source, region);
    let client = eksClients.get(key);
    if (!client) {
      const aws = settings(source, region);
      client = eksSdk().then(({ EKSClient }) => abortable(new EKSClient(sharedConfig(aws, aws.eksEndpoint)), run.signal));
      eksClients.set(key, client);
    }
    return client;
  }
  const shared = new Map<string, Shared>();
  async function sharedFor(source: { profile?: string; roleArn?: string }, region: string): Promise<Shared> {
    const key = sharingKey(source, region);
    let entry = shared.get(key);
    if (!entry) {
      const [eks, { IAMClient }] = await Promise.all([eksClientFor(source, region), iamSdk()]);
      entry = shared.get(key);
      if (!entry) {
        const aws = settings(source, region);
        entry = {
          aws: { ...aws, clients: { eks, iam: abortable(new IAMClient(sharedConfig(aws, aws.iamEndpoint)), run.signal) } },
          memo: new Map(),
        };
        shared.set(key, entry);
      }
    }
    return entry;
  }

  return {
    async listClusters(source: CredentialSource, region: string) {
      // Once the credentials are in (an assumed role: a round trip), ListClusters goes out and the modules
      // that reading needs load while it is answered.
      (credentialsOf(source, region) as Provider)().then(preloadReadModules, () => undefined);
      const [{ paginateListClusters }, eks] = await Promise.all([eksSdk(), eksClientFor(source, region)]);
      const aws = settings(source, region);
      // The account, when the source does not name it: GetCallerIdentity, beside ListClusters.
      let sts: { destroy(): void } | null = null;
      const account = source.account
        ? Promise.resolve(source.account)
        : stsSdk()
            .then(({ STSClient, GetCallerIdentityCommand }) => {
              const client = new STSClient(clientConfig(aws, options.stsEndpoint));
              sts = client;
              return client.send(new GetCallerIdentityCommand({}));
            })
            .then((r) => r.Account ?? null, () => null);
      try {
        const clusters: string[] = [];
        try {
          for await (const page of paginateListClusters({ client: eks }, {})) clusters.push(...(page.clusters ?? []));
        } catch (error) {
          const { translateAwsError } = await import('../gateways/aws-errors.js');
          throw translateAwsError(error, 'ListClusters', `list the clusters in ${region}`);
        }
        return { clusters, account: await account };
      } finally {
        void account.then(() => (sts as { destroy(): void } | null)?.destroy());
      }
    },
    async open(target, signal) {
      const { aws, memo } = await sharedFor(target, target.region);
      const credentials = aws.credentials as Provider;
      const eks = describeOnce(memoEks(createEksGateway(aws, target.cluster), memo));
      const state: { http: KubeHttp | null } = { http: null };
      // The EKS token needs no answer of the cluster's: made while DescribeCluster is on its way (once its
      // request went out), it is off the cluster's critical path. A named kube context brings its own.
      const tokens = target.context ? null : eksTokenSource(target.cluster, target.region, credentials);
      if (tokens) setImmediate(() => tokens.authorization().catch(() => undefined));
      const gateways: Gateways = { eks, iam: memoIam(createIamGateway(aws), memo), kube: null as unknown as KubeGateway, kubeContext: null };
      let kube: Promise<KubeGateway> | null = null;
      const describe = eks.describeCluster;
      const realKube = () =>
        (kube ??= (async () => {
          const cluster = await describe();
          const built = await kubeFor(target, cluster, credentials, options, signal, tokens);
          state.http = built.http;
          gateways.kubeContext = built.context;
          return built.kube;
        })());
      // The context the facts are checked against is known once DescribeCluster answered (a named
      // context: once it was resolved and checked).
      eks.describeCluster = () =>
        describe().then(async (cluster) => {
          if (!target.context) gateways.kubeContext = contextFromCluster(cluster, target.cluster);
          else await realKube();
          return cluster;
        });
      gateways.kube = lazyKube(realKube);
      signal.addEventListener('abort', () => state.http?.close(), { once: true });
      return { gateways, close: () => state.http?.close() };
    },
    close: () => {
      run.abort('The fleet run ended.');
      shared.clear();
      providers.clear();
    },
  };
}

let preloading = false;

/**
 * Loads what reading a cluster needs (the IAM client, the Kubernetes client, the token's signer) while discovery
 * waits on ListClusters, instead of on the first clusters' path (once; a failure shows where they are used).
 */
function preloadReadModules(): void {
  if (preloading) return;
  preloading = true;
  setImmediate(() => {
    for (const load of [iamSdk(), signatureV4Sdk(), import('../gateways/kube-http.js'), import('../gateways/kube-api.js')]) load.catch(() => undefined);
  });
}

/** The clients and the answers shared by the clusters of one credentials and region. */
interface Shared {
  aws: AwsSettings;
  memo: Map<string, Promise<unknown>>;
}

/** `fn`'s answer for `key`, asked once per run (a failure is forgotten, so that the next cluster asks again). */
function remember<T>(memo: Map<string, Promise<unknown>>, key: string, fn: () => Promise<T>): Promise<T> {
  let answer = memo.get(key) as Promise<T> | undefined;
  if (!answer) {
    answer = fn();
    memo.set(key, answer);
    answer.catch(() => memo.delete(key));
  }
  return answer;
}

/**
 * The calls whose answers do not depend on the cluster, asked once per credentials and region: the
 * add-on catalogue (DescribeAddonVersions takes no cluster).
 */
function memoEks(eks: EksGateway, memo: Map<string, Promise<unknown>>): EksGateway {
  return { ...eks, describeAddonVersions: (k8s) => remember(memo, `versions:${k8s ?? ''}`, () => eks.describeAddonVersions(k8s)) };
}

/**
 * IAM is global: the OIDC providers of the account, each role and each role's permission policies, asked
 * once (clusters of an account share their add-on role, so this takes GetRole, ListAttachedRolePolicies,
 * ListRolePolicies, GetPolicy and GetPolicyVersion off every cluster's critical path but the first).
 */
function memoIam(iam: IamGateway, memo: Map<string, Promise<unknown>>): IamGateway {
  return {
    ...iam,
    getRole: (arn) => remember(memo, `role:${arn}`, () => iam.getRole(arn)),
    readRolePolicies: (arn) => remember(memo, `policies:${arn}`, () => iam.readRolePolicies(arn)),
    listOpenIdConnectProviders: () => remember(memo, 'oidc', () => iam.listOpenIdConnectProviders()),
  };
}

/** DescribeCluster once per cluster: the kube connection and the facts share it. */
function describeOnce(eks: EksGateway): EksGateway {
  let cluster: Promise<ClusterInfo> | null = null;
  return { ...eks, describeCluster: () => (cluster ??= eks.describeCluster()) };
}

/** The kube context DescribeCluster stands for: its endpoint and CA, an in-process EKS token. */
function contextFromCluster(cluster: ClusterInfo, name: string): KubeContext {
  return {
    name: cluster.arn ?? name,
    server: cluster.endpoint,
    eks: null,
    connection: cluster.endpoint ? connectionOf(cluster) : null,
  };
}

/** A KubeConnection from DescribeCluster's endpoint and CA. */
export function connectionOf(cluster: ClusterInfo): KubeConnection {
  return connectionTo(cluster.endpoint ?? '', {
    ca: cluster.certificateAuthority ? Buffer.from(cluster.certificateAuthority, 'base64').toString('utf8') : null,
    proxyUrl: process.env.HTTPS_PROXY ?? process.env.https_proxy ?? null,
  });
}

/** The EKS token of one cluster, made in-process with the target's credentials, reused until it expires. */
export function eksTokenSource(cluster: string, region: string, credentials: Provider, now: () => number = Date.now): TokenSource {
  let cached: BearerToken | null = null;
  let making: Promise<BearerToken> | null = null;
  return {
    execRuns: 0,
    async authorization() {
      if (!cached || (cached.expiresAt !== null && cached.expiresAt - 30_000 <= now())) {
        // Callers that ask at once share one token.
        making ??= (async () => makeEksToken(cluster, region, await credentials(), new Date(now())))().finally(() => {
          making = null;
        });
        cached = await making;
      }
      return `Bearer ${cached.token}`;
    },
    invalidate() {
      cached = null;
      return true;
    },
  };
}

async function kubeFor(
  target: FleetTarget,
  cluster: ClusterInfo,
  credentials: Provider,
  options: FleetAccessOptions,
  signal: AbortSignal,
  eksTokens: TokenSource | null,
): Promise<{ kube: KubeGateway; http: KubeHttp; context: KubeContext }> {
  const [{ createKubeHttp }, { createKubeApiGateway }] = await Promise.all([import('../gateways/kube-http.js'), import('../gateways/kube-api.js')]);
  let context: KubeContext;
  let tokens: TokenSource;
  if (target.context) {
    const [{ resolveKubeContext, sameApiServer }, { tokenSource }, { assertContextMatches }, { assertSameCa }] = await Promise.all([
      import('../gateways/kubeconfig.js'),
      import('../gateways/kube-auth.js'),
      import('../gateways/kubectl.js'),
      import('../gateways/kube-guard.js'),
    ]);
    const resolved = resolveKubeContext({ ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}), context: target.context });
    assertContextMatches(resolved, cluster, sameApiServer);
    assertSameCa(resolved, cluster);
    if (!resolved?.connection) throw new UnreachableError(`The kube context "${target.context}" has no server; fix the kubeconfig or drop "context" from the fleet file.`);
    context = resolved;
    tokens = tokenSource(resolved.connection, { region: target.region, credentials });
  } else {
    if (!cluster.endpoint) throw new UnreachableError(`DescribeCluster gave no endpoint for "${target.cluster}"; is the cluster still being created?`);
    context = contextFromCluster(cluster, target.cluster);
    tokens = eksTokens ?? eksTokenSource(target.cluster, target.region, credentials);
  }
  const http = abortableHttp(createKubeHttp(context.connection!, tokens, options.kubeTimeoutMs ? { timeoutMs: options.kubeTimeoutMs } : {}), signal);
  return { kube: createKubeApiGateway(http), http, context };
}

/** A KubeHttp that refuses every request once `signal` aborted (so that read retries stop at once). */
function abortableHttp(http: KubeHttp, signal: AbortSignal): KubeHttp {
  const refuse = () => {
    if (signal.aborted) throw new UnreachableError(String(signal.reason ?? 'The cluster timed out.'));
  };
  return {
    request: async (req) => {
      refuse();
      return http.request(req);
    },
    stream: async (req) => {
      refuse();
      return http.stream(req);
    },
    close: () => http.close(),
  };
}

/** A KubeGateway whose every call waits for the real one (built after DescribeCluster). */
function lazyKube(real: () => Promise<KubeGateway>): KubeGateway {
  return new Proxy({} as KubeGateway, {
    get(_, key: string | symbol) {
      if (typeof key !== 'string' || key === 'then') return undefined;
      return async (...args: unknown[]) => {
        const gateway = await real();
        return (gateway[key as keyof KubeGateway] as (...a: unknown[]) => unknown)(...args);
      };
    },
  });
}

