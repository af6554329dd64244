/**
 * A runtime on an in-process sandbox whose Kubernetes gateway is the in-process API client (what the CLI
 * uses by default, `--kube-client api`) instead of kubectl: the same EKS and IAM gateways as `runtimeFor`,
 * no kubectl process per read or rollout wait. For tests whose point is the upgrade or restore logic, not
 * kubectl. Each runtime's connections are closed after the test.
 */
import { afterEach } from 'vitest';
import { tokenSource } from '../../src/gateways/kube-auth.js';
import { createKubeApiGateway } from '../../src/gateways/kube-api.js';
import { createKubeHttp } from '../../src/gateways/kube-http.js';
import { resolveKubeContext } from '../../src/gateways/kubeconfig.js';
import type { Ui } from '../../src/render/ui.js';
import type { Runtime } from '../../src/runtime.js';
import type { RunningSandbox } from '../../src/sandbox/index.js';
import { recordingUi, runtimeFor } from './in-process-runtime.js';

/** A maker of API-client runtimes for the calling test file (closed after each test). */
export function apiRuntimes(): (sandbox: RunningSandbox, ui?: Ui) => Runtime {
  const open: Array<() => void> = [];
  afterEach(() => {
    for (const close of open.splice(0)) close();
  });
  return (sandbox, ui = recordingUi()) => {
    const runtime = runtimeFor(sandbox, ui);
    const context = resolveKubeContext({ kubeconfig: sandbox.kubeconfigExec, context: sandbox.contextName });
    if (!context?.connection) throw new Error(`The sandbox's exec kubeconfig has no connection for ${sandbox.contextName}.`);
    const account = sandbox.accounts.find((a) => a.id === sandbox.accountId);
    const credentials = account ? { accessKeyId: account.accessKeyId, secretAccessKey: account.secretAccessKey } : { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' };
    const http = createKubeHttp(context.connection, tokenSource(context.connection, { region: sandbox.region, credentials: async () => credentials }));
    open.push(() => http.close());
    return { ...runtime, kubeContext: context, kube: createKubeApiGateway(http) };
  };
}
