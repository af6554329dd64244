/**
 * Runs the real command code in this process against an in-process sandbox: the same gateways as the CLI
 * (the real SDK over loopback; the in-process Kubernetes API client users get by default, or kubectl when
 * asked), with a Ui that records what would be printed.
 */
import { createEksGateway } from '../../src/gateways/eks.js';
import { createIamGateway } from '../../src/gateways/iam.js';
import { tokenSource } from '../../src/gateways/kube-auth.js';
import { createKubeApiGateway } from '../../src/gateways/kube-api.js';
import { createKubeHttp } from '../../src/gateways/kube-http.js';
import { createKubeGateway, type KubeGateway } from '../../src/gateways/kubectl.js';
import { resolveKubeContext } from '../../src/gateways/kubeconfig.js';
import { startProgress } from '../../src/render/progress.js';
import type { Ui } from '../../src/render/ui.js';
import type { Runtime } from '../../src/runtime.js';
import { afterEach } from 'vitest';
import { loadScenario, startSandbox, type RunningSandbox } from '../../src/sandbox/index.js';
import type { Scenario, ScenarioFaults } from '../../src/sandbox/scenario-types.js';

/** A Ui that keeps every line. */
export interface RecordingUi extends Ui {
  stdout: string[];
  stderr: string[];
  documents: unknown[];
}

export function recordingUi(format: 'text' | 'json' = 'text'): RecordingUi {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const documents: unknown[] = [];
  return {
    format,
    color: false,
    stdout,
    stderr,
    documents,
    out: (text) => {
      if (format === 'text') stdout.push(text);
    },
    json: (document) => documents.push(structuredClone(document)),
    info: (text) => stderr.push(text),
    warn: (text) => stderr.push(text),
    debug: () => undefined,
    step: (_title, task) => task(),
    progress: (title) => startProgress(title, { mode: 'off', write: () => undefined }),
    style: (_f, text) => text,
  };
}

/** Which Kubernetes client a runtime uses: the in-process API client (the CLI's default) or kubectl. */
export interface RuntimeOptions {
  kubeClient?: 'api' | 'kubectl';
}

/**
 * A runtime on `sandbox` (closing it closes its Kubernetes connections, not the sandbox; the sandbox's close
 * drops them anyway). It behaves like a run against a real cluster: no `sandbox` on the Runtime, so the
 * journal, its lock and backups go where --backup-dir says. The Kubernetes client is the one a `--sandbox` run
 * of the CLI gets: the in-process API client reading the kubeconfig `aws eks update-kubeconfig` would write
 * (exec plugin, token made in-process), or with `kubeClient: 'kubectl'` kubectl with the static-token one.
 */
export function runtimeFor(sandbox: RunningSandbox, ui: Ui = recordingUi(), options: RuntimeOptions = {}): Runtime {
  // The first cluster's account, as `--sandbox` uses (a multi-cluster sandbox chooses the account by key).
  const account = sandbox.accounts.find((a) => a.id === sandbox.accountId);
  const credentials = account
    ? { accessKeyId: account.accessKeyId, secretAccessKey: account.secretAccessKey }
    : { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' };
  const aws = {
    region: sandbox.region,
    eksEndpoint: sandbox.eksEndpoint,
    iamEndpoint: sandbox.iamEndpoint,
    credentials,
  };
  const kubectl = { kubeconfig: sandbox.kubeconfig, context: sandbox.contextName };
  let kube: KubeGateway;
  let kubeContext = resolveKubeContext(kubectl);
  let close = (): void => undefined;
  if (options.kubeClient === 'kubectl') {
    kube = createKubeGateway(kubectl);
  } else {
    const context = resolveKubeContext({ kubeconfig: sandbox.kubeconfigExec, context: sandbox.contextName });
    kubeContext = context;
    if (!context?.connection) throw new Error(`the sandbox's exec kubeconfig ${sandbox.kubeconfigExec} has no connection`);
    const http = createKubeHttp(context.connection, tokenSource(context.connection, { region: sandbox.region, credentials: async () => credentials }));
    kube = createKubeApiGateway(http);
    close = () => http.close();
  }
  return {
    ui,
    clusterName: sandbox.cluster,
    region: sandbox.region,
    aws,
    sandbox: null,
    kubeContext,
    eks: createEksGateway(aws, sandbox.cluster),
    iam: createIamGateway(aws),
    kube,
    close: async () => close(),
  };
}

/**
 * A starter of sandboxes for the calling test file (50 ms updates and rollouts, `edit` applied to the
 * scenario first), each closed after its test.
 */
export function sandboxesClosedAfterEach(): (name: string, edit?: (s: Scenario) => void, faults?: ScenarioFaults) => Promise<RunningSandbox> {
  const open: RunningSandbox[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  return async (name, edit = () => {}, faults) => {
    const s = loadScenario(name);
    s.sandbox = { ...s.sandbox, updateDurationMs: 50, rolloutDurationMs: 50 };
    edit(s);
    const sandbox = await startSandbox(s, faults ? { faults } : {});
    open.push(sandbox);
    return sandbox;
  };
}
