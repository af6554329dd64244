/**
 * Turns the global options into the gateways of one run: real AWS and the current kube context, or the
 * in-process sandbox (`--sandbox`, `--scenario`), whose emulators the real SDK and kubectl talk to over
 * loopback exactly as they would to AWS.
 */
import type { Gateways } from './gather/facts.js';
import { createEksGateway } from './gateways/eks.js';
import { createIamGateway } from './gateways/iam.js';
import { createKubeGateway, type KubeGateway } from './gateways/kubectl.js';
import { resolveKubeContext, type KubeContext } from './gateways/kubeconfig.js';
import { checkContext, guardKubeGateway } from './gateways/kube-guard.js';
import type { EksTokenSettings } from './gateways/kube-auth.js';
import type { EksGateway } from './gateways/eks.js';
import { sdkRegion, type AwsSettings } from './gateways/aws-config.js';
import { UsageError } from './errors.js';
import { loadAdvisories } from './gather/advisories.js';
import { parseOwnerTags } from './decide/owner.js';
import type { RunningSandbox } from './sandbox/index.js';
import { createUi, type OutputFormat, type Ui } from './render/ui.js';

/** The global options of the contract. */
export interface GlobalOptions {
  cluster?: string;
  region?: string;
  profile?: string;
  kubeconfig?: string;
  context?: string;
  output?: string;
  sandbox?: boolean;
  scenario?: string;
  color?: boolean;
  verbose?: boolean;
  quiet?: boolean;
  /** A newer advisories file (also VPCCNI_ADVISORIES). */
  advisories?: string;
  kubeClient?: string;
  /** `--owner-tag KEY[=VALUE]`, repeatable (else VPCCNI_OWNER_TAGS): tags that mark the add-on as owned by IaC. */
  ownerTag?: string[];
}

/** One run: where we print, which cluster, and the gateways to it. */
export interface Runtime extends Gateways {
  ui: Ui;
  clusterName: string;
  region: string;
  aws: AwsSettings;
  sandbox: RunningSandbox | null;
  /** Stops the sandbox, if any, and closes the Kubernetes connections. */
  close(): Promise<void>;
}

/** The Kubernetes client of a run, validated. */
export function kubeClientOf(options: GlobalOptions): 'api' | 'kubectl' {
  const client = options.kubeClient ?? 'api';
  if (client !== 'api' && client !== 'kubectl') throw new UsageError(`--kube-client must be "api" or "kubectl", not "${client}".`);
  return client;
}

/** DescribeCluster once per run: the context check and the facts share it. */
function describeOnce(eks: EksGateway): EksGateway {
  let cluster: ReturnType<EksGateway['describeCluster']> | null = null;
  return {
    ...eks,
    describeCluster: () => {
      cluster ??= eks.describeCluster();
      cluster.catch(() => {
        cluster = null;
      });
      return cluster;
    },
  };
}

/** The Kubernetes gateway of a run: in-process or kubectl, either one behind the context check. */
async function kubeGateway(
  client: 'api' | 'kubectl',
  context: KubeContext | null,
  kubectl: { kubeconfig?: string; context?: string; onRetry?: (message: string) => void },
  eks: EksGateway,
  tokens: EksTokenSettings,
): Promise<{ kube: KubeGateway; close(): void }> {
  if (client === 'kubectl' || !context?.connection) {
    // No connection (no kubeconfig): the check refuses before kubectl could fall back to localhost:8080.
    const check = () => checkContext(context, () => eks.describeCluster());
    return { kube: guardKubeGateway(createKubeGateway(kubectl), check), close: () => undefined };
  }
  const [{ tokenSource }, { createKubeHttp }, { createKubeApiGateway }] = await Promise.all([
    import('./gateways/kube-auth.js'),
    import('./gateways/kube-http.js'),
    import('./gateways/kube-api.js'),
  ]);
  const source = tokenSource(context.connection, tokens);
  // DescribeCluster first; the EKS token is made while it is answered (it talks to no Kubernetes API).
  const check = () => {
    const checked = checkContext(context, () => eks.describeCluster());
    source.prepare?.();
    return checked;
  };
  const http = createKubeHttp(context.connection, source);
  return {
    kube: guardKubeGateway(createKubeApiGateway(http, kubectl.onRetry ? { onRetry: kubectl.onRetry } : {}), check),
    close: () => http.close(),
  };
}

/** The output format, validated. */
export function outputFormat(options: GlobalOptions): OutputFormat {
  const format = options.output ?? 'text';
  if (format === 'terraform' || format === 'eksctl' || format === 'cloudformation') {
    throw new UsageError(`--output ${format} prints an upgrade plan as infrastructure code and works with \`vpccni plan --to <version>\` only; use --output text or json here.`);
  }
  if (format !== 'text' && format !== 'json') {
    throw new UsageError(`--output must be "text" or "json", not "${format}".`);
  }
  return format;
}

/** The Ui for the global options. */
export function uiFor(options: GlobalOptions): Ui {
  return createUi({
    format: outputFormat(options),
    color: options.color !== false,
    quiet: Boolean(options.quiet),
    verbose: Boolean(options.verbose),
  });
}

/** Builds the gateways for a run (starting the sandbox when asked). */
export async function createRuntime(options: GlobalOptions): Promise<Runtime> {
  const ui = uiFor(options);
  // A bad advisories file is bad input: refused before any call.
  const { advisories } = loadAdvisories(options.advisories);
  const ownerTags = parseOwnerTags(options.ownerTag, process.env.VPCCNI_OWNER_TAGS);
  if (options.sandbox || options.scenario) return { ...(await sandboxRuntime(options, ui)), advisories, ownerTags };

  const kubeContext: KubeContext | null = resolveKubeContext({
    ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
    ...(options.context ? { context: options.context } : {}),
  });
  const clusterName = options.cluster ?? process.env.VPCCNI_CLUSTER ?? kubeContext?.eks?.cluster;
  if (!clusterName) {
    throw new UsageError(
      'No cluster was named; pass --cluster, set VPCCNI_CLUSTER, or use a kube context from `aws eks update-kubeconfig`.',
    );
  }
  const region =
    options.region ??
    (await sdkRegion(options.profile)) ??
    process.env.AWS_DEFAULT_REGION ??
    kubeContext?.eks?.region;
  if (!region) {
    throw new UsageError('No AWS region is set; pass --region, set AWS_REGION, or set a region in your AWS profile.');
  }
  const aws: AwsSettings = { region, ...(options.profile ? { profile: options.profile } : {}) };
  const eks = describeOnce(createEksGateway(aws, clusterName));
  const { kube, close } = await kubeGateway(
    kubeClientOf(options),
    kubeContext,
    {
      ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
      ...(kubeContext ? { context: kubeContext.name } : {}),
      onRetry: (message) => ui.debug(message),
    },
    eks,
    { region, ...(process.env.VPCCNI_EKS_TOKEN_EXEC === '1' ? { disableInProcess: true } : {}) },
  );
  return {
    ui,
    clusterName,
    region,
    aws,
    sandbox: null,
    kubeContext,
    eks,
    iam: createIamGateway(aws),
    kube,
    close: async () => close(),
    advisories,
    ownerTags,
  };
}


async function sandboxRuntime(options: GlobalOptions, ui: Ui): Promise<Runtime> {
  const { startSandbox } = await import('./sandbox/index.js');
  const sandbox = await startSandbox(options.scenario ?? 'default');
  ui.debug(`Sandbox "${sandbox.scenario.name}": EKS ${sandbox.eksEndpoint}, IAM ${sandbox.iamEndpoint}, Kubernetes ${sandbox.kubeEndpoint}`);
  const aws: AwsSettings = {
    region: sandbox.region,
    eksEndpoint: sandbox.eksEndpoint,
    iamEndpoint: sandbox.iamEndpoint,
    // The first cluster's account (a multi-cluster sandbox chooses the account by access key).
    credentials: (({ accessKeyId, secretAccessKey }) => ({ accessKeyId, secretAccessKey }))(
      sandbox.accounts.find((a) => a.id === sandbox.accountId) ?? { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
    ),
  };
  const eks = describeOnce(createEksGateway(aws, sandbox.cluster));
  const credentials = aws.credentials!;
  // The in-process client reads the kubeconfig `aws eks update-kubeconfig` would write (exec plugin, token
  // made in-process); kubectl the one with a static token, so that it starts no `aws` per call.
  const client = kubeClientOf(options);
  const kubeContext = resolveKubeContext({ kubeconfig: client === 'api' ? sandbox.kubeconfigExec : sandbox.kubeconfig, context: sandbox.contextName });
  const kube = await kubeGateway(
    client,
    kubeContext,
    { kubeconfig: sandbox.kubeconfig, context: sandbox.contextName, onRetry: (message) => ui.debug(message) },
    eks,
    { region: sandbox.region, credentials: async () => (typeof credentials === 'function' ? credentials() : credentials) },
  );
  return {
    ui,
    clusterName: sandbox.cluster,
    region: sandbox.region,
    aws,
    sandbox,
    kubeContext,
    eks,
    iam: createIamGateway(aws),
    kube: kube.kube,
    close: async () => {
      kube.close();
      await sandbox.close();
    },
  };
}
