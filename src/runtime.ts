/**
 * Turns the global options into the gateways of one run: real AWS and the current kube context, or the
 * in-process sandbox (`--sandbox`, `--scenario`), whose emulators the real SDK and kubectl talk to over
 * loopback exactly as they would to AWS.
 */
import type { Gateways } from './gather/facts.js';
import { createEksGateway } from './gateways/eks.js';
import { createIamGateway } from './gateways/iam.js';
import { createKubeGateway } from './gateways/kubectl.js';
import { resolveKubeContext, type KubeContext } from './gateways/kubeconfig.js';
import { sdkRegion, type AwsSettings } from './gateways/aws-config.js';
import { UsageError } from './errors.js';
import { loadAdvisories } from './gather/advisories.js';
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
}

/** One run: where we print, which cluster, and the gateways to it. */
export interface Runtime extends Gateways {
  ui: Ui;
  clusterName: string;
  region: string;
  aws: AwsSettings;
  sandbox: RunningSandbox | null;
  /** Stops the sandbox, if any. */
  close(): Promise<void>;
}

/** The output format, validated. */
export function outputFormat(options: GlobalOptions): OutputFormat {
  const format = options.output ?? 'text';
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
  if (options.sandbox || options.scenario) return { ...(await sandboxRuntime(options, ui)), advisories };

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
  return {
    ui,
    clusterName,
    region,
    aws,
    sandbox: null,
    kubeContext,
    eks: createEksGateway(aws, clusterName),
    iam: createIamGateway(aws),
    kube: createKubeGateway({
      ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
      ...(kubeContext ? { context: kubeContext.name } : {}),
      onRetry: (message) => ui.debug(message),
    }),
    close: async () => undefined,
    advisories,
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
  const kubeContext = resolveKubeContext({ kubeconfig: sandbox.kubeconfig, context: sandbox.contextName });
  return {
    ui,
    clusterName: sandbox.cluster,
    region: sandbox.region,
    aws,
    sandbox,
    kubeContext,
    eks: createEksGateway(aws, sandbox.cluster),
    iam: createIamGateway(aws),
    kube: createKubeGateway({ kubeconfig: sandbox.kubeconfig, context: sandbox.contextName, onRetry: (message) => ui.debug(message) }),
    close: () => sandbox.close(),
  };
}
